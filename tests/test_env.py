"""The environment contract: shapes, dtypes, jit/vmap/determinism, team-frame symmetry,
auto-reset, action handling, and invariants of long random rollouts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import soccer_env
from soccer_env import EnvConfig, SoccerEnv, mirror, observations
from soccer_env.actions import Action, num_actions
from soccer_env.types import Restart
from conftest import WALLS2, assert_equal_to_rounding, idle, place, tree_diff, tree_equal

KEY = jax.random.PRNGKey(0)

STATE_FIELDS = {  # name: (shape given T, dtype)
    "player_pos": (lambda T: (2, T, 2), jnp.float32),
    "player_vel": (lambda T: (2, T, 2), jnp.float32),
    "active": (lambda T: (2, T), jnp.bool_),
    "ball_pos": (lambda T: (2,), jnp.float32),
    "ball_vel": (lambda T: (2,), jnp.float32),
    "score": (lambda T: (2,), jnp.int32),
    "step": (lambda T: (), jnp.int32),
    "owner": (lambda T: (), jnp.int32),
    "cooldown": (lambda T: (2, T), jnp.int32),
    "hold": (lambda T: (), jnp.int32),
    "last_touch": (lambda T: (2, T), jnp.bool_),
    "pass_from": (lambda T: (2, T), jnp.bool_),
    "pass_origin": (lambda T: (2,), jnp.float32),
    "assist_from": (lambda T: (2, T), jnp.bool_),
    "shot_on": (lambda T: (), jnp.bool_),
}
EVENT_FLAGS = ("touch", "pass", "pass_completed", "shot", "shot_on_target", "goal_scored",
               "tackle", "interception", "save", "won_ball", "assist")
INFO_FIELDS = {
    "score": (lambda T: (2,), jnp.int32),
    "goal": (lambda T: (2,), jnp.bool_),
    "terminated": (lambda T: (), jnp.bool_),
    "truncated": (lambda T: (), jnp.bool_),
    "restart": (lambda T: (), jnp.int32),
    "possession": (lambda T: (), jnp.int32),
    "team_reward": (lambda T: (2,), jnp.float32),
    "pass_length": (lambda T: (2, T), jnp.float32),
    **{flag: (lambda T: (2, T), jnp.bool_) for flag in EVENT_FLAGS},
}


def check_state_spec(state, T):
    for name, (shape, dtype) in STATE_FIELDS.items():
        leaf = getattr(state, name)
        assert leaf.shape == shape(T) and leaf.dtype == dtype, (name, leaf.shape, leaf.dtype)


def check_step_spec(env, out):
    T = env.team_size
    obs, state, reward, done, info = out
    assert obs.shape == (2, T, env.obs_dim) and obs.dtype == jnp.float32
    check_state_spec(state, T)
    assert reward.shape == (2, T) and reward.dtype == jnp.float32
    assert done.shape == () and done.dtype == jnp.bool_
    for name, (shape, dtype) in INFO_FIELDS.items():
        assert info[name].shape == shape(T) and info[name].dtype == dtype, name


def all_configs():
    configs = [(f"T={T}", EnvConfig(team_size=T)) for T in range(1, 12)]
    configs += [(name, soccer_env.scenario_config(name)) for name in soccer_env.scenarios()]
    return configs


@pytest.mark.parametrize("config", [c for _, c in all_configs()],
                         ids=[n for n, _ in all_configs()])
def test_shapes_and_dtypes(config):
    """Every API function's output spec, for every team size and scenario (traced, not run)."""
    env = SoccerEnv(config)
    T = config.team_size
    assert env.num_actions == 9 + T
    obs, state = jax.eval_shape(env.reset, KEY)
    assert obs.shape == (2, T, env.obs_dim) and obs.dtype == jnp.float32
    check_state_spec(state, T)
    actions = jax.ShapeDtypeStruct((2, T), jnp.int32)
    check_step_spec(env, jax.eval_shape(env.step, KEY, state, actions))
    check_step_spec(env, jax.eval_shape(env.step_env, KEY, state, actions))
    o = jax.eval_shape(env.observe, state)
    assert o.shape == (2, T, env.obs_dim) and o.dtype == jnp.float32
    m = jax.eval_shape(env.action_mask, state)
    assert m.shape == (2, T, env.num_actions) and m.dtype == jnp.bool_
    g = jax.eval_shape(env.global_state, state)
    assert g.shape == (2, env.state_dim) and g.dtype == jnp.float32
    if T not in (1, 11):
        return
    # Batched over games.
    B = 3
    batched = jax.tree.map(lambda x: jax.ShapeDtypeStruct((B, *x.shape), x.dtype), state)
    bobs, bstate, breward, bdone, _ = jax.eval_shape(
        jax.vmap(env.step), jax.ShapeDtypeStruct((B, 2), jnp.uint32), batched,
        jax.ShapeDtypeStruct((B, 2, T), jnp.int32))
    assert bobs.shape == (B, 2, T, env.obs_dim) and breward.shape == (B, 2, T)
    assert bdone.shape == (B,) and bstate.player_pos.shape == (B, 2, T, 2)


@pytest.mark.parametrize("name", soccer_env.scenarios())
def test_reset_gives_valid_initial_state(compiled, name):
    """Every scenario starts on the pitch with the ball at the feet of the player who starts
    with it (the kicker at a kickoff, left player 0 in the drills)."""
    c = compiled(name, quick=True)
    cfg = c.config
    T = cfg.team_size
    obs, state = c.vreset(jax.random.split(KEY, 8))
    s = jax.tree.map(np.asarray, state)
    low, high = observations.observation_bounds(cfg)
    assert np.all(np.isfinite(obs)) and np.all((obs >= low) & (obs <= high))
    assert np.all(s.score == 0) and np.all(s.step == 0) and np.all(s.hold == 0)
    assert not s.cooldown.any() and not s.pass_from.any() and not s.assist_from.any()
    assert not s.shot_on.any()
    half, hw = cfg.field_length / 2, cfg.field_width / 2
    on = s.active
    assert on[:, 0].any(axis=-1).all(), "the left team always has a player on the pitch"
    assert np.all(np.abs(s.player_pos[..., 0][on]) <= half)
    assert np.all(np.abs(s.player_pos[..., 1][on]) <= hw)
    assert np.all(np.abs(s.ball_pos) <= [half, hw])
    owner = (np.arange(2 * T) == s.owner[:, None]).reshape(-1, 2, T)
    assert np.all(owner.sum(axis=(1, 2)) == 1) and np.all(on[owner]), "someone has the ball"
    np.testing.assert_array_equal(s.last_touch, owner), "the owner counts as the last toucher"
    dist = np.linalg.norm(s.player_pos - s.ball_pos[:, None, None], axis=-1)
    assert np.all(dist[owner] <= cfg.control_radius)
    if cfg.layout == "match":
        assert on.all() and np.all(s.ball_pos == 0)
        assert np.all(s.owner % T == T - 1), "the kicker (the last index) kicks off"
        assert 0 < (s.owner // T).sum() < 8, "a random team kicks off"
    else:
        assert np.all(s.owner == 0), "drills: left player 0 has the ball"
        # Parked players wait outside the pitch.
        assert np.all(np.abs(s.player_pos[..., 1][~on]) > hw)
    # Different keys give different starts (random jitter).
    assert not np.array_equal(s.player_pos[0], s.player_pos[1])


def kick_transition(c2, rollout_states):
    """(state, key, actions) of the first rollout transition where a kick in range is taken."""
    states, keys, actions = rollout_states
    mask = c2.vaction_mask(states)
    kicking = jnp.any(jnp.take_along_axis(mask, actions[..., None], -1)[..., 0]
                      & (actions >= Action.SHOOT), axis=(1, 2))
    i = int(jnp.argmax(kicking))
    assert bool(kicking[i]), "the random rollout should contain a kick"
    return jax.tree.map(lambda x: x[i], rollout_states)


def test_reset_and_step_deterministic(c2, rollout_states):
    state, keys, actions = kick_transition(c2, rollout_states)
    assert tree_equal(c2.reset(KEY), c2.reset(KEY))
    assert not tree_equal(c2.reset(KEY)[1], c2.reset(jax.random.PRNGKey(1))[1])
    a = c2.step(keys, state, actions)
    b = c2.step(keys, state, actions)
    assert tree_equal(a, b)
    other = c2.step(jax.random.PRNGKey(5), state, actions)
    assert not np.array_equal(a[1].ball_vel, other[1].ball_vel), "the key sets the kick noise"


def test_jit_step_equals_step(c2, rollout_states):
    # A state where a kick is taken, so the kick-noise path is exercised too.
    state, key, action = kick_transition(c2, rollout_states)
    eager = c2.env.step(key, state, action)
    jitted = c2.step(key, state, action)
    # Everything discrete is identical; floats agree to rounding. Bitwise equality of eager and
    # jitted float code is not attainable on XLA:CPU: inside jit it contracts a * b + c into FMAs
    # and rewrites x / sqrt(y) as x * rsqrt(y), which eager op-by-op dispatch does not.
    assert_equal_to_rounding(eager, jitted)
    # A kick happened in this transition (so the comparison covered kick resolution).
    assert bool(jitted[4]["touch"].any())


BATCH = 64  # every vmapped step in the suite uses this batch size: compiled once


def test_vmap_step_equals_single_steps(c2, rollout_states):
    states, keys, actions = jax.tree.map(lambda x: x[::5][:BATCH], rollout_states)
    batched = c2.vstep(keys, states, actions)
    for b in range(keys.shape[0]):
        single = c2.step(*jax.tree.map(lambda x: x[b], (keys, states, actions)))
        row = jax.tree.map(lambda x: x[b], batched)
        # The batched and the single-game programs are compiled separately, and XLA:CPU may
        # contract different a * b + c into FMAs in each: floats agree to the last bits.
        assert_equal_to_rounding(row, single)


def test_step_equals_step_env_until_done(c2, rollout_states):
    """`step` only differs from `step_env` by the auto-reset (same key, same transition)."""
    states, keys, actions = jax.tree.map(lambda x: x[::53][:4], rollout_states)
    for b in range(4):
        args = jax.tree.map(lambda x: x[b], (keys, states, actions))
        out, out_env = c2.step(*args), c2.step_env(*args)
        assert not bool(out_env[3])
        assert tree_equal(out, out_env), tree_diff(out, out_env)


def test_observation_and_global_state_are_team_symmetric(c2, rollout_states):
    """Swapping the teams and rotating the world by 180 degrees swaps the two teams' views."""
    states = rollout_states[0]
    mirrored = jax.vmap(mirror)(states)
    obs, obs_m = jax.vmap(c2.observe)(states), jax.vmap(c2.observe)(mirrored)
    np.testing.assert_array_equal(obs_m[:, 0], obs[:, 1])
    np.testing.assert_array_equal(obs_m[:, 1], obs[:, 0])
    g, g_m = jax.vmap(c2.global_state)(states), jax.vmap(c2.global_state)(mirrored)
    np.testing.assert_array_equal(g_m[:, 0], g[:, 1])
    np.testing.assert_array_equal(g_m[:, 1], g[:, 0])
    m, m_m = jax.vmap(c2.action_mask)(states), jax.vmap(c2.action_mask)(mirrored)
    np.testing.assert_array_equal(m_m[:, ::-1], m)
    # The two teams' observations differ (the test would pass trivially otherwise).
    assert not np.array_equal(obs[:, 0], obs[:, 1])
    # mirror is an involution.
    assert tree_equal(jax.vmap(mirror)(mirrored), states)


def test_step_is_team_symmetric(c2, rollout_states):
    """Playing the mirrored game with the teams' actions swapped gives the mirrored result
    (up to float rounding: the sums over players run in a different order). Every draw of a
    step is shared by the mirrored game except the keepers' catch draws (one per team, so they
    swap keepers) and the tie-break (exact ties only): states where a keeper could catch the
    ball on this step are left out (test_mechanics checks the exact symmetry without draws)."""
    cfg = c2.config
    states, keys, actions = rollout_states
    gap = np.linalg.norm(np.asarray(states.player_pos[:, :, 0] - states.ball_pos[:, None]),
                         axis=-1)
    reach = cfg.catch_radius + (cfg.ball_max_speed + cfg.player_max_speed) * cfg.dt
    far = np.flatnonzero(np.all(gap > reach, axis=1))[::4][:BATCH]
    assert len(far) == BATCH
    states, keys, actions = jax.tree.map(lambda x: x[far], rollout_states)
    obs, nxt, reward, done, info = c2.vstep(keys, states, actions)
    obs_m, nxt_m, reward_m, done_m, info_m = c2.vstep(
        keys, jax.vmap(mirror)(states), actions[:, ::-1])
    assert not bool(done.any())
    assert bool(info["touch"].any()), "some kicks or bounces are compared too"
    expected = jax.vmap(mirror)(nxt)
    for name in ("player_pos", "player_vel", "ball_pos", "ball_vel"):
        np.testing.assert_allclose(getattr(nxt_m, name), getattr(expected, name), atol=2e-4,
                                   err_msg=name)
    np.testing.assert_array_equal(nxt_m.score, expected.score)
    np.testing.assert_allclose(reward_m, reward[:, ::-1], atol=1e-6)
    np.testing.assert_array_equal(info_m["touch"], info["touch"][:, ::-1])
    np.testing.assert_allclose(obs_m, obs[:, ::-1], atol=1e-4)


def test_auto_reset_on_truncation(c2, rollout_states):
    cfg = c2.config
    state = jax.tree.map(lambda x: x[5], rollout_states[0])
    state = state.replace(step=jnp.asarray(cfg.max_steps - 2, jnp.int32),
                          score=jnp.array([2, 1], jnp.int32))
    key1, key2 = jax.random.split(jax.random.PRNGKey(3))
    _, state, _, done, info = c2.step(key1, state, idle(cfg))
    assert not bool(done) and not bool(info["truncated"]) and int(state.step) == cfg.max_steps - 1
    obs, new, reward, done, info = c2.step(key2, state, idle(cfg))
    assert bool(done) and bool(info["truncated"]) and not bool(info["terminated"])
    assert info["score"].tolist() == [2, 1], "info reports the finished episode"
    # The returned state is a fresh episode, and obs is its observation.
    assert int(new.step) == 0 and new.score.tolist() == [0, 0]
    np.testing.assert_array_equal(new.ball_pos, [0.0, 0.0])
    np.testing.assert_array_equal(obs, c2.observe(new))
    # step_env does not reset.
    _, kept, _, done_env, info_env = c2.step_env(key2, state, idle(cfg))
    assert bool(done_env) and int(kept.step) == cfg.max_steps and kept.score.tolist() == [2, 1]


def test_out_of_range_actions_are_clipped(c2):
    """Documented behaviour of the jitted core: indices above the table act as the last action
    (here: pass to the only teammate), negative ones as idle (0)."""
    cfg = c2.config
    last = c2.env.num_actions - 1
    state = place(cfg, left={0: (-1.0, 0.0), 1: (-4.0, 3.0)}, ball=(-0.45, 0.0),
                  left_vel={0: (1.0, 0.5)}, owner=(0, 0))

    def run(a00):
        actions = idle(cfg).at[0, 0].set(a00)
        return c2.step_env(KEY, state, actions)

    assert tree_equal(run(999), run(last))
    assert tree_equal(run(-5), run(0))
    assert not tree_equal(run(last), run(0)), "the last action (a pass) differs from idle"
    assert bool(run(999)[4]["pass"][0, 0])


def test_action_mask_marks_the_owner(c2, rollout_states):
    """Idle and moves always; shoot and pass for the ball's owner only."""
    T = c2.config.team_size
    states = rollout_states[0]
    masks = np.asarray(c2.vaction_mask(states))
    owner = np.asarray(states.owner)
    has_ball = (np.arange(2 * T) == owner[:, None]).reshape(-1, 2, T)
    assert (owner >= 0).any() and (owner < 0).any(), "owned and loose balls are both checked"
    assert masks[..., 0].all() and masks[..., 1:9].all()
    np.testing.assert_array_equal(masks[..., Action.SHOOT], has_ball)
    np.testing.assert_array_equal(masks[..., Action.FIRST_PASS], has_ball)  # 2v2: one mate


def test_action_mask_with_players_off_the_pitch(compiled):
    c = compiled("3v1_with_keeper", quick=True)
    _, state = c.reset(KEY)
    mask = np.asarray(c.action_mask(state))
    active = np.asarray(state.active)
    assert not active[1, 2], "the drill parks right player 2"
    assert mask[1, 2, 0] and not mask[1, 2, 1:].any(), "off the pitch: only idle"
    # Left player 0 has the ball: it may shoot and pass to both teammates (1 and 2).
    assert mask[0, 0, Action.SHOOT] and mask[0, 0, Action.FIRST_PASS:].all()
    # With the ball, the right keeper (player 0) may not pass to its parked teammate 2 (its
    # second pass slot); left player 0 may not kick any more.
    st = state.replace(ball_pos=state.player_pos[1, 0] + jnp.array([-0.5, 0.0]),
                       owner=jnp.asarray(c.config.team_size, jnp.int32))
    mask = np.asarray(c.action_mask(st))
    assert mask[1, 0, Action.SHOOT] and mask[1, 0, Action.FIRST_PASS]
    assert not mask[1, 0, Action.FIRST_PASS + 1] and not mask[0, 0, Action.SHOOT:].any()


@pytest.mark.parametrize("owner", [None, (1, 0)])
def test_kick_without_the_ball_is_idle(c2, owner):
    """Kicks of players who do not have the ball are idles, even right next to it (a loose
    ball, or one at an opponent's feet)."""
    cfg = c2.config
    state = place(cfg, left={0: (-0.6, 0.1), 1: (-5.0, 2.0)}, right={0: (0.55, 0.0)},
                  ball=(0.0, 0.0), left_vel={0: (2.0, 1.0)}, owner=owner)
    for kick in (Action.SHOOT, Action.FIRST_PASS):
        actions = idle(cfg).at[0].set(int(kick))
        out = c2.step_env(KEY, state, actions)
        assert tree_equal(out, c2.step_env(KEY, state, idle(cfg))), kick
        assert not bool(out[4]["shot"].any()) and not bool(out[4]["pass"].any())


# --------------------------------------------------------------------------------------------
# Invariants: property-based single steps and a long vectorized rollout.


def finite_tree(tree) -> bool:
    return all(np.all(np.isfinite(np.asarray(x))) for x in jax.tree.leaves(tree)
               if np.issubdtype(np.asarray(x).dtype, np.floating))


def check_transition(cfg, state, actions, out):
    """Invariants of one `step_env` transition of a `walls` match (numpy, one game)."""
    obs, nxt, reward, done, info = jax.tree.map(np.asarray, out)
    s = jax.tree.map(np.asarray, state)
    T = cfg.team_size
    half, hw = cfg.field_length / 2, cfg.field_width / 2
    assert finite_tree((obs, nxt, reward))
    low, high = observations.observation_bounds(cfg)
    assert np.all((obs >= low - 1e-5) & (obs <= high + 1e-5))
    # Bodies stay on the pitch (walls mode: players inside the lines, the ball too; a ball that
    # went in is back on the centre spot).
    assert np.all(np.abs(nxt.player_pos[..., 0]) <= half - cfg.player_radius + 1e-4)
    assert np.all(np.abs(nxt.player_pos[..., 1]) <= hw - cfg.player_radius + 1e-4)
    assert np.all(np.abs(nxt.ball_pos) <= np.array([half, hw]) + 1e-4)
    player_cap, ball_cap = observations.speed_bounds(cfg)
    assert np.linalg.norm(nxt.ball_vel) <= ball_cap
    assert np.all(np.linalg.norm(nxt.player_vel, axis=-1) <= player_cap)
    # Score: at most one goal per step, reported consistently.
    delta = nxt.score - s.score
    assert set(delta.tolist()) <= {0, 1} and delta.sum() <= 1
    np.testing.assert_array_equal(delta, info["goal"].astype(np.int32))
    np.testing.assert_array_equal(info["score"], nxt.score)
    if info["goal"].any():
        assert info["restart"] == Restart.KICKOFF and np.all(nxt.ball_pos == 0)
    # Rewards: team rewards are zero-sum; a player's reward only differs from its team's through
    # its own (non-negative) credit events.
    tr = info["team_reward"]
    assert tr[0] == -tr[1]
    np.testing.assert_allclose(tr[0], cfg.goal_reward * (delta[0] - delta[1]), atol=1e-6)
    credit = reward - tr[:, None]
    events = info["won_ball"] | info["pass_completed"] | info["assist"] | info["goal_scored"]
    assert np.all(credit >= -1e-6)
    assert np.all(np.abs(credit[~events]) <= 1e-6)
    # Kicks: only by the player who had the ball, and always when it asks for one.
    acts = np.clip(actions, 0, num_actions(T) - 1)
    had = (np.arange(2 * T) == s.owner).reshape(2, T) & s.active
    keeper = (np.arange(T) == 0) & (T >= 2)
    forced = had & keeper & (s.hold >= cfg.keeper_hold_steps)
    assert not np.any(info["shot"] & ~(had & ((acts == Action.SHOOT) | forced)))
    assert not np.any(info["pass"] & ~(had & (acts >= Action.FIRST_PASS)))
    assert not np.any(had & (acts >= Action.SHOOT) & ~info["touch"]), "an owner's kick acts"
    assert not np.any(info["shot_on_target"] & ~info["shot"])
    assert not np.any(info["pass_completed"] & ~(s.pass_from | info["pass"]))
    assert not np.any(info["goal_scored"] & ~info["goal"][:, None])
    assert info["goal_scored"].sum() <= 1 and not np.any(info["save"] & ~keeper)
    assert not np.any((info["shot"] | info["pass"]) & ~info["touch"]), "a kicker touches"
    # Tackles: by an opponent of the owner in tackle range (of the ball or of the owner's body),
    # free of cooldown; it wins the ball.
    owner_pos = (had[..., None] * s.player_pos).sum(axis=(0, 1))
    gap = np.minimum(np.linalg.norm(s.player_pos - s.ball_pos, axis=-1),
                     np.linalg.norm(s.player_pos - owner_pos, axis=-1))
    if info["tackle"].any():
        team = int(np.argmax(info["tackle"].any(axis=1)))
        assert info["tackle"].sum() == 1 and had[1 - team].any()
        assert np.all(gap[info["tackle"]] <= cfg.tackle_range)
        assert np.all(s.cooldown[info["tackle"]] <= 1) and info["won_ball"][info["tackle"]].all()
    # Ownership after the step.
    owner = int(nxt.owner)
    assert -1 <= owner < 2 * T and int(info["possession"]) == (owner // T if owner >= 0 else -1)
    assert nxt.last_touch.sum() <= 1
    if owner >= 0:
        team, i = divmod(owner, T)
        assert nxt.active[team, i] and nxt.last_touch[team, i]
        assert np.linalg.norm(nxt.player_pos[team, i] - nxt.ball_pos) <= (
            cfg.player_radius + cfg.ball_radius + 0.1)
    restarted = int(info["restart"]) != Restart.NO_RESTART
    assert int(nxt.hold) == (s.hold + 1 if owner == s.owner >= 0 and not restarted else 0)
    # Cooldowns count down; a kick or a lost tackle starts one; a restart clears them.
    expected = np.maximum(s.cooldown - 1, 0)
    expected = np.where(info["shot"] | info["pass"], cfg.kick_cooldown, expected)
    if info["tackle"].any():
        expected = np.where(had, cfg.tackle_cooldown, expected)
    np.testing.assert_array_equal(nxt.cooldown, 0 if restarted else expected)
    assert not np.any(reward[~s.active]), "players off the pitch get nothing"


def _state_strategy(cfg):
    half, hw = cfg.field_length / 2, cfg.field_width / 2
    T = cfg.team_size
    coord = lambda lim: st.floats(-lim, lim, allow_nan=False)  # noqa: E731
    xy = st.tuples(coord(half - cfg.player_radius), coord(hw - cfg.player_radius))
    return st.fixed_dictionaries(dict(
        pos=st.lists(xy, min_size=2 * T, max_size=2 * T),
        vel=st.lists(st.tuples(coord(3.5), coord(3.5)), min_size=2 * T, max_size=2 * T),
        ball=st.tuples(coord(half - cfg.ball_radius), coord(hw - cfg.ball_radius)),
        ball_vel=st.tuples(coord(14.0), coord(14.0)),
        actions=st.lists(st.integers(-3, 15), min_size=2 * T, max_size=2 * T),
        owner=st.integers(-1, 2 * T - 1),
        toucher=st.integers(-1, 2 * T - 1),
        passer=st.integers(-1, 2 * T - 1),
        cooldown=st.lists(st.integers(0, 12), min_size=2 * T, max_size=2 * T),
        hold=st.integers(0, cfg.keeper_hold_steps + 2),
        near=st.lists(st.tuples(st.floats(-0.9, 0.9), st.floats(-0.9, 0.9)), min_size=2,
                      max_size=2),
        seed=st.integers(0, 2**31 - 1),
    ))


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_state_strategy(WALLS2))
def test_step_invariants_property(c2, data):
    cfg = c2.config
    T = cfg.team_size
    bound = np.array([cfg.field_length / 2, cfg.field_width / 2]) - cfg.player_radius
    pos = np.asarray(data["pos"], np.float32).reshape(2, T, 2)
    ball = np.asarray(data["ball"], np.float32)
    owner = data["owner"]
    if owner >= 0:
        # The ball at the owner's feet, an opponent near it half of the time (tackles).
        team, i = divmod(owner, T)
        direction = np.asarray(data["near"][0]) + 1e-3
        pos[team, i] = np.clip(ball - direction / np.linalg.norm(direction)
                               * (cfg.player_radius + cfg.ball_radius + 0.03), -bound, bound)
        ball = pos[team, i] + direction / np.linalg.norm(direction) * (
            cfg.player_radius + cfg.ball_radius + 0.03)
        if data["seed"] % 2:
            pos[1 - team, data["seed"] % T] = np.clip(ball + np.asarray(data["near"][1]),
                                                      -bound, bound)
    elif data["seed"] % 2:  # someone next to a loose ball half of the time
        pos[0, data["seed"] % T] = np.clip(ball + np.asarray(data["near"][0]), -bound, bound)
    onehot = lambda i: (np.arange(2 * T) == i).reshape(2, T)  # noqa: E731
    state = place(cfg, ball=tuple(ball), ball_vel=data["ball_vel"] if owner < 0 else (0, 0),
                  owner=None if owner < 0 else divmod(owner, T),
                  last_touch=onehot(owner if owner >= 0 else data["toucher"]),
                  pass_from=onehot(data["passer"] if owner < 0 else -1),
                  cooldown=np.asarray(data["cooldown"]).reshape(2, T),
                  hold=data["hold"] if owner >= 0 else 0)
    state = state.replace(player_pos=jnp.asarray(pos),
                          player_vel=jnp.asarray(np.asarray(data["vel"], np.float32)
                                                 .reshape(2, T, 2)))
    actions = np.asarray(data["actions"], np.int32).reshape(2, T)
    out = c2.step_env(jax.random.PRNGKey(data["seed"]), state, jnp.asarray(actions))
    check_transition(cfg, state, actions, out)


def test_long_rollout_invariants(c2, random_rollout):
    """64 games x 300 steps of random play to the time limit, with auto-reset (see
    conftest._random_rollout)."""
    violations, counts, final = random_rollout(c2.config)
    assert all(v == 0 for v in violations.values()), violations
    # The rollout really exercised the rules it checks.
    assert counts["touch"] > 100 and counts["shot"] > 20 and counts["pass"] > 20, counts
    assert counts["goal"] > 0 and counts["goal_scored"] <= counts["goal"], counts
    assert counts["pass_completed"] > 0 and counts["tackle"] > 0, counts
    assert counts["interception"] > 0 and counts["save"] > 0, counts


def test_long_rollout_truncates_every_game_once(c2, random_rollout):
    violations, counts, final = random_rollout(c2.config)
    games = final.step.shape[0]  # the rollout ends each game's episode
    assert counts["truncated"] == games and counts["done"] == games
    assert np.all(np.asarray(final.step) == 0), "all games were reset at max_steps"
