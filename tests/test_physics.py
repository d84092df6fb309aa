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


@pytest.mark.parametrize("team", [0, 1])
@pytest.mark.parametrize("ball", [(2.0, 3.0), (-4.0, -2.5), (6.0, 0.5)])
def test_shot_goes_toward_opponent_goal(r3, team, ball):
    cfg = r3.config
    half = cfg.field_length / 2
    sign = TEAM_SIGN[team]
    for i in range(cfg.team_size):
        kicker = np.asarray(ball) - sign * np.array([0.5, 0.0])  # behind the ball, team frame
        spots = {i: tuple(kicker)}
        state = place(cfg, **{("left" if team == 0 else "right"): spots}, ball=ball)
        actions = idle(cfg).at[team, i].set(Action.SHOOT)
        _, nxt, _, _, info = r3.step_env(KEY, state, actions)
        goal = np.array([sign * half, 0.0])
        assert angle_between(nxt.ball_vel, goal - np.asarray(ball)) < 1e-4, (team, i)
        # In the team frame the ball goes forward.
        assert sign * float(nxt.ball_vel[0]) > 0
        np.testing.assert_allclose(np.linalg.norm(nxt.ball_vel),
                                   cfg.shoot_speed * (1 - cfg.ball_friction), rtol=1e-5)
        expected = np.zeros((2, 3), bool)
        expected[team, i] = True
        np.testing.assert_array_equal(info["shot"], expected)
        np.testing.assert_array_equal(info["touch"], expected)
        np.testing.assert_array_equal(info["shot_on_target"], expected)
        np.testing.assert_array_equal(nxt.last_touch, expected)


def test_shot_aim_noise_spread(c2):
    """With aim noise, shots from one spot scatter around the goal direction by ~shoot_noise."""
    cfg = c2.config
    state = place(cfg, left={0: (1.5, 0.0)}, ball=(2.0, 0.0))
    n = 64  # the batch size of the other vmapped tests: one compile
    batch = jax.tree.map(lambda x: jnp.broadcast_to(x, (n, *x.shape)), state)
    actions = jnp.broadcast_to(idle(cfg).at[0, 0].set(Action.SHOOT), (n, 2, 2))
    _, nxt, _, _, _ = c2.vstep(jax.random.split(KEY, n), batch, actions)
    angles = np.arctan2(np.asarray(nxt.ball_vel[:, 1]), np.asarray(nxt.ball_vel[:, 0]))
    assert abs(angles.mean()) < 3 * cfg.shoot_noise / np.sqrt(n)
    assert 0.7 * cfg.shoot_noise < angles.std() < 1.3 * cfg.shoot_noise


@pytest.mark.parametrize("team", [0, 1])
def test_pass_goes_to_chosen_teammate(r3, team):
    cfg = r3.config
    T = cfg.team_size
    sign = TEAM_SIGN[team]
    ball = np.array([-1.0, 0.5])
    spots = np.array([[-6.0, 2.5], [3.0, 4.0], [-4.0, -3.5]]) * sign  # far-apart teammates
    mates = teammate_index(T)
    for i in range(T):
        positions = spots.copy()
        positions[i] = ball - sign * np.array([0.5, 0.0])
        for k in range(T - 1):
            j = mates[i, k]
            state = place(cfg, **{("left" if team == 0 else "right"): dict(enumerate(positions))},
                          ball=tuple(ball))
            actions = idle(cfg).at[team, i].set(Action.FIRST_PASS + k)
            _, nxt, _, _, info = r3.step_env(KEY, state, actions)
            target = positions[j] - ball
            assert angle_between(nxt.ball_vel, target) < 1e-4, (team, i, k, j)
            speed = float(np.linalg.norm(nxt.ball_vel)) / (1 - cfg.ball_friction)
            assert 4.0 - 1e-4 <= speed <= cfg.pass_speed_max + 1e-4
            passer = np.zeros((2, T), bool)
            passer[team, i] = True
            np.testing.assert_array_equal(info["pass"], passer)
            np.testing.assert_array_equal(nxt.pass_from, passer)
            assert not np.asarray(info["shot"]).any()


def roll_until_touch(c, state, max_steps=30):
    """Step with idle actions until someone touches the ball; returns (state, reward, info)."""
    for _ in range(max_steps):
        _, state, reward, _, info = c.step_env(KEY, state, idle(c.config))
        if bool(info["touch"].any()):
            return state, reward, info
    raise AssertionError("nobody touched the ball")


def test_completed_pass_credits_the_passer(r3):
    cfg = r3.config
    state = place(cfg, left={0: (-2.5, 0.0), 1: (2.0, 0.0), 2: (-6.0, 5.0)}, ball=(-2.0, 0.0))
    actions = idle(cfg).at[0, 0].set(Action.FIRST_PASS)  # slot 0 of player 0: teammate 1
    _, state, _, _, info = r3.step_env(KEY, state, actions)
    assert bool(info["pass"][0, 0]) and not bool(info["pass_completed"].any())
    state, reward, info = roll_until_touch(r3, state)
    assert bool(info["touch"][0, 1]), "the receiver touched it"
    expected = np.zeros((2, 3), bool)
    expected[0, 0] = True
    np.testing.assert_array_equal(info["pass_completed"], expected)
    assert not bool(state.pass_from.any()), "the pass is no longer in flight"
    np.testing.assert_allclose(reward[0, 0] - info["team_reward"][0],
                               cfg.credit_weight * cfg.credit_pass, atol=1e-6)


def test_intercepted_pass_is_not_completed(r3):
    cfg = r3.config
    state = place(cfg, left={0: (-2.5, 0.0), 1: (4.0, 0.0)}, right={1: (1.0, 0.0)},
                  ball=(-2.0, 0.0))
    _, state, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 0].set(Action.FIRST_PASS))
    assert bool(info["pass"][0, 0])
    state, reward, info = roll_until_touch(r3, state)
    assert bool(info["touch"][1, 1]), "the opponent in the lane intercepted"
    assert not bool(info["pass_completed"].any())
    assert not bool(state.pass_from.any())
    assert bool(state.last_touch[1, 1]) and bool(info["possession"][1])


def test_contested_kick_goes_to_closest_player(r3):
    cfg = r3.config
    state = place(cfg, left={0: (-0.7, 0.0)}, right={0: (0.5, 0.0)}, ball=(0.0, 0.0))
    actions = idle(cfg).at[0, 0].set(Action.SHOOT).at[1, 0].set(Action.SHOOT)
    _, nxt, _, _, info = r3.step_env(KEY, state, actions)
    expected = np.zeros((2, 3), bool)
    expected[1, 0] = True
    np.testing.assert_array_equal(info["shot"], expected)
    assert float(nxt.ball_vel[0]) < 0, "the right player's shot goes toward x = -L/2"
    # Swap distances: now the left player wins.
    state = place(cfg, left={0: (-0.5, 0.0)}, right={0: (0.7, 0.0)}, ball=(0.0, 0.0))
    _, nxt, _, _, info = r3.step_env(KEY, state, actions)
    assert bool(info["shot"][0, 0]) and not bool(info["shot"][1, 0])
    assert float(nxt.ball_vel[0]) > 0


def test_ball_bounces_off_a_player(r3):
    cfg = r3.config
    state = place(cfg, right={1: (1.0, 0.0)}, ball=(0.0, 0.0), ball_vel=(8.0, 0.0))
    _, nxt, reward, _, info = r3.step_env(KEY, state, idle(cfg))
    assert float(nxt.ball_vel[0]) < 0, "the ball came back off the body"
    gap = np.linalg.norm(np.asarray(nxt.ball_pos) - np.asarray(nxt.player_pos[1, 1]))
    assert gap >= cfg.player_radius + cfg.ball_radius - 1e-4, "no overlap after the bounce"
    assert bool(info["touch"][1, 1]) and int(np.asarray(info["touch"]).sum()) == 1
    assert bool(nxt.last_touch[1, 1])
    # Sending the ball back toward the right team's target (-x) is an advancing touch.
    assert float(reward[1, 1] - info["team_reward"][1]) == pytest.approx(
        cfg.credit_weight * cfg.credit_touch)




@pytest.mark.parametrize("offset", [0.0, 0.3])
@pytest.mark.parametrize("speed", [12.0, 20.0])
def test_fast_ball_cannot_tunnel_through_a_player(r3, speed, offset):
    """A ball fast enough to pass a body's centre within one step (here 1.2-2 m per step against
    a body 1 m ahead) bounces back off it, as a slow one does."""
    cfg = r3.config
    state = place(cfg, right={0: (1.0, 0.0)}, ball=(0.0, offset), ball_vel=(speed, 0.0))
    _, nxt, _, _, info = r3.step_env(KEY, state, idle(cfg))
    assert bool(info["touch"][1, 0])
    gap = np.linalg.norm(np.asarray(nxt.ball_pos) - np.asarray(nxt.player_pos[1, 0]))
    assert gap >= cfg.player_radius + cfg.ball_radius - 1e-3, "the ball is not inside the body"
    assert float(nxt.ball_pos[0]) < 1.0 and float(nxt.ball_vel[0]) < 0, "it bounced back"


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
