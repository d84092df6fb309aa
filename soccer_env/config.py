"""Static configuration of a soccer game.

`EnvConfig` is a frozen (hashable) dataclass: it is static under `jax.jit`, so every field can
shape arrays or select code paths. It is validated when constructed; a bad value raises
`ValueError` naming the field and the allowed range.
"""

from __future__ import annotations

import dataclasses
import math

from soccer_env.jsonio import JsonConfig
from soccer_env.layouts import LAYOUTS

BOUNDARIES = ("walls", "rules")


@dataclasses.dataclass(frozen=True)
class EnvConfig(JsonConfig):
    """Everything that defines a game. Units are metres, seconds and metres per second.

    The world origin is the centre spot; x runs along the pitch (the left team, index 0, defends
    x = -field_length/2), y across it.
    """

    # --- teams and pitch --------------------------------------------------------------------
    team_size: int = 2
    field_length: float = 20.0
    field_width: float = 13.0
    goal_width: float = 4.0
    max_steps: int = 400
    layout: str = "match"  # a key of layouts.LAYOUTS: how reset places players and ball
    boundary: str = "walls"  # "walls": the ball bounces off the lines; "rules": restarts

    # --- episode rules -----------------------------------------------------------------------
    goal_ends_episode: bool = False  # drills end at the first goal; matches restart at kickoff
    turnover_ends_episode: bool = False  # drills end when the defending (right) team touches

    # --- physics -----------------------------------------------------------------------------
    dt: float = 0.1
    player_radius: float = 0.35
    ball_radius: float = 0.15
    player_max_speed: float = 5.0
    player_accel: float = 20.0  # m/s^2, how fast a player reaches its target velocity
    ball_max_speed: float = 20.0
    ball_friction: float = 0.04  # fraction of ball speed lost per step (rolling resistance)
    ball_restitution: float = 0.6  # ball-body bounce
    kick_range: float = 0.8  # centre-to-centre distance within which a player can kick
    shoot_speed: float = 16.0
    shoot_noise: float = 0.08  # std of the aim error of a shot, radians
    pass_speed_max: float = 14.0
    pass_noise: float = 0.03  # std of the aim error of a pass, radians
    kick_noise_at_speed: float = 0.05  # extra aim error (radians) per m/s of the kicker's speed / max
    restart_clearance: float = 2.0  # opponents are pushed this far from the ball at restarts

    # --- rewards -----------------------------------------------------------------------------
    # reward[t, i] = team_reward[t] + credit_weight * credit[t, i]
    goal_reward: float = 1.0
    ball_progress_weight: float = 0.0  # potential-based shaping: ball x progress toward the goal
    credit_weight: float = 0.1
    credit_touch: float = 0.5  # a touch that sends the ball toward the opponent goal
    credit_pass: float = 1.0  # the passer of a completed pass
    credit_shot: float = 1.0  # a shot on target
    credit_goal: float = 1.0  # the scorer of a goal

    def __post_init__(self):
        def fail(name, allowed):
            raise ValueError(
                f"EnvConfig.{name}={getattr(self, name)!r} is invalid: allowed {allowed}"
            )

        if (not isinstance(self.team_size, int) or isinstance(self.team_size, bool)
                or not 1 <= self.team_size <= 11):
            fail("team_size", "an integer in [1, 11]")
        if (not isinstance(self.max_steps, int) or isinstance(self.max_steps, bool)
                or self.max_steps < 1):
            fail("max_steps", "an integer >= 1")
        for name in (
            "field_length",
            "field_width",
            "goal_width",
            "dt",
            "player_radius",
            "ball_radius",
            "player_max_speed",
            "player_accel",
            "ball_max_speed",
            "kick_range",
            "shoot_speed",
            "pass_speed_max",
        ):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                fail(name, "a finite number > 0")
        if self.goal_width >= self.field_width:
            fail("goal_width", f"(0, field_width={self.field_width})")
        if self.field_length < 4 * (self.player_radius + self.kick_range):
            fail("field_length", f">= {4 * (self.player_radius + self.kick_range):.2f}")
        if self.kick_range < self.player_radius + self.ball_radius:
            fail("kick_range", f">= player_radius + ball_radius = "
                 f"{self.player_radius + self.ball_radius}")
        if not 0.0 <= self.ball_friction < 1.0:
            fail("ball_friction", "[0, 1)")
        if not 0.0 <= self.ball_restitution <= 1.0:
            fail("ball_restitution", "[0, 1]")
        for name in ("shoot_noise", "pass_noise", "kick_noise_at_speed", "restart_clearance"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                fail(name, "a finite number >= 0")
        for name in ("goal_reward", "ball_progress_weight", "credit_weight", "credit_touch",
                     "credit_pass", "credit_shot", "credit_goal"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                fail(name, "a finite number")
        if self.layout not in LAYOUTS:
            fail("layout", f"one of {tuple(LAYOUTS)}")
        if self.boundary not in BOUNDARIES:
            fail("boundary", f"one of {BOUNDARIES}")
        min_team_size = LAYOUTS[self.layout].min_team_size
        if self.team_size < min_team_size:
            fail("team_size", f">= {min_team_size} for layout {self.layout!r}")
