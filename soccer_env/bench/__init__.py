"""Benchmarks: `python -m soccer_env.bench` (throughput of the vectorized core) and
`python -m soccer_env.bench.pettingzoo` (per-step overhead of the PettingZoo adapter); see
BENCHMARKS.md."""
