"""Initial-state distributions (layouts): how `reset` places players and ball.

`EnvConfig.layout` names one entry of `LAYOUTS`. "match" starts from a kickoff; the academy
drills, in the spirit of Google Research Football's, start from a set piece with some players
off the pitch (and, as their scenarios say, end at the first goal or when the defending, right,
team touches the ball). Formations and kickoff positions live here too: rules (kickoff after a
goal), bots (the positional bot's home spots) and the renderer (centre circle) use them.

Everything is written in the left team's frame (attacking +x) and is jittable. `config` is any
object with `EnvConfig`'s fields: this module sits below `soccer_env.config`, which validates
`layout` and `team_size` against `LAYOUTS`.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env.constants import CARRIER_GAP, KICKER_GAP, PARK_OFFSET
from soccer_env.types import State

# Players (and a drill's ball) start within this many metres of their spot in x and y.
JITTER = 0.3


class Layout(NamedTuple):
    """One initial-state distribution.

    min_team_size: the smallest team size it can place (drills place specific players).
    place: `place(config, u) -> State` from `num_uniforms(config)` U(0, 1) numbers `u`.
    description: one line for humans.
    symmetric: both teams start alike (a match), so either side plays the same game; in a
        drill the left team attacks and the right defends, so a player is evaluated on the left.
    """

    min_team_size: int
    place: Callable[[Any, jax.Array], State]
    description: str
    symmetric: bool = False


# ---------------------------------------------------------------------------------------------
# Formations (left team's frame, own half, outside the centre circle).


def centre_circle_radius(config) -> float:
    return min(0.15 * config.field_width, 9.15)


def formation(config) -> np.ndarray:
    """[T, 2] kickoff positions in the team frame. Player 0 keeps goal when T >= 2."""
    T, half, w = config.team_size, config.field_length / 2, config.field_width
    if T == 1:
        return np.array([[-0.35 * half, 0.0]], np.float32)
    n = T - 1
    if n <= 2:
        lines = [(n, -0.45)]
    elif n <= 4:
        lines = [((n + 1) // 2, -0.6), (n // 2, -0.3)]
    else:
        defenders, attackers = round(0.4 * n), max(1, round(0.25 * n))
        lines = [(defenders, -0.65), (n - defenders - attackers, -0.42), (attackers, -0.22)]
    clearance = centre_circle_radius(config) + config.player_radius + 0.1
    positions = [(-half + 1.0, 0.0)]
    for count, frac in lines:
        x = min(frac * half, -clearance)
        for k in range(count):
            positions.append((x, 0.8 * w * ((k + 1) / (count + 1) - 0.5)))
    return np.array(positions, np.float32)


def kickoff_positions(config, kicking_team) -> jax.Array:
    """[2, T, 2] world positions for a kickoff by `kicking_team` (traced int, 0 or 1).

    The kicker (the last index: a forward) stands just behind the ball on the centre spot.
    """
    form = jnp.asarray(formation(config))
    T = config.team_size
    kicker_spot = jnp.array([-(config.player_radius + config.ball_radius + KICKER_GAP), 0.0])
    is_kicker = jnp.arange(T) == T - 1
    own = jnp.where(is_kicker[:, None], kicker_spot, form)
    frames = jnp.stack([
        jnp.where(kicking_team == 0, own, form),
        jnp.where(kicking_team == 1, own, form),
    ])
    return frames * jnp.array([1.0, -1.0])[:, None, None]


# ---------------------------------------------------------------------------------------------
# Layouts.


def empty_state(config, pos, active, ball_pos, owner) -> State:
    """A state at the start of an episode: players at `pos` [2, T, 2] at rest, `active` [2, T],
    the ball at rest at `ball_pos`, `owner` (int32 [], team * T + player, or -1: loose) has it
    and counts as its last toucher; no cooldowns, nothing in flight."""
    T = config.team_size
    return State(
        player_pos=pos.astype(jnp.float32),
        player_vel=jnp.zeros((2, T, 2), jnp.float32),
        active=active,
        ball_pos=ball_pos.astype(jnp.float32),
        ball_vel=jnp.zeros((2,), jnp.float32),
        score=jnp.zeros((2,), jnp.int32),
        step=jnp.zeros((), jnp.int32),
        owner=jnp.asarray(owner, jnp.int32),
        cooldown=jnp.zeros((2, T), jnp.int32),
        hold=jnp.zeros((), jnp.int32),
        # The player with the ball counts as its last toucher (as after any restart).
        last_touch=jnp.arange(2 * T).reshape(2, T) == jnp.asarray(owner, jnp.int32),
        pass_from=jnp.zeros((2, T), bool),
        pass_origin=jnp.zeros((2,), jnp.float32),
        assist_from=jnp.zeros((2, T), bool),
        shot_on=jnp.zeros((), bool),
    )


def num_uniforms(config) -> int:
    """How many U(0, 1) numbers `initial_state_from_uniforms` consumes."""
    return 4 * config.team_size + 2


def _kickoff(config, u) -> State:
    """A match from a kickoff by a random team (its kicker has the ball), every player jittered
    around its formation spot except the kicker."""
    T = config.team_size
    kicking_team = (u[0] < 0.5).astype(jnp.int32)
    pos = kickoff_positions(config, kicking_team)
    noise = 2 * JITTER * u[2: 2 + 4 * T].reshape(2, T, 2) - JITTER
    # No noise on the kicker, so it keeps its spot behind the ball.
    is_kicker = (jnp.arange(2) == kicking_team)[:, None] & (jnp.arange(T) == T - 1)[None]
    pos = pos + jnp.where(is_kicker[..., None], 0.0, noise)
    kicker = kicking_team * T + T - 1
    return empty_state(config, pos, jnp.ones((2, T), bool), jnp.zeros((2,)), kicker)


def _drill(config, u, left, right, ball) -> State:
    """A drill layout: `left`/`right` are lists of (x_frac, y_frac) world positions as fractions
    of the half-length / half-width for the players on the pitch; the rest are parked off it.
    Left player 0 carries (owns) the ball at `ball`."""
    T, half, hw = config.team_size, config.field_length / 2, config.field_width / 2
    park = np.zeros((2, T, 2), np.float32)
    park[:, :, 1] = hw + PARK_OFFSET  # off the pitch, beside the touchline
    park[:, :, 0] = np.linspace(-0.5, 0.5, T)[None] * half
    active = np.zeros((2, T), bool)
    for team, spots in enumerate((left, right)):
        for i, (fx, fy) in enumerate(spots):
            park[team, i] = (fx * half, fy * hw)
            active[team, i] = True
    jitter = 2 * JITTER * u[: 4 * T].reshape(2, T, 2) - JITTER
    pos = jnp.asarray(park) + jnp.where(jnp.asarray(active)[..., None], jitter, 0.0)
    ball_jitter = 2 * JITTER * u[4 * T: 4 * T + 2] - JITTER
    ball_pos = jnp.array([ball[0] * half, ball[1] * hw]) + ball_jitter
    # The ball carrier (left player 0) stands just behind the ball.
    carrier = ball_pos - jnp.array([config.player_radius + config.ball_radius + CARRIER_GAP, 0.0])
    pos = pos.at[0, 0].set(carrier)
    return empty_state(config, pos, jnp.asarray(active), ball_pos, 0)


def drill(ball, left_others=(), right=()) -> Callable[[Any, jax.Array], State]:
    """The `place` function of a drill: left player 0 carries the ball at `ball`, the other
    left players stand at `left_others` and the right team's at `right` ((x_frac, y_frac) of the
    half-length / half-width, world frame); players not listed are off the pitch."""
    left = [tuple(ball), *map(tuple, left_others)]
    right = [tuple(p) for p in right]

    def place(config, u) -> State:
        return _drill(config, u, left, right, tuple(ball))

    return place


LAYOUTS: dict[str, Layout] = {
    "match": Layout(1, _kickoff, "a full match from a kickoff by a random team", symmetric=True),
    "empty_goal": Layout(
        1, drill((0.3, 0.0)),
        "one attacker with the ball in the opponent half, nobody defending"),
    "run_to_score_with_keeper": Layout(
        1, drill((0.05, 0.0), right=[(0.9, 0.0)]),
        "one attacker with the ball at the halfway line against a keeper"),
    "pass_and_shoot_with_keeper": Layout(
        2, drill((0.45, -0.45), [(0.45, 0.5)], [(0.9, 0.0), (0.62, -0.3)]),
        "two attackers near the box against a defender marking the ball carrier and a keeper"),
    "3v1_with_keeper": Layout(
        3, drill((0.35, 0.0), [(0.3, -0.5), (0.3, 0.5)], [(0.9, 0.0), (0.6, 0.0)]),
        "three attackers against one defender and a keeper"),
    "counterattack": Layout(
        3, drill((-0.15, 0.0), [(-0.25, -0.5), (-0.25, 0.5)], [(0.9, 0.0), (0.1, 0.25)]),
        "three attackers break from their own half against a defender caught upfield and a "
        "keeper"),
}


def initial_state_from_uniforms(config, u) -> State:
    """The initial state of `config.layout` given `num_uniforms(config)` U(0, 1) numbers.

    Drawing all of an episode's randomness in one call keeps auto-reset cheap: `SoccerEnv.step`
    draws these and the kick noise together, one random-number call per game and step.
    """
    return LAYOUTS[config.layout].place(config, u)
