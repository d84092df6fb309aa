"""Per-player observations and per-team global states, each in its own team's frame.

The right team's frame is the world rotated by 180 degrees, so both teams always attack +x and
one policy plays either side. Positions are scaled by 2 / field_length (the same scale on both
axes, so distances keep their meaning), velocities by the relevant speed cap.

Observation of player i of team t (T players a side), in order:
    own position (2), own velocity (2),
    ball position relative to the player (2), ball velocity relative to the player (2),
    each teammate in index order, the player skipped: relative position (2), relative
        velocity (2), on the pitch (1)                                          -> 5 (T - 1)
    each opponent in index order: relative position (2), relative velocity (2), on the pitch (1)
                                                                                -> 5 T
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

from soccer_env.physics import TEAM_SIGN, ball_distance, teammate_index


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
    """float32 [2, T, obs_dim(T)] observations of every player in its team's frame."""
    T = config.team_size
    pos_scale, sign, score_feat, time_left, possession = _common(config, state)
    vs = 1.0 / config.player_max_speed
    bvs = 1.0 / config.ball_max_speed
    pos, vel, active = state.player_pos, state.player_vel, state.active
    act_f = active.astype(jnp.float32)

    own_pos = sign * pos * pos_scale
    own_vel = sign * vel * vs
    ball_rel = sign * (state.ball_pos - pos) * pos_scale
    ball_rel_vel = sign * (state.ball_vel - vel) * bvs

    in_range = (act_f * (ball_distance(pos, state.ball_pos) <= config.kick_range)).astype(
        jnp.float32)

    def others(other_pos, other_vel, other_active):
        """[2, T(i), T(j), 5] features of team `other` seen by each player i."""
        rel_p = sign[:, None] * (other_pos[:, None, :, :] - pos[:, :, None, :]) * pos_scale
        rel_v = sign[:, None] * (other_vel[:, None, :, :] - vel[:, :, None, :]) * vs
        both = other_active[:, None, :] * act_f[:, :, None]
        feats = jnp.concatenate([rel_p, rel_v, jnp.ones_like(rel_p[..., :1])], axis=-1)
        return feats * both[..., None]

    mates = others(pos, vel, act_f)  # [2, T, T, 5]
    opps = others(pos[::-1], vel[::-1], act_f[::-1])
    idx = teammate_index(T)
    rows = jnp.arange(T)[:, None]
    mates = mates[:, rows, idx]  # [2, T, T-1, 5]
    mates_in_range = in_range[:, idx] * act_f[:, :, None]  # [2, T, T-1]
    opps_in_range = jnp.broadcast_to(in_range[::-1][:, None, :], (2, T, T)) * act_f[..., None]

    half = config.field_length / 2
    own_goal = (jnp.array([-half, 0.0]) - sign * pos) * pos_scale
    opp_goal = (jnp.array([half, 0.0]) - sign * pos) * pos_scale

    def per_team(x):  # [2] -> [2, T, 1]
        return jnp.broadcast_to(x[:, None, None], (2, T, 1))

    feats = [
        own_pos, own_vel, ball_rel * act_f[..., None], ball_rel_vel * act_f[..., None],
        mates.reshape(2, T, 5 * (T - 1)), opps.reshape(2, T, 5 * T),
        own_goal, opp_goal,
        per_team(score_feat), jnp.broadcast_to(time_left, (2, T, 1)),
        jnp.broadcast_to(jnp.eye(T, dtype=jnp.float32), (2, T, T)),
        in_range[..., None], mates_in_range, opps_in_range,
        per_team(possession), act_f[..., None],
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
