"""Rules of the game: goals, restarts when the ball leaves the pitch (`rules` mode) and kickoffs.

Every decision is a `jnp.where`; a restart teleports the awarded team's nearest player behind
the ball, gives it the ball and pushes opponents `restart_clearance` metres away, so play
resumes at once.
"""

from __future__ import annotations

import jax.numpy as jnp

from soccer_env.constants import KICKER_GAP, goal_area_depth
from soccer_env.layouts import kickoff_positions
from soccer_env.types import Restart


def goals(config, start, end):
    """[2] bool: team 0 scores when the ball's path this step, `start` -> `end` [2], crosses
    x = +L/2 between the posts, team 1 when it crosses x = -L/2 (a ball already past a line
    counts where it is)."""
    half = config.field_length / 2

    def through(sign):
        """The path crosses (or ends past) the line x = sign * half inside the mouth."""
        sx, ex = sign * start[0], sign * end[0]
        past = ex > half
        frac = jnp.clip((half - sx) / jnp.where(ex != sx, ex - sx, 1.0), 0.0, 1.0)
        y = jnp.where(sx > half, end[1], start[1] + frac * (end[1] - start[1]))
        return past & (jnp.abs(y) < config.goal_width / 2)

    return jnp.stack([through(1.0), through(-1.0)])


def _place_for_restart(config, pos, vel, active, spot, team):
    """Ball at `spot`, `team`'s nearest player just behind it facing the opponent goal, the
    other team at least `restart_clearance` from it. `team` is a traced int (0 or 1)."""
    T = config.team_size
    team_mask = (jnp.arange(2) == team)[:, None] & active  # [2, T]
    d = pos - spot
    dist = jnp.sqrt(jnp.sum(d * d, axis=-1) + 1e-12)
    nearest = (jnp.arange(2 * T) == jnp.argmin(jnp.where(team_mask, dist, jnp.inf).reshape(-1)))
    nearest = nearest.reshape(2, T) & team_mask
    attack_dir = jnp.where(team == 0, 1.0, -1.0)
    taker_spot = spot - jnp.array([attack_dir, 0.0]) * (
        config.player_radius + config.ball_radius + KICKER_GAP)
    pos = jnp.where(nearest[..., None], taker_spot, pos)
    opponents = (jnp.arange(2) != team)[:, None] & active
    r = config.restart_clearance
    pushed = spot + d / dist[..., None] * r
    pos = jnp.where((opponents & (dist < r))[..., None], pushed, pos)
    vel = jnp.where(active[..., None], 0.0, vel)
    return pos, vel, nearest


def restart_if_out(config, pos, vel, active, ball_pos, ball_vel, last_touch, scored):
    """`rules` mode: throw-ins, corners and goal kicks (none on a step where `scored`).

    Returns (pos, vel, ball_pos, ball_vel, restart kind [] int32, taker [2, T] bool one-hot:
    the player who restarts with the ball, all False when there is no restart).
    """
    half_l, half_w = config.field_length / 2, config.field_width / 2
    x, y = ball_pos[0], ball_pos[1]
    touched = jnp.any(last_touch, axis=1)  # [2]
    # Nobody touched yet: count the team whose half the ball is in as the last toucher, a rule
    # that stays symmetric under swapping the teams.
    last_team = jnp.where(jnp.any(touched), jnp.argmax(touched), jnp.where(x < 0, 0, 1))
    out_side = jnp.abs(y) > half_w
    out_end = (jnp.abs(x) > half_l) & ~out_side
    inset = 0.3
    # Throw-in: to the team that did not touch last, on the touchline where the ball left.
    throw_spot = jnp.stack([jnp.clip(x, -half_l + inset, half_l - inset),
                            jnp.sign(y) * (half_w - inset)])
    throw_team = 1 - last_team
    # Over a goal line: the defending team there is 0 at x < 0 and 1 at x > 0.
    defending = jnp.where(x > 0, 1, 0)
    is_corner = last_team == defending
    corner_spot = jnp.stack([jnp.sign(x) * (half_l - inset), jnp.sign(y) * (half_w - inset)])
    goal_kick_spot = jnp.stack([jnp.sign(x) * (half_l - goal_area_depth(config.field_length)),
                                0.0])
    end_spot = jnp.where(is_corner, corner_spot, goal_kick_spot)
    end_team = jnp.where(is_corner, 1 - defending, defending)

    spot = jnp.where(out_side, throw_spot, end_spot)
    team = jnp.where(out_side, throw_team, end_team)
    new_pos, new_vel, taker = _place_for_restart(config, pos, vel, active, spot, team)
    out = (out_side | out_end) & ~scored
    kind = jnp.where(out_side, Restart.THROW_IN,
                     jnp.where(is_corner, Restart.CORNER, Restart.GOAL_KICK))
    kind = jnp.where(out, kind, Restart.NO_RESTART).astype(jnp.int32)
    pos = jnp.where(out, new_pos, pos)
    vel = jnp.where(out, new_vel, vel)
    ball_pos = jnp.where(out, spot, ball_pos)
    ball_vel = jnp.where(out, 0.0, ball_vel)
    return pos, vel, ball_pos, ball_vel, kind, taker & out


def kickoff_after_goal(config, pos, vel, active, ball_pos, ball_vel, goal):
    """After a goal (when goals do not end the episode) the team that conceded kicks off: its
    kicker (the last index) has the ball. Returns (pos, vel, ball_pos, ball_vel, kind, kicker
    [2, T] bool one-hot, all False without a goal)."""
    scored = jnp.any(goal)
    conceding = jnp.where(goal[0], 1, 0)
    kick_pos = kickoff_positions(config, conceding)
    pos = jnp.where(scored & active[..., None], kick_pos, pos)
    vel = jnp.where(scored, 0.0, vel)
    ball_pos = jnp.where(scored, 0.0, ball_pos)
    ball_vel = jnp.where(scored, 0.0, ball_vel)
    kind = jnp.where(scored, Restart.KICKOFF, Restart.NO_RESTART).astype(jnp.int32)
    T = config.team_size
    kicker = ((jnp.arange(2) == conceding)[:, None] & (jnp.arange(T) == T - 1)[None]) & scored
    return pos, vel, ball_pos, ball_vel, kind, kicker

