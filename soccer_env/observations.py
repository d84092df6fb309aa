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
    has the ball (State.owner): self (1), teammates (T - 1), opponents (T),
    possession: +1 own team has the ball, -1 the opponents, 0 loose (1),
    self on the pitch (1).
obs_dim = 11 + 13 T.  Players off the pitch (drills) read zeros for everything relative.

The layout is data: `observation_layout(config)` / `state_layout(config)` give the named blocks
(`Block`: name, slice, float32 bounds) that `observe` / `global_state` fill, in order, and
`observation_bounds` / `state_bounds` their bounds (the PettingZoo adapter's spaces):

    {b.name: obs[..., b.slice] for b in observation_layout(config)}
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from soccer_env.constants import PARK_OFFSET, RUNOFF, TEAM_SIGN
from soccer_env.types import owner_onehot


def obs_dim(team_size: int) -> int:
    return 11 + 13 * team_size


def state_dim(team_size: int) -> int:
    return 10 * team_size + 7


# ---------------------------------------------------------------------------------------------
# The layout as data: named blocks with their slices and bounds, for a config.


# The features of each other player, as blocks of T - 1 (teammates) or T (opponents).
OTHER_FEATURES = ("rel_x", "rel_y", "rel_vx", "rel_vy", "active")


class Block(NamedTuple):
    """One named block of an observation or global-state vector: indices [start, start + size)
    and the float32 [size] bounds of its values."""

    name: str
    start: int
    low: np.ndarray
    high: np.ndarray

    @property
    def size(self) -> int:
        return len(self.low)

    @property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)


def _blocks(spec) -> tuple[Block, ...]:
    """Blocks from (name, [(low, high), ...]) pairs, laid out one after the other."""
    blocks, start = [], 0
    for name, bounds in spec:
        low, high = np.array(bounds, np.float32).reshape(-1, 2).T
        blocks.append(Block(name, start, low, high))
        start += len(bounds)
    return tuple(blocks)


def bounds(layout: tuple[Block, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float32 [dim] of a whole layout."""
    return (np.concatenate([b.low for b in layout]).astype(np.float32),
            np.concatenate([b.high for b in layout]).astype(np.float32))


# Parked drill players stand PARK_OFFSET beyond the touchline; the bounds keep some room.
PARK_MARGIN = PARK_OFFSET + 0.5
# The physics caps player speed at `player_max_speed` after collisions too; the small factor
# covers float rounding of that cap (and the PettingZoo adapter clips to the bounds, so its
# declared Box always holds).
PLAYER_SPEED_FACTOR = 1.01


def extent(config) -> tuple[float, float]:
    """Half-extents (X, Y) in metres of a box holding every player and ball position that an
    observation can show: the pitch plus the run-off of `rules` mode, the clearance push of a
    restart, one step of the fastest ball past the goal line, a body-bounce, and parked players."""
    margin = (RUNOFF + config.restart_clearance + config.ball_max_speed * config.dt
              + config.player_radius + config.ball_radius)
    margin = max(margin, PARK_MARGIN)
    return config.field_length / 2 + margin, config.field_width / 2 + margin


def speed_bounds(config) -> tuple[float, float]:
    """(player, ball) speed bounds in m/s. The ball is capped at `ball_max_speed` before a body
    bounce, which adds at most (1 + restitution) x the body's speed."""
    player = PLAYER_SPEED_FACTOR * config.player_max_speed
    ball = config.ball_max_speed + (1.0 + config.ball_restitution) * player
    return player, ball


def observation_layout(config) -> tuple[Block, ...]:
    """The blocks of one player's observation, in order (see the module docstring). Positions
    are bounded by the pitch geometry (`extent`), velocities by the speed caps; flags and
    one-hots are in [0, 1]."""
    T = config.team_size
    s = 2.0 / config.field_length  # the observation's position scale
    X, Y = extent(config)
    pv, bv = speed_bounds(config)
    pv_n = pv / config.player_max_speed
    half = config.field_length / 2
    flag = (0.0, 1.0)

    def sym(*values):
        return [(-v, v) for v in values]

    # Each feature of another player (relative x, y, vx, vy, on the pitch), for one player.
    other = dict(zip(OTHER_FEATURES, (sym(2 * X * s), sym(2 * Y * s), sym(2 * pv_n),
                                      sym(2 * pv_n), [flag])))

    def others(prefix, n):  # n other players as five blocks of n
        return [(f"{prefix}_{name}", bound * n) for name, bound in other.items()]

    ball_vel = (bv + pv) / config.ball_max_speed
    return _blocks([
        ("own_pos", sym(X * s, Y * s)),
        ("own_vel", sym(pv_n, pv_n)),
        ("ball_rel_pos", sym(2 * X * s, 2 * Y * s)),
        ("ball_rel_vel", sym(ball_vel, ball_vel)),
        *others("mate", T - 1),
        *others("opp", T),
        ("own_goal_rel", [((-half - X) * s, (-half + X) * s), (-Y * s, Y * s)]),
        ("opp_goal_rel", [((half - X) * s, (half + X) * s), (-Y * s, Y * s)]),
        ("score_diff", [(-1.0, 1.0)]),
        ("time_left", [flag]),
        ("own_index", [flag] * T),
        ("self_has_ball", [flag]),
        ("mates_has_ball", [flag] * (T - 1)),
        ("opps_has_ball", [flag] * T),
        ("possession", [(-1.0, 1.0)]),
        ("self_active", [flag]),
    ])


def state_layout(config) -> tuple[Block, ...]:
    """The blocks of one team's global state, in order (own team first; positions and
    velocities interleaved x, y per player)."""
    T = config.team_size
    s = 2.0 / config.field_length
    X, Y = extent(config)
    pv, bv = speed_bounds(config)
    flag = (0.0, 1.0)

    def sym(values):
        return [(-v, v) for v in values]

    team = [("pos", sym([X * s, Y * s] * T)), ("vel", sym([pv / config.player_max_speed] * 2 * T)),
            ("active", [flag] * T)]
    return _blocks([
        *[(f"own_{name}", b) for name, b in team],
        *[(f"opp_{name}", b) for name, b in team],
        ("ball", sym([X * s, Y * s] + [bv / config.ball_max_speed] * 2)),  # x, y, vx, vy
        ("score_diff", [(-1.0, 1.0)]),
        ("time_left", [flag]),
        ("possession", [(-1.0, 1.0)]),
    ])


def observation_bounds(config) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float32 [obs_dim] bounds of one player's observation."""
    return bounds(observation_layout(config))


def state_bounds(config) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float32 [state_dim] bounds of one team's global state."""
    return bounds(state_layout(config))


def _concat(layout, pieces) -> jnp.ndarray:
    """The pieces of each block ({name: [[..., k], ...]}) concatenated in layout order."""
    for b in layout:
        assert sum(p.shape[-1] for p in pieces[b.name]) == b.size, b.name
    assert set(pieces) == {b.name for b in layout}
    return jnp.concatenate([p for b in layout for p in pieces[b.name]], axis=-1)


# ---------------------------------------------------------------------------------------------
# Observations and global states.


def _common(config, state):
    pos_scale = 2.0 / config.field_length
    sign = TEAM_SIGN[:, None, None]
    score_diff = (state.score - state.score[::-1]).astype(jnp.float32)
    score_feat = jnp.clip(score_diff / 5.0, -1.0, 1.0)  # [2]
    time_left = 1.0 - state.step.astype(jnp.float32) / config.max_steps
    has_ball = owner_onehot(state.owner, config.team_size) & state.active  # [2, T]
    team_has = jnp.any(has_ball, axis=-1)  # [2]
    possession = team_has.astype(jnp.float32) - team_has[::-1].astype(jnp.float32)
    return pos_scale, sign, score_feat, time_left, possession, has_ball


def observe(config, state) -> jnp.ndarray:
    """float32 [2, T, obs_dim(T)] observations of every player in its team's frame.

    Computed with x and y as separate planes and the per-other-player features as contiguous
    blocks: interleaved trailing axes of size 2 or 5 defeat vectorization on CPU.
    """
    T = config.team_size
    pos_scale, sign, score_feat, time_left, possession, has_ball = _common(config, state)
    sign = sign[..., 0]  # [2, 1]
    ps, vs, bvs = pos_scale, 1.0 / config.player_max_speed, 1.0 / config.ball_max_speed
    px, py = state.player_pos[..., 0], state.player_pos[..., 1]  # [2, T]
    vx, vy = state.player_vel[..., 0], state.player_vel[..., 1]
    act = state.active.astype(jnp.float32)
    bx, by = state.ball_pos[0], state.ball_pos[1]

    dbx, dby = bx - px, by - py
    ball_at = has_ball.astype(jnp.float32)  # [2, T]

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

    pieces = {
        "own_pos": [col(own_x * ps), col(own_y * ps)],
        "own_vel": [col(sign * vx * vs), col(sign * vy * vs)],
        "ball_rel_pos": [col(sign * dbx * ps * act), col(sign * dby * ps * act)],
        "ball_rel_vel": [col(sign * (state.ball_vel[0] - vx) * bvs * act),
                         col(sign * (state.ball_vel[1] - vy) * bvs * act)],
        # (1v1: no teammates, empty blocks)
        **{f"mate_{name}": mates[k:k + 1] for k, name in enumerate(OTHER_FEATURES)},
        **{f"opp_{name}": opps[k:k + 1] for k, name in enumerate(OTHER_FEATURES)},
        "own_goal_rel": [col((-half - own_x) * ps), col(-own_y * ps)],
        "opp_goal_rel": [col((half - own_x) * ps), col(-own_y * ps)],
        "score_diff": [per_team(score_feat)],
        "time_left": [jnp.broadcast_to(time_left, (2, T, 1))],
        "own_index": [jnp.broadcast_to(jnp.eye(T, dtype=jnp.float32), (2, T, T))],
        "self_has_ball": [col(ball_at)],
        "mates_has_ball": [skip_self(jnp.broadcast_to(ball_at[:, None, :], (2, T, T)) * seen)],
        "opps_has_ball": [jnp.broadcast_to(ball_at[::-1][:, None, :], (2, T, T)) * seen],
        "possession": [per_team(possession)],
        "self_active": [col(act)],
    }
    return _concat(observation_layout(config), pieces).astype(jnp.float32)


def global_state(config, state) -> jnp.ndarray:
    """float32 [2, state_dim(T)]: the full state in each team's frame (own team first)."""
    T = config.team_size
    pos_scale, sign, score_feat, time_left, possession, _ = _common(config, state)
    # Row t: its own players, then the opponents, both in team t's frame (sign[t]).
    pos = (sign * state.player_pos * pos_scale).reshape(2, 2 * T)
    vel = (sign * state.player_vel / config.player_max_speed).reshape(2, 2 * T)
    opp_pos = (sign * state.player_pos[::-1] * pos_scale).reshape(2, 2 * T)
    opp_vel = (sign * state.player_vel[::-1] / config.player_max_speed).reshape(2, 2 * T)
    act_f = state.active.astype(jnp.float32)
    s = TEAM_SIGN[:, None]
    ball = jnp.concatenate([s * state.ball_pos * pos_scale,
                            s * state.ball_vel / config.ball_max_speed], axis=-1)  # [2, 4]
    pieces = {
        "own_pos": [pos], "own_vel": [vel], "own_active": [act_f],
        "opp_pos": [opp_pos], "opp_vel": [opp_vel], "opp_active": [act_f[::-1]],
        "ball": [ball], "score_diff": [score_feat[:, None]],
        "time_left": [jnp.broadcast_to(time_left, (2, 1))], "possession": [possession[:, None]],
    }
    return _concat(state_layout(config), pieces).astype(jnp.float32)
