"""Registered scenarios and the initial-state distributions (layouts) behind them.

A scenario is a name for a set of `EnvConfig` fields: `make("2v2")` is
`SoccerEnv(EnvConfig(**SCENARIOS["2v2"].config))`. A layout (`EnvConfig.layout`) is how `reset`
places players and ball: "match" starts from a kickoff; the academy drills, in the spirit of
Google Research Football's, start from a set piece with some players off the pitch and end at
the first goal or when the defending (right) team touches the ball.

Everything here is written in the left team's frame (attacking +x) and is jittable.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env.types import State

# Smallest team size each layout needs (the drills place specific players).
LAYOUT_MIN_TEAM_SIZE = {
    "match": 1,
    "empty_goal": 1,
    "run_to_score_with_keeper": 1,
    "pass_and_shoot_with_keeper": 2,
    "3v1_with_keeper": 3,
    "counterattack": 3,
}


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    config: dict


_MATCH = dict(layout="match", goal_ends_episode=False, turnover_ends_episode=False)
_DRILL = dict(goal_ends_episode=True, turnover_ends_episode=True)
_SMALL_PITCH = dict(field_length=20.0, field_width=13.0, goal_width=4.0)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario("1v1", "Full match, one player a side, 16 x 10 m pitch.",
                 dict(_MATCH, team_size=1, field_length=16.0, field_width=10.0, goal_width=3.0,
                      max_steps=300)),
        Scenario("2v2", "Full match, two a side (keeper + field player), 20 x 13 m pitch.",
                 dict(_MATCH, team_size=2, **_SMALL_PITCH, max_steps=400)),
        Scenario("3v3", "Full match, three a side, 26 x 17 m pitch.",
                 dict(_MATCH, team_size=3, field_length=26.0, field_width=17.0, goal_width=5.0,
                      max_steps=400)),
        Scenario("5v5", "Full match, five a side, 40 x 25 m pitch.",
                 dict(_MATCH, team_size=5, field_length=40.0, field_width=25.0, goal_width=6.0,
                      max_steps=500)),
        Scenario("11v11", "Full match, eleven a side, 100 x 64 m pitch, 7.32 m goals.",
                 dict(_MATCH, team_size=11, field_length=100.0, field_width=64.0,
                      goal_width=7.32, max_steps=1000)),
        Scenario("empty_goal", "One attacker with the ball in the opponent half, nobody "
                 "defending.",
                 dict(_DRILL, layout="empty_goal", team_size=1, **_SMALL_PITCH, max_steps=100)),
        Scenario("run_to_score_with_keeper", "One attacker with the ball at the halfway line "
                 "against a keeper.",
                 dict(_DRILL, layout="run_to_score_with_keeper", team_size=1, **_SMALL_PITCH,
                      max_steps=150)),
        Scenario("pass_and_shoot_with_keeper", "Two attackers near the box against a defender "
                 "marking the ball carrier and a keeper.",
                 dict(_DRILL, layout="pass_and_shoot_with_keeper", team_size=2, **_SMALL_PITCH,
                      max_steps=150)),
        Scenario("3v1_with_keeper", "Three attackers against one defender and a keeper.",
                 dict(_DRILL, layout="3v1_with_keeper", team_size=3, **_SMALL_PITCH,
                      max_steps=150)),
        Scenario("counterattack", "Three attackers break from their own half against a defender "
                 "caught upfield and a keeper, 26 x 17 m pitch.",
                 dict(_DRILL, layout="counterattack", team_size=3, field_length=26.0,
                      field_width=17.0, goal_width=5.0, max_steps=250)),
    ]
}


def scenarios() -> list[str]:
    """Names of the registered scenarios."""
    return list(SCENARIOS)


def scenario_config(name: str, **overrides):
    """The `EnvConfig` of a registered scenario, with some fields overridden."""
    from soccer_env.config import EnvConfig

    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {scenarios()}")
    return EnvConfig(**{**SCENARIOS[name].config, **overrides})


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
    kicker_spot = jnp.array([-(config.player_radius + config.ball_radius + 0.05), 0.0])
    is_kicker = jnp.arange(T) == T - 1
    own = jnp.where(is_kicker[:, None], kicker_spot, form)
    frames = jnp.stack([
        jnp.where(kicking_team == 0, own, form),
        jnp.where(kicking_team == 1, own, form),
    ])
    return frames * jnp.array([1.0, -1.0])[:, None, None]


def _empty_state(config, pos, active, ball_pos) -> State:
    T = config.team_size
    return State(
        player_pos=pos.astype(jnp.float32),
        player_vel=jnp.zeros((2, T, 2), jnp.float32),
        active=active,
        ball_pos=ball_pos.astype(jnp.float32),
        ball_vel=jnp.zeros((2,), jnp.float32),
        score=jnp.zeros((2,), jnp.int32),
        step=jnp.zeros((), jnp.int32),
        last_touch=jnp.zeros((2, T), bool),
        pass_from=jnp.zeros((2, T), bool),
    )


def num_uniforms(config) -> int:
    """How many U(0, 1) numbers `initial_state_from_uniforms` consumes."""
    return 4 * config.team_size + 2


def _drill(config, u, left, right, ball):
    """A drill layout: `left`/`right` are lists of (x_frac, y_frac) world positions as fractions
    of the half-length / half-width for the players on the pitch; the rest are parked off it."""
    T, half, hw = config.team_size, config.field_length / 2, config.field_width / 2
    park = np.zeros((2, T, 2), np.float32)
    park[:, :, 1] = hw + 2.0  # off the pitch, beside the touchline
    park[:, :, 0] = np.linspace(-0.5, 0.5, T)[None] * half
    active = np.zeros((2, T), bool)
    for team, spots in enumerate((left, right)):
        for i, (fx, fy) in enumerate(spots):
            park[team, i] = (fx * half, fy * hw)
            active[team, i] = True
    jitter = 0.6 * u[: 4 * T].reshape(2, T, 2) - 0.3
    pos = jnp.asarray(park) + jnp.where(jnp.asarray(active)[..., None], jitter, 0.0)
    ball_jitter = 0.6 * u[4 * T: 4 * T + 2] - 0.3
    ball_pos = jnp.array([ball[0] * half, ball[1] * hw]) + ball_jitter
    # The ball carrier (left player 0) stands just behind the ball.
    carrier = ball_pos - jnp.array([config.player_radius + config.ball_radius + 0.1, 0.0])
    pos = pos.at[0, 0].set(carrier)
    return _empty_state(config, pos, jnp.asarray(active), ball_pos)


def initial_state_from_uniforms(config, u) -> State:
    """The initial state given `num_uniforms(config)` U(0, 1) numbers.

    Drawing all of an episode's randomness in one call keeps auto-reset cheap: `SoccerEnv.step`
    draws these and the kick noise together, one random-number call per game and step.
    """
    T = config.team_size
    if config.layout == "match":
        kicking_team = (u[0] < 0.5).astype(jnp.int32)
        pos = kickoff_positions(config, kicking_team)
        noise = 0.6 * u[2: 2 + 4 * T].reshape(2, T, 2) - 0.3
        # No noise on the kicker, so it keeps its spot behind the ball.
        is_kicker = (jnp.arange(2) == kicking_team)[:, None] & (jnp.arange(T) == T - 1)[None]
        pos = pos + jnp.where(is_kicker[..., None], 0.0, noise)
        return _empty_state(config, pos, jnp.ones((2, T), bool), jnp.zeros((2,)))
    if config.layout == "empty_goal":
        ball = (0.3, 0.0)
        return _drill(config, u, [ball], [], ball)
    if config.layout == "run_to_score_with_keeper":
        ball = (0.05, 0.0)
        return _drill(config, u, [ball], [(0.9, 0.0)], ball)
    if config.layout == "pass_and_shoot_with_keeper":
        ball = (0.45, -0.45)
        return _drill(config, u, [ball, (0.45, 0.5)], [(0.9, 0.0), (0.62, -0.3)], ball)
    if config.layout == "3v1_with_keeper":
        ball = (0.35, 0.0)
        return _drill(config, u, [ball, (0.3, -0.5), (0.3, 0.5)], [(0.9, 0.0), (0.6, 0.0)],
                      ball)
    if config.layout == "counterattack":
        ball = (-0.15, 0.0)
        return _drill(config, u, [ball, (-0.25, -0.5), (-0.25, 0.5)],
                      [(0.9, 0.0), (0.1, 0.25)], ball)
    raise ValueError(f"unknown layout {config.layout!r}")  # unreachable: EnvConfig validates
