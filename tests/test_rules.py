"""Rules: goals, scoring and rewards, kickoffs, drills ending, `rules`-mode restarts (throw-ins,
corners, goal kicks) and `walls`-mode boundaries."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from soccer_env.actions import Action
from soccer_env.layouts import centre_circle_radius
from soccer_env.types import Restart
from conftest import idle, place

KEY = jax.random.PRNGKey(0)
TEAM_SIGN = (1.0, -1.0)


@pytest.mark.parametrize("mode", ["walls", "rules"])
@pytest.mark.parametrize("scorer", [0, 1])
def test_goal_scores_rewards_and_kickoff(c2, r3, mode, scorer):
    c = c2 if mode == "walls" else r3
    cfg = c.config
    T = cfg.team_size
    half = cfg.field_length / 2
    sign = TEAM_SIGN[scorer]
    # The ball is just before the goal line the scorer attacks, rolling in; the scorer's last
    # player touched it last.
    ball = (sign * (half - 0.2), 0.4 * sign)
    state = place(cfg, ball=ball, ball_vel=(sign * 5.0, 0.0), last_touch=(scorer, T - 1),
                  score=(2, 3), step=50)
    _, nxt, reward, done, info = c.step_env(KEY, state, idle(cfg))
    conceding = 1 - scorer
    goal = np.zeros(2, bool)
    goal[scorer] = True
    np.testing.assert_array_equal(info["goal"], goal)
    expected_score = np.array([2, 3]) + goal
    np.testing.assert_array_equal(nxt.score, expected_score)
    np.testing.assert_array_equal(info["score"], expected_score)
    assert not bool(done), "matches go on after a goal"
    # Zero-sum team rewards; the scorer also gets its goal credit.
    team_reward = np.where(goal, cfg.goal_reward, -cfg.goal_reward)
    np.testing.assert_allclose(info["team_reward"], team_reward, atol=1e-6)
    expected_reward = np.repeat(team_reward[:, None], T, axis=1)
    expected_reward[scorer, T - 1] += cfg.credit_weight * cfg.credit_goal
    np.testing.assert_allclose(reward, expected_reward, atol=1e-6)
    scored_by = np.zeros((2, T), bool)
    scored_by[scorer, T - 1] = True
    np.testing.assert_array_equal(info["goal_scored"], scored_by)
    # Kickoff: ball still on the centre spot, the conceding team next to it, the scorers outside
    # the centre circle, nobody moving, no touch remembered.
    assert int(info["restart"]) == Restart.KICKOFF
    np.testing.assert_array_equal(nxt.ball_pos, [0.0, 0.0])
    np.testing.assert_array_equal(nxt.ball_vel, [0.0, 0.0])
    dist = np.linalg.norm(np.asarray(nxt.player_pos), axis=-1)
    # The conceding team's kicker (its last player) has the ball at the centre spot.
    assert int(nxt.owner) == conceding * T + T - 1 and int(info["possession"]) == conceding
    assert dist[conceding, T - 1] <= cfg.control_radius
    assert dist[scorer].min() > centre_circle_radius(cfg)
    # Everyone stands in their own half.
    assert np.all(TEAM_SIGN[0] * np.asarray(nxt.player_pos[0, :, 0]) <= 0)
    assert np.all(TEAM_SIGN[1] * np.asarray(nxt.player_pos[1, :, 0]) <= 0)
    assert not np.asarray(nxt.player_vel).any()
    # The kicker counts as the last toucher; nothing of the old play is remembered.
    kicker = np.zeros((2, T), bool)
    kicker[conceding, T - 1] = True
    np.testing.assert_array_equal(nxt.last_touch, kicker)
    assert not bool(nxt.pass_from.any()) and not bool(nxt.assist_from.any())
    assert not bool(nxt.shot_on) and int(nxt.hold) == 0 and not np.asarray(nxt.cooldown).any()
    # The conceding team may kick off at once.
    mask = np.asarray(c.action_mask(nxt))
    assert mask[conceding, :, Action.SHOOT].any() and not mask[scorer, :, Action.SHOOT].any()


def test_no_goal_when_ball_stays_out_of_the_goal(c2):
    cfg = c2.config
    half = cfg.field_length / 2
    # Rolling toward goal but stopping short of the line.
    state = place(cfg, ball=(half - 1.5, 0.0), ball_vel=(3.0, 0.0))
    _, nxt, reward, _, info = c2.step_env(KEY, state, idle(cfg))
    assert not bool(info["goal"].any()) and int(info["restart"]) == Restart.NO_RESTART
    assert not np.asarray(reward).any()


def test_walls_keep_the_ball_in_except_through_the_goal_mouth(c2):
    cfg = c2.config
    half, hw, gw = cfg.field_length / 2, cfg.field_width / 2, cfg.goal_width / 2
    cases = [  # (ball, velocity)
        ((0.0, hw - 0.3), (0.0, 10.0)),  # into the top touchline
        ((3.0, -hw + 0.3), (2.0, -10.0)),  # into the bottom touchline
        ((half - 0.3, gw + 0.5), (10.0, 0.0)),  # over the goal line beside the post
        ((-half + 0.3, -gw - 1.0), (-10.0, 1.0)),  # the other goal line
        ((half - 0.3, hw - 0.3), (10.0, 10.0)),  # into a corner
        # Past the post, just outside it, ending level with the mouth behind the line.
        ((-half + 0.2, -gw - 0.05), (-15.0, 3.0)),
    ]
    for ball, vel in cases:
        state = place(cfg, ball=ball, ball_vel=vel)
        _, nxt, _, _, info = c2.step_env(KEY, state, idle(cfg))
        assert not bool(info["goal"].any()), ball
        pos, v = np.asarray(nxt.ball_pos), np.asarray(nxt.ball_vel)
        assert np.all(np.abs(pos) <= np.array([half, hw]) - cfg.ball_radius + 1e-5), (ball, pos)
        # The velocity component into the wall was reversed.
        for axis in (0, 1):
            if abs(ball[axis]) > [half, hw][axis] - 0.5 and vel[axis] * ball[axis] > 0:
                assert v[axis] * vel[axis] < 0, (ball, axis, v)
    # Between the posts the ball goes in.
    state = place(cfg, ball=(half - 0.3, gw - 0.5), ball_vel=(10.0, 0.0))
    _, nxt, _, _, info = c2.step_env(KEY, state, idle(cfg))
    assert bool(info["goal"][0])


def test_drill_ends_at_a_goal(compiled):
    c = compiled("empty_goal", quick=True)
    cfg = c.config
    assert cfg.goal_ends_episode
    _, state = c.reset(KEY)
    actions = idle(cfg).at[0, 0].set(Action.SHOOT)
    for t in range(30):
        key = jax.random.fold_in(KEY, t)
        _, nxt, reward, done, info = c.step_env(key, state, actions)
        if bool(done):
            break
        assert not bool(info["goal"].any())
        state, actions = nxt, idle(cfg)
    else:
        raise AssertionError("the shot into the empty goal never arrived")
    assert bool(info["goal"][0]) and bool(info["terminated"]) and not bool(info["truncated"])
    assert int(nxt.score[0]) == 1 and float(info["team_reward"][0]) == cfg.goal_reward
    assert int(info["restart"]) == Restart.NO_RESTART, "no kickoff: the drill is over"
    assert float(nxt.ball_pos[0]) > cfg.field_length / 2, "the ball stays in the net"


def test_drill_ends_when_the_defence_touches_the_ball(compiled):
    c = compiled("run_to_score_with_keeper", quick=True)
    cfg = c.config
    assert cfg.turnover_ends_episode
    _, state = c.reset(KEY)
    keeper = np.asarray(state.player_pos[1, 0])
    # The attacker loses the ball: it rolls straight at the keeper, who takes it.
    state = state.replace(ball_pos=jnp.asarray(keeper - np.array([1.0, 0.0]), jnp.float32),
                          ball_vel=jnp.array([6.0, 0.0], jnp.float32),
                          player_pos=state.player_pos.at[0, 0].set(jnp.array([-5.0, 3.0])),
                          owner=jnp.asarray(-1, jnp.int32))
    _, nxt, _, done, info = c.step_env(KEY, state, idle(cfg))
    assert bool(info["touch"][1, 0]) and int(nxt.owner) == cfg.team_size
    assert bool(done) and bool(info["terminated"]) and not bool(info["goal"].any())
    # An attacker's touch does not end it.
    state = state.replace(player_pos=state.player_pos.at[1, 0].set(jnp.array([9.0, 5.0])),
                          ball_pos=jnp.array([0.0, 0.0]), ball_vel=jnp.array([0.0, 0.0]))
    state = state.replace(player_pos=state.player_pos.at[0, 0].set(jnp.array([-0.55, 0.0])),
                          owner=jnp.asarray(0, jnp.int32))
    _, _, _, done, info = c.step_env(KEY, state, idle(cfg).at[0, 0].set(Action.SHOOT))
    assert bool(info["touch"][0, 0]) and not bool(done)


# --------------------------------------------------------------------------------------------
# `rules` mode: restarts when the ball leaves the pitch.


def restart_after(r3, ball, ball_vel, last_touch):
    cfg = r3.config
    state = place(cfg, left={0: (-2.0, 1.0), 1: (3.0, 4.0), 2: (6.0, -5.0)},
                  right={0: (-3.0, -4.0), 1: (2.5, 5.5), 2: (8.0, -5.5)},
                  ball=ball, ball_vel=ball_vel, last_touch=last_touch)
    return state, r3.step_env(KEY, state, idle(cfg))


def check_restart_placement(r3, nxt, awarded):
    """The awarded team's nearest player has the stopped ball at its feet; the other team keeps
    `restart_clearance` away; nobody moves."""
    cfg = r3.config
    T = cfg.team_size
    ball = np.asarray(nxt.ball_pos)
    dist = np.linalg.norm(np.asarray(nxt.player_pos) - ball, axis=-1)
    taker = int(np.argmin(dist[awarded]))
    assert int(nxt.owner) == awarded * T + taker, (int(nxt.owner), dist)
    assert dist[awarded, taker] <= cfg.control_radius, dist
    assert dist[1 - awarded].min() >= cfg.restart_clearance - 1e-4, dist
    assert not np.asarray(nxt.ball_vel).any() and not np.asarray(nxt.player_vel).any()
    assert int(nxt.hold) == 0 and not np.asarray(nxt.cooldown).any()
    assert bool(nxt.last_touch[awarded, taker]) and int(np.asarray(nxt.last_touch).sum()) == 1
    # The taker stands behind the ball (in its team's frame) and may kick at once.
    assert TEAM_SIGN[awarded] * (ball[0] - float(nxt.player_pos[awarded, taker, 0])) > 0
    mask = np.asarray(r3.action_mask(nxt))
    assert mask[awarded, taker, Action.SHOOT] and mask[..., Action.SHOOT].sum() == 1


@pytest.mark.parametrize("side", [1.0, -1.0])
@pytest.mark.parametrize("toucher", [0, 1])
def test_throw_in_goes_to_the_other_team(r3, side, toucher):
    cfg = r3.config
    hw = cfg.field_width / 2
    state, (_, nxt, reward, done, info) = restart_after(
        r3, ball=(1.5, side * (hw - 0.2)), ball_vel=(1.0, side * 5.0), last_touch=(toucher, 1))
    assert int(info["restart"]) == Restart.THROW_IN
    ball = np.asarray(nxt.ball_pos)
    assert abs(ball[1]) < hw and abs(ball[1]) > hw - 0.5 and np.sign(ball[1]) == side
    assert abs(ball[0] - 1.5) < 0.5, "taken where the ball left"
    check_restart_placement(r3, nxt, awarded=1 - toucher)
    assert not bool(done) and not np.asarray(reward).any()


@pytest.mark.parametrize("end", [1.0, -1.0])
@pytest.mark.parametrize("toucher", [0, 1])
def test_corner_or_goal_kick_by_last_touch(r3, end, toucher):
    """Over the goal line outside the posts: a corner when the defending team (the one whose
    goal line it is) touched last, a goal kick to the defenders otherwise."""
    cfg = r3.config
    half, hw, gw = cfg.field_length / 2, cfg.field_width / 2, cfg.goal_width / 2
    defending = 1 if end > 0 else 0
    y = gw + 1.5
    state, (_, nxt, reward, done, info) = restart_after(
        r3, ball=(end * (half - 0.2), y), ball_vel=(end * 5.0, 0.0), last_touch=(toucher, 0))
    assert not bool(info["goal"].any())
    ball = np.asarray(nxt.ball_pos)
    if toucher == defending:
        assert int(info["restart"]) == Restart.CORNER
        assert np.sign(ball[0]) == end and np.sign(ball[1]) == np.sign(y)
        assert abs(ball[0]) > half - 0.5 and abs(ball[1]) > hw - 0.5, "at the corner flag"
        check_restart_placement(r3, nxt, awarded=1 - defending)
    else:
        assert int(info["restart"]) == Restart.GOAL_KICK
        assert np.sign(ball[0]) == end and ball[1] == 0.0
        assert half - 6.0 < abs(ball[0]) < half, "inside the defenders' box"
        check_restart_placement(r3, nxt, awarded=defending)
    assert not np.asarray(reward).any()


@pytest.mark.parametrize("side", [1.0, -1.0])
def test_throw_in_taker_who_carries_the_ball_out_gives_it_away(r3, side):
    """The restart's taker has the ball, so it is the last to touch it: running it back over
    the touchline gives the throw-in to the other team."""
    cfg = r3.config
    hw = cfg.field_width / 2
    _, (_, state, _, _, info) = restart_after(
        r3, ball=(1.5, side * (hw - 0.2)), ball_vel=(1.0, side * 5.0), last_touch=(0, 1))
    assert int(info["restart"]) == Restart.THROW_IN and int(state.owner) // 3 == 1
    taker = int(state.owner) % 3
    # Toward the touchline: +y world is the right team's "right" (its frame is rotated).
    out = Action.RIGHT if side > 0 else Action.LEFT
    for _ in range(10):
        _, state, _, _, info = r3.step_env(KEY, state, idle(cfg).at[1, taker].set(out))
        if int(info["restart"]) != Restart.NO_RESTART:
            break
    assert int(info["restart"]) == Restart.THROW_IN
    assert int(state.owner) // 3 == 0, "the throw-in goes to the team that did not carry it out"


def test_no_restart_while_the_ball_is_in(r3):
    cfg = r3.config
    hw = cfg.field_width / 2
    state, (_, nxt, _, _, info) = restart_after(
        r3, ball=(1.5, hw - 1.0), ball_vel=(0.0, 3.0), last_touch=(0, 1))
    assert int(info["restart"]) == Restart.NO_RESTART
    np.testing.assert_array_equal(nxt.player_pos, state.player_pos)  # idle from rest
    assert float(nxt.ball_pos[1]) > float(state.ball_pos[1])


def test_restart_kinds_are_distinct():
    assert [int(k) for k in Restart] == [0, 1, 2, 3, 4] and Restart.NO_RESTART == 0
    # A kickoff after a goal outranks a restart on the same step (env takes the maximum).
    assert max(Restart) == Restart.KICKOFF
