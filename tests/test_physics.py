"""Physics through the public step: movement in team frames, kicks (shots and passes), ball-body
bounces, collisions and bounds. Kick directions are checked on a noise-free game (`r3`)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from soccer_env.actions import Action, teammate_index
from conftest import idle, place

KEY = jax.random.PRNGKey(0)
TEAM_SIGN = (1.0, -1.0)


def unit(v):
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def angle_between(a, b):
    return float(np.arccos(np.clip(np.dot(unit(a), unit(b)), -1.0, 1.0)))


@pytest.mark.parametrize("action", range(1, 9))
def test_move_actions_in_team_frame(c2, action):
    """Action k accelerates at (k - 1) * 45 degrees in the team frame; the right team's frame is
    rotated by 180 degrees."""
    cfg = c2.config
    state = place(cfg, left={0: (-4.0, 2.0), 1: (-4.0, -2.0)}, right={0: (4.0, 2.0),
                                                                      1: (4.0, -2.0)},
                  ball=(0.0, 5.0))
    _, nxt, _, _, _ = c2.step_env(KEY, state, jnp.full((2, 2), action, jnp.int32))
    angle = (action - 1) * np.pi / 4
    expected_speed = min(cfg.player_accel * cfg.dt, cfg.player_max_speed)
    for team in (0, 1):
        direction = TEAM_SIGN[team] * np.array([np.cos(angle), np.sin(angle)])
        for i in range(2):
            v = np.asarray(nxt.player_vel[team, i])
            np.testing.assert_allclose(v, expected_speed * direction, atol=1e-5)
            moved = np.asarray(nxt.player_pos[team, i] - state.player_pos[team, i])
            np.testing.assert_allclose(moved, v * cfg.dt, atol=1e-5)


def test_idle_decelerates_and_speed_is_capped(c2):
    cfg = c2.config
    state = place(cfg, left={0: (-4.0, 0.0)}, ball=(0.0, 5.0), left_vel={0: (3.0, 0.0)})
    _, nxt, _, _, _ = c2.step_env(KEY, state, idle(cfg))
    assert 0.0 <= float(nxt.player_vel[0, 0, 0]) < 3.0
    # Running forward for a while never exceeds the cap, and reaches it.
    forward = jnp.ones((2, 2), jnp.int32)
    for _ in range(6):
        _, state, _, _, _ = c2.step_env(KEY, state, forward)
    speeds = np.linalg.norm(np.asarray(state.player_vel), axis=-1)
    assert np.all(speeds <= cfg.player_max_speed + 1e-5)
    np.testing.assert_allclose(speeds, cfg.player_max_speed, rtol=1e-5)


@pytest.mark.parametrize("keeper_y", [1.0, -1.0, None], ids=["keeper_left", "keeper_right",
                                                            "no_keeper"])
@pytest.mark.parametrize("ball", [(2.0, 3.0), (-4.0, -2.5), (6.0, 0.5)])
@pytest.mark.parametrize("team", [0, 1])
def test_shot_aims_inside_the_post_away_from_the_keeper(r3, team, ball, keeper_y):
    """The owner's shot goes at full speed to a point `shot_inset` inside the post on the side
    away from the opponent keeper (the goal centre when there is no keeper on the pitch)."""
    cfg = r3.config
    T = cfg.team_size
    half = cfg.field_length / 2
    sign = TEAM_SIGN[team]
    ball = sign * np.asarray(ball)  # the same situation in each team's frame
    opp = 1 - team
    active = np.ones((2, T), bool)
    # The opponent keeper stands in its goal; its teammates are out of the way.
    opp_spots = {0: (sign * (half - 0.5), sign * (keeper_y or 0.0)), 1: (0.0, 6.0),
                 2: (0.0, -6.0)}
    if keeper_y is None:
        active[opp, 0] = False
        aim_y = 0.0
    else:
        aim_y = -sign * np.sign(keeper_y) * (cfg.goal_width / 2 - cfg.shot_inset)
    target = np.array([sign * half, aim_y])
    for i in range(T):
        kicker = ball - sign * np.array([0.55, 0.0])  # behind the ball, team frame
        spots = {"left" if team == 0 else "right": {i: tuple(kicker)},
                 "left" if opp == 0 else "right": opp_spots}
        state = place(cfg, **spots, ball=tuple(ball), owner=(team, i), active=active)
        actions = idle(cfg).at[team, i].set(Action.SHOOT)
        _, nxt, _, _, info = r3.step_env(KEY, state, actions)
        assert angle_between(nxt.ball_vel, target - ball) < 1e-4, (team, i)
        np.testing.assert_allclose(np.linalg.norm(nxt.ball_vel),
                                   cfg.shoot_speed * (1 - cfg.ball_friction), rtol=1e-5)
        expected = np.zeros((2, T), bool)
        expected[team, i] = True
        for flag in ("shot", "touch", "shot_on_target"):
            np.testing.assert_array_equal(info[flag], expected, err_msg=flag)
        np.testing.assert_array_equal(nxt.last_touch, expected)
        # The ball is loose now, and the kicker may not take it back for a while.
        assert int(nxt.owner) == -1 and int(info["possession"]) == -1
        np.testing.assert_array_equal(nxt.cooldown, np.where(expected, cfg.kick_cooldown, 0))


SHOT_BATCH = 64  # the batch size of every vmapped step in the suite: one compile


def shot_angles(c, state, kicker, target):
    """[SHOT_BATCH] aim errors (radians) of the kicker's shot from `state` over many keys."""
    batch = jax.tree.map(lambda x: jnp.broadcast_to(x, (SHOT_BATCH, *x.shape)), state)
    actions = jnp.broadcast_to(idle(c.config).at[kicker].set(Action.SHOOT),
                               (SHOT_BATCH, 2, c.config.team_size))
    _, nxt, _, _, info = c.vstep(jax.random.split(KEY, SHOT_BATCH), batch, actions)
    assert bool(np.all(info["shot"][:, kicker[0], kicker[1]]))
    aim = np.asarray(target) - np.asarray(state.ball_pos)
    v = np.asarray(nxt.ball_vel)
    return np.arctan2(v[:, 1], v[:, 0]) - np.arctan2(aim[1], aim[0])


def test_shot_error_grows_with_distance_and_pressure(c2):
    """Shots scatter around their aim point by shoot_noise + shoot_noise_per_m x distance to
    goal + shoot_noise_pressure x pressure of the nearest opponent field player: a long shot
    or a shot under pressure is a poor one. A keeper close to the shooter is no pressure (its
    part is its reach)."""
    cfg = c2.config
    half = cfg.field_length / 2
    keeper = (half - 0.5, 1.0)  # the right keeper stands left of centre: aim right of it
    target = (half, -(cfg.goal_width / 2 - cfg.shot_inset))
    spreads = {}
    for name, ball, defender, keeper_at in (
            ("near", (half - 3.0, 0.0), None, keeper),
            ("far", (half - 14.0, 0.0), None, keeper),
            ("pressed", (half - 3.0, 0.0), (-0.4, 0.5), keeper),
            ("keeper close", (half - 3.0, 0.0), None, (half - 2.4, 0.9))):
        right = {0: keeper_at}
        gap = np.inf
        if defender is not None:  # beside and behind the ball, off the shot's path
            right[1] = (ball[0] + defender[0], ball[1] + defender[1])
            gap = float(np.hypot(*defender))
        state = place(cfg, left={1: (ball[0] - 0.55, ball[1])}, right=right, ball=ball,
                      owner=(0, 1))
        angles = shot_angles(c2, state, (0, 1), target)
        dist = float(np.hypot(half - ball[0], ball[1]))
        expected = (cfg.shoot_noise + cfg.shoot_noise_per_m * dist
                    + cfg.shoot_noise_pressure * max(0.0, 1.0 - gap / cfg.pressure_radius))
        assert abs(angles.mean()) < 4 * expected / np.sqrt(SHOT_BATCH), name
        assert 0.7 * expected < angles.std() < 1.3 * expected, (name, angles.std(), expected)
        spreads[name] = angles.std()
    assert spreads["far"] > 1.5 * spreads["near"] and spreads["pressed"] > 1.5 * spreads["near"]
    keeper_gap = float(np.hypot(0.6, 0.9))
    assert keeper_gap < 0.6 * cfg.pressure_radius, "the keeper would press if it counted"


@pytest.mark.parametrize("team", [0, 1])
def test_pass_goes_to_chosen_teammate(r3, team):
    """A pass to a standing teammate goes straight at it, struck harder the farther it is
    (between pass_arrival_speed and pass_speed_max)."""
    cfg = r3.config
    T = cfg.team_size
    sign = TEAM_SIGN[team]
    ball = np.array([-1.0, 0.5])
    spots = np.array([[-6.0, 2.5], [3.0, 4.0], [-4.0, -3.5]]) * sign  # far-apart teammates
    mates = teammate_index(T)
    for i in range(T):
        positions = spots.copy()
        positions[i] = ball - sign * np.array([0.55, 0.0])
        speeds = []
        for k in range(T - 1):
            j = mates[i, k]
            state = place(cfg, **{("left" if team == 0 else "right"): dict(enumerate(positions))},
                          ball=tuple(ball), owner=(team, i))
            actions = idle(cfg).at[team, i].set(Action.FIRST_PASS + k)
            _, nxt, _, _, info = r3.step_env(KEY, state, actions)
            target = positions[j] - ball
            assert angle_between(nxt.ball_vel, target) < 1e-4, (team, i, k, j)
            speed = float(np.linalg.norm(nxt.ball_vel)) / (1 - cfg.ball_friction)
            assert cfg.pass_arrival_speed - 1e-4 <= speed <= cfg.pass_speed_max + 1e-4
            speeds.append((np.linalg.norm(target), speed))
            passer = np.zeros((2, T), bool)
            passer[team, i] = True
            np.testing.assert_array_equal(info["pass"], passer)
            np.testing.assert_array_equal(nxt.pass_from, passer)
            np.testing.assert_allclose(nxt.pass_origin, ball)
            assert not np.asarray(info["shot"]).any() and int(nxt.owner) == -1
        (d0, v0), (d1, v1) = sorted(speeds)
        assert d1 < d0 + 0.1 or v1 > v0, "a longer pass is struck harder"


def roll_until_owned(c, state, max_steps=30):
    """Step with idle actions until someone has the ball; returns (state, reward, info)."""
    for _ in range(max_steps):
        _, state, reward, _, info = c.step_env(KEY, state, idle(c.config))
        if int(state.owner) != -1:
            return state, reward, info
    raise AssertionError("nobody took the ball")


def test_completed_pass_credits_the_passer(r3):
    cfg = r3.config
    state = place(cfg, left={0: (-2.55, 0.0), 1: (2.0, 0.0), 2: (-6.0, 5.0)}, ball=(-2.0, 0.0),
                  owner=(0, 0))
    actions = idle(cfg).at[0, 0].set(Action.FIRST_PASS)  # slot 0 of player 0: teammate 1
    _, state, _, _, info = r3.step_env(KEY, state, actions)
    assert bool(info["pass"][0, 0]) and not bool(info["pass_completed"].any())
    state, reward, info = roll_until_owned(r3, state)
    assert int(state.owner) == 1 and bool(info["touch"][0, 1]), "the receiver took it"
    expected = np.zeros((2, 3), bool)
    expected[0, 0] = True
    np.testing.assert_array_equal(info["pass_completed"], expected)
    # From the spot it was struck at to where the receiver took it.
    np.testing.assert_allclose(info["pass_length"][0, 0], 4.0, atol=0.2)
    assert float(np.asarray(info["pass_length"]).sum()) == float(info["pass_length"][0, 0])
    assert not bool(info["interception"].any()) and not bool(info["won_ball"].any())
    assert not bool(state.pass_from.any()), "the pass is no longer in flight"
    np.testing.assert_allclose(reward[0, 0] - info["team_reward"][0],
                               cfg.credit_weight * cfg.credit_pass, atol=1e-6)
    np.testing.assert_array_equal(state.assist_from, expected), "it assists a goal, if any"


def test_intercepted_pass_is_not_completed(r3):
    cfg = r3.config
    state = place(cfg, left={0: (-2.55, 0.0), 1: (4.0, 0.0)}, right={1: (1.0, 0.0)},
                  ball=(-2.0, 0.0), owner=(0, 0))
    _, state, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 0].set(Action.FIRST_PASS))
    assert bool(info["pass"][0, 0])
    state, reward, info = roll_until_owned(r3, state)
    assert int(state.owner) == cfg.team_size + 1, "the opponent in the lane took it"
    expected = np.zeros((2, 3), bool)
    expected[1, 1] = True
    for flag in ("touch", "interception", "won_ball"):
        np.testing.assert_array_equal(info[flag], expected, err_msg=flag)
    assert not bool(info["pass_completed"].any()) and not bool(info["tackle"].any())
    assert not bool(state.pass_from.any())
    assert bool(state.last_touch[1, 1]) and int(info["possession"]) == 1
    np.testing.assert_allclose(reward[1, 1] - info["team_reward"][1],
                               cfg.credit_weight * cfg.credit_won_ball, atol=1e-6)


@pytest.mark.parametrize("owner", [0, 1])
def test_only_the_owner_kicks(r3, owner):
    """Two players at the ball both shoot: only the owner's kick acts, the other's is an idle."""
    cfg = r3.config
    spots = {owner: {0: (TEAM_SIGN[owner] * -0.55, 0.0)},
             1 - owner: {0: (0.0, -0.65)}}  # beside the ball, in tackle range
    state = place(cfg, left=spots[0], right=spots[1], ball=(0.0, 0.0), owner=(owner, 0))
    actions = idle(cfg).at[:, 0].set(Action.SHOOT)
    _, nxt, _, _, info = r3.step_env(KEY, state, actions)
    expected = np.zeros((2, 3), bool)
    expected[owner, 0] = True
    np.testing.assert_array_equal(info["shot"], expected)
    assert TEAM_SIGN[owner] * float(nxt.ball_vel[0]) > 0, "toward the owner's target goal"
    assert not bool(info["tackle"].any())
    mask = np.asarray(r3.action_mask(state))
    assert mask[owner, 0, Action.SHOOT] and not mask[1 - owner, 0, Action.SHOOT]


def test_ball_bounces_off_a_player(r3):
    """A ball too fast to control (faster than control_speed) bounces off the body it meets:
    a touch, but nobody owns it and nobody earns credit."""
    cfg = r3.config
    speed = min(cfg.control_speed + 3.0, cfg.ball_max_speed)
    state = place(cfg, right={1: (1.0, 0.0)}, ball=(0.0, 0.0), ball_vel=(speed, 0.0))
    _, nxt, reward, _, info = r3.step_env(KEY, state, idle(cfg))
    assert float(nxt.ball_vel[0]) < 0, "the ball came back off the body"
    gap = np.linalg.norm(np.asarray(nxt.ball_pos) - np.asarray(nxt.player_pos[1, 1]))
    assert gap >= cfg.player_radius + cfg.ball_radius - 1e-4, "no overlap after the bounce"
    assert bool(info["touch"][1, 1]) and int(np.asarray(info["touch"]).sum()) == 1
    assert bool(nxt.last_touch[1, 1]) and int(nxt.owner) == -1
    np.testing.assert_allclose(reward, np.repeat(np.asarray(info["team_reward"])[:, None], 3, 1))


@pytest.mark.parametrize("offset", [0.0, 0.3])
@pytest.mark.parametrize("fraction", [0.25, 1.0])
def test_fast_ball_cannot_tunnel_through_a_player(r3, fraction, offset):
    """A ball fast enough to pass a body's centre within one step (over 1 m per step against a
    body 1 m ahead) and too fast to control bounces back off it."""
    cfg = r3.config
    speed = max(cfg.control_speed, 1.0 / cfg.dt) + fraction * (
        cfg.ball_max_speed - max(cfg.control_speed, 1.0 / cfg.dt))
    state = place(cfg, right={0: (1.0, 0.0)}, ball=(0.0, offset), ball_vel=(speed, 0.0))
    _, nxt, _, _, info = r3.step_env(KEY, state, idle(cfg))
    assert bool(info["touch"][1, 0])
    gap = np.linalg.norm(np.asarray(nxt.ball_pos) - np.asarray(nxt.player_pos[1, 0]))
    assert gap >= cfg.player_radius + cfg.ball_radius - 1e-3, "the ball is not inside the body"
    assert float(nxt.ball_pos[0]) < 1.0 and float(nxt.ball_vel[0]) < 0, "it bounced back"
    assert int(nxt.owner) == -1


def test_players_off_the_pitch_do_not_move_or_touch(r3):
    cfg = r3.config
    active = np.ones((2, 3), bool)
    active[1, 1] = False
    state = place(cfg, right={1: (1.0, 0.0)}, ball=(0.0, 0.0), ball_vel=(8.0, 0.0),
                  active=active)
    actions = jnp.full((2, 3), 1, jnp.int32)
    _, nxt, reward, _, info = r3.step_env(KEY, state, actions)
    assert not bool(info["touch"].any()), "the ball passes through an inactive player"
    assert float(nxt.ball_vel[0]) > 0
    np.testing.assert_array_equal(nxt.player_pos[1, 1], state.player_pos[1, 1])
    assert float(reward[1, 1]) == 0.0


def test_overlapping_players_are_pushed_apart(r3):
    cfg = r3.config
    state = place(cfg, left={0: (0.0, 0.0)}, right={0: (0.3, 0.1)}, ball=(5.0, 5.0))
    _, nxt, _, _, _ = r3.step_env(KEY, state, idle(cfg))
    before = np.linalg.norm(np.asarray(state.player_pos[0, 0] - state.player_pos[1, 0]))
    after = np.linalg.norm(np.asarray(nxt.player_pos[0, 0] - nxt.player_pos[1, 0]))
    assert after > before + 0.1
    # Players walking into each other stop at contact instead of passing.
    state = place(cfg, left={0: (-2.0, 0.0)}, right={0: (2.0, 0.0)}, ball=(5.0, 5.0))
    forward = jnp.ones((2, 3), jnp.int32)  # both run toward the other's goal: head-on
    for _ in range(2):
        _, state, _, _, _ = r3.step_env(KEY, state, forward)
    slow = idle(cfg).at[:, 0].set(1)
    for _ in range(10):  # at walking pace (after braking), contact is seen before crossing
        state = state.replace(player_vel=jnp.clip(state.player_vel, -1.0, 1.0))
        _, state, _, _, _ = r3.step_env(KEY, state, slow)
        assert float(state.player_pos[0, 0, 0]) < float(state.player_pos[1, 0, 0])
    gap = float(state.player_pos[1, 0, 0] - state.player_pos[0, 0, 0])
    assert gap >= 2 * cfg.player_radius - 0.35, "bodies barely overlap"




def test_players_running_head_on_do_not_pass_through(r3):
    cfg = r3.config
    state = place(cfg, left={0: (-1.0, 0.0)}, right={0: (1.0, 0.0)}, ball=(5.0, 5.0))
    forward = jnp.ones((2, 3), jnp.int32)  # both run toward the other's goal: head-on
    for _ in range(12):
        _, state, _, _, _ = r3.step_env(KEY, state, forward)
        assert float(state.player_pos[0, 0, 0]) < float(state.player_pos[1, 0, 0])


def test_players_stay_on_the_pitch(c2):
    cfg = c2.config
    half, hw = cfg.field_length / 2, cfg.field_width / 2
    state = place(cfg, left={0: (half - 1.0, hw - 1.0)}, right={0: (-half + 1.0, -hw + 1.0)},
                  ball=(0.0, 0.0))
    actions = jnp.full((2, 2), 2, jnp.int32)  # forward-left: into the corner each team attacks
    for _ in range(10):
        _, state, _, _, _ = c2.step_env(KEY, state, actions)
    pos = np.abs(np.asarray(state.player_pos))
    assert np.all(pos[..., 0] <= half - cfg.player_radius + 1e-5)
    assert np.all(pos[..., 1] <= hw - cfg.player_radius + 1e-5)
    corner = np.array([half - cfg.player_radius, hw - cfg.player_radius])
    np.testing.assert_allclose(pos[:, 0], np.stack([corner, corner]), atol=1e-5)
