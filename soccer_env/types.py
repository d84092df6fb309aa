"""State of a soccer game: an immutable pytree of stacked per-team, per-player arrays."""

from __future__ import annotations

import enum

import chex
import jax.numpy as jnp
from flax import struct


class Restart(enum.IntEnum):
    """Restart kinds reported in `info["restart"]` (int32 []). When a goal and a restart fall
    on the same step the larger value (the kickoff) is reported."""

    NO_RESTART = 0
    THROW_IN = 1
    CORNER = 2
    GOAL_KICK = 3
    KICKOFF = 4


# `State.owner` of a loose ball.
LOOSE = -1


@struct.dataclass
class State:
    """World-frame game state. T = players per team; team 0 is the left team.

    player_pos:  [2, T, 2] float32, metres, origin at the centre spot.
    player_vel:  [2, T, 2] float32, m/s.
    active:      [2, T] bool, whether a player is on the pitch (drills leave some off).
    ball_pos:    [2] float32.
    ball_vel:    [2] float32.
    score:       [2] int32, goals of each team.
    step:        [] int32, steps played in this episode.
    owner:       [] int32, who controls the ball: LOOSE (-1), else team * T + player.
    cooldown:    [2, T] int32, steps before a player may take the ball again (after it kicked,
                 or lost the ball to a tackle).
    hold:        [] int32, steps the current owner has held the ball (0 when loose).
    last_touch:  [2, T] bool, one-hot of the last player to touch the ball (all False: nobody).
    pass_from:   [2, T] bool, one-hot of the passer of a pass still in flight (all False: none).
    pass_origin: [2] float32, where that pass was struck.
    assist_from: [2, T] bool, one-hot of the passer of the completed pass to the player who has
                 touched the ball last, until someone else touches it (a goal then is assisted).
    shot_on:     [] bool, a shot on target is in flight (a keeper's catch or block is a save).
    """

    player_pos: chex.Array
    player_vel: chex.Array
    active: chex.Array
    ball_pos: chex.Array
    ball_vel: chex.Array
    score: chex.Array
    step: chex.Array
    owner: chex.Array
    cooldown: chex.Array
    hold: chex.Array
    last_touch: chex.Array
    pass_from: chex.Array
    pass_origin: chex.Array
    assist_from: chex.Array
    shot_on: chex.Array

    @property
    def team_size(self) -> int:
        return self.player_pos.shape[-2]


def owner_onehot(owner, team_size: int):
    """[..., 2, T] bool one-hot of `owner` [...] (all False for a loose ball)."""
    flat = jnp.arange(2 * team_size) == jnp.asarray(owner)[..., None]
    return flat.reshape(*flat.shape[:-1], 2, team_size)


def owner_team(owner, team_size: int):
    """int32 [...] the team of the player `owner` [...] who has the ball, LOOSE for nobody."""
    owner = jnp.asarray(owner)
    return jnp.where(owner == LOOSE, LOOSE, owner // team_size).astype(jnp.int32)


def mirror(state: State) -> State:
    """Swap the teams and rotate the world by 180 degrees.

    The right team's frame is the world rotated by 180 degrees, so `observe(mirror(s))[0]`
    equals `observe(s)[1]` exactly: the property that lets one policy play either side. The
    owner `team * T + i` becomes `(1 - team) * T + i`.
    """
    T = state.team_size
    owner = jnp.where(state.owner >= 0, (state.owner + T) % (2 * T), state.owner)
    return state.replace(
        player_pos=-jnp.flip(state.player_pos, axis=-3),
        player_vel=-jnp.flip(state.player_vel, axis=-3),
        active=jnp.flip(state.active, axis=-2),
        ball_pos=-state.ball_pos,
        ball_vel=-state.ball_vel,
        score=jnp.flip(state.score, axis=-1),
        owner=owner.astype(jnp.int32),
        cooldown=jnp.flip(state.cooldown, axis=-2),
        last_touch=jnp.flip(state.last_touch, axis=-2),
        pass_from=jnp.flip(state.pass_from, axis=-2),
        pass_origin=-state.pass_origin,
        assist_from=jnp.flip(state.assist_from, axis=-2),
    )
