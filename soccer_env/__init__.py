"""soccer_env: a jittable multi-agent 2D soccer game in JAX.

    import soccer_env
    env = soccer_env.make("2v2")
    obs, state = env.reset(key)
    obs, state, reward, done, info = env.step(key, state, actions)
"""

from soccer_env import bots, devices, match
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.scenarios import SCENARIOS, scenario_config, scenarios
from soccer_env.types import State, mirror


def make(name: str = "2v2", **overrides) -> SoccerEnv:
    """A registered scenario (see `scenarios()`), with some `EnvConfig` fields overridden."""
    return SoccerEnv(scenario_config(name, **overrides))


__all__ = ["EnvConfig", "SoccerEnv", "State", "bots", "devices", "make", "match", "mirror", "scenarios",
           "scenario_config", "SCENARIOS"]
