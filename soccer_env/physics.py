"""Branch-free physics of players and ball: movement, collisions, ball control, kicks,
tackles and boundaries.

All functions act on one game (arrays [2, T, ...]); batching is `jax.vmap`'s job. Nothing here
loops over players in Python: pairwise work is broadcast, choices are `argmin`/`jnp.where`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env.actions import Action, move_table, pass_slot
from soccer_env.constants import (
    DRIBBLE_GAP,
    MAX_PASS_LEAD,
    RUNOFF,
    TEAM_SIGN,
    penalty_depth,
    penalty_half_width,
)


# m/s: a ball moving away from a player can be taken only below this relative speed.
AWAY_CONTROL_SPEED = 2.0


def keeper_guard(config, own_goal, ball, fraction=0.3, min_depth=0.6):
    """[..., 2] where a keeper guards its goal: on the line from the goal centre `own_goal`
    [..., 2] to the ball [..., 2], `fraction` of the ball's distance out (at least `min_depth`,
    at most 0.7 of the penalty area's depth). The positional bot's keeper and the keeper's
    reach-the-ball potential (`EnvConfig.ball_reach_weight`) both stand here."""
    to_ball = ball - own_goal
    dist = jnp.sqrt(jnp.sum(to_ball * to_ball, axis=-1, keepdims=True) + 1e-12)
    depth = jnp.clip(fraction * dist, min_depth, 0.7 * penalty_depth(config.field_length))
    return own_goal + to_ball / dist * depth


def move_players(config, pos, vel, actions, active, has_ball):
    """Accelerate every player toward its action's target velocity, then integrate. The player
    with the ball (`has_ball` [2, T] bool) runs at most `dribble_speed`.

    pos, vel: [2, T, 2] world frame; actions: [2, T] int32 (already clipped).
    """
    # A lookup, not a one-hot matmul: the batched [2, T, A] x [A, 2] dot was one of the
    # step's costliest kernels.
    direction = jnp.asarray(move_table(config.team_size))[actions] * TEAM_SIGN[:, None, None]
    top = jnp.where(has_ball, config.dribble_speed, config.player_max_speed)[..., None]
    target = direction * top
    delta = target - vel
    max_dv = config.player_accel * config.dt
    norm = jnp.sqrt(jnp.sum(delta * delta, axis=-1, keepdims=True))
    vel = vel + delta * jnp.minimum(1.0, max_dv / jnp.maximum(norm, 1e-6))
    vel = jnp.where(active[..., None], vel, 0.0)
    return pos + vel * config.dt, vel


def collide_players(config, old_pos, pos, vel, active):
    """Resolve contacts between all pairs of players (one pass, equal masses, inelastic).

    The contact normal is the pair's direction *before* the move (old_pos), and the separation
    is measured along it: two players closing at up to 1 m per step can cross centres within a
    step, and a normal taken after the move would push them through each other. Written with x
    and y as separate [N, N] planes: a trailing axis of size 2 defeats vectorization of the
    pairwise work, which dominates the step at 11v11.
    """
    T = config.team_size
    n = 2 * T
    reach = 2 * config.player_radius
    ox, oy = old_pos[..., 0].reshape(n), old_pos[..., 1].reshape(n)
    px, py = pos[..., 0].reshape(n), pos[..., 1].reshape(n)
    vx, vy = vel[..., 0].reshape(n), vel[..., 1].reshape(n)
    on = active.reshape(n)
    odx = ox[:, None] - ox[None, :]  # [N, N], from j to i, before the move
    ody = oy[:, None] - oy[None, :]
    inv = jax.lax.rsqrt(odx * odx + ody * ody + 1e-12)
    nx, ny = odx * inv, ody * inv
    dx = px[:, None] - px[None, :]
    dy = py[:, None] - py[None, :]
    along = dx * nx + dy * ny  # separation along the old normal (< 0: they crossed)
    dist2 = dx * dx + dy * dy
    # Bodies touch when they overlap now, or crossed (along < 0) within reach sideways; they
    # are pushed apart along the old normal until `along` is back to `reach`.
    crossed = (along < 0) & (dist2 - along * along < reach * reach)
    overlap = reach - along
    touching = (((dist2 < reach * reach) | crossed) & on[:, None] & on[None, :]
                & ~np.eye(n, dtype=bool))
    push = jnp.where(touching, 0.5 * overlap, 0.0)
    closing = (vx[:, None] - vx[None, :]) * nx + (vy[:, None] - vy[None, :]) * ny
    impulse = jnp.where(touching & (closing < 0), 0.5 * closing, 0.0)
    px = px + jnp.sum(push * nx, axis=1)
    py = py + jnp.sum(push * ny, axis=1)
    vx = vx - jnp.sum(impulse * nx, axis=1)
    vy = vy - jnp.sum(impulse * ny, axis=1)
    # Impulses in a pile-up must not lift anyone above the speed cap.
    speed2 = vx * vx + vy * vy
    cap = config.player_max_speed
    scale = jnp.where(speed2 > cap * cap, cap * jax.lax.rsqrt(jnp.maximum(speed2, 1e-12)), 1.0)
    pos = jnp.stack([px, py], axis=-1).reshape(2, T, 2)
    vel = jnp.stack([vx * scale, vy * scale], axis=-1).reshape(2, T, 2)
    return pos, vel


def clamp_players(config, pos, vel):
    """Keep players on the pitch (a small run-off beyond the lines in `rules` mode)."""
    margin = -config.player_radius if config.boundary == "walls" else RUNOFF
    bound = jnp.array([config.field_length / 2 + margin, config.field_width / 2 + margin])
    clamped = jnp.clip(pos, -bound, bound)
    vel = jnp.where(clamped != pos, 0.0, vel)
    return clamped, vel


def ball_distance(pos, ball_pos):
    """[2, T] centre-to-centre distance of each player to the ball."""
    d = ball_pos - pos
    return jnp.sqrt(jnp.sum(d * d, axis=-1))


def pick_nearest(score, eligible, u):
    """[2, T] bool one-hot of the eligible player with the lowest `score` [2, T]; exact ties are
    broken uniformly at random by `u` (a U(0, 1) scalar), never in favour of an index or a team.
    All False when nobody is eligible."""
    flat_score = jnp.where(eligible, score, jnp.inf).reshape(-1)
    flat_ok = eligible.reshape(-1)
    tied = flat_ok & (flat_score == jnp.min(flat_score))
    count = jnp.sum(tied)
    k = jnp.minimum(jnp.floor(u * count).astype(jnp.int32), count - 1)
    chosen = tied & (jnp.cumsum(tied) - 1 == k)
    return chosen.reshape(score.shape)


def in_penalty_area(config, pos):
    """[2, T] bool: whether each player stands in its own team's penalty area."""
    half = config.field_length / 2
    depth = penalty_depth(config.field_length)
    half_w = penalty_half_width(config.field_length, config.goal_width, config.field_width)
    x = pos[..., 0] * TEAM_SIGN[:, None]  # in the team's frame: own goal line at -half
    return (x <= -half + depth) & (jnp.abs(pos[..., 1]) <= half_w)


def keepers(config):
    """[2, T] bool: player 0 of each team keeps goal when team_size >= 2."""
    T = config.team_size
    return jnp.asarray(np.broadcast_to((np.arange(T) == 0) & (T >= 2), (2, T)))


def kick(config, pos, vel, active, actions, kicker, ball_pos, noise):
    """The ball's velocity when `kicker` ([2, T] bool, at most one True) strikes it with its
    action (shoot or pass; callers make sure it is one). `noise` is a standard normal scalar
    scaling the aim error.

    Shots aim `shot_inset` inside the post away from the opponent keeper (at the goal centre
    when there is none), with an aim error growing with the distance to goal and the pressure
    of the nearest opponent field player. Passes are led to where the receiver will be when the ball
    arrives, struck so that friction leaves `pass_arrival_speed` at the receiver.

    Returns (ball_vel [2], is_shot [] bool).
    """
    T = config.team_size
    half = config.field_length / 2
    kicker_f = kicker.astype(jnp.float32)
    action = jnp.sum(jnp.where(kicker, actions, 0))
    team = jnp.argmax(jnp.any(kicker, axis=1))  # the kicker's team (0 when nobody kicks)
    attack = jnp.where(team == 0, 1.0, -1.0)
    is_shot = jnp.any(kicker) & (action == Action.SHOOT)
    kicker_vel = jnp.sum(kicker_f[..., None] * vel, axis=(0, 1))

    # --- shot: a spot inside the post away from the opponent keeper -------------------------
    opp = 1 - team
    keeper_y = pos[opp, 0, 1]
    has_keeper = (T >= 2) & active[opp, 0]
    shot_target = jnp.stack([attack * half,
                             shot_aim_y(config, keeper_y, has_keeper, ball_pos[1])])
    to_goal = jnp.stack([attack * half, 0.0]) - ball_pos
    goal_dist = jnp.sqrt(jnp.sum(to_goal * to_goal))
    # Pressure comes from the opponents' field players; their keeper's part is its reach.
    field = active[opp] & ~keepers(config)[0]
    opp_gap = jnp.where(field, ball_distance(pos[opp], ball_pos), jnp.inf)
    spread_shot = shot_spread(config, goal_dist, jnp.min(opp_gap))

    # --- pass: led to the receiver's position on arrival ------------------------------------
    slot = jnp.asarray(pass_slot(T))
    chosen = (actions[:, :, None] - Action.FIRST_PASS) == slot[None]  # [2, T(i), T(j)]
    chosen = (chosen & (actions[:, :, None] >= Action.FIRST_PASS)).astype(jnp.float32)
    pick = jnp.einsum("ti,tij->tj", kicker_f, chosen)  # [2, T] the receiver
    mate_pos = jnp.sum(pick[..., None] * pos, axis=(0, 1))
    mate_vel = jnp.sum(pick[..., None] * vel, axis=(0, 1))
    pass_target, pass_speed = lead_pass(config, ball_pos, mate_pos, mate_vel)

    target = jnp.where(is_shot, shot_target, pass_target)
    aim = target - ball_pos
    aim = aim * jax.lax.rsqrt(jnp.sum(aim * aim) + 1e-12)
    spread = jnp.where(is_shot, spread_shot, config.pass_noise)
    kicker_speed = jnp.sqrt(jnp.sum(kicker_vel * kicker_vel))
    spread = spread + config.kick_noise_at_speed * kicker_speed / config.player_max_speed
    angle = noise * spread
    c, s = jnp.cos(angle), jnp.sin(angle)
    aim = jnp.stack([c * aim[0] - s * aim[1], s * aim[0] + c * aim[1]])
    speed = jnp.where(is_shot, config.shoot_speed, pass_speed)
    return aim * speed, is_shot


# Fixed-point iterations of a pass's lead (the first one leads by the flight time to where the
# receiver is now, which falls well short of a receiver running across the passer's line).
PASS_LEAD_ITERATIONS = 4


def shot_aim_y(config, keeper_y, has_keeper, ball_y):
    """[...] y of a shot's aim point on the goal line: `shot_inset` inside the post on the side
    away from the keeper (the far side from the ball when the keeper stands dead centre), the
    goal centre without a keeper. The rule is the same in any frame that flips y with x."""
    side = jnp.where(keeper_y > 0, -1.0, jnp.where(keeper_y < 0, 1.0, -jnp.sign(ball_y)))
    return jnp.where(has_keeper, side * (config.goal_width / 2 - config.shot_inset), 0.0)


def shot_spread(config, goal_dist, opponent_gap):
    """[...] standard deviation (radians) of a standing shot's aim error, from the distance to
    the goal centre and the nearest opponent field player's distance (the pressure)."""
    pressure = jnp.maximum(0.0, 1.0 - opponent_gap / config.pressure_radius)
    return (config.shoot_noise + config.shoot_noise_per_m * goal_dist
            + config.shoot_noise_pressure * pressure)


def lead_pass(config, ball_pos, mate_pos, mate_vel):
    """(target [...,2], strike speed [...]) of a pass from `ball_pos` to a receiver at
    `mate_pos` running at `mate_vel`: aimed where the receiver will be when the ball arrives
    (the flight time and the lead solved by fixed-point iteration; at most MAX_PASS_LEAD
    seconds of lead), struck to arrive there at `pass_arrival_speed`."""
    lead = jnp.zeros(mate_pos.shape[:-1])
    for _ in range(PASS_LEAD_ITERATIONS):
        target = mate_pos + mate_vel * lead[..., None]
        dist = jnp.sqrt(jnp.sum((target - ball_pos) ** 2, axis=-1) + 1e-12)
        lead = jnp.minimum(pass_speed_and_time(config, dist)[1], MAX_PASS_LEAD)
    target = mate_pos + mate_vel * lead[..., None]
    dist = jnp.sqrt(jnp.sum((target - ball_pos) ** 2, axis=-1) + 1e-12)
    return target, pass_speed_and_time(config, dist)[0]


def pass_speed_and_time(config, distance):
    """(speed to strike the ball with, seconds until it has rolled `distance` metres) for a
    pass that arrives at `pass_arrival_speed` (the speed is capped at `pass_speed_max`, so a
    very long pass arrives faster). The ball loses `ball_friction` of its speed each step
    before moving, so after n steps it has rolled dt (1 - f) (v0 - v_n) / f."""
    f, dt, arrive = config.ball_friction, config.dt, config.pass_arrival_speed
    if f <= 0.0:
        speed = jnp.full_like(distance, arrive)
        return speed, distance / speed
    speed = jnp.clip(arrive + distance * f / (dt * (1.0 - f)), arrive, config.pass_speed_max)
    left = jnp.maximum(speed - distance * f / (dt * (1.0 - f)), 1e-3)  # speed on arrival
    steps = jnp.log(left / speed) / np.log(1.0 - f)
    return speed, steps * dt


def tackles(config, pos, active, cooldown, has_ball, protected, ball_pos, u_tackle, u_tie):
    """Each opponent of the ball's owner within `tackle_range` of the ball or of the owner
    (and free of cooldown) wins it with chance `tackle_prob` per step; when several try, the
    nearest wins. Nobody tackles a keeper holding the ball in its own penalty area (`protected`).

    Returns [2, T] bool one-hot of the tackler who won the ball (all False: no tackle).
    """
    owning_team = jnp.any(has_ball, axis=1)  # [2]
    can = owning_team[::-1][:, None] & active & (cooldown == 0) & ~jnp.any(has_ball & protected)
    # The ball, or the body of the player shielding it: an owner pushed along by a tackler
    # behind it carries the ball ahead, out of reach of the ball alone.
    owner_pos = jnp.sum(has_ball.astype(jnp.float32)[..., None] * pos, axis=(0, 1))
    dist = jnp.minimum(ball_distance(pos, ball_pos), ball_distance(pos, owner_pos))
    can = can & (dist <= config.tackle_range)
    p_any = 1.0 - (1.0 - config.tackle_prob) ** jnp.sum(can)
    won = u_tackle < p_any
    return pick_nearest(dist, can, u_tie) & won


def dribble(config, pos, vel, has_ball, ball_pos):
    """(ball_pos, ball_vel) of a ball at the feet of its owner (`has_ball` one-hot): just
    ahead of it along its motion, or where it was relative to it when it stands still."""
    f = has_ball.astype(jnp.float32)[..., None]
    p = jnp.sum(f * pos, axis=(0, 1))
    v = jnp.sum(f * vel, axis=(0, 1))
    speed2 = jnp.sum(v * v)
    rel = ball_pos - p
    heading = jnp.where(speed2 > 0.25, v, rel)
    heading = heading * jax.lax.rsqrt(jnp.sum(heading * heading) + 1e-12)
    gap = config.player_radius + config.ball_radius + DRIBBLE_GAP
    return p + heading * gap, v


def move_loose_ball(config, ball_pos, ball_vel, pos, vel, active, can_control, can_catch,
                    ignore, parry):
    """Integrate a loose ball along its path this step (swept, so a fast shot cannot tunnel
    through a body), and find the first player on that path to control it or the first body it
    bounces off.

    A player controls the ball when the path comes within `control_radius` of it and the ball
    is slower than `control_speed` relative to it (`can_control` [2, T]: on the pitch, free of
    cooldown), and the ball comes toward it (or is nearly at rest relative to it); a keeper
    allowed to catch (`can_catch` [2, T]) does so within `catch_radius` up to `catch_speed`.
    A faster ball deflects off the first body it meets; `ignore` [2, T] are bodies the ball
    passes through this step (the kicker, on the step of its kick). A keeper in its penalty area
    (`parry` [2, T]) reaches a ball slower than `catch_speed` within `catch_radius` of it and
    parries what it does not catch; the ball never rebounds off it toward its own goal line
    (its velocity along x is turned upfield).

    Returns (ball_pos, ball_vel, control [2, T] float score (lower = first; inf = cannot),
    bumped [2, T] bool one-hot). The caller picks the controller (ties at random) and places
    the ball at its feet; `ball_pos`/`ball_vel` are those of the bounce or free travel.
    """
    T = config.team_size
    ball_vel = ball_vel * (1.0 - config.ball_friction)
    speed = jnp.sqrt(jnp.sum(ball_vel * ball_vel))
    ball_vel = ball_vel * jnp.minimum(1.0, config.ball_max_speed / jnp.maximum(speed, 1e-6))
    travel = ball_vel * config.dt
    start = ball_pos
    end = ball_pos + travel

    rel = pos - start  # [2, T, 2]
    seg2 = jnp.sum(travel * travel) + 1e-12
    proj = jnp.sum(rel * travel, axis=-1) / seg2  # [2, T], closest approach along the path
    along = jnp.clip(proj, 0.0, 1.0)
    closest = start + along[..., None] * travel
    gap = closest - pos
    gap2 = jnp.sum(gap * gap, axis=-1)
    off_line = start + proj[..., None] * travel - pos
    off2 = jnp.sum(off_line * off_line, axis=-1)

    def entry(radius):
        """[2, T] fraction of the path where it enters `radius` around each body (0: inside
        at the start)."""
        return jnp.clip(proj - jnp.sqrt(jnp.maximum(radius * radius - off2, 0.0) / seg2),
                        0.0, 1.0)

    # --- control ---------------------------------------------------------------------------
    radius = jnp.where(can_catch, max(config.catch_radius, config.control_radius),
                       config.control_radius)
    limit = jnp.where(can_catch, max(config.catch_speed, config.control_speed),
                      config.control_speed)
    rel_vel = ball_vel - vel
    rel_speed2 = jnp.sum(rel_vel * rel_vel, axis=-1)
    # A ball moving away from a player (the player is behind the path's start) is taken only
    # when it is nearly at rest relative to the player: nobody traps a pass struck past them.
    toward = (proj > 0.0) | (rel_speed2 <= AWAY_CONTROL_SPEED ** 2)
    ctrl = can_control & (gap2 <= radius * radius) & (rel_speed2 <= limit * limit) & toward
    ctrl_enter = entry(radius)
    start2 = jnp.sum(rel * rel, axis=-1)
    # Players the ball starts within reach of rank first, nearest first; then by entry.
    ctrl_score = jnp.where(start2 <= radius * radius, jnp.sqrt(start2) - 1e3, ctrl_enter)
    ctrl_score = jnp.where(ctrl, ctrl_score, jnp.inf)

    # --- bounces ---------------------------------------------------------------------------
    # A keeper in its area gets a hand to a catchable ball within catch_radius: what it does
    # not hold it parries. A faster ball, and everyone else, deflect off the body.
    hands = parry & (rel_speed2 <= config.catch_speed ** 2)
    reach = jnp.where(hands, config.catch_radius, config.player_radius + config.ball_radius)
    hit = active & (gap2 < reach * reach) & ~ignore
    enter = entry(reach)
    # Only a ball closing on the body bounces: one already inside the reach and moving away
    # (say, just kicked ahead of a running player) completes its travel.
    to_ball = start + enter[..., None] * travel - pos  # [2, T, 2], body centre -> contact
    closing_each = jnp.sum((ball_vel - vel) * to_ball, axis=-1)
    hit = hit & (closing_each < 0)
    bounce_enter = jnp.where(hit, enter, jnp.inf)
    # A controller that meets the ball first (or at the same point) takes it: no bounce.
    first_ctrl = jnp.min(jnp.where(ctrl, ctrl_enter, jnp.inf))
    hit = hit & (bounce_enter < first_ctrl)
    first = jnp.argmin(jnp.where(hit, enter, jnp.inf).reshape(2 * T))
    touched = (jnp.arange(2 * T) == first).reshape(2, T) & hit
    any_hit = jnp.any(hit)

    touched_f = touched.astype(jnp.float32)[..., None]
    body_pos = jnp.sum(touched_f * pos, axis=(0, 1))
    body_vel = jnp.sum(touched_f * vel, axis=(0, 1))
    contact = start + jnp.sum(touched_f[..., 0] * enter) * travel
    normal = contact - body_pos
    normal = normal * jax.lax.rsqrt(jnp.sum(normal * normal) + 1e-12)
    bounced_pos = body_pos + normal * (jnp.sum(touched_f[..., 0] * reach) + 1e-3)
    closing = jnp.sum((ball_vel - body_vel) * normal)
    bounced_vel = ball_vel - (1.0 + config.ball_restitution) * jnp.minimum(closing, 0.0) * normal
    # A parry: the keeper pushes the ball away from its goal, never back toward it.
    upfield = jnp.sum(touched_f[..., 0] * TEAM_SIGN[:, None])  # the toucher's attack sign
    parried = jnp.any(touched & parry)
    bounced_vel = bounced_vel.at[0].set(
        jnp.where(parried, upfield * jnp.abs(bounced_vel[0]), bounced_vel[0]))
    ball_pos = jnp.where(any_hit, bounced_pos, end)
    ball_vel = jnp.where(any_hit, bounced_vel, ball_vel)
    ctrl_score = jnp.where(any_hit, jnp.inf, ctrl_score)
    return ball_pos, ball_vel, ctrl_score, touched


def keep_owned_ball_in(config, ball_pos):
    """`walls` mode: a dribbled ball stays on the pitch (except through a goal mouth)."""
    hx = config.field_length / 2 - config.ball_radius
    hy = config.field_width / 2 - config.ball_radius
    y = jnp.clip(ball_pos[1], -hy, hy)
    in_mouth = jnp.abs(y) < config.goal_width / 2
    x = jnp.where(in_mouth, ball_pos[0], jnp.clip(ball_pos[0], -hx, hx))
    return jnp.stack([x, y])


def bounce_ball_off_walls(config, ball_pos, ball_vel):
    """`walls` mode: the lines are walls, except the goal mouths. Callers leave a scored ball
    alone, so a ball past a goal line here crossed it outside the posts: it bounces back, even
    if it ended level with the mouth."""
    hx = config.field_length / 2 - config.ball_radius
    hy = config.field_width / 2 - config.ball_radius
    x, y = ball_pos[0], ball_pos[1]
    vx, vy = ball_vel[0], ball_vel[1]
    out_y = jnp.abs(y) > hy
    y = jnp.where(out_y, jnp.sign(y) * (2 * hy) - y, y)
    vy = jnp.where(out_y, -vy * config.ball_restitution, vy)
    in_mouth = jnp.abs(y) < config.goal_width / 2
    out_x = (jnp.abs(x) > hx) & (~in_mouth | (jnp.abs(x) > config.field_length / 2))
    x = jnp.where(out_x, jnp.sign(x) * (2 * hx) - x, x)
    vx = jnp.where(out_x, -vx * config.ball_restitution, vx)
    return jnp.stack([x, y]), jnp.stack([vx, vy])
