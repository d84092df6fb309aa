"""Environment throughput benchmark.

    python -m soccer_env.bench                       # 2v2, 5v5, 11v11 at batch 1, 1024, 4096, 16384
    python -m soccer_env.bench --scenarios 2v2 --batches 4096 --repeats 5
    python -m soccer_env.bench --host-devices 4      # CPU: 4 XLA devices (default: one per core)

Each batch is measured on one device (on a CPU: one core) and split over every local device
(on a CPU: one device per core, `soccer_env.devices.use_all_cores`; each device plays its share
of the games, with no communication). Each measurement is one jitted `lax.scan` of `--steps`
steps of `jax.vmap(env.step)` over the batch (auto-reset, observations and rewards included, as
a training rollout would), with uniformly random actions drawn before the timed runs, as VMAS's
benchmark (`benchmarks/vmas_football.py`) draws its own. Compile time is reported separately; throughput is the
best of `--repeats` timed runs. env-steps/s counts games advanced by one step; agent-steps/s
multiplies by the number of players (2 T).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import jax
import jax.numpy as jnp
import soccer_env
from soccer_env.devices import shard_games, use_all_cores


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scenarios", nargs="+", default=["2v2", "5v5", "11v11"])
    p.add_argument("--batches", nargs="+", type=int, default=[1, 1024, 4096, 16384])
    p.add_argument("--steps", type=int, default=100, help="scan length per timed run")
    p.add_argument("--repeats", type=int, default=3, help="timed runs; the best is reported")
    p.add_argument("--host-devices", type=int, default=None,
                   help="CPU only: XLA host devices (one per core by default, "
                        "soccer_env.devices.use_all_cores); each batch is measured on one "
                        "device and split over all of them")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    for name in ("steps", "repeats", "host_devices"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if any(b < 1 for b in args.batches):
        p.error("--batches must all be >= 1")
    return args


def make_rollout(env, batch, steps, devices=None):
    """(fn, actions): a jitted `fn(key, actions) -> checksum` that plays `batch` games for
    `steps` steps of the given actions, split over `devices` (default one device) with
    `soccer_env.devices.shard_games`, and uniformly random `actions` int32
    [devices, steps, batch / devices, 2, T] for it, drawn once."""
    T = env.team_size
    n = 1 if devices is None else len(devices)
    if batch % n:
        raise ValueError(f"--batches {batch} must be divisible by the {n} devices")
    local = batch // n

    def rollout(key, actions):
        key, k_reset = jax.random.split(key)
        _, state = jax.vmap(env.reset)(jax.random.split(k_reset, local))

        def body(state, step):
            k_step, actions = step
            obs, state, reward, done, _ = jax.vmap(env.step)(
                jax.random.split(k_step, local), state, actions)
            # Consume every output so nothing is dead code.
            checksum = obs.sum() + reward.sum() + done.sum()
            return state, checksum

        _, sums = jax.lax.scan(body, state, (jax.random.split(key, steps), actions))
        return jnp.sum(sums)

    actions = jax.random.randint(jax.random.PRNGKey(1234), (n, steps, local, 2, T), 0,
                                 env.num_actions)
    if n == 1:
        fn = jax.jit(lambda key, actions: rollout(key, actions[0]))
        return fn, actions
    # One key per device; each device plays its own games, with no communication at all.
    per_device = shard_games(jax.jit(jax.vmap(rollout)), batched=(True, True), devices=devices)
    return (lambda key, actions: jnp.sum(per_device(jax.random.split(key, n), actions)),
            actions)


def measure(env, batch, steps, repeats, devices=None):
    fn, actions = make_rollout(env, batch, steps, devices)
    actions.block_until_ready()
    key = jax.random.PRNGKey(0)
    t0 = time.perf_counter()
    fn(key, actions).block_until_ready()
    compile_s = time.perf_counter() - t0
    best = float("inf")
    for r in range(repeats):
        t0 = time.perf_counter()
        fn(jax.random.PRNGKey(r + 1), actions).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    env_steps = batch * steps / best
    return dict(scenario=None, batch=batch, compile_s=compile_s, run_s=best,
                env_steps_per_s=env_steps, agent_steps_per_s=env_steps * 2 * env.team_size)


def main(argv=None):
    args = _parse(argv)
    n_dev = use_all_cores(args.host_devices)  # before the first JAX computation
    devices = jax.local_devices()
    device = devices[0]
    print(f"# jax {jax.__version__} on {device.platform} ({device.device_kind}), "
          f"{n_dev} device(s), {os.cpu_count()} CPU cores, "
          f"{platform.processor() or platform.machine()}", flush=True)
    print(f"# {args.steps}-step jitted scan of vmap(env.step), random actions drawn before, best of "
          f"{args.repeats}; '1 device' = one core, 'all' = the batch split over {n_dev} "
          "device(s)", flush=True)
    print(f"{'scenario':>8} {'batch':>6} {'compile s':>9} {'env-steps/s 1 device':>21} "
          f"{'env-steps/s all':>16} {'agent-steps/s all':>18}", flush=True)
    results = []
    for name in args.scenarios:
        env = soccer_env.make(name)
        for batch in args.batches:
            one = measure(env, batch, args.steps, args.repeats)
            row = dict(one, scenario=name, devices=1)
            results.append(row)
            best = row
            if n_dev > 1 and batch % n_dev == 0:
                best = dict(measure(env, batch, args.steps, args.repeats, devices), scenario=name,
                            devices=n_dev)
                results.append(best)
            split = f"{best['env_steps_per_s']:,.0f}" if best is not row else "-"
            print(f"{name:>8} {batch:>6} {row['compile_s']:>9.1f} "
                  f"{row['env_steps_per_s']:>21,.0f} {split:>16} "
                  f"{best['agent_steps_per_s']:>18,.0f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(jax=jax.__version__, platform=device.platform, devices=n_dev,
                           results=results), f, indent=2)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
