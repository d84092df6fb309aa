"""Load a trained policy from a run directory as a bot: `(key, state, team) -> int32 [T]`.

    bot = agents.load_policy("runs/default-...")          # greedy
    actions = bot(key, state, 1)                          # plays the right team in its frame

Trained policies and scripted bots are interchangeable: evaluation, leagues and the PettingZoo
adapter's opponent all take either.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from agents.checkpoint import CheckpointError, Checkpoints, read_run_config
from agents.networks import make_policy
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv


def train_config_from_dict(data: dict):
    """Inverse of `TrainConfig.to_dict` (JSON turns tuples into lists)."""
    from agents.trainer import TrainConfig

    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CheckpointError(f"config.json has unknown TrainConfig fields {unknown}")
    data = dict(data)
    if "hidden_sizes" in data:
        data["hidden_sizes"] = tuple(data["hidden_sizes"])
    if "env_overrides" in data:
        data["env_overrides"] = tuple(tuple(kv) for kv in data["env_overrides"])
    return TrainConfig(**data)


def load_policy_params(run_dir: str, env: SoccerEnv | None = None, seed: int = 0,
                       step: int | None = None):
    """(network, params, env_config) of the latest usable checkpoint of `run_dir`.

    `env`, when given, must play the same game size as the run (team size, observation and
    action sizes); otherwise a ValueError says what differs.
    """
    saved = read_run_config(run_dir)
    config = train_config_from_dict(saved["train"])
    env_config = EnvConfig.from_dict(saved["env"]) if "env" in saved else config.env_config()
    run_env = SoccerEnv(env_config)
    if env is not None:
        if env.team_size != run_env.team_size or env.obs_dim != run_env.obs_dim:
            raise ValueError(
                f"{run_dir!r} was trained on {config.scenario!r} with team_size="
                f"{run_env.team_size} (obs_dim {run_env.obs_dim}); it cannot play a game with "
                f"team_size={env.team_size} (obs_dim {env.obs_dim})")
    critic = config.advantage == "critic"
    network = make_policy(run_env.num_actions, hidden_sizes=config.hidden_sizes,
                          activation=config.activation,
                          value_outputs=run_env.team_size if critic else 0)
    seeds = int(saved.get("run", {}).get("seeds", 1))
    if not 0 <= seed < seeds:
        raise ValueError(f"seed={seed} is invalid: the run trained seeds 0..{seeds - 1}")
    abstract = jax.eval_shape(
        jax.vmap(lambda k: network.init(k, run_env.obs_dim,
                                        run_env.state_dim if critic else None)),
        jax.ShapeDtypeStruct((seeds, 2), jnp.uint32))
    checkpoints = Checkpoints(run_dir, read_only=True)
    try:
        _, _, params, _ = checkpoints.restore(abstract_policy=abstract, step=step)
    finally:
        checkpoints.close()
    params = jax.tree.map(lambda x: jnp.asarray(x[seed]), params)
    return network, params, env_config


def load_policy(run_dir: str, env: SoccerEnv | None = None, *, sample: bool = False,
                seed: int = 0):
    """The trained policy of `run_dir` with the bot signature `(key, state, team) -> [T]`.

    It observes the state in `team`'s frame and acts greedily unless `sample=True`.
    """
    network, params, env_config = load_policy_params(run_dir, env, seed)
    play_env = env if env is not None else SoccerEnv(env_config)

    def bot(key, state, team):
        obs = play_env.observe(state)[team]
        mask = play_env.action_mask(state)[team]
        actions, _ = network.act(key, params, obs, mask, greedy=not sample)
        return actions

    return bot
