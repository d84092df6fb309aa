"""Every core at work: games split over the local devices.

On a CPU, XLA gives one device to the whole machine and a jitted `vmap(env.step)` runs on one
core of it. Games are independent, so the fast path is to give XLA one CPU device per core and
let each device play its share of the batch, with no communication between them:

    import soccer_env
    soccer_env.devices.use_all_cores()   # first thing, before any JAX computation
    fn = soccer_env.devices.shard_games(jax.jit(jax.vmap(play_one)), batched=(False, True))

`use_all_cores` must run before JAX starts its CPU backend (the first computation, or
`jax.devices()`); afterwards the device count is fixed and it only says so. On a GPU or TPU it
changes nothing (the accelerators are the devices). The match runner (`soccer_env.match`), and
with it evaluation, the statistics and eval.py, splits its games over every local device;
`python -m soccer_env.bench` measures both one device and all of them.

A game played on one of n devices gives the same result as on one device: each device runs the
same per-game program on its share of the games (tested bit for bit in tests/test_devices.py).
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

_FORCE_FLAG = "xla_force_host_platform_device_count"


def use_all_cores(count: int | None = None) -> int:
    """Give JAX one CPU device per core (`count`, default `os.cpu_count()`), if its backend has
    not started yet and `XLA_FLAGS` does not already set the count; returns the number of
    local devices JAX will use. Harmless to call twice, or on a GPU/TPU machine."""
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)
                              or count < 1):
        raise ValueError(f"count={count!r} is invalid: allowed an integer >= 1 or None "
                         "(one device per core)")
    count = count or os.cpu_count() or 1
    if _FORCE_FLAG not in os.environ.get("XLA_FLAGS", "") and not _backends_started():
        jax.config.update("jax_num_cpu_devices", count)
    return jax.local_device_count()


def _backends_started() -> bool:
    from jax._src import xla_bridge  # lazy: private module, read only to avoid a late update

    return xla_bridge.backends_are_initialized()


def shard_games(fn: Callable, batched: Sequence[bool], devices=None) -> Callable:
    """`fn(*args)`, a jitted function batched over axis 0 of the args flagged in `batched`
    (the others, e.g. parameters, are shared) and of every output, run with the batch split
    over `devices` (default: every local device). A batch that does not divide evenly is padded
    with copies of its first element, whose results are dropped. With one device, or fewer
    games than devices, this is `fn` itself."""
    devices = list(jax.local_devices() if devices is None else devices)
    n = len(devices)
    if n == 1:
        return fn
    mesh = Mesh(np.asarray(devices), ("games",))
    specs = tuple(P("games") if b else P() for b in batched)
    # Arguments committed to one device (a restored checkpoint's parameters, say) are placed
    # on the mesh first: split when batched, copied to every device when shared.
    placements = tuple(NamedSharding(mesh, spec) for spec in specs)

    sharded = jax.jit(jax.shard_map(fn, mesh=mesh, in_specs=specs, out_specs=P("games"),
                                    check_vma=False))

    def run(*args):
        sizes = {np.shape(a)[0] for a, b in zip(args, batched) if b}
        if len(sizes) != 1:
            raise ValueError(f"shard_games: the batched arguments disagree on the batch size "
                             f"({sorted(sizes)})")
        (size,) = sizes
        if size < n:
            return fn(*args)
        pad = -size % n
        if pad:
            args = [jax.tree.map(lambda x: jnp.concatenate([x, jnp.repeat(x[:1], pad, 0)]), a)
                    if b else a for a, b in zip(args, batched)]
        args = [jax.device_put(a, where) for a, where in zip(args, placements)]
        out = sharded(*args)
        return jax.tree.map(lambda x: x[:size], out) if pad else out

    return run
