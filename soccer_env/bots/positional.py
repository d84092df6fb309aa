"""The positional bot: the strongest scripted yardstick (see `soccer_env.bots`).

Roles are recomputed every step from the state, in the team's frame (attacking +x):

- **Keeper** (player 0 when T >= 2): on the line from its goal centre to the ball, on a shot's
  path when one comes, out for a loose ball that it reaches first, at the feet of a carrier
  in or near its area (closing it down to tackle); inside its penalty area (where it
  catches), give or take its stopping distance. With the ball it waits for an open teammate,
  then passes; it clears (shoots) when nobody gets free in time.
- **Off the ball**, when the opponents have it: the outfield player nearest the carrier presses
  it (goal-side, within tackle range); the others mark the most dangerous opponents goal-side,
  deepest defender on the most advanced attacker. A loose ball is chased by the player who
  reaches it first; the others take up their defensive spots.
- **In possession**: the carrier chooses by expected value among shooting (an expected-goals
  model of the shot mechanics: aim error from distance and pressure, the keeper's reach, blocks),
  passing (the completion chance of a pass led to the receiver, times the value of the
  receiver's spot) and dribbling (the value of the spot ahead in the best of 8 directions,
  discounted by the tackle risk). The others move into open spots: upfield, away from
  defenders, with a clear lane from the ball.

`difficulty` in [0, 1] swaps each player's action, each step, with probability 1 - difficulty
for a uniformly random legal action. `PositionalTuning(passing=False)` is the pass ablation of
docs/game.md: the carrier never passes (where it would, it dribbles forward).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import jax.scipy.stats
import numpy as np

from soccer_env.actions import Action, move_table
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
from soccer_env.constants import penalty_depth, penalty_half_width
from soccer_env.layouts import formation
from soccer_env.physics import (
    keeper_guard,
    lead_pass,
    pass_speed_and_time,
    shot_aim_y,
    shot_spread,
)


# Seconds ahead at which a chaser may meet a rolling ball.
CHASE_TIMES = np.arange(1, 21, dtype=np.float32) * 0.1


@dataclasses.dataclass(frozen=True)
class PositionalTuning:
    """Knobs of the positional bot (lengths in metres, times in seconds unless noted)."""

    passing: bool = True  # False: the pass ablation (dribble forward instead of passing)
    progress_value: float = 0.05  # value of a spot: xG + this x its progress toward goal (0..1)
    pass_discount: float = 0.9  # a pass's value is discounted by this (time, the receiver's touch)
    turnover_cost: float = 0.1  # the cost of losing the ball (a tackle, an interception)
    pass_margin: float = 0.0  # pass only when it beats the best other option by this much
    min_pass_chance: float = 0.5  # never pass below this estimated completion chance
    shot_margin: float = 0.25  # shoot when xG beats the other options by this much
    min_shot_xg: float = 0.03  # never shoot below this expected-goals value (keeper: clear)
    dribble_step: float = 2.0  # the dribble's look-ahead (m)
    dribble_risk_radius: float = 1.6  # an opponent this close to the dribble spot threatens it
    react: float = 1.0  # opponents reach a lane at this fraction of their top speed
    lane_softness: float = 0.25  # m: softness of the interception and block estimates
    keeper_wait: int = 12  # steps the keeper waits for an open teammate before clearing
    keeper_pass_chance: float = 0.7  # the keeper passes once a pass completes this likely
    keeper_depth: float = 0.3  # the keeper stands this fraction of the ball's distance off goal
    keeper_min_depth: float = 0.6  # at least this far
    keeper_rush_margin: float = 0.3  # the keeper comes out when it reaches the ball this first
    keeper_box_margin: float = 0.5  # it aims to stay this far inside its area
    keeper_close_margin: float = 1.0  # it closes down a carrier this far outside its area or in it
    press_gap: float = 0.6  # the presser stands this far goal-side of the carrier
    mark_gap: float = 0.6  # markers stand this far goal-side of their man (leaning on it)
    support_radius: float = 3.0  # supporters look for open spots this far around their slot
    support_min_dist: float = 3.0  # ... at least this far from the ball
    shift_x: float = 0.5  # the formation follows the ball: x shift per metre of ball x
    shift_y: float = 0.3  # y shift per metre of ball y
    attack_push: float = 0.3  # fraction of L: slots move up this far in possession


def make_positional(config: EnvConfig, difficulty: float = 1.0,
                    tuning: PositionalTuning = PositionalTuning()) -> Bot:
    """The positional bot (see the module docstring) for games of `config`.

    Stateless and branch-free. `tuning` holds the knobs (docs/game.md); only `difficulty` is a
    registered parameter.
    """
    full = _full_strength(config, tuning)
    if difficulty >= 1.0:
        return full

    def positional_bot(key, state, team):
        return _weaken(config, full, 1.0 - difficulty, key, state, team)

    return positional_bot


def positional_act(config: EnvConfig, tuning: PositionalTuning = PositionalTuning()):
    """The positional bot with its difficulty as data: `act(params, key, state, team)`, where
    `params = {"difficulty": float32 []}` may be traced (a schedule, one value per vmapped game).
    It plays exactly as `make_positional(config, d)` for `params["difficulty"] == d` (the same
    random draws)."""
    full = _full_strength(config, tuning)

    def act(params, key, state, team):
        return _weaken(config, full, 1.0 - params["difficulty"], key, state, team)

    return act


def _weaken(config: EnvConfig, full: Bot, swap_prob, key, state, team):
    """The full bot's actions, each swapped with probability `swap_prob` for a uniformly random
    legal action."""
    actions = full(key, state, team)
    mask = team_view(config, state, team).mask
    k_swap, k_random = jax.random.split(key)
    swap = jax.random.uniform(k_swap, actions.shape) < swap_prob
    return jnp.where(swap, random_legal(k_random, mask), actions)


def _full_strength(config: EnvConfig, tuning: PositionalTuning) -> Bot:
    """The positional bot at difficulty 1 (deterministic)."""
    cfg, tn = config, tuning
    T = cfg.team_size
    L, W = cfg.field_length, cfg.field_width
    half_l, half_w = L / 2, W / 2
    has_keeper = T >= 2
    is_keeper = jnp.asarray((np.arange(T) == 0) & has_keeper)
    home = jnp.asarray(formation(cfg))  # [T, 2] team frame
    own_goal = jnp.array([-half_l, 0.0])
    opp_goal = jnp.array([half_l, 0.0])
    bound = jnp.array([half_l - cfg.player_radius, half_w - cfg.player_radius])
    box_x = -half_l + penalty_depth(L)
    box_y = penalty_half_width(L, cfg.goal_width, W)
    decay = 1.0 - cfg.ball_friction
    vmax = cfg.player_max_speed
    soft = tn.lane_softness
    # Unit directions of the 8 moves, in the team frame: [8, 2].
    move_dirs = jnp.asarray(move_table(T)[Action.FORWARD:Action.FORWARD + 8])
    # Depth order of the outfield players (deepest first), for marking assignments.
    home_x = formation(cfg)[:, 0]
    depth_rank = jnp.asarray(np.argsort(np.argsort(np.where(np.arange(T) == 0, -np.inf, home_x)
                                                   if has_keeper else home_x)))
    # Forwards: outfield players whose formation spot is at least as far up as the average.
    outfield_x = home_x[1:] if has_keeper else home_x
    forwards = jnp.asarray((home_x >= outfield_x.mean() - 1e-6) & ~np.asarray(is_keeper))

    def predict_ball(ball_pos, ball_vel, seconds):
        """Where the rolling ball will be after `seconds` [...] (friction, no bounces)."""
        n = seconds / cfg.dt
        travel = cfg.dt * decay * (1.0 - decay ** n) / max(cfg.ball_friction, 1e-6)
        return jnp.clip(ball_pos + ball_vel * travel[..., None], -bound, bound)

    def reach_chance(start, end, speed, Q, QA):
        """[...] chance that no opponent reaches the ball's path start -> end [..., 2] (at
        `speed` m/s on average) in time to control or block it."""
        dist, along = segment_distance(start, end, Q)  # [..., N]
        t = along * norm(end - start)[..., None] / speed
        cover = cfg.control_radius + tn.react * vmax * t
        stop = jax.nn.sigmoid((cover - dist) / soft) * (along > 0.02)
        return jnp.prod(jnp.where(QA, 1.0 - stop, 1.0), axis=-1)

    def xg(points, Q, QA, keeper_pos, keeper_on, field_qa):
        """[...] expected goals of a shot from `points` [..., 2]: on target (the aim error of
        the mechanics), past the keeper (its reach by the time the ball passes it) and past
        the field players (a block)."""
        gap = jnp.min(jnp.where(field_qa, norm(points[..., None, :] - Q), jnp.inf), axis=-1)
        sigma = shot_spread(cfg, norm(opp_goal - points), gap)
        # The mechanics' aim point (physics.shot_aim_y), except that a keeper dead centre is
        # taken to leave the +y side open (the mechanics aim at the far side from the ball,
        # or the centre): the tables of docs/game.md were measured with this bot.
        side = jnp.where(keeper_pos[1] > 0, -1.0, 1.0)
        aim_y = jnp.broadcast_to(shot_aim_y(cfg, -side, keeper_on, 0.0), points[..., 0].shape)
        target = jnp.stack([jnp.full_like(points[..., 0], half_l), aim_y], axis=-1)
        path = target - points
        length = norm(path)
        cos = jnp.abs(path[..., 0]) / length
        spread = jnp.maximum(length * sigma, 1e-3)
        upper = (cfg.goal_width / 2 - aim_y) * cos / spread
        lower = (-cfg.goal_width / 2 - aim_y) * cos / spread
        on_target = jax.scipy.stats.norm.cdf(upper) - jax.scipy.stats.norm.cdf(lower)
        # The keeper: how far off the path it stands, and how far it can get by then.
        dist_k, along_k = segment_distance(points, target, keeper_pos[None])
        dist_k, along_k = dist_k[..., 0], along_k[..., 0]
        t_k = along_k * length / cfg.shoot_speed
        speed_there = cfg.shoot_speed * decay ** (t_k / cfg.dt)
        grab = jnp.where(speed_there < cfg.catch_speed, cfg.catch_radius,
                         cfg.player_radius + cfg.ball_radius)
        keeper_stop = jax.nn.sigmoid((grab + tn.react * vmax * t_k - dist_k) / soft)
        keeper_stop = jnp.where(keeper_on, keeper_stop, 0.0)
        past_field = reach_chance(points, target, cfg.shoot_speed, Q, field_qa)
        return on_target * (1.0 - keeper_stop) * past_field

    def value(points, Q, QA, keeper_pos, keeper_on, field_qa):
        """[...] worth of having the ball at `points`: xG plus a little progress."""
        progress = (points[..., 0] + half_l) / L
        return (xg(points, Q, QA, keeper_pos, keeper_on, field_qa)
                + tn.progress_value * progress)

    def positional_bot(key, state, team):
        check_state(cfg, state)
        v = team_view(cfg, state, team)
        P, V, A, Q, QA, b, bv = (v.own_pos, v.own_vel, v.own_active, v.opp_pos,
                                 v.opp_active, v.ball_pos, v.ball_vel)
        we_have = jnp.any(v.own_has_ball)
        they_have = jnp.any(v.opp_has_ball)
        carrier_q = jnp.sum(jnp.where(v.opp_has_ball[:, None], Q, 0.0), axis=0)  # [2]
        opp_keeper_on = has_keeper & QA[0]
        opp_keeper = Q[0]
        # Field players of the opponents (their keeper excluded): blocks and interceptions.
        field_qa = QA & ~is_keeper
        outfield = A & ~is_keeper

        def val(points):
            return value(points, Q, QA, opp_keeper, opp_keeper_on, field_qa)

        # --- on the ball: shoot, pass or dribble by expected value ------------------------
        shot_xg = xg(b, Q, QA, opp_keeper, opp_keeper_on, field_qa)
        # Dribble: the spot dribble_step ahead in each of the 8 directions, in bounds.
        spots = jnp.clip(b + tn.dribble_step * move_dirs, -bound, bound)  # [8, 2]
        spot_gap = jnp.min(jnp.where(QA, norm(spots[:, None] - Q[None]), jnp.inf), axis=-1)
        risk = jax.nn.sigmoid((tn.dribble_risk_radius - spot_gap) / soft)
        my_gap = jnp.min(jnp.where(QA, norm(Q - b), jnp.inf))
        now_risk = jax.nn.sigmoid((cfg.tackle_range + 0.3 - my_gap) / soft)
        keep = 1.0 - 0.5 * (risk + now_risk)
        dribble_value = val(spots) * keep - (1.0 - keep) * tn.turnover_cost  # [8]
        best_dir = jnp.argmax(dribble_value)
        dribble_best = dribble_value[best_dir]
        dribble_move = Action.FORWARD + best_dir.astype(jnp.int32)

        pass_best = jnp.asarray(-jnp.inf)
        pass_action = jnp.asarray(int(Action.IDLE), jnp.int32)
        pass_chance = jnp.asarray(0.0)
        if T >= 2:
            # Each teammate as a receiver, led as the mechanics lead the pass.
            target = jnp.clip(lead_pass(cfg, b, P, V)[0], -bound, bound)  # [T, 2]
            p_dist = norm(target - b)
            p_time = pass_speed_and_time(cfg, p_dist)[1]
            chance = reach_chance(jnp.broadcast_to(b, target.shape), target,
                                  p_dist / jnp.maximum(p_time, 1e-3), Q, QA)  # [T]
            ok = (A & ~v.own_has_ball & (p_dist > 2.0) & ~is_keeper
                  & (chance >= tn.min_pass_chance))
            pass_value = jnp.where(
                ok, tn.pass_discount * chance * val(target) - (1.0 - chance) * tn.turnover_cost,
                -jnp.inf)
            receiver = jnp.argmax(pass_value)
            pass_best = pass_value[receiver]
            pass_chance = chance[receiver]
            # The carrier's pass slot for that receiver (teammates in index order, self skipped).
            me = jnp.argmax(v.own_has_ball)
            slot = jnp.where(receiver > me, receiver - 1, receiver)
            pass_action = (Action.FIRST_PASS + slot).astype(jnp.int32)
            if not tn.passing:
                pass_best = jnp.asarray(-jnp.inf)

        shoot_ok = (shot_xg >= tn.min_shot_xg) & (shot_xg + tn.shot_margin
                                                  >= jnp.maximum(pass_best, dribble_best))
        pass_ok = pass_best > jnp.maximum(dribble_best, shot_xg) + tn.pass_margin
        field_choice = jnp.where(shoot_ok, Action.SHOOT,
                                 jnp.where(pass_ok, pass_action, dribble_move))
        # The keeper with the ball: pass once someone is open, clear when time runs out.
        keeper_pass = (pass_chance >= tn.keeper_pass_chance) & jnp.isfinite(pass_best)
        keeper_choice = jnp.where(keeper_pass, pass_action,
                                  jnp.where(v.hold >= tn.keeper_wait,
                                            jnp.where(jnp.isfinite(pass_best), pass_action,
                                                      Action.SHOOT),
                                            Action.IDLE))
        carrier_choice = jnp.where(is_keeper, keeper_choice, field_choice)  # [T]

        # --- the formation slots, shifted with the ball ----------------------------------
        shift = jnp.array([tn.shift_x * b[0], tn.shift_y * b[1]])
        push_up = jnp.where(we_have & forwards, tn.attack_push * L, 0.0)
        slot = home + shift + jnp.stack([push_up, jnp.zeros_like(push_up)], axis=-1)
        slot = jnp.clip(slot, -bound, bound)

        # --- supporters: the best open spot near the slot --------------------------------
        offsets = jnp.concatenate([jnp.zeros((1, 2)), tn.support_radius * move_dirs])  # [9, 2]
        cand = jnp.clip(slot[:, None] + offsets[None], -bound, bound)  # [T, 9, 2]
        cand_gap = jnp.min(jnp.where(QA, norm(cand[:, :, None] - Q[None, None]), jnp.inf),
                           axis=-1)
        lane = reach_chance(jnp.broadcast_to(b, cand.shape), cand, 8.0, Q, QA)  # [T, 9]
        from_ball = norm(cand - b)
        cand_value = (val(cand) + 0.05 * jnp.minimum(cand_gap, 4.0) + 0.3 * lane
                      - 0.1 * (from_ball < tn.support_min_dist)
                      - 0.1 * (from_ball > 0.6 * L))
        best_cand = jnp.argmax(cand_value, axis=-1)
        support_spot = jnp.take_along_axis(cand, best_cand[:, None, None], axis=1)[:, 0]

        # --- defending: press the carrier, mark goal-side --------------------------------
        to_carrier = norm(P - carrier_q)
        press_rank = jnp.argsort(jnp.argsort(jnp.where(outfield, to_carrier, jnp.inf)))
        presser = outfield & (press_rank == 0)
        press_spot = carrier_q + unit(own_goal - carrier_q) * tn.press_gap
        # Threats: opponent field players but the carrier, nearest our goal first.
        threat = QA & ~v.opp_has_ball & ~is_keeper
        threat_rank = jnp.argsort(jnp.argsort(jnp.where(threat, norm(Q - own_goal), jnp.inf)))
        # Our markers, deepest first: the r-th marks the r-th threat.
        markers = outfield & ~presser
        marker_rank = jnp.argsort(jnp.argsort(jnp.where(markers, depth_rank, 10 ** 6)))
        man = (marker_rank[:, None] == threat_rank[None, :]) & threat[None, :]  # [T, T]
        has_man = jnp.any(man, axis=-1) & markers
        man_pos = jnp.sum(jnp.where(man[..., None], Q[None], 0.0), axis=1)  # [T, 2]
        mark_spot = man_pos + unit(own_goal - man_pos) * tn.mark_gap
        defend_spot = jnp.where(has_man[:, None], mark_spot, slot)
        defend_spot = jnp.where(presser[:, None], press_spot, defend_spot)

        # --- a loose ball: the player who gets there first chases it ---------------------
        # The earliest time on a grid at which each player can be at the rolling ball.
        times = jnp.asarray(CHASE_TIMES)  # [K]
        path = predict_ball(b, bv, times)  # [K, 2]

        def first_meet(pos, able):
            gap = norm(pos[:, None] - path[None]) - cfg.control_radius  # [N, K]
            can = (gap <= vmax * times[None]) & able[:, None]
            k = jnp.argmax(can, axis=-1)
            t = jnp.where(jnp.any(can, axis=-1), times[k], times[-1] + norm(pos - path[-1]) / vmax)
            return t, jnp.where(jnp.any(can, axis=-1)[:, None], path[k], path[-1])

        meet_t, meet = first_meet(P, A & (v.own_cooldown == 0))
        opp_meet_t, _ = first_meet(Q, QA)
        opp_t = jnp.min(jnp.where(QA, opp_meet_t, jnp.inf))
        keeper_in_box = (meet[:, 0] < box_x) & (jnp.abs(meet[:, 1]) < box_y)
        keeper_ok = ~is_keeper | (keeper_in_box & (meet_t < opp_t - tn.keeper_rush_margin / vmax))
        chase_ok = A & (v.own_cooldown == 0) & keeper_ok
        chase_rank = jnp.argsort(jnp.argsort(jnp.where(chase_ok, meet_t, jnp.inf)))
        chaser = chase_ok & (chase_rank == 0) & ~we_have & ~they_have

        # --- the keeper: on the ball's line to the goal centre, or on a shot's path ------
        guard = keeper_guard(cfg, own_goal, b, tn.keeper_depth, tn.keeper_min_depth)  # [2]
        incoming = (bv[0] < -2.0) & ~we_have & ~they_have
        y_line = b[1] + bv[1] * (-half_l - b[0]) / jnp.where(incoming, bv[0], -1.0)
        on_target = incoming & (jnp.abs(y_line) < cfg.goal_width / 2 + 1.0)
        path_along = jnp.maximum(jnp.sum((P[0] - b) * bv) / (jnp.sum(bv * bv) + 1e-6), 0.0)
        # ... but inside its penalty area, where it may catch: not before the path enters it.
        enter_box = (b[0] - (box_x - tn.keeper_box_margin)) / jnp.maximum(-bv[0], 1e-3)
        intercept = b + jnp.maximum(path_along, enter_box) * bv
        guard = jnp.where(on_target, intercept, guard)
        # A carrier near goal: the keeper closes it down where a presser would stand
        # (goal-side, within tackle range), not past the edge of its area.
        near_goal = ((carrier_q[0] < box_x + tn.keeper_close_margin)
                     & (jnp.abs(carrier_q[1]) < box_y + tn.keeper_close_margin))
        close_spot = jnp.clip(press_spot, jnp.array([-half_l, -box_y]), jnp.array([box_x, box_y]))
        guard = jnp.where(they_have & near_goal, close_spot, guard)
        guard = jnp.clip(guard, -bound, bound)
        keeper_move = move_to(P, guard, 0.1)

        spot = jnp.where(we_have, support_spot, defend_spot)
        # A keeper chasing the ball stays in its area (where it may catch).
        keeper_meet = (meet.at[0, 0].min(box_x - tn.keeper_box_margin) if has_keeper
                       else meet)
        spot = jnp.where(chaser[:, None], keeper_meet, spot)
        move = jnp.where(is_keeper & ~chaser, keeper_move, move_to(P, spot, 0.3))
        actions = jnp.where(v.own_has_ball, carrier_choice, move)
        return legalize(jnp.where(A, actions, Action.IDLE), v.mask)

    return positional_bot
