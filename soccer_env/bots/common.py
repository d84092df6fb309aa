"""What every bot shares: the game seen from one team, moves, legal actions, geometry.

Everything is in the team's own frame (attacking +x, see `SoccerEnv`); functions act on one
unbatched game and are jittable.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from soccer_env.actions import Action
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.types import State, owner_onehot

# A scripted bot: (key, state, team) -> int32 [T], the actions of one team's players.
Bot = Callable[[jax.Array, State, jax.Array], jax.Array]


class TeamView(NamedTuple):
    own_pos: jax.Array  # [T, 2]
    own_vel: jax.Array  # [T, 2]
    own_active: jax.Array  # [T] bool
    opp_pos: jax.Array  # [T, 2]
    opp_vel: jax.Array  # [T, 2]
    opp_active: jax.Array  # [T] bool
    ball_pos: jax.Array  # [2]
    ball_vel: jax.Array  # [2]
    mask: jax.Array  # [T, num_actions] bool, legal actions of the team's players
    own_has_ball: jax.Array  # [T] bool, which of ours has the ball
    opp_has_ball: jax.Array  # [T] bool, which opponent has it
    own_cooldown: jax.Array  # [T] int32, steps before each of ours may take the ball
    hold: jax.Array  # [] int32, steps the ball's owner has held it


def team_view(config: EnvConfig, state: State, team) -> TeamView:
    """The game in `team`'s frame (the right team's frame is the world rotated by 180 degrees)."""
    team = jnp.asarray(team, jnp.int32)
    sign = 1.0 - 2.0 * team.astype(jnp.float32)
    other = 1 - team
    mask = SoccerEnv(config).action_mask(state)[team]
    has_ball = owner_onehot(state.owner, config.team_size) & state.active
    return TeamView(
        own_pos=sign * state.player_pos[team], own_vel=sign * state.player_vel[team],
        own_active=state.active[team],
        opp_pos=sign * state.player_pos[other], opp_vel=sign * state.player_vel[other],
        opp_active=state.active[other],
        ball_pos=sign * state.ball_pos, ball_vel=sign * state.ball_vel, mask=mask,
        own_has_ball=has_ball[team], opp_has_ball=has_ball[other],
        own_cooldown=state.cooldown[team], hold=state.hold)


def move_action(direction: jax.Array) -> jax.Array:
    """int32 [...] the move action (1..8) whose direction is closest to `direction` [..., 2]."""
    angle = jnp.arctan2(direction[..., 1], direction[..., 0])
    sector = jnp.round(angle / (jnp.pi / 4)).astype(jnp.int32) % 8
    return Action.FORWARD + sector


def move_to(pos: jax.Array, target: jax.Array, stop_radius: float = 0.0) -> jax.Array:
    """int32 [...] move toward `target`, idle (decelerate) once within `stop_radius`."""
    d = target - pos
    dist = jnp.sqrt(jnp.sum(d * d, axis=-1))
    return jnp.where(dist <= stop_radius, Action.IDLE, move_action(d))


def legalize(actions: jax.Array, mask: jax.Array) -> jax.Array:
    """Replace actions illegal under `mask` [T, A] by idle (always legal)."""
    legal = jnp.take_along_axis(mask, actions[:, None], axis=-1)[:, 0]
    return jnp.where(legal, actions, Action.IDLE).astype(jnp.int32)


def random_legal(key: jax.Array, mask: jax.Array) -> jax.Array:
    """int32 [T] uniform over each player's legal actions."""
    logits = jnp.where(mask, 0.0, -jnp.inf)
    return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)


def norm(x):
    """[...] Euclidean norm over the last axis (never exactly 0, so gradients and divisions are
    safe)."""
    return jnp.sqrt(jnp.sum(x * x, axis=-1) + 1e-12)


def unit(x):
    """[..., 2] `x` scaled to unit length."""
    return x / norm(x)[..., None]


def segment_distance(start, end, points):
    """Distance of `points` [..., N, 2] to segments start [..., 2] -> end [..., 2], and the
    fraction along the segment of their projection (clipped to [0, 1])."""
    seg = end - start
    rel = points - start[..., None, :]
    along = jnp.clip(jnp.sum(rel * seg[..., None, :], axis=-1)
                     / (jnp.sum(seg * seg, axis=-1)[..., None] + 1e-12), 0.0, 1.0)
    closest = start[..., None, :] + along[..., None] * seg[..., None, :]
    return norm(points - closest), along


def check_state(config: EnvConfig, state: State):
    """ValueError (at trace time) when `state` is not a game of `config`'s team size."""
    if state.player_pos.shape[-2] != config.team_size:
        raise ValueError(
            f"state has team size {state.player_pos.shape[-2]} but the bot's config has "
            f"team_size={config.team_size}; pass the game's config: get(name, env.config)")
