"""Per-step overhead of the PettingZoo adapter against the jitted core, one game at a time.

    python -m soccer_env.bench.pettingzoo                  # 2v2 and 11v11
    python -m soccer_env.bench.pettingzoo --scenarios 5v5 --steps 2000

Rows, for each scenario (random actions drawn up front, so sampling is not timed):
    core step_env   `jax.jit(SoccerEnv.step_env)` called from Python, with obs, reward and done
                    read back to the host every step (as a Python loop that acts on them must):
                    one compiled game step, JAX dispatch and the device-to-host copies.
    core, async     the same calls without reading the outputs: JAX pipelines them, so this is
                    the dispatch-bound ceiling of a Python loop over one game.
    adapter step    `SoccerParallelEnv.step(actions)`: checking the action dict, the adapter's
                    compiled step (step_env, next action masks, key split), one device-to-host
                    copy and the per-agent dicts.
    adapter host work  the adapter's Python work alone (the action check, the copy of an
                    already computed output and the dicts): the part that does not depend on
                    the game's compute or on JAX dispatch, and so barely on machine load.
The overhead row is adapter step minus core step_env, with their ratio. The adapter makes one
compiled call and one device-to-host copy per step, as the core loop does, so the two are close:
when the adapter is measured faster, the difference is noise and the row says so (the ratio,
"within noise") instead of a negative overhead. The rows are measured in interleaved rounds
(so that a change of machine load hits them alike), and each figure is the best of `--repeats`
rounds of `--steps` steps (the least disturbed by other processes). Episodes are reset when they
end, outside the timing.
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import numpy as np

import soccer_env
from soccer_env.pettingzoo import parallel_env


def bench_scenario(scenario: str, steps: int, repeats: int, seed: int = 0) -> list[dict]:
    pz = parallel_env(scenario)
    env = soccer_env.make(scenario)
    T, A = env.team_size, env.num_actions
    rng = np.random.default_rng(seed)
    actions = rng.integers(0, A, size=(steps, 2, T), dtype=np.int32)

    # --- core: the jitted step_env, one call per step --------------------------------------
    step_env = jax.jit(env.step_env)
    keys = list(jax.random.split(jax.random.PRNGKey(seed), steps))
    _, state0 = env.reset(jax.random.PRNGKey(seed))

    def run_core(read_back: bool) -> float:
        state = state0
        start = time.perf_counter()
        for k, a in zip(keys, actions):
            obs, state, reward, done, _ = step_env(k, state, a)
            if read_back:
                jax.device_get((obs, reward, done))
        jax.block_until_ready(state)
        return time.perf_counter() - start

    # --- the adapter ---------------------------------------------------------------------
    slots = [(a, pz._slot[a]) for a in pz.possible_agents]
    action_dicts = [{agent: int(a[slot]) for agent, slot in slots} for a in actions]

    def run_adapter() -> float:
        pz.reset(seed=seed)
        elapsed = 0.0
        for d in action_dicts:
            if not pz.agents:  # an episode ended: reset outside the timing
                pz.reset()
            start = time.perf_counter()
            pz.step(d)
            elapsed += time.perf_counter() - start
        return elapsed

    # The adapter's host-side work alone: the action-dict check and the per-agent dicts, from
    # a packed step output that is already computed (its device-to-host copy included).
    pz.reset(seed=seed)
    _, _, packed = pz._core.step(pz._key, pz.game_state, pz._actions_array(action_dicts[0]),
                                 pz._opponent_params)
    jax.block_until_ready(packed)

    def run_host() -> float:
        pz.reset(seed=seed)  # live agents to check the actions against
        start = time.perf_counter()
        for d in action_dicts:
            pz._actions_array(d)
            pz._step_outputs(packed)
        return time.perf_counter() - start

    runs = {"core step_env": lambda: run_core(True), "core, async": lambda: run_core(False),
            "adapter step": run_adapter, "adapter host work": run_host}
    for run in runs.values():  # compile and warm up
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            best[name] = min(best[name], run() / steps)

    rows = [dict(scenario=scenario, agents=len(pz.possible_agents), what=name,
                 steps_per_s=1.0 / seconds, us_per_step=seconds * 1e6)
            for name, seconds in best.items()]
    rows.append(overhead_row(scenario, len(pz.possible_agents), best["adapter step"],
                             best["core step_env"]))
    return rows


def overhead_row(scenario: str, agents: int, adapter_s: float, core_s: float) -> dict:
    """The adapter's overhead per step over the core loop (seconds per step in, µs out): the
    difference and the ratio. An adapter measured as fast or faster has no measurable overhead
    (noise, or its one packed copy beating the core loop's three reads): the row gives the
    ratio and says "within noise", with no µs figure, rather than a negative overhead."""
    ratio = adapter_s / core_s
    if adapter_s > core_s:
        return dict(scenario=scenario, agents=agents, steps_per_s=float("nan"), ratio=ratio,
                    what=f"overhead: adapter step - core step_env (x{ratio:.2f})",
                    us_per_step=(adapter_s - core_s) * 1e6)
    return dict(scenario=scenario, agents=agents, steps_per_s=float("nan"), ratio=ratio,
                what=f"overhead: adapter step / core step_env = x{ratio:.2f}, within noise",
                us_per_step=float("nan"))


def format_table(rows: list[dict]) -> str:
    lines = ["| scenario | agents | what | steps/s | us/step |", "| --- | --- | --- | --- | --- |"]

    def number(x):
        return "" if np.isnan(x) else f"{x:,.0f}"

    for r in rows:
        lines.append(f"| {r['scenario']} | {r['agents']} | {r['what']} | "
                     f"{number(r['steps_per_s'])} | {number(r['us_per_step'])} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=["2v2", "11v11"])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    for scenario in args.scenarios:
        rows += bench_scenario(scenario, args.steps, args.repeats)
    device = jax.devices()[0]
    print(f"# PettingZoo adapter overhead, single game; {device.platform} "
          f"({device.device_kind}), {platform.processor() or platform.machine()}, "
          f"jax {jax.__version__}")
    print(format_table(rows))
    return rows


if __name__ == "__main__":
    main()
