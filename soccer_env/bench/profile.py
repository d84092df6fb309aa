"""Where a step's time goes: XLA's kernels of `jit(vmap(env.step))`, timed by JAX's profiler and
grouped by the part of the step they belong to.

    python -m soccer_env.bench.profile                      # 2v2, batch 4096
    python -m soccer_env.bench.profile --scenario 11v11 --batch 1024

Each part (a function of `physics`, `rules` or `observations`, the random draw, the reset) is
wrapped in a `jax.named_scope` for this run only; XLA's fused kernels carry the scope of the
operation they were built around, and the profiler's trace gives each kernel's time. Kernels
built around the step's own bookkeeping (events, rewards, the auto-reset's selects) fall under
"step (events, rewards, selects)". The tracer adds a cost per kernel, so the shares count, not
the traced total (which the command prints next to the untraced time per step).
"""

from __future__ import annotations

import argparse
import collections
import functools
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time

import jax

import soccer_env
from soccer_env import env as env_module
from soccer_env import observations, physics, rules
from soccer_env.scenarios import scenarios

PARTS = {
    physics: ("kick", "tackles", "move_players", "collide_players", "clamp_players",
              "move_loose_ball", "pick_nearest", "dribble", "in_penalty_area",
              "keep_owned_ball_in", "bounce_ball_off_walls"),
    rules: ("goals", "restart_if_out", "kickoff_after_goal"),
    observations: ("observe",),
    env_module: ("initial_state_from_uniforms", "_progress_potential"),
}
OTHER = "step (events, rewards, selects)"


def _scoped(module, name):
    f = getattr(module, name)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        with jax.named_scope(f"part_{name}"):
            return f(*args, **kwargs)

    setattr(module, name, wrapped)
    return f


def profile(scenario: str, batch: int, steps: int = 20) -> dict:
    """{"parts": [(part, share, kernels per step)], "step_ms": untraced ms per step, "kernels"}."""
    originals = [(m, n, _scoped(m, n)) for m, names in PARTS.items() for n in names]
    uniforms = env_module.SoccerEnv._uniforms
    env_module.SoccerEnv._uniforms = lambda self, key: _in_scope("random_draw", uniforms, self, key)
    try:
        return _profile(soccer_env.make(scenario), batch, steps)
    finally:
        for module, name, f in originals:
            setattr(module, name, f)
        env_module.SoccerEnv._uniforms = uniforms


def _in_scope(name, f, *args):
    with jax.named_scope(f"part_{name}"):
        return f(*args)


def _profile(env, batch, steps):
    T = env.team_size
    keys = jax.random.split(jax.random.PRNGKey(0), batch)
    _, state = jax.jit(jax.vmap(env.reset))(keys)
    actions = jax.random.randint(jax.random.PRNGKey(1), (batch, 2, T), 0, env.num_actions)
    step = jax.jit(jax.vmap(env.step))
    part_of = {}
    for line in step.lower(keys, state, actions).compile().as_text().splitlines():
        m = re.match(r"\s*%?([\w.\-]+) = .*?op_name=\"([^\"]*)\"", line)
        if m:
            found = re.findall(r"part_(\w+)", m.group(2))
            part_of[m.group(1)] = found[0] if found else OTHER
    for _ in range(3):
        state = step(keys, state, actions)[1]
    jax.block_until_ready(state)
    t0 = time.perf_counter()
    for _ in range(steps):
        state = step(keys, state, actions)[1]
    jax.block_until_ready(state)
    step_ms = (time.perf_counter() - t0) / steps * 1e3
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir, create_perfetto_trace=True)
        for _ in range(steps):
            state = step(keys, state, actions)[1]
        jax.block_until_ready(state)
        jax.profiler.stop_trace()
        # The perfetto trace (the profiler also writes other .json.gz files beside it).
        path = sorted(glob.glob(os.path.join(trace_dir, "**", "perfetto_trace.json.gz"),
                                recursive=True))[-1]
        with gzip.open(path) as f:
            trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    time_of, count = collections.Counter(), collections.Counter()
    for e in events:
        if e.get("ph") == "X" and e.get("name") in part_of:
            time_of[part_of[e["name"]]] += e["dur"]
            count[part_of[e["name"]]] += 1
    total = sum(time_of.values())
    parts = [(p, t / total, count[p] / steps) for p, t in time_of.most_common()]
    return {"parts": parts, "step_ms": step_ms, "traced_ms": total / steps / 1e3,
            "kernels": sum(count.values()) / steps}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scenario", default="2v2", help="a registered scenario")
    p.add_argument("--batch", type=int, default=4096, help="games stepped at once")
    p.add_argument("--steps", type=int, default=20, help="steps timed and traced")
    args = p.parse_args(argv)
    if args.scenario not in scenarios():
        p.error(f"--scenario={args.scenario!r} is invalid: allowed one of {scenarios()}")
    if args.batch < 1 or args.steps < 1:
        p.error("--batch and --steps must be >= 1")
    r = profile(args.scenario, args.batch, args.steps)
    print(f"# {args.scenario}, batch {args.batch}: {r['step_ms']:.2f} ms a step untraced "
          f"({args.batch / r['step_ms'] * 1e3:,.0f} env-steps/s on one device), "
          f"{r['kernels']:.0f} kernels a step ({r['traced_ms']:.2f} ms under the tracer)")
    print("| part of the step | share of kernel time | kernels |")
    print("| --- | ---: | ---: |")
    for part, share, kernels in r["parts"]:
        print(f"| {part} | {share:.1%} | {kernels:.0f} |")
    return r


if __name__ == "__main__":
    main(sys.argv[1:])
