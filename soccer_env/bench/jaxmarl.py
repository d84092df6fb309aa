"""Overhead of the JaxMARL adapter against the vectorized core.

    python -m soccer_env.bench.jaxmarl                         # 2v2 and 11v11 at batch 4096
    python -m soccer_env.bench.jaxmarl --scenarios 2v2 --batches 1024 4096 --rounds 5

Both rows are `soccer_env.bench`'s own measurement (`soccer_env.bench.__main__.measure`: one
jitted `lax.scan` of `--steps` steps of `jax.vmap(step)` over the batch, uniformly random
actions drawn inside the scan, auto-reset, every output consumed, compile time apart):
    core     `SoccerEnv.step` on int32 [B, 2, T] actions.
    adapter  `soccer_env.jaxmarl`'s step on the same random actions split into the per-agent
             dict (one [B] array per agent), its per-agent observations and rewards stacked
             back into arrays for the checksum: the work a JaxMARL baseline adds around the
             adapter (its `unbatchify` of actions, `batchify` of observations).
Both run on one XLA device (one core on a CPU), as `soccer_env.bench`'s "1 device" rows.
The overhead row is the ratio of time per step (adapter / core). The two are measured in
interleaved rounds (a change of machine load hits both alike), each figure the best of its
rounds; each round compiles its program again (the compile column is the first round's).
"""

from __future__ import annotations

import argparse
import os
import platform

import jax
import jax.numpy as jnp
import numpy as np

import soccer_env
from soccer_env.bench.__main__ import measure
from soccer_env.jaxmarl import make


class AdapterAsCore:
    """The adapter seen through the core's stacked interface, so that the bench's rollout
    drives both alike: actions int32 [2, T] in, per-agent outputs stacked out (obs
    [num_agents, obs_dim], reward [num_agents])."""

    def __init__(self, env):
        self.env = env
        self.team_size = env.config.team_size
        self.num_actions = env.num_actions
        self.slots = [env._slots[a] for a in env.agents]

    def _stack(self, tree):
        return jnp.stack([tree[a] for a in self.env.agents])

    def reset(self, key):
        obs, state = self.env.reset(key)
        return self._stack(obs), state

    def step(self, key, state, actions):
        actions = {a: actions[t, i] for a, (t, i) in zip(self.env.agents, self.slots)}
        obs, state, rewards, dones, infos = self.env.step(key, state, actions)
        return self._stack(obs), state, self._stack(rewards), dones["__all__"], infos


def bench_scenario(scenario: str, batch: int, steps: int, rounds: int, repeats: int) -> list:
    variants = {"core": soccer_env.make(scenario), "adapter": AdapterAsCore(make(scenario))}
    best = {}
    for _ in range(rounds):
        for name, env in variants.items():
            row = measure(env, batch, steps, repeats)
            if name not in best:
                best[name] = row
            elif row["run_s"] < best[name]["run_s"]:
                best[name] = dict(row, compile_s=best[name]["compile_s"])
    rows = [dict(best[name], scenario=scenario, what=name) for name in variants]
    ratio = best["adapter"]["run_s"] / best["core"]["run_s"]
    rows.append(dict(scenario=scenario, batch=batch, what="overhead: adapter / core time per "
                     f"step = x{ratio:.3f} ({(ratio - 1) * 100:+.1f}%)", ratio=ratio,
                     compile_s=float("nan"), env_steps_per_s=float("nan"),
                     agent_steps_per_s=float("nan")))
    return rows


HEADER = ("| scenario | batch | what | compile s | env-steps/s | agent-steps/s |\n"
          "| --- | ---: | --- | ---: | ---: | ---: |")


def format_rows(rows: list[dict]) -> str:
    """Markdown table rows (under HEADER)."""

    def number(x, fmt):
        return "" if np.isnan(x) else format(x, fmt)

    return "\n".join(
        f"| {r['scenario']} | {r['batch']:,} | {r['what']} | {number(r['compile_s'], '.1f')} | "
        f"{number(r['env_steps_per_s'], ',.0f')} | {number(r['agent_steps_per_s'], ',.0f')} |"
        for r in rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=["2v2", "11v11"])
    parser.add_argument("--batches", nargs="+", type=int, default=[4096])
    parser.add_argument("--steps", type=int, default=100, help="scan length per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per round")
    args = parser.parse_args(argv)
    for name in ("steps", "rounds", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be >= 1")
    if any(b < 1 for b in args.batches):
        parser.error("--batches must all be >= 1")
    device = jax.devices()[0]
    print(f"# JaxMARL adapter overhead, vectorized; jax {jax.__version__} on {device.platform} "
          f"({device.device_kind}), {os.cpu_count()} CPU cores, "
          f"{platform.processor() or platform.machine()}; {args.steps}-step scans, best of "
          f"{args.rounds} interleaved rounds x {args.repeats} runs", flush=True)
    print(HEADER, flush=True)
    rows = []
    for scenario in args.scenarios:
        for batch in args.batches:
            new = bench_scenario(scenario, batch, args.steps, args.rounds, args.repeats)
            print(format_rows(new), flush=True)
            rows += new
    return rows


if __name__ == "__main__":
    main()
