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

# A rules-mode 3v3 game without randomness: no aim noise (kick directions are exact), and
# every tackle and keeper catch that may happen does (tackle_prob = catch_prob = 1), so a step
# is a function of the state and actions alone (but for exact ties). Restarts are checked on it.
RULES3 = EnvConfig(team_size=3, boundary="rules", shoot_noise=0.0, shoot_noise_per_m=0.0,
                   shoot_noise_pressure=0.0, pass_noise=0.0, kick_noise_at_speed=0.0,
                   tackle_prob=1.0, catch_prob=1.0)


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
    vreset: callable  # reset vmapped over keys
    vaction_mask: callable  # action_mask vmapped over games

    @property
    def config(self) -> EnvConfig:
        return self.env.config


# XLA's CPU backend at optimization level 0 compiles a step about 2.5x faster and runs it about
# 3x slower: the right trade for programs that a test runs for a few hundred steps at most.
# The main game of the suite (`c2`, whose jit and vmap equalities are checked) is compiled as
# users compile it; the others (`r3`, drills, resets, rollouts) quickly.
QUICK_COMPILE = {"xla_backend_optimization_level": 0}


def _compiled(config: EnvConfig, quick: bool = False) -> Compiled:
    return _compile(config, bool(quick))  # one cache key however it is called


@functools.lru_cache(maxsize=None)
def _compile(config: EnvConfig, quick: bool) -> Compiled:
    env = SoccerEnv(config)
    jit = functools.partial(jax.jit, compiler_options=QUICK_COMPILE) if quick else jax.jit
    return Compiled(
        env=env,
        reset=jit(env.reset),
        step=jit(env.step),
        step_env=jit(env.step_env),
        observe=jit(env.observe),
        global_state=jit(env.global_state),
        action_mask=jit(env.action_mask),
        vstep=jit(jax.vmap(env.step)),
        vreset=jit(jax.vmap(env.reset)),
        vaction_mask=jit(jax.vmap(env.action_mask)),
    )


@pytest.fixture(scope="session")
def compiled():
    """compiled(config_or_scenario_name, quick=False) -> Compiled (cached for the session);
    `quick` compiles at XLA optimization level 0 (see QUICK_COMPILE)."""

    def get(config, quick=False):
        if isinstance(config, str):
            config = soccer_env.scenario_config(config)
        return _compiled(config, quick)

    return get


# The registered 2v2 match, played with walls (the ball bounces off the lines): mechanics with
# default chances and noise, and the `walls` boundary. (`r3` plays `rules`.)
WALLS2 = soccer_env.scenario_config("2v2", boundary="walls")


@pytest.fixture(scope="session")
def c2(compiled):
    """The registered 2v2 match with walls (WALLS2)."""
    return compiled(WALLS2)


@pytest.fixture(scope="session")
def r3(compiled):
    """A 3v3 game in `rules` mode without randomness (RULES3), compiled quickly."""
    return compiled(RULES3, quick=True)


def place(config: EnvConfig, left=None, right=None, ball=(0.0, 0.0), ball_vel=(0.0, 0.0),
          *, left_vel=None, right_vel=None, active=None, last_touch=None, pass_from=None,
          owner=None, cooldown=None, hold=0, pass_origin=None, assist_from=None, shot_on=False,
          score=(0, 0), step=0) -> State:
    """A hand-made world-frame state. Players not given are parked far apart on their own goal
    line's side of the pitch, out of the way (inside the pitch, spread across its width).

    `owner` is (team, i) or None (a loose ball, the default); an owner is also the last toucher
    unless `last_touch` says otherwise. `cooldown` is {(team, i): steps} or a [2, T] array
    (default: nobody on cooldown). `pass_origin` defaults to the ball's position when a
    `pass_from` is given. `last_touch`, `pass_from` and `assist_from` are (team, i), a [2, T]
    bool array, or None (nobody)."""
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
        if who is not None and np.ndim(who) == 2:
            return jnp.array(who, bool, copy=True)
        mask = np.zeros((2, T), bool)
        if who is not None:
            mask[tuple(who)] = True
        return jnp.asarray(mask)

    if owner is not None and last_touch is None:
        last_touch = owner
    cool = np.zeros((2, T), np.int32)
    if isinstance(cooldown, dict):
        for who, steps in cooldown.items():
            cool[who] = steps
    elif cooldown is not None:
        cool[...] = np.asarray(cooldown, np.int32)
    if pass_origin is None:
        pass_origin = ball if pass_from is not None else (0.0, 0.0)

    return State(
        player_pos=jnp.asarray(pos),
        player_vel=jnp.asarray(vel),
        # A copy: on CPU jnp.asarray may share the caller's numpy buffer.
        active=jnp.ones((2, T), bool) if active is None else jnp.array(active, bool, copy=True),
        ball_pos=jnp.asarray(ball, jnp.float32),
        ball_vel=jnp.asarray(ball_vel, jnp.float32),
        score=jnp.asarray(score, jnp.int32),
        step=jnp.asarray(step, jnp.int32),
        owner=jnp.asarray(-1 if owner is None else owner[0] * T + owner[1], jnp.int32),
        cooldown=jnp.asarray(cool),
        hold=jnp.asarray(hold, jnp.int32),
        last_touch=onehot(last_touch),
        pass_from=onehot(pass_from),
        pass_origin=jnp.asarray(pass_origin, jnp.float32),
        assist_from=onehot(assist_from),
        shot_on=jnp.asarray(shot_on, bool),
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


def chase_or_random(rng, config, state, chase_prob=0.5):
    """int32 [G, 2, T] random actions for batched `state`: each player runs at the ball with
    probability `chase_prob` (so the ball is contested: owners, tackles, catches, kicks), else
    takes a uniformly random action, out-of-range indices included (the core clips them)."""
    from soccer_env.actions import Action

    pos, ball = np.asarray(state.player_pos), np.asarray(state.ball_pos)
    to_ball = (ball[:, None, None] - pos) * np.array([1.0, -1.0])[None, :, None, None]
    angle = np.arctan2(to_ball[..., 1], to_ball[..., 0])  # in each team's frame
    chase = np.round(angle / (np.pi / 4)).astype(np.int32) % 8 + int(Action.FORWARD)
    A = SoccerEnv(config).num_actions
    uniform = rng.integers(-1, A + 1, chase.shape)
    return jnp.asarray(np.where(rng.random(chase.shape) < chase_prob, chase, uniform),
                       jnp.int32)


@pytest.fixture(scope="session")
def rollout_states(c2):
    """[N] 2v2 states visited by random play from kickoffs (64 games x 20 steps, flattened),
    with the keys and actions that follow them: material for symmetry and batching tests.
    Played with the compiled vmapped step (64 games: the suite's one batch size)."""
    games, steps = 64, 20
    rng = np.random.default_rng(7)
    _, state = c2.vreset(jax.random.split(jax.random.PRNGKey(7), games))
    keys = jax.random.split(jax.random.PRNGKey(8), steps * games).reshape(steps, games, -1)
    out = []
    for t in range(steps):
        actions = chase_or_random(rng, c2.config, state)
        out.append((state, keys[t], actions))
        _, state, _, _, _ = c2.vstep(keys[t], state, actions)
    return jax.tree.map(lambda *x: jnp.concatenate(x), *out)


# --- invariants of long random rollouts (shared by test_env and test_mechanics) ----------------

ROLLOUT_GAMES, ROLLOUT_STEPS = 64, 300


@functools.lru_cache(maxsize=None)
def _random_rollout(config: EnvConfig, seed: int):
    """ROLLOUT_GAMES games x ROLLOUT_STEPS steps of random play (`chase_or_random`) from
    kickoffs, the last ROLLOUT_STEPS steps of their episodes (so each reaches its time limit
    once, at the end, and is reset), checked at every step: the number of game-steps that broke
    each invariant, and counts of events. State invariants are checked on the returned states
    (fresh ones after a reset), per-transition ones on the finished transition.

    Driven from Python over the compiled vmapped step: WALLS2's is compiled for other tests
    anyway; the other configs' are compiled quickly (QUICK_COMPILE)."""
    from soccer_env import observations
    from soccer_env.actions import Action
    from soccer_env.types import Restart

    c = _compiled(config, quick=config != WALLS2)
    cfg = config
    T, A, G = cfg.team_size, c.env.num_actions, ROLLOUT_GAMES
    half, hw = cfg.field_length / 2, cfg.field_width / 2
    low, high = observations.observation_bounds(cfg)
    X, Y = observations.extent(cfg)
    if cfg.boundary == "walls":
        player_bound = np.array([half, hw]) - cfg.player_radius + 1e-4
        ball_bound = np.array([half, hw]) + 1e-4
    else:  # run-off and restart clearance: the observation's extent
        player_bound = ball_bound = np.array([X, Y])
    reach = cfg.player_radius + cfg.ball_radius
    keeper = (np.arange(T) == 0) & (T >= 2)
    max_cooldown = max(cfg.kick_cooldown, cfg.tackle_cooldown)
    credit_sign_holds = min(cfg.credit_won_ball, cfg.credit_pass, cfg.credit_assist,
                            cfg.credit_goal, cfg.credit_weight) >= 0

    def onehot(owner):  # [G] -> [G, 2, T]
        return (np.arange(2 * T) == owner[:, None]).reshape(-1, 2, T)

    def per_game(x):  # [G, ...] bool -> [G]
        return x.reshape(x.shape[0], -1).any(axis=1)

    violations, counts = {}, {}

    def add(table, name, value):
        table[name] = table.get(name, 0) + int(np.sum(value))

    rng = np.random.default_rng(seed)
    steps = min(ROLLOUT_STEPS, cfg.max_steps)
    _, state = c.vreset(jax.random.split(jax.random.PRNGKey(seed), G))
    state = state.replace(step=jnp.full((G,), cfg.max_steps - steps, jnp.int32))
    keys = jax.random.split(jax.random.PRNGKey(seed + 1), steps * G).reshape(steps, G, -1)
    for t in range(steps):
        actions = chase_or_random(rng, cfg, state)
        out = c.vstep(keys[t], state, actions)
        mask = np.asarray(c.vaction_mask(out[1]))
        s, (obs, nxt, reward, done, info) = jax.tree.map(np.asarray, (state, out))
        state = out[1]
        acts = np.clip(np.asarray(actions), 0, A - 1)
        had = onehot(s.owner) & s.active
        has = onehot(nxt.owner)
        ball_gap = np.linalg.norm(nxt.player_pos - nxt.ball_pos[:, None, None], axis=-1)
        # A tackler's distance to the ball or to the body of the player shielding it.
        owner_pos = (had[..., None] * s.player_pos).sum(axis=(1, 2))
        state_gap = np.minimum(
            np.linalg.norm(s.player_pos - s.ball_pos[:, None, None], axis=-1),
            np.linalg.norm(s.player_pos - owner_pos[:, None, None], axis=-1))
        forced = had & keeper & (s.hold >= cfg.keeper_hold_steps)[:, None, None]
        delta = info["score"] - s.score
        tr = info["team_reward"]
        credit = reward - tr[..., None]
        events = info["won_ball"] | info["pass_completed"] | info["assist"] | info["goal_scored"]
        possession = np.where(nxt.owner < 0, -1, nxt.owner // T)
        floats = (obs, reward, nxt.player_pos, nxt.player_vel, nxt.ball_pos, nxt.ball_vel)
        check = {
            "nan": ~np.stack([np.isfinite(x).reshape(G, -1).all(axis=1) for x in floats]).all(0),
            "obs_bounds": per_game((obs < low - 1e-5) | (obs > high + 1e-5)),
            "player_bounds": per_game(np.abs(nxt.player_pos) > player_bound),
            "ball_bounds": per_game(np.abs(nxt.ball_pos) > ball_bound),
            "owner_range": (nxt.owner < -1) | (nxt.owner >= 2 * T),
            "owner_off_pitch": per_game(has & ~nxt.active),
            "owner_far_from_ball": per_game(has & (ball_gap > reach + 0.1)),
            "cooldown_range": per_game((nxt.cooldown < 0) | (nxt.cooldown > max_cooldown)),
            "hold": (nxt.hold < 0) | ((nxt.owner == -1) & (nxt.hold != 0)),
            "last_touch": (nxt.last_touch.sum(axis=(1, 2)) > 1) | per_game(has & ~nxt.last_touch),
            "possession": (info["possession"] != possession) & ~done,
            "mask_is_owner": per_game(mask[..., Action.SHOOT] != has)
            | per_game(mask[..., Action.FIRST_PASS:] & ~has[..., None]),
            "kick_by_owner": per_game(info["shot"] & ~(had & ((acts == Action.SHOOT) | forced)))
            | per_game(info["pass"] & ~(had & (acts >= Action.FIRST_PASS))),
            "owner_kick_acts": per_game(had & (acts >= Action.SHOOT) & ~info["touch"]),
            "tackle": per_game(info["tackle"] & ~(info["won_ball"]
                                                  & (state_gap <= cfg.tackle_range)
                                                  & had.any(axis=2)[:, ::-1, None]))
            | (info["tackle"].sum(axis=(1, 2)) > 1),
            "save_by_keeper": per_game(info["save"] & ~keeper),
            "shot_on_target": per_game(info["shot_on_target"] & ~info["shot"]),
            "pass_completed": per_game(info["pass_completed"] & ~(s.pass_from | info["pass"])),
            "goal_scored": per_game((info["goal_scored"] | info["assist"])
                                    & ~info["goal"][:, :, None]),
            "score": per_game((delta < 0) | (delta > 1)) | (delta.sum(1) > 1)
            | per_game(delta != info["goal"]),
            "zero_sum": tr[:, 0] != -tr[:, 1],
            "credit_only_for_events": per_game(np.abs(np.where(events, 0.0, credit)) > 1e-6),
            "truncation": info["truncated"] != (s.step + 1 >= cfg.max_steps),
            "reset": done & ((nxt.step != 0) | (nxt.score != 0).any(axis=1)),
            "kickoff": info["goal"].any(axis=1) & ~done & (info["restart"] != Restart.KICKOFF),
        }
        if credit_sign_holds:
            check["credit_sign"] = per_game(credit < -1e-6)
        if cfg.ball_progress_weight == 0:
            check["team_reward"] = np.abs(tr[:, 0] - cfg.goal_reward * (delta[:, 0] - delta[:, 1])
                                          ) > 1e-6
        for name, value in check.items():
            add(violations, name, value)
        for name in ("goal", "goal_scored", "shot", "shot_on_target", "pass", "pass_completed",
                     "touch", "tackle", "interception", "won_ball", "save", "assist",
                     "truncated"):
            add(counts, name, info[name])
        add(counts, "done", done)
        add(counts, "owned", nxt.owner >= 0)
        add(counts, "loose_taken", (s.owner < 0) & (nxt.owner >= 0) & ~done)
        add(counts, "restart", info["restart"] != Restart.NO_RESTART)
    return violations, counts, state


@pytest.fixture(scope="session")
def random_rollout():
    """random_rollout(config_or_scenario_name, seed=42) -> (violations {name: game-steps that
    broke it}, counts {event: total}, final states); each rollout runs once per session."""

    def get(config, seed=42):
        if isinstance(config, str):
            config = soccer_env.scenario_config(config)
        return _random_rollout(config, seed)

    return get


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
