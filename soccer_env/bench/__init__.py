"""Benchmarks: `python -m soccer_env.bench` (throughput of the vectorized core, on one device and
split over all of them), `python -m soccer_env.bench.profile` (where a step's time goes),
`python -m soccer_env.bench.mechanics` (what the football mechanics make of shots, blocks,
passes and interceptions), `python -m soccer_env.bench.pettingzoo` and
`python -m soccer_env.bench.jaxmarl` (the adapters' overhead); see BENCHMARKS.md."""
