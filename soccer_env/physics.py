"""Branch-free physics of players and ball: movement, collisions, kicks and boundaries.

All functions act on one game (arrays [2, T, ...]); batching is `jax.vmap`'s job. Nothing here
loops over players in Python: pairwise work is broadcast, choices are `argmin`/`jnp.where`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env.actions import Action, move_table, num_actions, pass_slot
from soccer_env.constants import PASS_LEAD, RUNOFF, TEAM_SIGN


def move_players(config, pos, vel, actions, active):
    """Accelerate every player toward its action's target velocity, then integrate.

    pos, vel: [2, T, 2] world frame; actions: [2, T] int32 (already clipped).
    """
    T = config.team_size
    onehot = (actions[..., None] == jnp.arange(num_actions(T))).astype(jnp.float32)
    direction = (onehot @ jnp.asarray(move_table(T))) * TEAM_SIGN[:, None, None]
    target = direction * config.player_max_speed
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


def in_kick_range(config, pos, ball_pos, active):
    return active & (ball_distance(pos, ball_pos) <= config.kick_range)


def resolve_kick(config, pos, vel, actions, active, ball_pos, noise):
    """Who kicks, and the ball's new velocity.

    A kick action (shoot or pass) acts only within kick range; among several kickers the one
    closest to the ball wins (ties: the lower flat index, left team first). `noise` is a standard
    normal scalar scaling the aim error.

    Returns (kicked [] bool, kicker [2, T] bool one-hot, ball_vel [2], is_shot [] bool).
    """
    T = config.team_size
    half = config.field_length / 2
    dist = ball_distance(pos, ball_pos)
    wants = (actions >= Action.SHOOT) & active & (dist <= config.kick_range)
    flat = jnp.where(wants, dist, jnp.inf).reshape(2 * T)
    kicker = (jnp.arange(2 * T) == jnp.argmin(flat)).reshape(2, T) & wants
    kicked = jnp.any(wants)

    kicker_f = kicker.astype(jnp.float32)
    action = jnp.sum(jnp.where(kicker, actions, 0))
    team_sign = jnp.sum(kicker_f * TEAM_SIGN[:, None])  # +1 left kicker, -1 right kicker
    is_shot = kicked & (action == Action.SHOOT)

    # Pass target: the chosen teammate, led by PASS_LEAD seconds of its motion.
    slot = jnp.asarray(pass_slot(T))
    chosen = (actions[:, :, None] - Action.FIRST_PASS) == slot[None]  # [2, T(i), T(j)]
    chosen = chosen & (actions[:, :, None] >= Action.FIRST_PASS)
    mate = jnp.einsum("tij,tjd->tid", chosen.astype(jnp.float32), pos + PASS_LEAD * vel)
    pass_target = jnp.sum(kicker_f[..., None] * mate, axis=(0, 1))
    goal = jnp.array([team_sign * half, 0.0])
    target = jnp.where(is_shot, goal, pass_target)

    aim = target - ball_pos
    dist_target = jnp.sqrt(jnp.sum(aim * aim) + 1e-12)
    aim = aim / dist_target
    kicker_speed = jnp.sqrt(jnp.sum(jnp.sum(kicker_f[..., None] * vel, axis=(0, 1)) ** 2))
    spread = jnp.where(is_shot, config.shoot_noise, config.pass_noise)
    spread = spread + config.kick_noise_at_speed * kicker_speed / config.player_max_speed
    angle = noise * spread
    c, s = jnp.cos(angle), jnp.sin(angle)
    aim = jnp.array([c * aim[0] - s * aim[1], s * aim[0] + c * aim[1]])
    # A pass is struck so that friction leaves it some pace at the receiver.
    f = config.ball_friction
    pass_speed = dist_target * max(f, 1e-3) / (config.dt * (1 - f)) + 3.0
    speed = jnp.where(is_shot, config.shoot_speed,
                      jnp.clip(pass_speed, 4.0, config.pass_speed_max))
    return kicked, kicker, aim * speed, is_shot


def move_ball(config, ball_pos, ball_vel, pos, vel, active, kicked):
    """Integrate the ball and bounce it off the first body on its path (swept, so a fast shot
    cannot tunnel through a keeper). No bounce on the step of a kick: the kicker is behind it.

    Returns (ball_pos, ball_vel, touched [2, T] bool one-hot).
    """
    T = config.team_size
    ball_vel = ball_vel * (1.0 - config.ball_friction)
    speed = jnp.sqrt(jnp.sum(ball_vel * ball_vel))
    ball_vel = ball_vel * jnp.minimum(1.0, config.ball_max_speed / jnp.maximum(speed, 1e-6))
    travel = ball_vel * config.dt
    start = ball_pos
    end = ball_pos + travel

    reach = config.player_radius + config.ball_radius
    rel = pos - start  # [2, T, 2]
    seg2 = jnp.sum(travel * travel) + 1e-12
    proj = jnp.sum(rel * travel, axis=-1) / seg2  # [2, T], closest approach along the path
    along = jnp.clip(proj, 0.0, 1.0)
    closest = start + along[..., None] * travel
    gap = closest - pos
    hit = active & (jnp.sum(gap * gap, axis=-1) < reach * reach) & ~kicked
    # The contact is where the path enters the body's reach (the start if it is already in).
    off_line = start + proj[..., None] * travel - pos
    half_chord = jnp.sqrt(jnp.maximum(reach * reach - jnp.sum(off_line * off_line, axis=-1), 0.0)
                          / seg2)
    enter = jnp.clip(proj - half_chord, 0.0, 1.0)
    # Only a ball closing on the body bounces: one already inside the reach and moving away
    # (say, just kicked ahead of a running player) completes its travel.
    to_ball = start + enter[..., None] * travel - pos  # [2, T, 2], body centre -> contact
    closing_each = jnp.sum((ball_vel - vel) * to_ball, axis=-1)
    hit = hit & (closing_each < 0)
    first = jnp.argmin(jnp.where(hit, enter, jnp.inf).reshape(2 * T))
    touched = (jnp.arange(2 * T) == first).reshape(2, T) & hit
    any_hit = jnp.any(hit)

    touched_f = touched.astype(jnp.float32)[..., None]
    body_pos = jnp.sum(touched_f * pos, axis=(0, 1))
    body_vel = jnp.sum(touched_f * vel, axis=(0, 1))
    contact = start + jnp.sum(touched_f[..., 0] * enter) * travel
    normal = contact - body_pos
    normal = normal * jax.lax.rsqrt(jnp.sum(normal * normal) + 1e-12)
    bounced_pos = body_pos + normal * (reach + 1e-3)
    rel_vel = ball_vel - body_vel
    closing = jnp.sum(rel_vel * normal)
    bounced_vel = ball_vel - (1.0 + config.ball_restitution) * jnp.minimum(closing, 0.0) * normal
    ball_pos = jnp.where(any_hit, bounced_pos, end)
    ball_vel = jnp.where(any_hit, bounced_vel, ball_vel)
    return ball_pos, ball_vel, touched


def bounce_ball_off_walls(config, ball_pos, ball_vel):
    """`walls` mode: the lines are walls, except the goal mouths."""
    hx = config.field_length / 2 - config.ball_radius
    hy = config.field_width / 2 - config.ball_radius
    x, y = ball_pos[0], ball_pos[1]
    vx, vy = ball_vel[0], ball_vel[1]
    out_y = jnp.abs(y) > hy
    y = jnp.where(out_y, jnp.sign(y) * (2 * hy) - y, y)
    vy = jnp.where(out_y, -vy * config.ball_restitution, vy)
    in_mouth = jnp.abs(y) < config.goal_width / 2
    out_x = (jnp.abs(x) > hx) & ~in_mouth
    x = jnp.where(out_x, jnp.sign(x) * (2 * hx) - x, x)
    vx = jnp.where(out_x, -vx * config.ball_restitution, vx)
    return jnp.stack([x, y]), jnp.stack([vx, vy])
