"""Environment throughput benchmark.

    python -m soccer_env.bench                       # 2v2, 5v5, 11v11 at batch 1, 1024, 4096, 16384
    python -m soccer_env.bench --scenarios 2v2 --batches 4096 --repeats 5
    python -m soccer_env.bench --host-devices 2      # CPU: one XLA device per core, batch sharded

Each measurement is one jitted `lax.scan` of `--steps` steps of `jax.vmap(env.step)` over the
batch with uniformly random actions drawn inside the scan (auto-reset, observations and rewards
included, as a training rollout would). Compile time is reported separately; throughput is the
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
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

import soccer_env


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scenarios", nargs="+", default=["2v2", "5v5", "11v11"])
    p.add_argument("--batches", nargs="+", type=int, default=[1, 1024, 4096, 16384])
    p.add_argument("--steps", type=int, default=100, help="scan length per timed run")
    p.add_argument("--repeats", type=int, default=3, help="timed runs; the best is reported")
    p.add_argument("--host-devices", type=int, default=1,
                   help="CPU only: split the batch over this many XLA host devices (threads)")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    for name in ("steps", "repeats", "host_devices"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if any(b < 1 for b in args.batches):
        p.error("--batches must all be >= 1")
    return args


def make_rollout(env, batch, steps, mesh=None):
    """A jitted function key -> checksum that plays `steps` random steps of `batch` games."""
    T = env.team_size

    def rollout(key):
        key, k_reset = jax.random.split(key)
        _, state = jax.vmap(env.reset)(jax.random.split(k_reset, batch))

        def body(carry, _):
            state, key = carry
            key, k_act, k_step = jax.random.split(key, 3)
            actions = jax.random.randint(k_act, (batch, 2, T), 0, env.num_actions)
            obs, state, reward, done, _ = jax.vmap(env.step)(
                jax.random.split(k_step, batch), state, actions)
            # Consume every output so nothing is dead code.
            checksum = obs.sum() + reward.sum() + done.sum()
            return (state, key), checksum

        (_, _), sums = jax.lax.scan(body, (state, key), None, length=steps)
        return jnp.sum(sums)

    if mesh is None:
        return jax.jit(rollout)
    return jax.jit(_shard_map_rollout(env, batch, steps, mesh))


def _shard_map_rollout(env, batch, steps, mesh):
    n = mesh.devices.size
    if batch % n:
        raise ValueError(f"--batches {batch} must be divisible by --host-devices {n}")
    local = make_rollout(env, batch // n, steps)

    def per_device(keys):
        return local(keys[0])[None]

    # Each device runs its own independent games: no cross-device communication at all.
    if hasattr(jax, "shard_map"):
        f = jax.shard_map(per_device, mesh=mesh, in_specs=P("d"), out_specs=P("d"),
                          check_vma=False)
    else:  # older jax
        from jax.experimental.shard_map import shard_map  # lazy: older jax only

        f = shard_map(per_device, mesh=mesh, in_specs=P("d"), out_specs=P("d"), check_rep=False)

    def rollout(key):
        return f(jax.random.split(key, n)).sum()

    return rollout


def measure(env, batch, steps, repeats, mesh=None):
    fn = make_rollout(env, batch, steps, mesh)
    key = jax.random.PRNGKey(0)
    t0 = time.perf_counter()
    fn(key).block_until_ready()
    compile_s = time.perf_counter() - t0
    best = float("inf")
    for r in range(repeats):
        t0 = time.perf_counter()
        fn(jax.random.PRNGKey(r + 1)).block_until_ready()
        best = min(best, time.perf_counter() - t0)
    env_steps = batch * steps / best
    return dict(scenario=None, batch=batch, compile_s=compile_s, run_s=best,
                env_steps_per_s=env_steps, agent_steps_per_s=env_steps * 2 * env.team_size)


def main(argv=None):
    args = _parse(argv)
    if args.host_devices > 1:
        # Read when the first backend starts (the jax.devices() below), not at import.
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (
            f"{flags} --xla_force_host_platform_device_count={args.host_devices}").strip()
    mesh = None
    if args.host_devices > 1:
        mesh = Mesh(jax.devices()[: args.host_devices], ("d",))
    device = jax.devices()[0]
    print(f"# jax {jax.__version__} on {device.platform} ({device.device_kind}), "
          f"{len(jax.devices())} device(s), {os.cpu_count()} CPU cores, "
          f"{platform.processor() or platform.machine()}", flush=True)
    print(f"# {args.steps}-step jitted scan of vmap(env.step), random actions, best of "
          f"{args.repeats}", flush=True)
    header = (f"{'scenario':>8} {'batch':>6} {'compile s':>9} {'env-steps/s':>13} "
              f"{'agent-steps/s':>14}")
    print(header, flush=True)
    results = []
    for name in args.scenarios:
        env = soccer_env.make(name)
        for batch in args.batches:
            row = measure(env, batch, args.steps, args.repeats, mesh if batch > 1 else None)
            row["scenario"] = name
            results.append(row)
            print(f"{name:>8} {batch:>6} {row['compile_s']:>9.1f} {row['env_steps_per_s']:>13,.0f}"
                  f" {row['agent_steps_per_s']:>14,.0f}", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(jax=jax.__version__, platform=device.platform,
                           host_devices=args.host_devices, results=results), f, indent=2)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
