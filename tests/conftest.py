"""Shared fixtures: compiled environment functions (one compile per config for the whole session)
and builders of hand-placed game states.

XLA compilation dominates the suite's time on a small CPU machine, so every test that needs a
jitted function gets it from `compiled(config)`, which jits each method once per config.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import soccer_env
from soccer_env import EnvConfig, SoccerEnv, State

# A rules-mode 3v3 game without aim noise: kick directions are exact, restarts are checked on it.
RULES3 = EnvConfig(team_size=3, boundary="rules", shoot_noise=0.0, pass_noise=0.0,
                   kick_noise_at_speed=0.0)


@dataclasses.dataclass(frozen=True)
class Compiled:
    """An environment and its methods, jitted once."""

    env: SoccerEnv
    reset: callable
    step: callable
    step_env: callable
    observe: callable
    global_state: callable
    action_mask: callable
    vstep: callable  # step vmapped over games (key, state, actions all batched)

    @property
    def config(self) -> EnvConfig:
        return self.env.config


@functools.lru_cache(maxsize=None)
def _compiled(config: EnvConfig) -> Compiled:
    env = SoccerEnv(config)
    return Compiled(
        env=env,
        reset=jax.jit(env.reset),
        step=jax.jit(env.step),
        step_env=jax.jit(env.step_env),
        observe=jax.jit(env.observe),
        global_state=jax.jit(env.global_state),
        action_mask=jax.jit(env.action_mask),
        vstep=jax.jit(jax.vmap(env.step)),
    )


@pytest.fixture(scope="session")
def compiled():
    """compiled(config_or_scenario_name) -> Compiled (cached for the session)."""

    def get(config):
        if isinstance(config, str):
            config = soccer_env.scenario_config(config)
        return _compiled(config)

    return get


@pytest.fixture(scope="session")
def c2(compiled):
    """The registered 2v2 match (walls)."""
    return compiled("2v2")


@pytest.fixture(scope="session")
def r3(compiled):
    """A 3v3 game in `rules` mode with exact (noise-free) kicks."""
    return compiled(RULES3)


def place(config: EnvConfig, left=None, right=None, ball=(0.0, 0.0), ball_vel=(0.0, 0.0),
          *, left_vel=None, right_vel=None, active=None, last_touch=None, pass_from=None,
          score=(0, 0), step=0) -> State:
    """A hand-made world-frame state. Players not given are parked far apart on their own goal
    line's side of the pitch, out of the way (inside the pitch, spread across its width)."""
    T = config.team_size
    half, hw = config.field_length / 2, config.field_width / 2
    pos = np.zeros((2, T, 2), np.float32)
    ys = np.linspace(-0.8, 0.8, T) * hw if T > 1 else np.zeros(1)
    pos[0, :, 0], pos[0, :, 1] = -0.8 * half, ys
    pos[1, :, 0], pos[1, :, 1] = 0.8 * half, ys
    for team, spots in ((0, left), (1, right)):
        for i, xy in (spots or {}).items():
            pos[team, i] = xy
    vel = np.zeros((2, T, 2), np.float32)
    for team, vels in ((0, left_vel), (1, right_vel)):
        for i, v in (vels or {}).items():
            vel[team, i] = v

    def onehot(who):
        mask = np.zeros((2, T), bool)
        if who is not None:
            mask[who] = True
        return jnp.asarray(mask)

    return State(
        player_pos=jnp.asarray(pos),
        player_vel=jnp.asarray(vel),
        # A copy: on CPU jnp.asarray may share the caller's numpy buffer.
        active=jnp.ones((2, T), bool) if active is None else jnp.array(active, bool, copy=True),
        ball_pos=jnp.asarray(ball, jnp.float32),
        ball_vel=jnp.asarray(ball_vel, jnp.float32),
        score=jnp.asarray(score, jnp.int32),
        step=jnp.asarray(step, jnp.int32),
        last_touch=onehot(last_touch),
        pass_from=onehot(pass_from),
    )


@pytest.fixture(scope="session")
def make_state():
    """make_state(config, left={i: (x, y)}, right=..., ball=(x, y), ...) -> State."""
    return place


def idle(config: EnvConfig) -> jnp.ndarray:
    return jnp.zeros((2, config.team_size), jnp.int32)


def tree_equal(a, b) -> bool:
    """Bitwise equality of two pytrees of arrays (same structure, shapes, dtypes, values)."""
    la, ta = jax.tree.flatten(a)
    lb, tb = jax.tree.flatten(b)
    if ta != tb:
        return False
    return all(
        np.asarray(x).dtype == np.asarray(y).dtype and np.asarray(x).shape == np.asarray(y).shape
        and np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
        for x, y in zip(la, lb))


def assert_equal_to_rounding(a, b, rtol=1e-5, atol=1e-6):
    """Same tree, dtypes and shapes; discrete leaves identical, float leaves equal to rounding."""
    leaves_a = jax.tree_util.tree_flatten_with_path(a)[0]
    leaves_b = jax.tree.leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for (path, x), y in zip(leaves_a, leaves_b):
        x, y = np.asarray(x), np.asarray(y)
        name = jax.tree_util.keystr(path)
        assert x.dtype == y.dtype and x.shape == y.shape, name
        if np.issubdtype(x.dtype, np.floating):
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(x, y, err_msg=name)


def tree_diff(a, b) -> list[str]:
    """Paths of the leaves that differ (for assertion messages)."""
    pa = jax.tree_util.tree_flatten_with_path(a)[0]
    pb = jax.tree_util.tree_flatten_with_path(b)[0]
    return [jax.tree_util.keystr(p) for (p, x), (_, y) in zip(pa, pb)
            if not np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)]


@pytest.fixture(scope="session")
def rollout_states(c2):
    """[N] random 2v2 states visited by random play (flattened over games and time), with the
    keys and actions that follow them: material for symmetry and batching tests."""
    env = c2.env
    games, steps = 8, 40

    def body(state, key):
        k_act, k_step = jax.random.split(key)
        actions = jax.random.randint(k_act, (games, 2, env.team_size), 0, env.num_actions)
        keys = jax.random.split(k_step, games)
        _, next_state, _, _, _ = jax.vmap(env.step)(keys, state, actions)
        return next_state, (state, keys, actions)

    @jax.jit
    def run(key):
        k_reset, k_run = jax.random.split(key)
        _, state = jax.vmap(env.reset)(jax.random.split(k_reset, games))
        _, out = jax.lax.scan(body, state, jax.random.split(k_run, steps))
        return jax.tree.map(lambda x: x.reshape(games * steps, *x.shape[2:]), out)

    return run(jax.random.PRNGKey(7))


# --- real run directories written by train.py (the user journey, shared by the whole session) --

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli_env(cache_dir, devices=None) -> dict:
    """The environment of a CLI subprocess: a persistent XLA compilation cache shared by every
    run of the session (only the first run of a program compiles), optional fake devices."""
    env = dict(os.environ)
    env["JAX_COMPILATION_CACHE_DIR"] = str(cache_dir)
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_cli(script_args, cache_dir, devices=None, timeout=600, **kwargs):
    """`python SCRIPT ARGS...` from the checkout, as the README runs it."""
    return subprocess.run([sys.executable, *script_args], cwd=ROOT,
                          env=cli_env(cache_dir, devices), capture_output=True, text=True,
                          timeout=timeout, **kwargs)


def train_cli(args, cache_dir, devices=None, **kwargs):
    return run_cli([os.path.join(ROOT, "train.py"), *map(str, args)], cache_dir, devices,
                   **kwargs)


def eval_cli(args, cache_dir, **kwargs):
    return run_cli([os.path.join(ROOT, "eval.py"), *map(str, args)], cache_dir, **kwargs)


def read_json(path):
    with open(path) as f:
        return json.load(f)


@pytest.fixture(scope="session")
def xla_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("xla_cache")


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory, xla_cache):
    """Two complete `python train.py --preset smoke` runs (seeds 0 and 1), as a new user starts
    them: {"a": run dir, "b": run dir, "stdout": run a's output}."""
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for name, seed in (("a", 0), ("b", 1)):
        proc = train_cli(["--preset", "smoke", "--out", base / name, "--seed", seed], xla_cache)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out[name] = base / name
        out.setdefault("stdout", proc.stdout)
    return out
