"""The positional bot: the strongest scripted yardstick (see `soccer_env.bots`).

A keeper (player 0 when T >= 2) on the line between the ball and its goal centre; the outfield
player nearest the ball plays it (from behind, so that touches push it toward goal; on the shot
line when the opponent is first to it); the others hold a formation shifted with the ball,
goal-side of it, forwards pushing up in possession. A player in kick range always kicks: shoots
when the lane is open, passes to an open teammate upfield when pressed (or to one with an open
shot), and otherwise shoots anyway. `difficulty` in [0, 1] swaps each player's action, each
step, with probability 1 - difficulty for a uniformly random legal action.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env.actions import Action, teammate_index
from soccer_env.bots.common import (
    Bot,
    check_state,
    legalize,
    move_to,
    norm,
    random_legal,
    segment_distance,
    team_view,
    unit,
)
from soccer_env.config import EnvConfig
PASS_LEAD = 0.3
from soccer_env.layouts import formation


@dataclasses.dataclass(frozen=True)
class PositionalTuning:
    """Knobs of the positional bot (lengths in metres unless noted)."""

    lane_margin: float = 0.2  # a shot is open when no opponent can reach the ball's path:
    lane_reaction: float = 0.4  # none within reach + margin + this many m per m along it
    press_radius: float = 2.0  # an opponent this close presses the ball carrier
    open_radius: float = 2.0  # a teammate with no opponent this close is open
    pass_reaction: float = 0.6  # like lane_reaction, for (slower) passes
    pass_when_covered: bool = True  # also pass (unpressed) to a teammate with an open shot
    keeper_zone: float = 0.3  # fraction of L: the keeper comes out for balls this close ...
    keeper_margin: float = 0.5  # ... that it reaches this much before any opponent ...
    keeper_rush_speed: float = 5.0  # ... and that roll slower than this (m/s)
    keeper_depth: float = 0.35  # keeper stands this fraction of the ball's distance off goal,
    keeper_min_depth: float = 0.8  # at least this far
    keeper_max_depth: float = 0.2  # and at most this fraction of L
    shift_x: float = 0.5  # the formation follows the ball: x shift per metre of ball x
    shift_y: float = 0.3  # y shift per metre of ball y
    attack_push: float = 0.35  # fraction of L: slots move up this far in possession
    line_pull: float = 1.0  # slots goal-side of the ball move this far toward its goal line
    direct_range: float = 1.5  # run straight at the ball when this close to it
    circle: bool = True  # the ball player runs round the ball to push it toward goal
    block: bool = True  # a defending ball player on the wrong side blocks the shot line ...
    block_margin: float = 0.3  # ... when an opponent is this much nearer the ball ...
    block_distance: float = 1.2  # ... this far from the ball toward our goal centre
    outlet_gain: float = 3.0  # the keeper passes only to teammates this much further upfield
    chase_fraction: float = 0.0  # this fraction of the outfield players (at least 1) chase
    lookahead: float = 0.0  # s: the ball player aims at the ball's position this far ahead


def make_positional(config: EnvConfig, difficulty: float = 1.0,
                    tuning: PositionalTuning = PositionalTuning()) -> Bot:
    """The positional bot (see the module docstring) for games of `config`.

    Stateless and branch-free: roles are recomputed every step from the state. `tuning` holds
    the knobs used to tune it (docs/bots.md); only `difficulty` is a registered parameter.
    """
    cfg, tn = config, tuning
    T = cfg.team_size
    L, W = cfg.field_length, cfg.field_width
    half_l, half_w = L / 2, W / 2
    reach = cfg.player_radius + cfg.ball_radius
    has_keeper = T >= 2
    is_keeper = jnp.asarray(np.arange(T) == 0) & has_keeper
    home = jnp.asarray(formation(cfg))  # [T, 2] team frame
    mates = jnp.asarray(teammate_index(T))  # [T, T-1]
    own_goal = jnp.array([-half_l, 0.0])
    opp_goal = jnp.array([half_l, 0.0])
    bound = jnp.array([half_l - cfg.player_radius, half_w - cfg.player_radius])
    decay = 1.0 - cfg.ball_friction
    swap_prob = 1.0 - difficulty
    num_chasers = max(1, int(round(tn.chase_fraction * (T - 1))))
    # Forwards: outfield players whose formation spot is at least as far up as the average.
    home_x = formation(cfg)[:, 0]
    outfield_x = home_x[1:] if has_keeper else home_x
    forwards = jnp.asarray((home_x >= outfield_x.mean() - 1e-6) & ~np.asarray(is_keeper))

    def predict_ball(ball_pos, ball_vel, seconds):
        """Where the rolling ball will be after `seconds` [...] (friction, no bounces)."""
        n = seconds / cfg.dt
        travel = cfg.dt * decay * (1.0 - decay ** n) / max(cfg.ball_friction, 1e-6)
        return jnp.clip(ball_pos + ball_vel * travel[..., None], -bound, bound)

    def lane_blocked(start, end, opp_pos, opp_active, reaction):
        """[...] whether an opponent can reach the ball's path start -> end [..., 2] in time:
        within reach + lane_margin + `reaction` metres per metre it stands along the path."""
        dist, along = segment_distance(start, end, opp_pos)  # [..., N]
        ahead = along * norm(end - start)[..., None]
        near = dist < reach + tn.lane_margin + reaction * ahead
        return jnp.any(opp_active & near & (along > 0.0), axis=-1)

    def positional_bot(key, state, team):
        check_state(cfg, state)
        v = team_view(cfg, state, team)
        P, A, Q, QA, b, bv = (v.own_pos, v.own_active, v.opp_pos, v.opp_active,
                              v.ball_pos, v.ball_vel)
        in_range = v.mask[:, Action.SHOOT]
        ball_speed = norm(bv)

        # --- who plays the ball ------------------------------------------------------------
        dist_ball = norm(P - b)  # [T]
        reach_time = jnp.clip(dist_ball / cfg.player_max_speed, 0.0, tn.lookahead)
        ball_at = predict_ball(b, bv, reach_time)  # [T, 2] where each player meets the ball
        meet_dist = norm(P - ball_at)
        outfield = A & ~is_keeper
        rank = jnp.argsort(jnp.argsort(jnp.where(outfield, meet_dist, jnp.inf)))
        chaser = (rank < num_chasers) & outfield
        opp_dist_ball = jnp.min(jnp.where(QA, norm(Q - b), jnp.inf))
        ball_near_goal = norm(b - own_goal) < tn.keeper_zone * L
        keeper_first = dist_ball < opp_dist_ball - tn.keeper_margin
        keeper_out = (is_keeper & A & ball_near_goal & keeper_first
                      & (ball_speed < tn.keeper_rush_speed))
        lone_keeper = is_keeper & A & ~jnp.any(outfield)  # drills: nobody else to chase
        on_ball = (chaser | lone_keeper) & A

        # --- kicks (within range) ----------------------------------------------------------
        open_shot = ~lane_blocked(b, opp_goal, Q, QA, tn.lane_reaction)

        # In range, the ball player always kicks: the nearest kicker wins a contested ball, so
        # holding it only hands the kick to the opponent. Shoot when the lane is open, else pass
        # when pressed (or to a teammate with an open shot), else shoot anyway (rebounds).
        my_opp_dist = jnp.min(jnp.where(QA[None], norm(P[:, None] - Q[None]), jnp.inf), axis=-1)
        pressed = my_opp_dist < tn.press_radius
        kick = jnp.full((T,), int(Action.SHOOT), jnp.int32)
        if T >= 2:
            # Passing: each player's teammates, lanes and openness.
            # [T, T-1, 2] where a pass is aimed (where the physics leads it)
            mate_pos = P[mates] + PASS_LEAD * v.own_vel[mates]
            pass_blocked = lane_blocked(jnp.broadcast_to(b, mate_pos.shape), mate_pos,
                                        Q[None, None], QA, tn.pass_reaction)  # [T, T-1]
            mate_opp_dist = jnp.min(jnp.where(QA, norm(mate_pos[:, :, None] - Q[None, None]),
                                              jnp.inf), axis=-1)  # [T, T-1]
            pass_len = norm(mate_pos - b)
            pass_ok = (A[mates] & ~pass_blocked & (mate_opp_dist > tn.open_radius)
                       & (pass_len > 1.5) & (pass_len < 0.7 * L))
            pass_value = mate_pos[..., 0] + 0.5 * jnp.minimum(mate_opp_dist, 2 * tn.open_radius)
            forward_ok = pass_ok & (mate_pos[..., 0] > b[0] - 1.0)
            best_slot = jnp.argmax(jnp.where(forward_ok, pass_value, -jnp.inf), axis=-1)  # [T]
            can_pass = jnp.any(forward_ok, axis=-1)
            # The keeper only passes upfield, well clear of its goal.
            outlet_ok = pass_ok & (mate_pos[..., 0] > b[0] + tn.outlet_gain)
            outlet_slot = jnp.argmax(jnp.where(outlet_ok, pass_value, -jnp.inf), axis=-1)
            can_outlet = jnp.any(outlet_ok, axis=-1)

            mate_shot_open = ~lane_blocked(mate_pos, jnp.broadcast_to(opp_goal, mate_pos.shape),
                                           Q[None, None], QA, tn.lane_reaction)  # [T, T-1]
            mate_better = forward_ok & mate_shot_open & (mate_pos[..., 0] > b[0] + 2.0)
            better_slot = jnp.argmax(jnp.where(mate_better, pass_value, -jnp.inf), axis=-1)
            can_pass_better = jnp.any(mate_better, axis=-1) & tn.pass_when_covered
            field_kick = jnp.where(
                open_shot, Action.SHOOT,
                jnp.where(pressed & can_pass, Action.FIRST_PASS + best_slot,
                          jnp.where(can_pass_better, Action.FIRST_PASS + better_slot,
                                    Action.SHOOT)))
            # The keeper: to an open teammate upfield, else clear it (a shot at the far goal).
            keeper_kick = jnp.where(can_outlet, Action.FIRST_PASS + outlet_slot, Action.SHOOT)
            kick = jnp.where(is_keeper, keeper_kick, field_kick)

        # --- movement of the ball player: get behind the ball, push it toward goal ---------
        aim = unit(opp_goal - ball_at)  # [T, 2]
        rel = P - ball_at
        along = jnp.sum(rel * aim, axis=-1)  # < 0: behind the ball
        perp = rel - along[:, None] * aim
        lateral = norm(perp)
        behind = (along < -0.1) & (lateral < 0.7 * (-along) + 0.15)
        side = jnp.where(lateral[:, None] > 1e-3, perp / lateral[:, None],
                         jnp.stack([-aim[:, 1], aim[:, 0]], axis=-1))
        push = ball_at + aim
        circle = ball_at - 0.9 * aim + jnp.where(along[:, None] > -0.3, 0.9 * side, 0.0)
        # Defending (an opponent nearer the ball) from the wrong side: block the shot line.
        opp_first = opp_dist_ball < dist_ball - tn.block_margin
        block = b + unit(own_goal - b) * tn.block_distance
        chase_target = jnp.where((behind | (not tn.circle))[:, None], push,
                                 jnp.where((opp_first & tn.block)[:, None], block, circle))
        chase_target = jnp.where((dist_ball < tn.direct_range)[:, None], ball_at, chase_target)
        ball_move = move_to(P, chase_target)

        # --- keeper: on the line from the goal centre to the ball, or on a shot's path ------
        to_ball = b - own_goal
        depth = jnp.clip(tn.keeper_depth * norm(to_ball), tn.keeper_min_depth,
                         tn.keeper_max_depth * L)
        guard = own_goal + unit(to_ball) * depth  # [2]
        incoming = bv[0] < -2.0
        y_line = b[1] + bv[1] * (-half_l - b[0]) / jnp.where(incoming, bv[0], -1.0)
        on_target = incoming & (jnp.abs(y_line) < cfg.goal_width / 2 + reach)
        # The nearest point of the ball's path to each player (the keeper's interception).
        path_along = jnp.maximum(jnp.sum((P - b) * bv, axis=-1) / (ball_speed ** 2 + 1e-6), 0.0)
        intercept = b + path_along[:, None] * bv  # [T, 2]
        guard = jnp.where(on_target, intercept, guard[None])
        guard = jnp.clip(guard, -bound, bound)
        keeper_move = jnp.where(keeper_out, move_to(P, ball_at), move_to(P, guard, 0.15))

        # --- everyone else: home position shifted with the ball ---------------------------
        shift = jnp.array([tn.shift_x * b[0], tn.shift_y * b[1]])
        ours = jnp.any(state.last_touch[team])  # we touched the ball last: push up
        push_up = jnp.where(ours & forwards, tn.attack_push * L, 0.0)
        slot = home + shift + jnp.stack([push_up, jnp.zeros_like(push_up)], axis=-1)
        # Pull each slot toward the ball's line to our goal centre (shots aim at the centre),
        # at the slot's own depth.
        frac = jnp.clip((slot[:, 0] - own_goal[0]) / jnp.maximum(b[0] - own_goal[0], 1e-3),
                        0.0, 1.0)
        on_line = own_goal + frac[:, None] * (b - own_goal)
        pull = jnp.where(slot[:, 0] < b[0], tn.line_pull, 0.0)[:, None]
        slot = jnp.clip(slot + pull * (on_line - slot), -bound, bound)
        slot_move = move_to(P, slot, 0.3)

        move = jnp.where(on_ball, ball_move, jnp.where(is_keeper, keeper_move, slot_move))
        # Anyone in kick range kicks (the keeper included); the others move.
        actions = jnp.where(in_range, kick, move)
        actions = legalize(jnp.where(A, actions, Action.IDLE), v.mask)

        if swap_prob > 0.0:
            k_swap, k_random = jax.random.split(key)
            swap = jax.random.uniform(k_swap, (T,)) < swap_prob
            actions = jnp.where(swap, random_legal(k_random, v.mask), actions)
        return actions

    return positional_bot
