"""Registered scenarios: names for sets of `EnvConfig` fields.

`make("2v2")` is `SoccerEnv(EnvConfig(**SCENARIOS["2v2"].config))`. A scenario picks a layout
(`EnvConfig.layout`, the initial-state distribution, see `soccer_env.layouts`), the pitch, the
episode length and whether a goal or a turnover ends the episode (the academy drills).
"""

from __future__ import annotations

import dataclasses

from soccer_env.config import EnvConfig


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    config: dict


_MATCH = dict(layout="match", boundary="rules", goal_ends_episode=False,
              turnover_ends_episode=False)
_DRILL = dict(goal_ends_episode=True, turnover_ends_episode=True)
_SMALL_PITCH = dict(field_length=20.0, field_width=13.0, goal_width=4.0)

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        Scenario("1v1", "Full match, one player a side, 16 x 10 m pitch.",
                 dict(_MATCH, team_size=1, field_length=16.0, field_width=10.0, goal_width=3.0,
                      max_steps=300)),
        Scenario("2v2", "Full match, two a side (keeper + field player), 20 x 13 m pitch.",
                 dict(_MATCH, team_size=2, **_SMALL_PITCH, max_steps=600)),
        Scenario("3v3", "Full match, three a side (keeper + two outfield players), 26 x 17 m "
                 "pitch, 60 s.",
                 dict(_MATCH, team_size=3, field_length=26.0, field_width=17.0, goal_width=5.0,
                      max_steps=600)),
        Scenario("5v5", "Full match, five a side, 40 x 25 m pitch.",
                 dict(_MATCH, team_size=5, field_length=40.0, field_width=25.0, goal_width=6.0,
                      max_steps=600)),
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


def scenario_config(name: str, **overrides) -> EnvConfig:
    """The `EnvConfig` of a registered scenario, with some fields overridden."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; known scenarios: {scenarios()}")
    return EnvConfig(**{**SCENARIOS[name].config, **overrides})


def config_for_team_size(team_size: int) -> EnvConfig:
    """The registered full-match scenario of this team size, else `EnvConfig(team_size=T)`."""
    for name, scenario in SCENARIOS.items():
        cfg = scenario.config
        if cfg.get("team_size") == team_size and cfg.get("layout", "match") == "match":
            return scenario_config(name)
    return EnvConfig(team_size=team_size)
