"""EnvConfig validation, scenarios registry and `make` (no compilation needed)."""

from __future__ import annotations

import dataclasses
import math

import pytest

import soccer_env
from soccer_env import EnvConfig, SoccerEnv
from soccer_env.scenarios import SCENARIOS

REQUIRED_SCENARIOS = ["1v1", "2v2", "3v3", "5v5", "11v11", "empty_goal",
                      "run_to_score_with_keeper", "pass_and_shoot_with_keeper",
                      "3v1_with_keeper", "counterattack"]

BAD_VALUES = [
    ("team_size", 0), ("team_size", 12), ("team_size", 2.0), ("team_size", -1),
    ("max_steps", 0), ("max_steps", 10.5),
    ("field_length", 0.0), ("field_length", -20.0), ("field_length", math.inf),
    ("field_length", 3.0),  # too short for two players' control ranges each side
    ("field_width", 0.0), ("field_width", math.nan),
    ("goal_width", 0.0), ("goal_width", 13.0), ("goal_width", 20.0),  # not narrower than field
    ("dt", 0.0), ("player_radius", -0.1), ("ball_radius", 0.0), ("player_max_speed", 0.0),
    ("player_accel", -1.0), ("ball_max_speed", 0.0), ("shoot_speed", 0.0),
    ("pass_speed_max", -3.0),
    ("control_radius", 0.2), ("catch_radius", 0.3),  # below player_radius + ball_radius
    ("control_speed", 0.0), ("dribble_speed", -1.0), ("tackle_range", 0.0),
    ("catch_speed", math.inf), ("pressure_radius", 0.0), ("pass_arrival_speed", 0.0),
    ("pass_arrival_speed", 20.0),  # not below pass_speed_max: a pass could not slow to it
    ("tackle_prob", 1.5), ("tackle_prob", -0.1), ("catch_prob", 2.0),
    ("kick_cooldown", -1), ("kick_cooldown", 1.5), ("tackle_cooldown", -2),
    ("keeper_hold_steps", 2.5), ("shot_inset", 2.0),  # at the post of a 4 m goal
    ("shot_inset", -0.1), ("shoot_noise_per_m", -0.01), ("shoot_noise_pressure", math.nan),
    ("credit_won_ball", math.nan), ("credit_assist", math.inf),
    ("ball_friction", -0.1), ("ball_friction", 1.0),
    ("ball_restitution", 1.5), ("ball_restitution", -0.2),
    ("shoot_noise", -0.01), ("pass_noise", math.nan), ("kick_noise_at_speed", -1.0),
    ("restart_clearance", -1.0),
    ("goal_reward", math.inf), ("credit_weight", math.nan), ("ball_progress_weight", math.inf),
    ("ball_reach_weight", math.nan),
    ("support_weight", math.nan),
    ("layout", "penalty_shootout"), ("boundary", "lava"),
    # Wrong types get the same clear error, not a TypeError from a comparison.
    ("ball_friction", "0.04"), ("tackle_prob", True), ("dt", None),
]


def test_defaults_are_valid_and_frozen():
    cfg = EnvConfig()
    assert cfg.team_size >= 1 and cfg.goal_width < cfg.field_width
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.team_size = 3
    assert hash(cfg) == hash(EnvConfig())  # static under jit: hashable, equal by value
    assert {f.name for f in dataclasses.fields(cfg)} >= {
        "team_size", "field_length", "field_width", "goal_width", "max_steps"}


@pytest.mark.parametrize("field,value", BAD_VALUES, ids=[f"{f}={v}" for f, v in BAD_VALUES])
def test_bad_field_raises_naming_it(field, value):
    with pytest.raises(ValueError, match=rf"\b{field}\b") as err:
        EnvConfig(**{field: value})
    assert "allowed" in str(err.value)


@pytest.mark.parametrize("field,value", [("team_size", 1), ("team_size", 11), ("max_steps", 1),
                                         ("ball_friction", 0.0), ("ball_restitution", 1.0),
                                         ("shoot_noise", 0.0), ("credit_weight", -0.5),
                                         ("boundary", "rules"), ("tackle_prob", 0.0),
                                         ("tackle_prob", 1.0), ("catch_prob", 1.0),
                                         ("kick_cooldown", 0), ("tackle_cooldown", 0),
                                         ("keeper_hold_steps", 0), ("shot_inset", 0.0)])
def test_edge_values_accepted(field, value):
    assert getattr(EnvConfig(**{field: value}), field) == value


def test_layout_needs_enough_players():
    with pytest.raises(ValueError, match="team_size"):
        EnvConfig(team_size=2, layout="3v1_with_keeper")
    assert EnvConfig(team_size=3, layout="3v1_with_keeper").layout == "3v1_with_keeper"


def test_replace_revalidates_and_round_trips():
    cfg = EnvConfig(team_size=3)
    assert cfg.replace(max_steps=7).max_steps == 7 and cfg.max_steps != 7
    with pytest.raises(ValueError, match="max_steps"):
        cfg.replace(max_steps=0)
    assert EnvConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="bogus"):
        EnvConfig.from_dict({**cfg.to_dict(), "bogus": 1})


def test_registered_scenarios():
    names = soccer_env.scenarios()
    assert set(REQUIRED_SCENARIOS) <= set(names)
    for name in names:
        cfg = soccer_env.scenario_config(name)
        assert isinstance(cfg, EnvConfig)
        if name in ("1v1", "2v2", "3v3", "5v5", "11v11"):
            assert cfg.team_size == int(name.split("v")[0])
            assert cfg.layout == "match" and not cfg.goal_ends_episode
        else:
            assert cfg.layout == name and cfg.goal_ends_episode, name


def test_unknown_scenario_lists_known_names():
    with pytest.raises(ValueError) as err:
        soccer_env.make("4v4_on_ice")
    message = str(err.value)
    assert "4v4_on_ice" in message
    for name in SCENARIOS:
        assert name in message


def test_make_applies_overrides():
    env = soccer_env.make("3v3", max_steps=17, boundary="rules", credit_weight=0.0)
    assert isinstance(env, SoccerEnv)
    assert (env.config.max_steps, env.config.boundary, env.config.credit_weight) == (
        17, "rules", 0.0)
    base = soccer_env.make("3v3").config
    assert env.config == base.replace(max_steps=17, boundary="rules", credit_weight=0.0)
    assert env.config.field_length == SCENARIOS["3v3"].config["field_length"]
    with pytest.raises(ValueError, match="team_size"):
        soccer_env.make("3v3", team_size=0)
    with pytest.raises(TypeError):
        soccer_env.make("3v3", not_a_field=1)


def test_env_sizes():
    for T in (1, 2, 5, 11):
        env = SoccerEnv(EnvConfig(team_size=T))
        assert env.team_size == T and env.num_actions == 9 + T
    assert SoccerEnv(EnvConfig(team_size=1)).num_actions == 10
    with pytest.raises(TypeError):
        SoccerEnv({"team_size": 2})
