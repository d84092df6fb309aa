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


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


# Per-field checks (fields, test, allowed values for the error message); the checks between
# fields follow them in EnvConfig.__post_init__.
_FIELD_CHECKS = (
    (("team_size",), lambda v: _integer(v) and 1 <= v <= 11, "an integer in [1, 11]"),
    (("max_steps",), lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    (("field_length", "field_width", "goal_width", "dt", "player_radius", "ball_radius",
      "player_max_speed", "player_accel", "ball_max_speed", "control_radius", "control_speed",
      "dribble_speed", "tackle_range", "shoot_speed", "pass_arrival_speed", "pass_speed_max",
      "pressure_radius", "catch_radius", "catch_speed"),
     lambda v: _number(v) and v > 0, "a finite number > 0"),
    (("kick_cooldown", "tackle_cooldown", "keeper_hold_steps"),
     lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    (("tackle_prob", "catch_prob", "ball_restitution"),
     lambda v: _number(v) and 0.0 <= v <= 1.0, "[0, 1]"),
    (("ball_friction",), lambda v: _number(v) and 0.0 <= v < 1.0, "[0, 1)"),
    (("shoot_noise", "shoot_noise_per_m", "shoot_noise_pressure", "shot_inset", "pass_noise",
      "kick_noise_at_speed", "restart_clearance"),
     lambda v: _number(v) and v >= 0, "a finite number >= 0"),
    (("goal_reward", "ball_progress_weight", "ball_reach_weight", "support_weight", "credit_weight",
      "credit_won_ball", "credit_pass", "credit_assist", "credit_goal"), _number,
     "a finite number"),
)


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
    ball_max_speed: float = 22.0
    ball_friction: float = 0.04  # fraction of ball speed lost per step (rolling resistance)
    ball_restitution: float = 0.6  # ball-body bounce
    restart_clearance: float = 2.0  # opponents are pushed this far from the ball at restarts

    # --- ball control (football mechanics) ---------------------------------------------------
    control_radius: float = 0.7  # centre-to-centre player-ball distance to take a loose ball
    control_speed: float = 9.0  # a ball faster than this relative to the player deflects
    dribble_speed: float = 3.5  # top speed of the player with the ball
    kick_cooldown: int = 3  # steps before a kicker may take the ball again
    tackle_range: float = 1.0  # centre-to-centre distance of a tackler to the ball or its owner
    tackle_prob: float = 0.15  # chance per step that a player in tackle range wins the ball
    tackle_cooldown: int = 10  # steps before the player who lost the ball may take it back
    # Shots: aimed shot_inset inside the post away from the keeper, at shoot_speed, with an aim
    # error (std, radians) of shoot_noise + shoot_noise_per_m * distance to the goal centre
    # + shoot_noise_pressure * max(0, 1 - nearest opponent field player distance / pressure_radius).
    shoot_speed: float = 20.0
    shot_inset: float = 0.45
    shoot_noise: float = 0.03
    shoot_noise_per_m: float = 0.005
    shoot_noise_pressure: float = 0.15
    pressure_radius: float = 2.0
    # Passes: led to where the receiver will be on arrival, struck so that friction leaves
    # pass_arrival_speed at the receiver (capped at pass_speed_max), aim error pass_noise.
    pass_arrival_speed: float = 5.0
    pass_speed_max: float = 14.0
    pass_noise: float = 0.03
    kick_noise_at_speed: float = 0.05  # extra aim error (radians) x kicker speed / max speed
    # Keeper (player 0 when team_size >= 2): inside its penalty area it catches a ball slower
    # than catch_speed within catch_radius with chance catch_prob per step, and parries (turns
    # upfield) such a ball that it does not catch; it cannot be tackled while it holds the ball
    # there and must kick within keeper_hold_steps.
    catch_radius: float = 0.9
    catch_speed: float = 17.0
    catch_prob: float = 0.8
    keeper_hold_steps: int = 30

    # --- rewards -----------------------------------------------------------------------------
    # reward[t, i] = team_reward[t] + credit_weight * credit[t, i] + ball_reach_weight *
    # reach[t, i]; team_reward = goal_reward x goal difference + ball_progress_weight x the
    # change of the ball's progress toward the opponent goal counted while the team is in
    # possession (`env.possession_team`: it owns the ball or touched it last). reach[t, i] is
    # the change of the player's own potential: minus its distance to the ball while its team
    # is not in possession (0 while it is), for a keeper minus its distance to its guarding
    # spot (`physics.keeper_guard`), in pitch lengths. All potential-based; on a goal's step
    # the potentials after it count as 0 (the kickoff starts afresh).
    # support_weight x the change of a second potential is added for each outfield player of
    # the team in possession but its last toucher: minus its distance to a support spot,
    # SUPPORT_AHEAD metres ahead of the ball and SUPPORT_WIDE to the player's side of it
    # (soccer_env.env).
    goal_reward: float = 1.0
    ball_progress_weight: float = 0.0
    ball_reach_weight: float = 0.0
    support_weight: float = 0.0
    credit_weight: float = 0.1
    credit_won_ball: float = 0.5  # took the ball from the opponents (tackle, interception, ...)
    credit_pass: float = 1.0  # the passer of a completed pass (a teammate took possession)
    credit_assist: float = 1.0  # the passer of the completed pass before a goal
    credit_goal: float = 1.0  # the scorer of a goal

    def __post_init__(self):
        def fail(name, allowed):
            raise ValueError(
                f"EnvConfig.{name}={getattr(self, name)!r} is invalid: allowed {allowed}"
            )

        for names, ok, allowed in _FIELD_CHECKS:
            for name in names:
                if not ok(getattr(self, name)):
                    fail(name, allowed)
        if self.goal_width >= self.field_width:
            fail("goal_width", f"(0, field_width={self.field_width})")
        if self.field_length < 4 * (self.player_radius + self.control_radius):
            fail("field_length", f">= {4 * (self.player_radius + self.control_radius):.2f}")
        reach = self.player_radius + self.ball_radius
        for name in ("control_radius", "catch_radius"):
            if getattr(self, name) < reach:
                fail(name, f">= player_radius + ball_radius = {reach}")
        if self.pass_arrival_speed >= self.pass_speed_max:
            fail("pass_arrival_speed", f"(0, pass_speed_max={self.pass_speed_max})")
        if self.shot_inset >= self.goal_width / 2:
            fail("shot_inset", f"[0, goal_width / 2 = {self.goal_width / 2})")
        if self.layout not in LAYOUTS:
            fail("layout", f"one of {tuple(LAYOUTS)}")
        if self.boundary not in BOUNDARIES:
            fail("boundary", f"one of {BOUNDARIES}")
        min_team_size = LAYOUTS[self.layout].min_team_size
        if self.team_size < min_team_size:
            fail("team_size", f">= {min_team_size} for layout {self.layout!r}")
