"""soccer_env.devices: one CPU device per core, games split over the devices.

The split runs in subprocesses (the device count is fixed when JAX's backend starts): the
match runner's counters on 4 devices equal those on 1 device, game for game, with a batch that
does not divide evenly (padded).
"""

from __future__ import annotations

import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from soccer_env import devices
from conftest import cli_env

SCRIPT = """
import json, sys
import jax
import soccer_env
from soccer_env import devices, match, players
n = devices.use_all_cores(int(sys.argv[1]))
assert devices.use_all_cores(8) == n  # a second call, after the backend started, changes nothing
env = soccer_env.make("2v2")
a, b = players.resolve("bot:chaser", env), players.resolve("bot:random", env)
counters, _ = match.play(env, a, b, jax.random.PRNGKey(3), games=6, steps=40)
# Shared arguments committed to one device (as a restored checkpoint's parameters are) and
# batched ones on another are placed on the mesh, not rejected.
add = devices.shard_games(jax.jit(jax.vmap(lambda w, x: x * w, in_axes=(None, 0))),
                          batched=(False, True))
w = jax.device_put(jax.numpy.float32(2.0), jax.devices()[0])
x = jax.device_put(jax.numpy.arange(6.0), jax.devices()[-1])
assert add(w, x).tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
print(json.dumps({"devices": n, "counters": {k: v.tolist() for k, v in counters.items()}}))
"""


@pytest.fixture(scope="module")
def split_runs(xla_cache):
    def run(n):
        proc = subprocess.run([sys.executable, "-c", SCRIPT, str(n)], env=cli_env(xla_cache),
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])
    return run(1), run(4)


def test_use_all_cores_sets_the_device_count_before_the_backend_starts(split_runs):
    one, four = split_runs
    assert (one["devices"], four["devices"]) == (1, 4)


def test_the_match_runner_gives_the_same_games_on_four_devices_as_on_one(split_runs):
    one, four = split_runs
    assert one["counters"].keys() == four["counters"].keys()
    for k in one["counters"]:
        assert np.asarray(four["counters"][k]).shape == (6, 2), k
        np.testing.assert_array_equal(four["counters"][k], one["counters"][k], err_msg=k)
    assert sum(map(sum, one["counters"]["steps"])) == 6 * 2 * 40  # the games were played


def test_shard_games_with_one_device_is_the_function_itself():
    fn = jax.jit(jax.vmap(lambda x: x * 2))
    assert devices.shard_games(fn, batched=(True,), devices=jax.local_devices()[:1]) is fn


def test_shard_games_rejects_batched_arguments_of_different_sizes():
    cpu = jax.local_devices()[0]
    fn = devices.shard_games(jax.jit(jax.vmap(lambda x, y: x + y)), batched=(True, True),
                             devices=[cpu, cpu])
    with pytest.raises(ValueError, match="disagree on the batch size"):
        fn(jnp.zeros(4), jnp.zeros(6))


@pytest.mark.parametrize("count", [0, -1, 1.5, True, "4"])
def test_use_all_cores_rejects_a_bad_count(count):
    with pytest.raises(ValueError, match="count=.*allowed an integer >= 1"):
        devices.use_all_cores(count)
