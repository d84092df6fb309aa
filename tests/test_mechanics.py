"""Football mechanics, one test (or a few) per mechanic, each able to fail: ball control and
deflection, no tunnelling, tackles, the keeper, led passes, cooldowns, who may kick, fair
tie-breaks, events, invariants of random rollouts, team-frame symmetry with possession, and
jit/vmap equality.

Deterministic situations run on `r3` (no aim noise, tackle_prob = catch_prob = 1); chances are
measured on the registered 2v2 game (`c2`) over many keys with one compiled vmapped step, with
binomial tolerances of four standard deviations. Mechanics parameters are read from the
configs, never written here.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import soccer_env
from soccer_env import mirror, observations
from soccer_env.actions import Action, move_table, num_actions
from soccer_env.constants import DRIBBLE_GAP, penalty_depth
from soccer_env.types import State
from conftest import RULES3, WALLS2, assert_equal_to_rounding, idle, place

KEY = jax.random.PRNGKey(0)
TEAM_SIGN = (1.0, -1.0)
BATCH = 64  # the batch size of every vmapped step in the suite: one compile per config
DRAWS = 4  # vmapped calls per measured chance: 256 games


def reach(cfg):
    return cfg.player_radius + cfg.ball_radius


def unit(v):
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v)


def run_until(c, state, actions, stop, max_steps=40):
    """Step (step_env, one key) until `stop(state, info)`; returns (steps taken, state, info)."""
    for t in range(1, max_steps + 1):
        _, state, _, _, info = c.step_env(jax.random.fold_in(KEY, t), state, actions)
        if stop(state, info):
            return t, state, info
    raise AssertionError(f"not reached in {max_steps} steps")


def many_games(c, state, actions=None):
    """One step of BATCH * DRAWS games from the same state with different keys: the stacked
    (next state, info)."""
    cfg = c.config
    actions = idle(cfg) if actions is None else actions
    batch = jax.tree.map(lambda x: jnp.broadcast_to(x, (BATCH, *x.shape)), state)
    acts = jnp.broadcast_to(actions, (BATCH, 2, cfg.team_size))
    outs = [c.vstep(jax.random.split(jax.random.fold_in(KEY, d), BATCH), batch, acts)
            for d in range(DRAWS)]
    nxt, info = jax.tree.map(lambda *x: np.concatenate(x), *[(o[1], o[4]) for o in outs])
    assert not np.asarray(outs[0][3]).any(), "no game ended (no auto-reset mixed in)"
    return nxt, info


def binomial_ok(successes, n, p, sigmas=4.0):
    return abs(successes - n * p) <= sigmas * np.sqrt(n * p * (1 - p)) + 1e-9


# ---------------------------------------------------------------------------------------------
# Ball control: a slow ball is taken, a fast one deflects.


def test_control_gate(c2):
    """A loose ball slower than control_speed (relative to the player) that comes within
    control_radius is taken, even passing beside the body; a faster one bounces off the body
    and nobody owns it; one passing beyond control_radius rolls on."""
    cfg = c2.config
    player = (1.0, 0.0)  # a field player at the centre, nowhere near a penalty area

    def roll(ball, ball_vel, player_vel=(0.0, 0.0), action=Action.IDLE):
        state = place(cfg, left={1: player}, ball=ball, ball_vel=ball_vel,
                      left_vel={1: player_vel})
        _, nxt, _, _, info = c2.step_env(KEY, state, idle(cfg).at[0, 1].set(int(action)))
        return nxt, info

    slow = 0.6 * cfg.control_speed
    fast = min(cfg.control_speed + 3.0, cfg.ball_max_speed)
    # Straight at the player, from just outside its control radius.
    start = (player[0] - cfg.control_radius - 0.2, 0.0)
    nxt, info = roll(start, (slow, 0.0))
    assert int(nxt.owner) == 1 and bool(info["touch"][0, 1])
    gap = np.linalg.norm(np.asarray(nxt.ball_pos - nxt.player_pos[0, 1]))
    np.testing.assert_allclose(gap, reach(cfg) + DRIBBLE_GAP, atol=1e-4)
    np.testing.assert_array_equal(nxt.ball_vel, nxt.player_vel[0, 1])
    nxt, info = roll(start, (fast, 0.0))
    assert int(nxt.owner) == -1 and bool(info["touch"][0, 1]), "deflected, not controlled"
    assert float(nxt.ball_vel[0]) < 0, "it bounced back"
    # Passing beside the body, between the body's reach and the control radius: taken.
    side = 0.5 * (reach(cfg) + cfg.control_radius)
    nxt, info = roll((player[0] - 0.5 * slow * cfg.dt, side), (slow, 0.0))
    assert int(nxt.owner) == 1
    # Beyond the control radius: it rolls on, untouched.
    nxt, info = roll((player[0] - 0.5 * slow * cfg.dt, cfg.control_radius + 0.1), (slow, 0.0))
    assert int(nxt.owner) == -1 and not bool(info["touch"].any())
    assert float(nxt.ball_vel[0]) > 0
    # Relative speed counts: running with a fast ball, the player takes it.
    run = cfg.player_max_speed
    if fast - run < cfg.control_speed:
        nxt, info = roll((player[0] - cfg.control_radius - 0.2, 0.0), (fast, 0.0),
                         player_vel=(run, 0.0), action=Action.FORWARD)
        assert int(nxt.owner) == 1


def test_dribble_keeps_the_ball_ahead_at_dribble_speed(r3):
    """The owner runs at most dribble_speed (slower than a free runner) with the ball just
    ahead of it along its motion; when it turns, the ball goes with it."""
    cfg = r3.config
    assert cfg.dribble_speed < cfg.player_max_speed
    state = place(cfg, left={1: (-3.0, 0.0)}, ball=(-3.0 + reach(cfg) + DRIBBLE_GAP, 0.0),
                  owner=(0, 1))
    for action, direction in ((Action.FORWARD, (1.0, 0.0)), (Action.LEFT, (0.0, 1.0))):
        for _ in range(8):
            _, state, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(int(action)))
            assert int(state.owner) == 1
            speed = float(np.linalg.norm(state.player_vel[0, 1]))
            assert speed <= cfg.dribble_speed + 1e-5
            ahead = np.asarray(state.ball_pos - state.player_pos[0, 1])
            np.testing.assert_allclose(np.linalg.norm(ahead), reach(cfg) + DRIBBLE_GAP,
                                       atol=1e-4)
            np.testing.assert_allclose(unit(ahead), unit(state.player_vel[0, 1]), atol=1e-4)
        np.testing.assert_allclose(speed, cfg.dribble_speed, rtol=1e-4)
        np.testing.assert_allclose(unit(ahead), direction, atol=1e-4)
        assert not bool(info["touch"].any()), "dribbling is not a new touch"


# ---------------------------------------------------------------------------------------------
# No tunnelling: a struck ball meets every body but the kicker's.


def aim_point(cfg, team, keeper_y):
    """The shot's aim point: shot_inset inside the post away from the opponent keeper."""
    return np.array([TEAM_SIGN[team] * cfg.field_length / 2,
                     -np.sign(keeper_y) * (cfg.goal_width / 2 - cfg.shot_inset)])


@pytest.mark.parametrize("blocker", ["opponent", "teammate"])
@pytest.mark.parametrize("distance", [0.6, 1.0, 1.5])
def test_shot_cannot_pass_through_a_body_in_front(r3, distance, blocker):
    """A player standing 0.6-1.5 m in front of the ball on the shot's line blocks the shot
    (the ball covers ~1.5 m in that step): it bounces back off the body, nobody owns it."""
    cfg = r3.config
    ball = np.array([0.0, 0.0])
    keeper = (cfg.field_length / 2 - 0.5, 1.0)
    direction = unit(aim_point(cfg, 0, keeper[1]) - ball)
    spot = tuple(ball + distance * direction)
    kicker = {1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0]))}
    left, right = dict(kicker), {0: keeper}
    team = 0 if blocker == "teammate" else 1
    (left if team == 0 else right)[2] = spot
    state = place(cfg, left=left, right=right, ball=tuple(ball), owner=(0, 1))
    _, nxt, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.SHOOT))
    assert bool(info["shot"][0, 1]) and bool(info["touch"][team, 2])
    # Both touched it this step; the last touch is the blocker's alone (it decides a restart).
    blocked_by = np.zeros((2, cfg.team_size), bool)
    blocked_by[team, 2] = True
    np.testing.assert_array_equal(nxt.last_touch, blocked_by)
    assert int(nxt.owner) == -1
    along = float(np.dot(np.asarray(nxt.ball_pos) - ball, direction))
    assert along < distance, "the ball did not get past the body"
    assert float(np.dot(np.asarray(nxt.ball_vel), direction)) < 0, "it bounced back"
    gap = np.linalg.norm(np.asarray(nxt.ball_pos - nxt.player_pos[team, 2]))
    assert gap >= reach(cfg) - 1e-3
    # Without the blocker the same shot flies on (the kicker itself is no obstacle).
    clear = place(cfg, left=kicker, right={0: keeper}, ball=tuple(ball), owner=(0, 1))
    _, nxt, _, _, info = r3.step_env(KEY, clear, idle(cfg).at[0, 1].set(Action.SHOOT))
    assert int(np.asarray(info["touch"]).sum()) == 1
    assert float(np.dot(np.asarray(nxt.ball_pos) - ball, direction)) > 1.0


# ---------------------------------------------------------------------------------------------
# Tackles.


def test_tackle_probability_and_nearest_tackler(c2):
    """Each opponent in tackle_range of the owner's ball wins it with tackle_prob per step, so
    n of them succeed with chance 1 - (1 - p)^n; equally near tacklers win equally often; the
    winner owns the ball and the loser gets tackle_cooldown."""
    cfg = c2.config
    T = cfg.team_size
    p = cfg.tackle_prob
    ball = (0.0, 0.0)
    owner = {1: (-(reach(cfg) + DRIBBLE_GAP), 0.0)}
    inside = 0.8 * cfg.tackle_range
    # Two opponents at the same distance from the ball, on either side (right 0 is the keeper,
    # far from its penalty area: it tackles like anyone).
    spots = {0: (inside * 0.6, inside * 0.8), 1: (inside * 0.6, -inside * 0.8)}
    cases = {
        0: {0: (cfg.tackle_range + 0.3, 0.0)},  # just out of range
        1: {1: spots[1]},
        2: spots,
    }
    for n, right in cases.items():
        state = place(cfg, left=owner, right=right, ball=ball, owner=(0, 1))
        nxt, info = many_games(c2, state)
        tackled = np.asarray(info["tackle"]).any(axis=(1, 2))
        games = len(tackled)
        assert binomial_ok(tackled.sum(), games, 1 - (1 - p) ** n), (n, tackled.sum(), games)
        owners = np.asarray(nxt.owner)
        np.testing.assert_array_equal(owners[~tackled], 1), "otherwise the owner keeps it"
        assert np.all(owners[tackled] >= T), "the tackler has the ball"
        np.testing.assert_array_equal(np.asarray(info["won_ball"])[tackled],
                                      np.asarray(info["tackle"])[tackled])
        np.testing.assert_array_equal(np.asarray(nxt.cooldown)[tackled][:, 0, 1],
                                      cfg.tackle_cooldown)
        if n == 2:  # a fair split between the two equally near tacklers
            wins = np.asarray(info["tackle"])[tackled][:, 1, 0].sum()
            assert binomial_ok(wins, tackled.sum(), 0.5), (wins, tackled.sum())
    # A nearer tackler beats a farther one.
    near = {0: (0.5 * cfg.tackle_range, 0.3), 1: spots[1]}
    state = place(cfg, left=owner, right=near, ball=ball, owner=(0, 1))
    nxt, info = many_games(c2, state)
    tackles = np.asarray(info["tackle"])
    assert tackles.any() and not tackles[:, 1, 1].any()


def test_a_ball_moving_away_is_taken_only_when_nearly_at_rest(r3):
    """A loose ball within control_radius of a standing player but moving away from it is not
    trapped (a pass struck past a defender goes on); the same ball rolling away slowly is."""
    cfg = r3.config
    ball = (0.5, 0.0)
    assert ball[0] < cfg.control_radius
    for speed, taken in ((6.0, False), (1.0, True)):
        state = place(cfg, left={1: (0.0, 0.0)}, ball=ball, ball_vel=(speed, 0.0))
        _, nxt, _, _, _ = r3.step_env(KEY, state, idle(cfg))
        assert (int(nxt.owner) == 1) == taken, (speed, int(nxt.owner))


def test_tackle_reaches_the_owner_shielding_the_ball(r3):
    """A tackler at the owner's back is out of tackle_range of the ball the owner carries
    ahead, but within it of the owner's body: it still tackles (tackle_prob = 1 here)."""
    cfg = r3.config
    T = cfg.team_size
    carry = reach(cfg) + DRIBBLE_GAP
    behind = (-2 * cfg.player_radius, 0.0)
    assert carry - behind[0] > cfg.tackle_range >= -behind[0]
    state = place(cfg, left={1: (0.0, 0.0)}, right={1: behind}, ball=(carry, 0.0),
                  owner=(0, 1))
    _, nxt, _, _, info = r3.step_env(KEY, state, idle(cfg))
    assert bool(info["tackle"][1, 1]) and int(nxt.owner) == T + 1


@pytest.mark.parametrize("which", ["rules", "walls"])
def test_goal_is_the_path_crossing_the_line_inside_the_posts(r3, c2, which):
    """A ball that crosses the goal line inside the mouth but ends its step beyond the post is
    a goal (judged on the path, not where the ball stops), in both boundary modes; the same
    path a little wider (crossing outside the post) is not."""
    c = r3 if which == "rules" else c2
    cfg = c.config
    half, post = cfg.field_length / 2, cfg.goal_width / 2
    vel = (5.0, -10.0)
    travel = np.asarray(vel) * (1 - cfg.ball_friction) * cfg.dt
    for y0, scored in ((-(post - 0.7), True), (-(post - 0.2), False)):
        start = np.array([half - 0.25, y0])
        cross_y = y0 + travel[1] * 0.25 / travel[0]
        assert (abs(cross_y) < post) == scored and abs(start[1] + travel[1]) > post
        state = place(cfg, ball=tuple(start), ball_vel=vel)
        _, _, _, _, info = c.step_env(KEY, state, idle(cfg))
        assert bool(info["goal"][0]) == scored and not bool(info["goal"][1])
        assert not np.asarray(info["goal_carried"]).any(), "a loose ball is not carried in"


def test_a_goal_dribbled_over_the_line_is_carried(r3):
    """The owner running the ball at its feet over the goal line scores a goal that
    `goal_carried` flags (the loose-ball goals above are not flagged)."""
    cfg = r3.config
    half = cfg.field_length / 2
    me = (half - 1.5, 0.0)
    state = place(cfg, left={1: me}, right={0: (0.0, -4.0), 1: (0.0, 4.0), 2: (-4.0, 4.0)},
                  ball=(me[0] + reach(cfg) + DRIBBLE_GAP, 0.0), owner=(0, 1))
    actions = idle(cfg).at[0, 1].set(Action.FORWARD)
    for _ in range(20):
        _, state, _, _, info = r3.step_env(KEY, state, actions)
        if bool(info["goal"][0]):
            break
    assert bool(info["goal"][0]), "the carrier scored"
    assert np.asarray(info["goal_carried"]).tolist() == [True, False]


# ---------------------------------------------------------------------------------------------
# The keeper.


@pytest.mark.parametrize("team", [0, 1])
def test_keeper_catches_in_its_area_with_catch_prob(c2, team):
    """A ball rolling past the keeper between control_radius and catch_radius (so a field
    player could not take it) is caught with chance catch_prob per step inside its own
    penalty area, never outside it."""
    cfg = c2.config
    sign = TEAM_SIGN[team]
    half = cfg.field_length / 2
    offset = 0.5 * (cfg.control_radius + cfg.catch_radius)
    speed = 0.5 * min(cfg.catch_speed, cfg.control_speed)
    assert offset > cfg.control_radius
    results = {}
    for where, keeper_x in (("in", half - 1.5), ("out", half - penalty_depth(cfg.field_length)
                                                 - 2.0)):
        keeper = (-sign * keeper_x, 0.0)  # the keeper of `team` defends x = -sign * half
        ball = (keeper[0] - 0.3 * speed * cfg.dt, offset)
        spots = {0: keeper, 1: (0.0, 5.0)}
        state = place(cfg, **{("left" if team == 0 else "right"): spots}, ball=ball,
                      ball_vel=(speed, 0.0))
        nxt, info = many_games(c2, state)
        caught = np.asarray(nxt.owner) == team * cfg.team_size
        assert np.all((np.asarray(nxt.owner) == -1) | caught)
        results[where] = caught.sum(), len(caught)
    caught, games = results["in"]
    assert binomial_ok(caught, games, cfg.catch_prob), (caught, games, cfg.catch_prob)
    assert results["out"][0] == 0, "no catches outside the penalty area"


def test_keeper_is_not_tackled_while_holding_in_its_area(r3):
    """Tackles always succeed in r3 (tackle_prob = 1): a keeper with the ball in its own
    penalty area is safe from the attacker at its feet; outside the area it is not."""
    cfg = r3.config
    half = cfg.field_length / 2
    for keeper_x, safe in ((half - 1.5, True), (half - penalty_depth(cfg.field_length) - 2.0,
                                                False)):
        ball = (keeper_x - reach(cfg) - DRIBBLE_GAP, 0.0)
        state = place(cfg, left={1: (ball[0] - 0.6, 0.3)}, right={0: (keeper_x, 0.0)},
                      ball=ball, owner=(1, 0))
        for _ in range(5):
            _, state, _, _, info = r3.step_env(KEY, state, idle(cfg))
            if not safe:
                break
        if safe:
            assert int(state.owner) == cfg.team_size and not bool(info["tackle"].any())
        else:
            assert bool(info["tackle"][0, 1]) and int(state.owner) == 1


def test_keeper_must_release_after_keeper_hold_steps(r3):
    """A keeper holding the ball (idle) clears it with a shot once it has held it
    keeper_hold_steps steps."""
    cfg = r3.config
    half = cfg.field_length / 2
    keeper = (-(half - 1.0), 0.0)
    clear_of_it = {1: (-2.0, 5.0), 2: (-2.0, -5.0)}  # teammates out of the clearance's way
    state = place(cfg, left={0: keeper, **clear_of_it},
                  ball=(keeper[0] + reach(cfg) + DRIBBLE_GAP, 0.0), owner=(0, 0))
    steps, state, info = run_until(r3, state, idle(cfg),
                                   lambda s, i: bool(i["shot"].any()),
                                   max_steps=cfg.keeper_hold_steps + 5)
    assert steps == cfg.keeper_hold_steps + 1 and bool(info["shot"][0, 0])
    assert int(state.owner) == -1 and float(state.ball_vel[0]) > 0, "cleared forward"
    # A field player may hold the ball as long as it likes.
    state = place(cfg, left={1: keeper}, ball=(keeper[0] + reach(cfg) + DRIBBLE_GAP, 0.0),
                  owner=(0, 1), hold=cfg.keeper_hold_steps + 5)
    _, state, _, _, info = r3.step_env(KEY, state, idle(cfg))
    assert not bool(info["shot"].any()) and int(state.owner) == 1


# ---------------------------------------------------------------------------------------------
# Passes: led to the receiver, arriving at a controllable speed.


def test_pass_is_led_to_a_running_receiver(r3):
    """A pass to a teammate running across the passer's line is aimed ahead of it, arrives at
    about pass_arrival_speed, and the receiver takes it on the run: a completed pass."""
    cfg = r3.config
    left_dir = move_table(cfg.team_size)[Action.LEFT]
    run = cfg.player_max_speed * left_dir
    ball = np.array([-6.0, -4.0])
    receiver = ball + np.array([4.0, 0.0])
    state = place(cfg, left={1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0])),
                             2: tuple(receiver)}, left_vel={2: tuple(run)}, ball=tuple(ball),
                  owner=(0, 1))
    running = idle(cfg).at[0, 2].set(Action.LEFT)
    _, state, _, _, info = r3.step_env(KEY, state, running.at[0, 1].set(Action.FIRST_PASS + 1))
    assert bool(info["pass"][0, 1])
    struck = np.asarray(state.ball_vel)
    # Ahead of the receiver: the pass points across, toward where it is running.
    assert np.dot(unit(struck), left_dir) > np.dot(unit(receiver - ball), left_dir) + 0.2
    speeds = []

    def taken(s, i):
        speeds.append(float(np.linalg.norm(s.ball_vel)))
        return int(s.owner) != -1

    steps, state, info = run_until(r3, state, running, taken)
    assert int(state.owner) == 2 and bool(info["pass_completed"][0, 1])
    arrival = speeds[-2]  # the rolling ball's speed on the step before the receiver took it
    assert 0.8 * cfg.pass_arrival_speed <= arrival <= 1.3 * cfg.pass_arrival_speed, arrival
    # The receiver took it on the run, without having had to stop.
    assert float(np.linalg.norm(state.player_vel[0, 2])) > 0.5 * cfg.player_max_speed


def test_long_pass_is_faster_than_dribbling(r3):
    """Over 10 m a pass is clearly faster than dribbling, and still arrives at a speed the
    receiver controls."""
    cfg = r3.config
    ball = np.array([-7.0, 2.0])
    distance = 12.0
    state = place(cfg, left={1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0])),
                             2: tuple(ball + np.array([distance, 0.0]))}, ball=tuple(ball),
                  owner=(0, 1))
    _, state, _, _, _ = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.FIRST_PASS + 1))
    steps, state, info = run_until(r3, state, idle(cfg), lambda s, i: int(s.owner) != -1)
    assert int(state.owner) == 2 and bool(info["pass_completed"][0, 1])
    flight = (steps + 1) * cfg.dt
    assert flight < 0.75 * (distance - cfg.control_radius) / cfg.dribble_speed, flight
    np.testing.assert_allclose(info["pass_length"][0, 1], distance, atol=0.3)


def test_opponent_who_takes_a_pass_intercepts_it(r3):
    cfg = r3.config
    ball = np.array([-6.0, -4.0])
    state = place(cfg, left={1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0])),
                             2: tuple(ball + np.array([8.0, 0.0]))},
                  right={1: tuple(ball + np.array([4.0, 0.3]))}, ball=tuple(ball),
                  owner=(0, 1))
    _, state, _, _, _ = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.FIRST_PASS + 1))
    _, state, info = run_until(r3, state, idle(cfg), lambda s, i: int(s.owner) != -1)
    assert int(state.owner) == cfg.team_size + 1
    assert bool(info["interception"][1, 1]) and bool(info["won_ball"][1, 1])
    assert not bool(info["pass_completed"].any())
    assert int(np.asarray(info["interception"]).sum()) == 1


# ---------------------------------------------------------------------------------------------
# Cooldowns.


def test_kicker_cannot_retake_its_kick_within_kick_cooldown(r3):
    """After a kick the kicker may not take the ball for kick_cooldown steps: a loose ball at
    rest at its feet is taken on the kick_cooldown-th step after the kick, not before."""
    cfg = r3.config
    feet = np.array([reach(cfg) + DRIBBLE_GAP, 0.0])
    me = (-2.0, 0.0)
    state = place(cfg, left={1: me, 2: (-2.0, 5.5)}, ball=tuple(me + feet), owner=(0, 1))
    _, state, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.FIRST_PASS + 1))
    assert bool(info["pass"][0, 1]) and int(state.cooldown[0, 1]) == cfg.kick_cooldown
    # The ball back at rest at the kicker's feet (as after a rebound).
    state = state.replace(ball_pos=jnp.asarray(me + feet, jnp.float32),
                          ball_vel=jnp.zeros(2, jnp.float32))
    steps, state, _ = run_until(r3, state, idle(cfg), lambda s, i: int(s.owner) != -1,
                                max_steps=cfg.kick_cooldown + 3)
    assert int(state.owner) == 1 and steps == max(cfg.kick_cooldown, 1)


def test_kicker_never_takes_its_own_kick_on_the_strike_step(compiled):
    """Even without a kick cooldown, a pass leaves the passer: the ball is not taken back by
    the player who struck it on that step (it used to be, undoing every short pass)."""
    c = compiled(RULES3.replace(kick_cooldown=0), quick=True)
    cfg = c.config
    me = (-2.0, 0.0)
    state = place(cfg, left={1: me, 2: (-2.0, 5.5)}, ball=(me[0] + reach(cfg) + DRIBBLE_GAP,
                                                          0.0), owner=(0, 1))
    _, nxt, _, _, info = c.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.FIRST_PASS + 1))
    assert bool(info["pass"][0, 1]) and int(nxt.owner) == -1 and float(nxt.ball_vel[1]) > 0


def test_tackled_player_cannot_retake_within_tackle_cooldown(r3):
    """The player who lost the ball to a tackle stands next to the new owner, but cannot tackle
    it back (tackles always succeed in r3) until its tackle_cooldown has run out."""
    cfg = r3.config
    T = cfg.team_size
    ball = (0.0, 0.0)
    state = place(cfg, left={1: (-(reach(cfg) + DRIBBLE_GAP), 0.0)},
                  right={1: (0.6 * cfg.tackle_range, 0.0)}, ball=ball, owner=(0, 1))
    _, state, _, _, info = r3.step_env(KEY, state, idle(cfg))
    assert bool(info["tackle"][1, 1]) and int(state.owner) == T + 1
    assert int(state.cooldown[0, 1]) == cfg.tackle_cooldown
    gap = np.linalg.norm(np.asarray(state.player_pos[0, 1] - state.ball_pos))
    assert gap <= cfg.tackle_range, "the loser could tackle back at once without the cooldown"
    steps, state, info = run_until(r3, state, idle(cfg), lambda s, i: bool(i["tackle"].any()),
                                   max_steps=cfg.tackle_cooldown + 3)
    assert steps == cfg.tackle_cooldown and bool(info["tackle"][0, 1])
    assert int(state.owner) == 1


# ---------------------------------------------------------------------------------------------
# Who may kick: the owner, exactly.


def random_states(cfg, n, seed):
    """[n] random, consistent game states (numpy sampling) and random actions [n, 2, T]: half
    the balls owned (at the owner's feet, often with an opponent in tackle range or the keeper
    in its penalty area), half loose (often near a player or a keeper, sometimes a pass or a
    shot in flight), random cooldowns and hold times."""
    rng = np.random.default_rng(seed)
    T = cfg.team_size
    half, hw = cfg.field_length / 2, cfg.field_width / 2
    bound = np.array([half, hw]) - cfg.player_radius
    states = []
    for _ in range(n):
        pos = rng.uniform(-1, 1, (2, T, 2)) * bound
        vel = rng.uniform(-0.7, 0.7, (2, T, 2)) * cfg.player_max_speed
        owner = int(rng.integers(2 * T)) if rng.random() < 0.5 else -1
        if T >= 2 and rng.random() < 0.3:  # the play is near a keeper, in its penalty area
            depth = penalty_depth(cfg.field_length)
            keeper_team = int(rng.integers(2))
            pos[keeper_team, 0] = (-TEAM_SIGN[keeper_team] * (half - rng.uniform(0.5, depth)),
                                   rng.uniform(-0.5, 0.5) * cfg.goal_width)
            if owner >= 0:
                owner = keeper_team * T if rng.random() < 0.5 else owner
            centre = pos[keeper_team, 0] + rng.uniform(-1.5, 1.5, 2)
        else:
            centre = rng.uniform(-1, 1, 2) * bound
        heading = unit(rng.normal(size=2))
        if owner >= 0:
            t, i = divmod(owner, T)
            pos[t, i] = np.clip(centre, -bound, bound)
            ball = pos[t, i] + heading * (reach(cfg) + DRIBBLE_GAP)
            ball_vel = vel[t, i]
            if rng.random() < 0.7:  # a challenger in tackle range
                pos[1 - t, int(rng.integers(T))] = ball + unit(rng.normal(size=2)) * (
                    rng.uniform(reach(cfg), cfg.tackle_range))
        else:
            ball = centre
            ball_vel = unit(rng.normal(size=2)) * rng.uniform(0, 1.3 * cfg.control_speed)
            if rng.random() < 0.7:  # someone near the loose ball, maybe two
                for _ in range(int(rng.integers(1, 3))):
                    pos[int(rng.integers(2)), int(rng.integers(T))] = ball + rng.uniform(
                        -1.2, 1.2, 2)
        pos = np.clip(pos, -bound, bound)
        ball = np.clip(ball, -(np.array([half, hw]) - cfg.ball_radius),
                       np.array([half, hw]) - cfg.ball_radius)
        onehot = lambda k: (np.arange(2 * T) == k).reshape(2, T)  # noqa: E731
        passer = int(rng.integers(2 * T)) if owner < 0 and rng.random() < 0.4 else -1
        cooldown = np.where(rng.random((2, T)) < 0.2, rng.integers(1, 4, (2, T)), 0)
        if owner >= 0:
            cooldown[divmod(owner, T)] = 0
        state = place(
            cfg, ball=tuple(ball), ball_vel=tuple(ball_vel),
            owner=None if owner < 0 else divmod(owner, T),
            last_touch=onehot(owner if owner >= 0 else int(rng.integers(-1, 2 * T))),
            pass_from=onehot(passer), pass_origin=tuple(ball - 3 * heading),
            cooldown=cooldown, hold=int(rng.integers(cfg.keeper_hold_steps + 2))
            if owner >= 0 else 0,
            shot_on=bool(owner < 0 and rng.random() < 0.2), step=int(rng.integers(100)),
            score=tuple(rng.integers(0, 3, 2)))
        states.append(state.replace(player_pos=jnp.asarray(pos, jnp.float32),
                                    player_vel=jnp.asarray(vel, jnp.float32)))
    batch = jax.tree.map(lambda *x: jnp.stack(x), *states)
    actions = jnp.asarray(rng.integers(0, num_actions(T), (n, 2, T)), jnp.int32)
    return batch, actions


@pytest.fixture(scope="module")
def sampled2(c2):
    """BATCH random 2v2 states, actions and keys (see random_states)."""
    states, actions = random_states(c2.config, BATCH, seed=1)
    return states, actions, jax.random.split(jax.random.PRNGKey(11), BATCH)


def test_action_mask_is_exactly_who_may_kick(c2, sampled2):
    """Every player tries every kick: a kick acts (the player kicks and touches the ball) exactly
    where action_mask allows it, and that is the owner."""
    cfg = c2.config
    T = cfg.team_size
    states, _, keys = sampled2
    masks = np.asarray(jax.vmap(c2.action_mask)(states))
    owner = np.asarray(states.owner)
    has_ball = (np.arange(2 * T) == owner[:, None]).reshape(-1, 2, T)
    np.testing.assert_array_equal(masks[..., Action.SHOOT], has_ball)
    assert has_ball.any() and (~has_ball.any(axis=(1, 2))).any()
    for kick in range(Action.SHOOT, num_actions(T)):
        actions = jnp.full((BATCH, 2, T), kick, jnp.int32)
        _, _, _, _, info = c2.vstep(keys, states, actions)
        flag = np.asarray(info["shot"] if kick == Action.SHOOT else info["pass"])
        np.testing.assert_array_equal(flag, masks[..., kick], err_msg=str(kick))
        assert not np.any(masks[..., kick] & ~np.asarray(info["touch"]))


# ---------------------------------------------------------------------------------------------
# Fair random tie-break.


def test_tie_break_between_teams_is_fair(c2):
    """A still loose ball exactly between a left and a right player (a mirrored state): each
    takes it in about half of the games."""
    cfg = c2.config
    d = 0.5 * (reach(cfg) + cfg.control_radius)
    state = place(cfg, left={0: (-8.0, 1.0), 1: (-d, 0.0)}, right={0: (8.0, -1.0), 1: (d, 0.0)},
                  ball=(0.0, 0.0))
    mirrored = mirror(state)
    assert all(bool(jnp.all(getattr(mirrored, f) == getattr(state, f)))
               for f in ("player_pos", "player_vel", "ball_pos", "ball_vel"))
    nxt, info = many_games(c2, state)
    owners = np.asarray(nxt.owner)
    assert set(owners.tolist()) <= {1, cfg.team_size + 1}, "one of the two always takes it"
    left_wins = int((owners == 1).sum())
    assert binomial_ok(left_wins, len(owners), 0.5), (left_wins, len(owners))


# ---------------------------------------------------------------------------------------------
# Events: saves and assists.


def test_keeper_catch_of_a_shot_on_target_is_a_save(r3):
    """A shot on target is in flight (State.shot_on) until someone touches it; when the keeper
    catches it in its area (catch_prob = 1 in r3) that is a save, and the keeper owns the ball.
    The caught shot is one in flight that has slowed below catch_speed (a long shot: with the
    default speeds a shot has to roll farther than a small pitch is long to get that slow)."""
    cfg = r3.config
    half = cfg.field_length / 2
    T = cfg.team_size
    keeper = np.array([half - 2.0, 0.3])
    direction = unit(aim_point(cfg, 0, keeper[1]) - keeper)
    ball = keeper - 4.0 * direction  # the keeper stands on the shot's line
    # Struck: a shot on target, flagged in flight.
    state = place(cfg, left={1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0]))},
                  right={0: tuple(keeper), 1: (0.0, 6.0), 2: (0.0, -6.0)},
                  ball=tuple(ball), owner=(0, 1))
    _, struck, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.SHOOT))
    assert bool(info["shot_on_target"][0, 1]) and bool(struck.shot_on)
    np.testing.assert_allclose(unit(struck.ball_vel), direction, atol=1e-4)
    # In flight, slowed below catch_speed (but too fast for a field player to control, when
    # the config allows), 2 m before the keeper.
    slow = (0.5 * (cfg.control_speed + cfg.catch_speed) if cfg.catch_speed > cfg.control_speed
            else 0.8 * cfg.catch_speed)
    flight = place(cfg, left={1: (ball[0] - 3.0, ball[1])},
                   right={0: tuple(keeper), 1: (0.0, 6.0), 2: (0.0, -6.0)},
                   ball=tuple(keeper - 2.0 * direction), ball_vel=tuple(slow * direction),
                   last_touch=(0, 1), shot_on=True)
    _, state, info = run_until(r3, flight, idle(cfg), lambda s, i: bool(i["touch"].any()))
    assert int(state.owner) == T, "the keeper caught it"
    expected = np.zeros((2, T), bool)
    expected[1, 0] = True
    np.testing.assert_array_equal(info["save"], expected)
    assert not bool(state.shot_on) and not bool(info["goal"].any())
    # The same ball, not a shot on target: the keeper gathers it, no save.
    _, state, info = run_until(r3, flight.replace(shot_on=jnp.asarray(False)), idle(cfg),
                               lambda s, i: bool(i["touch"].any()))
    assert int(state.owner) == T and not bool(info["save"].any())


def test_keeper_parry_of_a_shot_on_target_is_a_save(r3):
    """A shot too fast to catch bounces off the keeper's body: a save, the ball loose."""
    cfg = r3.config
    half = cfg.field_length / 2
    keeper = np.array([half - 1.0, 0.2])
    target = aim_point(cfg, 0, keeper[1])
    ball = keeper - unit(target - keeper) * 1.5
    state = place(cfg, left={1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0]))},
                  right={0: tuple(keeper)}, ball=tuple(ball), owner=(0, 1))
    assert cfg.shoot_speed * (1 - cfg.ball_friction) > cfg.catch_speed, "too fast to catch"
    _, nxt, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.SHOOT))
    assert bool(info["shot_on_target"][0, 1]) and bool(info["save"][1, 0])
    assert int(nxt.owner) == -1 and not bool(info["goal"].any())


@pytest.mark.parametrize("body", ["keeper", "field player"])
def test_keeper_parries_away_from_its_goal(r3, body):
    """A fast ball glancing off the keeper in its area is parried upfield, never on toward its
    goal; the same ball off a field player at that spot rebounds on toward the goal."""
    cfg = r3.config
    half = cfg.field_length / 2
    spot = (half - 1.5, 0.0)
    ball = (half - 3.0, 0.85 * reach(cfg))  # grazes the body's side
    aside = (0.0, cfg.field_width / 3)
    right = ({0: spot, 1: aside} if body == "keeper"
             else {0: (half - 0.5, -cfg.goal_width), 1: spot})
    state = place(cfg, right=right, ball=ball, ball_vel=(cfg.shoot_speed, 0.0))
    assert cfg.shoot_speed * (1 - cfg.ball_friction) > cfg.catch_speed, "too fast to catch"
    _, nxt, _, _, info = r3.step_env(KEY, state, idle(cfg))
    toucher = 0 if body == "keeper" else 1
    assert bool(info["touch"][1, toucher]) and int(nxt.owner) == -1
    vx = float(nxt.ball_vel[0])
    assert (vx < 0.0) if body == "keeper" else (vx > 0.0), vx


@pytest.mark.parametrize("body", ["keeper", "field player"])
def test_keeper_parries_a_catchable_ball_it_fails_to_hold(compiled, body):
    """A ball slower than catch_speed passing within catch_radius of the keeper (but beyond its
    body) that the keeper does not catch (catch_prob 0 here) is parried upfield, not let
    through; it passes a field player standing at the same spot untouched."""
    c = compiled(dataclasses.replace(RULES3, catch_prob=0.0), quick=True)
    cfg = c.config
    half = cfg.field_length / 2
    spot = (half - 1.5, 0.0)
    # Beyond the body and a field player's control, within the keeper's hands.
    offset = 0.5 * (max(reach(cfg), cfg.control_radius) + cfg.catch_radius)
    speed = 0.5 * (cfg.control_speed + cfg.catch_speed)  # too fast to control, catchable
    assert offset > max(reach(cfg), cfg.control_radius) and speed > cfg.control_speed
    aside = (0.0, cfg.field_width / 3)
    right = ({0: spot, 1: aside} if body == "keeper"
             else {0: (half - 0.5, -cfg.goal_width), 1: spot})
    state = place(cfg, right=right, ball=(half - 2.2, offset), ball_vel=(speed, 0.0))
    _, nxt, _, _, info = c.step_env(KEY, state, idle(cfg))
    toucher = 0 if body == "keeper" else 1
    assert int(nxt.owner) == -1
    assert bool(info["touch"][1, toucher]) == (body == "keeper")
    vx = float(nxt.ball_vel[0])
    assert (vx < 0.0) if body == "keeper" else (vx > 0.0), vx


def test_goal_after_a_completed_pass_is_assisted(r3):
    """The passer of a completed pass assists the receiver's goal (and earns credit_assist); a
    goal without that pass is unassisted."""
    cfg = r3.config
    T = cfg.team_size
    half = cfg.field_length / 2
    keeper = (half - 0.5, cfg.goal_width / 2 + 0.5)  # beside the far post, out of the way
    ball = np.array([half - 6.0, -3.0])
    receiver = np.array([half - 4.0, -0.5])
    spots = {1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0])), 2: tuple(receiver)}
    state = place(cfg, left=spots, right={0: keeper, 1: (-5.0, 5.0), 2: (-5.0, -5.0)},
                  ball=tuple(ball), owner=(0, 1))
    _, state, _, _, _ = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.FIRST_PASS + 1))
    _, state, info = run_until(r3, state, idle(cfg), lambda s, i: int(s.owner) != -1)
    assert int(state.owner) == 2 and bool(info["pass_completed"][0, 1])
    shoot = idle(cfg).at[0, 2].set(Action.SHOOT)
    _, state, reward, _, info = r3.step_env(KEY, state, shoot)
    for _ in range(10):
        if bool(info["goal"].any()):
            break
        _, state, reward, _, info = r3.step_env(KEY, state, idle(cfg))
    assert bool(info["goal"][0])
    scorer, passer = np.zeros((2, T), bool), np.zeros((2, T), bool)
    scorer[0, 2], passer[0, 1] = True, True
    np.testing.assert_array_equal(info["goal_scored"], scorer)
    np.testing.assert_array_equal(info["assist"], passer)
    credit = np.asarray(reward - info["team_reward"][:, None])
    np.testing.assert_allclose(credit[0, 1], cfg.credit_weight * cfg.credit_assist, atol=1e-6)
    np.testing.assert_allclose(credit[0, 2], cfg.credit_weight * cfg.credit_goal, atol=1e-6)
    # The same goal without the pass before it: no assist.
    solo = place(cfg, left={2: tuple(receiver - np.array([reach(cfg) + DRIBBLE_GAP, 0.0]))},
                 right={0: keeper}, ball=tuple(receiver), owner=(0, 2))
    _, _, info = run_until(r3, solo, shoot, lambda s, i: bool(i["goal"].any()))
    assert bool(info["goal_scored"][0, 2]) and not bool(info["assist"].any())


@pytest.mark.parametrize("taker", ["teammate", "opponent"])
def test_kick_taken_on_the_strike_step_has_one_last_toucher(r3, taker):
    """A pass taken at once by a player next to the passer (a teammate: completed; an
    opponent: intercepted) is touched by both on that step; the taker owns it and is its only
    last toucher."""
    cfg = r3.config
    T = cfg.team_size
    team = 0 if taker == "teammate" else 1
    ball = np.array([0.0, 0.0])
    spots = {"left": {1: tuple(ball - np.array([reach(cfg) + DRIBBLE_GAP, 0.0])),
                      2: (4.0, 0.0)}, "right": {}}
    near = (0.9, 0.0)  # in the pass's path, within control range after its first step
    spots["left" if team == 0 else "right"][0 if team == 1 else 2] = near
    state = place(cfg, **spots, ball=tuple(ball), owner=(0, 1))
    _, nxt, _, _, info = r3.step_env(KEY, state, idle(cfg).at[0, 1].set(Action.FIRST_PASS + 1))
    who = 2 if team == 0 else 0
    assert bool(info["pass"][0, 1]) and int(nxt.owner) == team * T + who
    assert bool(info["touch"][0, 1]) and bool(info["touch"][team, who])
    expected = np.zeros((2, T), bool)
    expected[team, who] = True
    np.testing.assert_array_equal(nxt.last_touch, expected)
    flag = "pass_completed" if team == 0 else "interception"
    assert bool(info[flag][0, 1] if team == 0 else info[flag][1, who])


def test_tackling_a_restart_taker_wins_the_ball(r3):
    """The taker of a throw-in has the ball (it counts as its last toucher): an opponent who
    tackles it has won the ball from the other team, and earns credit_won_ball."""
    cfg = r3.config
    T = cfg.team_size
    hw = cfg.field_width / 2
    state = place(cfg, left={1: (1.0, 3.0)}, right={1: (6.0, 3.0)}, ball=(1.5, hw - 0.2),
                  ball_vel=(0.0, 5.0), last_touch=(0, 1))
    _, state, _, _, info = r3.step_env(KEY, state, idle(cfg))
    assert int(state.owner) // T == 1, "a throw-in to the right team"
    # A left player steps up to the taker (tackles always succeed in r3).
    ball = np.asarray(state.ball_pos)
    challenger = ball + np.array([0.0, -0.8])
    state = state.replace(player_pos=state.player_pos.at[0, 2].set(jnp.asarray(challenger)))
    _, state, reward, _, info = r3.step_env(KEY, state, idle(cfg))
    assert bool(info["tackle"][0, 2]) and bool(info["won_ball"][0, 2])
    np.testing.assert_allclose(reward[0, 2] - info["team_reward"][0],
                               cfg.credit_weight * cfg.credit_won_ball, atol=1e-6)


def possession(state):
    """The team in possession, written out: the team of the last toucher (the owner while the
    ball is owned; a pass or a shot in flight stays its kicker's), -1 when nobody touched it."""
    touched = np.asarray(state.last_touch).any(axis=1)
    return int(np.argmax(touched)) if touched.any() else -1


def progress_potential(cfg, state):
    """[2] the ball-progress potential (EnvConfig.ball_progress_weight) written out in numpy:
    for the team in possession, the ball's x in its frame over half the pitch; 0 otherwise."""
    out, team = np.zeros(2), possession(state)
    if team >= 0:
        out[team] = TEAM_SIGN[team] * float(state.ball_pos[0]) * 2.0 / cfg.field_length
    return out


def reach_potential(cfg, state):
    """[2, T] the reach-the-ball potential (EnvConfig.ball_reach_weight) written out in numpy:
    minus each player's distance to the ball while its team is not in possession (0 while it
    is); the keeper, minus its distance to the spot on its goal-to-ball line 0.3 of the
    ball's distance out (0.6 m to 0.7 penalty depths); in pitch lengths."""
    L = cfg.field_length
    pos, ball = np.asarray(state.player_pos, np.float64), np.asarray(state.ball_pos, np.float64)
    team = possession(state)
    dist = np.linalg.norm(pos - ball, axis=-1)
    if team >= 0:
        dist[team] = 0.0
    for team in (0, 1):
        goal = np.array([-TEAM_SIGN[team] * L / 2, 0.0])
        out = np.linalg.norm(ball - goal)
        spot = goal + (ball - goal) / out * np.clip(0.3 * out, 0.6, 0.7 * penalty_depth(L))
        dist[team, 0] = np.linalg.norm(pos[team, 0] - spot)
    return np.where(np.asarray(state.active), -dist / L, 0.0)


def support_potential(cfg, state):
    """[2, T] the support potential (EnvConfig.support_weight) written out in numpy: for each
    outfield player of the team in possession but its last toucher (the carrier), minus its
    distance to the spot 3.5 m ahead of the ball and 3.5 m to its side of it (1 m inside the
    lines), in pitch lengths; else 0."""
    T, L, W = cfg.team_size, cfg.field_length, cfg.field_width
    pos, ball = np.asarray(state.player_pos, np.float64), np.asarray(state.ball_pos, np.float64)
    out = np.zeros((2, T))
    team = possession(state)
    if team < 0:
        return out
    last = np.asarray(state.last_touch)
    for i in range(1, T):
        if last[team, i] or not bool(state.active[team, i]):
            continue
        side = 1.0 if pos[team, i, 1] >= ball[1] else -1.0
        spot = ball + np.array([TEAM_SIGN[team] * 3.5, side * 3.5])
        spot = np.clip(spot, [-L / 2 + 1, -W / 2 + 1], [L / 2 - 1, W / 2 - 1])
        out[team, i] = -np.linalg.norm(pos[team, i] - spot) / L
    return out


def shaping_potential(cfg, state):
    """[2, T] the weighted sum of both per-player potentials."""
    return (cfg.ball_reach_weight * reach_potential(cfg, state)
            + cfg.support_weight * support_potential(cfg, state))


@pytest.fixture(scope="module")
def reach3(compiled):
    """RULES3 rewarded by the shaping potentials only (progress 0.3 in the team reward; per
    player: reach 0.5, support 0.25), besides goals."""
    return compiled(dataclasses.replace(RULES3, ball_reach_weight=0.5, support_weight=0.25,
                                        ball_progress_weight=0.3, credit_weight=0.0), quick=True)


def test_reach_potential_rewards_moving_to_the_ball(reach3):
    """With a loose ball every player earns the change of its own potential: an outfield
    player running at the ball gains, one running away loses, a keeper moving onto its
    guarding spot gains; once its team owns the ball an outfield player's potential is 0, so
    winning the ball pays each teammate its distance from it."""
    cfg = reach3.config
    w, L = cfg.ball_reach_weight, cfg.field_length
    spot_x = -L / 2 + np.clip(0.3 * L / 2, 0.6, 0.7 * penalty_depth(L))  # ball at the centre
    state = place(cfg, left={0: (spot_x, 1.5), 1: (-3.0, 0.0), 2: (-3.0, 4.0)},
                  right={1: (3.0, 0.0)}, ball=(0.0, 0.0))
    actions = idle(cfg).at[0, 1].set(Action.FORWARD).at[0, 2].set(Action.BACK)
    _, nxt, reward, _, info = reach3.step_env(KEY, state, actions)
    shaped = np.asarray(reward - info["team_reward"][:, None])
    np.testing.assert_allclose(shaped, w * (reach_potential(cfg, nxt)
                                            - reach_potential(cfg, state)), atol=1e-6)
    assert not support_potential(cfg, state).any() and not support_potential(cfg, nxt).any()
    assert shaped[0, 1] > 0 > shaped[0, 2], "toward the ball gains, away loses"
    assert abs(shaped[1, 1]) < 1e-6, "standing still earns nothing"
    # The keeper 1.5 m beside its spot: idle, it earns nothing; stepping onto the spot (to
    # its right) gains, stepping toward the ball (forward) does not.
    assert abs(shaped[0, 0]) < 1e-6
    for action, sign in ((Action.RIGHT, 1.0), (Action.FORWARD, -1.0)):
        _, _, reward, _, info = reach3.step_env(KEY, state, idle(cfg).at[0, 0].set(action))
        assert sign * float(reward[0, 0] - info["team_reward"][0]) > 0, action
    # Winning the ball: the winner's teammates are paid their distance from the ball, and
    # charged (support weight) their distance from their support spot, here 3.5 m ahead of the
    # ball and 3.5 m to the side the teammate is on: 6.5 m behind it and 0.5 m off.
    ws = cfg.support_weight
    state = place(cfg, left={1: (-0.6, 0.0), 2: (-3.0, 4.0)}, ball=(0.0, 0.0))
    _, nxt, reward, _, info = reach3.step_env(KEY, state, idle(cfg))
    assert int(nxt.owner) == 1, "the left player at the ball took it"
    shaped = np.asarray(reward - info["team_reward"][:, None])
    ball = np.asarray(nxt.ball_pos)
    spot = ball + np.array([3.5, 3.5])
    np.testing.assert_allclose(
        shaped[0, 2], (w * 5.0 - ws * np.linalg.norm(spot - [-3.0, 4.0])) / L, atol=1e-3)
    np.testing.assert_allclose(shaped, shaping_potential(cfg, nxt) - shaping_potential(cfg, state),
                               atol=1e-6)
    # ... and while it keeps the ball, its teammate gains moving toward its spot (forward),
    # loses moving away (back); the carrier's potentials stay 0.
    for action, sign in ((Action.FORWARD, 1.0), (Action.BACK, -1.0)):
        _, nxt2, reward, _, info = reach3.step_env(KEY, nxt, idle(cfg).at[0, 2].set(action))
        assert int(nxt2.owner) == 1
        shaped = np.asarray(reward - info["team_reward"][:, None])
        assert abs(shaped[0, 1]) < 1e-6 and sign * shaped[0, 2] > 0, (action, shaped[0])
        np.testing.assert_allclose(
            shaped, shaping_potential(cfg, nxt2) - shaping_potential(cfg, nxt), atol=1e-6)


def shaped_rewards(cfg, reward, info):
    """([2] the team reward's progress shaping, [2, T] the per-player shaping) of a step."""
    goal = np.asarray(info["goal"], np.float64)
    team = np.asarray(info["team_reward"]) - cfg.goal_reward * (goal - goal[::-1])
    return team, np.asarray(reward - info["team_reward"][:, None])


def test_shaping_telescopes_over_a_random_game(reach3):
    """Potential-based: over any stretch of play, restarts included, each shaping sums to the
    change of its potential, so no loop of moves can farm it; a goal ends a stretch (the
    potential after it counts as 0, the kickoff starts the next one)."""
    cfg = reach3.config
    _, state = reach3.reset(jax.random.PRNGKey(3))
    start = state
    total_team, total = np.zeros(2), np.zeros((2, cfg.team_size))
    want_team, want = np.zeros(2), np.zeros((2, cfg.team_size))
    restarts = owned = loose_possessed = 0
    for t in range(120):
        key_a, key_s = jax.random.split(jax.random.PRNGKey(100 + t))
        actions = jax.random.randint(key_a, (2, cfg.team_size), 0, reach3.env.num_actions)
        _, state, reward, _, info = reach3.step_env(key_s, state, actions)
        team, player = shaped_rewards(cfg, reward, info)
        total_team, total = total_team + team, total + player
        if bool(np.asarray(info["goal"]).any()):
            want_team -= cfg.ball_progress_weight * progress_potential(cfg, start)
            want -= shaping_potential(cfg, start)
            start = state
        restarts += int(info["restart"] != 0)
        owned += int(state.owner >= 0)
        loose_possessed += int(state.owner < 0 and possession(state) >= 0)
    want_team += cfg.ball_progress_weight * (progress_potential(cfg, state)
                                             - progress_potential(cfg, start))
    want += shaping_potential(cfg, state) - shaping_potential(cfg, start)
    np.testing.assert_allclose(total_team, want_team, atol=1e-4)
    np.testing.assert_allclose(total, want, atol=1e-4)
    assert np.abs(total).max() > 1e-3 and np.abs(total_team).max() > 1e-3
    assert owned > 10 and restarts > 0 and loose_possessed > 0, (owned, restarts,
                                                                 loose_possessed)
    # Team-symmetric: the mirrored game pays each team what the other team was paid.
    _, _, reward, _, info = reach3.step_env(KEY, state, actions)
    _, _, reward_m, _, info_m = reach3.step_env(KEY, mirror(state), actions[::-1])
    assert np.abs(np.asarray(reward - info["team_reward"][:, None])).max() > 1e-4
    np.testing.assert_allclose(reward_m - info_m["team_reward"][:, None],
                               (reward - info["team_reward"][:, None])[::-1], atol=1e-6)
    np.testing.assert_allclose(info_m["team_reward"], info["team_reward"][::-1], atol=1e-6)


def test_a_goal_ends_the_stretch_of_shaping(reach3):
    """A pass in flight stays its team's possession (no shaping charged while it rolls). On
    the step of a goal the potentials after it count as 0: the scorers give back only the
    potential they held, and are not charged for standing far from the ball at the kickoff;
    the next step's shaping starts from the kickoff."""
    cfg = reach3.config
    half, wp = cfg.field_length / 2, cfg.ball_progress_weight
    me = (half - 1.2, 0.0)
    state = place(cfg, left={1: me, 2: (half - 5.0, 3.0)},
                  right={0: (0.0, -4.0), 1: (0.0, 4.0), 2: (-4.0, 4.0)},
                  ball=(me[0] + reach(cfg) + DRIBBLE_GAP, 0.0), owner=(0, 1))
    # The pass: loose, still the left team's possession, its outfield players charged nothing.
    _, passed, reward, _, info = reach3.step_env(KEY, state, idle(cfg).at[0, 1].set(
        Action.FIRST_PASS + 1))
    assert bool(info["pass"][0, 1]) and int(passed.owner) < 0 and possession(passed) == 0
    team, player = shaped_rewards(cfg, reward, info)
    assert not reach_potential(cfg, passed)[0, 1:].any()
    np.testing.assert_allclose(player, shaping_potential(cfg, passed)
                               - shaping_potential(cfg, state), atol=1e-6)
    np.testing.assert_allclose(team, wp * (progress_potential(cfg, passed)
                                           - progress_potential(cfg, state)), atol=1e-6)
    assert progress_potential(cfg, passed)[0] > 0.5
    # The goal, dribbled in.
    actions = idle(cfg).at[0, 1].set(Action.FORWARD)
    for _ in range(20):
        before = state
        _, state, reward, _, info = reach3.step_env(KEY, state, actions)
        if bool(info["goal"][0]):
            break
    assert bool(info["goal"][0]) and info["restart"] != 0, "the carrier scored; kickoff"
    team, player = shaped_rewards(cfg, reward, info)
    np.testing.assert_allclose(team, -wp * progress_potential(cfg, before), atol=1e-6)
    np.testing.assert_allclose(player, -shaping_potential(cfg, before), atol=1e-6)
    assert team[0] < -0.25 and not reach_potential(cfg, before)[0, 1:].any()
    assert reach_potential(cfg, state)[0, 1:].max() < -0.05, "far from the kickoff ball"
    _, nxt, reward, _, info = reach3.step_env(KEY, state, idle(cfg))
    team, player = shaped_rewards(cfg, reward, info)
    np.testing.assert_allclose(player, shaping_potential(cfg, nxt) - shaping_potential(cfg, state),
                               atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Invariants of random rollouts (shared summary: conftest.random_rollout).

ROLLOUT_CONFIGS = {  # the registered matches, with either boundary
    "2v2-walls": WALLS2,
    "2v2-rules": soccer_env.scenario_config("2v2", boundary="rules"),
    "3v3-walls": soccer_env.scenario_config("3v3", boundary="walls"),
    "3v3-rules": soccer_env.scenario_config("3v3", boundary="rules"),
}


@pytest.mark.parametrize("name", list(ROLLOUT_CONFIGS))
def test_random_rollout_invariants(random_rollout, name):
    """64 games x 300 steps of random play: no NaN, bodies and observations in bounds, the
    owner in range, on the pitch and at the ball, the owner its last toucher, cooldowns in
    range, kicks only by the owner, tackles in range, ... (see conftest._random_rollout)."""
    config = ROLLOUT_CONFIGS[name]
    violations, counts, _ = random_rollout(config)
    assert {k: v for k, v in violations.items() if v} == {}, counts
    # The play exercised the mechanics it checks.
    for event in ("loose_taken", "shot", "pass", "pass_completed", "tackle", "interception",
                  "won_ball", "save", "goal"):
        assert counts[event] > 0, (event, counts)
    assert counts["owned"] > 0.1 * 64 * 300, counts
    if config.boundary == "rules":
        assert counts["restart"] > counts["goal"], "throw-ins, corners or goal kicks happened"


# ---------------------------------------------------------------------------------------------
# Team-frame symmetry with possession.


def flip_info(info, T):
    """The info of the mirrored transition: teams swapped, possession mapped."""
    out = {}
    for k, v in info.items():
        v = np.asarray(v)
        if k == "possession":
            out[k] = np.where(v < 0, v, 1 - v)
        elif k in ("terminated", "truncated", "restart"):
            out[k] = v
        else:
            out[k] = np.flip(v, axis=0)
    return out


@pytest.mark.parametrize("which", ["c2", "r3"])
def test_observations_are_team_symmetric_with_possession(request, which):
    """observe(mirror(s))[0] == observe(s)[1] exactly, for states with an owner (and loose
    ones), in 2v2 and 3v3; the same for global_state and the action mask."""
    c = request.getfixturevalue(which)
    cfg = c.config
    states, _ = random_states(cfg, 16, seed=2)
    owned = 0
    for b in range(16):
        s = jax.tree.map(lambda x: x[b], states)
        m = mirror(s)
        assert int(m.owner) == (int(s.owner) + cfg.team_size) % (2 * cfg.team_size) or (
            int(s.owner) == -1 == int(m.owner))
        obs, obs_m = np.asarray(c.observe(s)), np.asarray(c.observe(m))
        np.testing.assert_array_equal(obs_m[0], obs[1])
        np.testing.assert_array_equal(obs_m[1], obs[0])
        np.testing.assert_array_equal(c.global_state(m)[0], c.global_state(s)[1])
        np.testing.assert_array_equal(c.action_mask(m)[0], c.action_mask(s)[1])
        owned += int(s.owner) >= 0
    assert 0 < owned < 16
    # The possession features really differ between the two teams' views.
    layout = {b.name: b.slice for b in observations.observation_layout(cfg)}
    s = jax.tree.map(lambda x: x[int(np.argmax(np.asarray(states.owner) >= 0))], states)
    obs = np.asarray(c.observe(s))
    assert not np.array_equal(obs[0][..., layout["possession"]],
                              obs[1][..., layout["possession"]])


def test_step_is_team_symmetric_with_possession(r3):
    """In r3 a step is a function of state and actions (no aim noise; tackles and catches
    certain, so the per-team catch draws u[3], u[4] do not matter), and random continuous
    states have no exact ties for the random tie-break: stepping the mirrored state with the
    teams' actions swapped gives the mirror of the stepped state. Discrete outputs exactly;
    floats to rounding (sums over players run in another order)."""
    cfg = r3.config
    T = cfg.team_size
    n = 48
    states, actions = random_states(cfg, n, seed=3)
    seen = {k: 0 for k in ("tackle", "touch", "shot", "pass", "save", "won_ball")}
    for b in range(n):
        s, a = jax.tree.map(lambda x: x[b], (states, actions))
        key = jax.random.fold_in(KEY, b)
        obs, nxt, reward, done, info = r3.step_env(key, s, a)
        obs_m, nxt_m, reward_m, done_m, info_m = r3.step_env(key, mirror(s), a[::-1])
        expected = mirror(nxt)
        for name in ("player_pos", "player_vel", "ball_pos", "ball_vel", "pass_origin"):
            np.testing.assert_allclose(getattr(nxt_m, name), getattr(expected, name),
                                       atol=1e-4, err_msg=f"{b} {name}")
        for name in ("owner", "cooldown", "hold", "score", "step", "last_touch", "pass_from",
                     "assist_from", "shot_on", "active"):
            np.testing.assert_array_equal(getattr(nxt_m, name), getattr(expected, name),
                                          err_msg=f"{b} {name}")
        flipped = flip_info(info, T)
        for k, v in info_m.items():
            if np.asarray(v).dtype == bool or np.asarray(v).dtype == np.int32:
                np.testing.assert_array_equal(v, flipped[k], err_msg=f"{b} {k}")
            else:
                np.testing.assert_allclose(v, flipped[k], atol=1e-4, err_msg=f"{b} {k}")
        np.testing.assert_allclose(reward_m, np.asarray(reward)[::-1], atol=1e-6)
        np.testing.assert_allclose(obs_m, np.asarray(obs)[::-1], atol=1e-4)
        for k in seen:
            seen[k] += bool(np.asarray(info[k]).any())
    assert all(v > 0 for k, v in seen.items() if k != "save"), seen


# ---------------------------------------------------------------------------------------------
# jit / vmap equality.


def test_vmap_equals_single_steps_on_contested_states(c2, sampled2):
    """vmap(step) over games with owners, tackles, catches and kicks equals the single jitted
    steps: discrete outputs exactly, floats to rounding."""
    states, actions, keys = sampled2
    batched = c2.vstep(keys, states, actions)
    kinds = {"tackle": 0, "touch": 0, "shot": 0, "pass": 0}
    for b in range(BATCH):
        single = c2.step(*jax.tree.map(lambda x: x[b], (keys, states, actions)))
        row = jax.tree.map(lambda x: x[b], batched)
        assert_equal_to_rounding(row, single)
        for k in kinds:
            kinds[k] += bool(np.asarray(single[4][k]).any())
    assert all(v > 0 for v in kinds.values()), kinds
    # A caught ball is in the batch too (a keeper took it).
    nxt = batched[1]
    keeper_owner = np.isin(np.asarray(nxt.owner), [0, c2.config.team_size])
    took = keeper_owner & (np.asarray(states.owner) < 0)
    assert took.any()


def test_state_type_round_trips_through_mirror():
    """mirror is an involution on every field, possession fields included."""
    states, _ = random_states(RULES3, 8, seed=4)
    twice = jax.vmap(lambda s: mirror(mirror(s)))(states)
    for name in State.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(twice, name), getattr(states, name),
                                      err_msg=name)
