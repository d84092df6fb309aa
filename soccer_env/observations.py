"""Per-player observations and per-team global states, each in its own team's frame.

The right team's frame is the world rotated by 180 degrees, so both teams always attack +x and
one policy plays either side. Positions are scaled by 2 / field_length (the same scale on both
axes, so distances keep their meaning), velocities by the relevant speed cap.

Observation of player i of team t (T players a side), in order:
    own position (2), own velocity (2),
    ball position relative to the player (2), ball velocity relative to the player (2),
    teammates in index order, the player skipped, as five blocks of T - 1 numbers:
        relative x, relative y, relative vx, relative vy, on the pitch           -> 5 (T - 1)
    opponents in index order, as five blocks of T numbers, the same features     -> 5 T
    own goal relative (2), opponent goal relative (2),
    score difference / 5 clipped to [-1, 1] (1), time left as a fraction (1),
    own index one-hot (T),
    in kick range: self (1), teammates (T - 1), opponents (T),
    possession: +1 own team touched the ball last, -1 the opponents, 0 nobody yet (1),
    self on the pitch (1).
obs_dim = 11 + 13 T.  Players off the pitch (drills) read zeros for everything relative.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from soccer_env.physics import TEAM_SIGN


def obs_dim(team_size: int) -> int:
    return 11 + 13 * team_size


def state_dim(team_size: int) -> int:
    return 10 * team_size + 7


def _common(config, state):
    pos_scale = 2.0 / config.field_length
    sign = TEAM_SIGN[:, None, None]
    score_diff = (state.score - state.score[::-1]).astype(jnp.float32)
    score_feat = jnp.clip(score_diff / 5.0, -1.0, 1.0)  # [2]
    time_left = 1.0 - state.step.astype(jnp.float32) / config.max_steps
    has_ball = jnp.any(state.last_touch, axis=-1)  # [2]
    possession = has_ball.astype(jnp.float32) - has_ball[::-1].astype(jnp.float32)
    return pos_scale, sign, score_feat, time_left, possession


def observe(config, state) -> jnp.ndarray:
    """float32 [2, T, obs_dim(T)] observations of every player in its team's frame.

    Computed with x and y as separate planes and the per-other-player features as contiguous
    blocks: interleaved trailing axes of size 2 or 5 defeat vectorization on CPU.
    """
    T = config.team_size
    pos_scale, sign, score_feat, time_left, possession = _common(config, state)
    sign = sign[..., 0]  # [2, 1]
    ps, vs, bvs = pos_scale, 1.0 / config.player_max_speed, 1.0 / config.ball_max_speed
    px, py = state.player_pos[..., 0], state.player_pos[..., 1]  # [2, T]
    vx, vy = state.player_vel[..., 0], state.player_vel[..., 1]
    act = state.active.astype(jnp.float32)
    bx, by = state.ball_pos[0], state.ball_pos[1]

    dbx, dby = bx - px, by - py
    in_range = act * (dbx * dbx + dby * dby <= config.kick_range ** 2)  # [2, T]

    def rel(other, own, scale):
        """[2, T(i), T(j)] sign * (other_j - own_i) * scale."""
        return sign[..., None] * (other[:, None, :] - own[:, :, None]) * scale

    seen = act[:, :, None]  # the observer is on the pitch
    # Teammate k of player i is player k + (k >= i): two shifted slices and a select, no gather.
    after_self = np.arange(T - 1)[None, :] >= np.arange(T)[:, None]  # [T, T-1]

    def skip_self(x):  # [2, T, T] -> [2, T, T-1]
        return jnp.where(after_self, x[:, :, 1:], x[:, :, :-1])

    def block(x, y, ux, uy, other_act, pick=None):
        feats = [rel(x, px, ps), rel(y, py, ps), rel(ux, vx, vs), rel(uy, vy, vs),
                 jnp.broadcast_to(other_act[:, None, :], (2, T, T))]
        mask = seen * other_act[:, None, :]
        feats = [f * mask for f in feats]
        return [skip_self(f) for f in feats] if pick else feats

    mates = block(px, py, vx, vy, act, pick=True) if T > 1 else []
    opps = block(px[::-1], py[::-1], vx[::-1], vy[::-1], act[::-1])
    half = config.field_length / 2
    own_x, own_y = sign * px, sign * py

    def col(x):  # [2, T] -> [2, T, 1]
        return x[..., None]

    def per_team(x):  # [2] -> [2, T, 1]
        return jnp.broadcast_to(x[:, None, None], (2, T, 1))

    feats = [
        col(own_x * ps), col(own_y * ps), col(sign * vx * vs), col(sign * vy * vs),
        col(sign * dbx * ps * act), col(sign * dby * ps * act),
        col(sign * (state.ball_vel[0] - vx) * bvs * act),
        col(sign * (state.ball_vel[1] - vy) * bvs * act),
        *mates, *opps,
        col((-half - own_x) * ps), col(-own_y * ps), col((half - own_x) * ps), col(-own_y * ps),
        per_team(score_feat), jnp.broadcast_to(time_left, (2, T, 1)),
        jnp.broadcast_to(jnp.eye(T, dtype=jnp.float32), (2, T, T)),
        col(in_range), skip_self(jnp.broadcast_to(in_range[:, None, :], (2, T, T)) * seen),
        jnp.broadcast_to(in_range[::-1][:, None, :], (2, T, T)) * seen,
        per_team(possession), col(act),
    ]
    return jnp.concatenate(feats, axis=-1).astype(jnp.float32)


def global_state(config, state) -> jnp.ndarray:
    """float32 [2, state_dim(T)]: the full state in each team's frame (own team first)."""
    T = config.team_size
    pos_scale, sign, score_feat, time_left, possession = _common(config, state)
    pos = (sign * state.player_pos * pos_scale).reshape(2, 2 * T)
    vel = (sign * state.player_vel / config.player_max_speed).reshape(2, 2 * T)
    act_f = state.active.astype(jnp.float32)
    s = TEAM_SIGN[:, None]
    ball = jnp.concatenate([s * state.ball_pos * pos_scale,
                            s * state.ball_vel / config.ball_max_speed], axis=-1)  # [2, 4]
    return jnp.concatenate([
        pos, vel, act_f, pos[::-1], vel[::-1], act_f[::-1], ball,
        score_feat[:, None], jnp.broadcast_to(time_left, (2, 1)), possession[:, None],
    ], axis=-1).astype(jnp.float32)
