"""Run directories written by train.py: their configuration and their trained policy.

    run = read_run("runs/a")                        # SavedRun: TrainConfig, EnvConfig, options
    player = agents.load_policy("runs/a")           # greedy; a soccer_env.players.Player
    actions = player(key, state, 1)                 # plays the right team in its frame

`read_run` is the one reader of a run's config.json (train.py --resume, eval.py and
`load_policy` all use it), and `Checkpoints.restore` the one rule for which checkpoint is used.
Trained policies and scripted bots are interchangeable: evaluation, leagues and the PettingZoo
adapter's opponent all take either.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import jax
import jax.numpy as jnp

from agents.checkpoint import CheckpointError, Checkpoints, read_run_config
from agents.networks import make_policy, policy_act
from agents.trainer import TrainConfig
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.jsonio import from_json_dict
from soccer_env.players import Player


class SavedRun(NamedTuple):
    """What config.json of a run directory says: the preset name, the TrainConfig, the game's
    EnvConfig and the run options (a dict, as train.py wrote them)."""

    preset: str
    train: TrainConfig
    env: EnvConfig
    run: dict


def read_run(run_dir: str) -> SavedRun:
    """The configuration of a run directory (CheckpointError naming the file and the field
    when it cannot be read). Fields that a newer version added take their defaults."""
    saved = read_run_config(run_dir)
    path = os.path.join(run_dir, "config.json")
    try:
        train = from_json_dict(TrainConfig, saved["train"], source=f"{path} ['train']")
        env = (from_json_dict(EnvConfig, saved["env"], source=f"{path} ['env']")
               if "env" in saved else train.env_config())
    except ValueError as exc:
        raise CheckpointError(str(exc)) from exc
    run = saved.get("run", {})
    if not isinstance(run, dict):
        raise CheckpointError(f"{path} ['run'] is not a JSON object")
    return SavedRun(str(saved.get("preset", "")), train, env, run)


def load_policy_params(run_dir: str, env: SoccerEnv | None = None, seed: int = 0,
                       step: int | None = None, log=None):
    """(network, params, env_config) of the latest usable checkpoint of `run_dir`.

    `env`, when given, must play the same game size as the run (team size, observation and
    action sizes); otherwise a ValueError says what differs. `log`, when given, gets one line
    saying which checkpoint was used (and why newer ones were not).
    """
    saved = read_run(run_dir)
    config, env_config = saved.train, saved.env
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
    seeds = int(saved.run.get("seeds", 1))
    if not 0 <= seed < seeds:
        raise ValueError(f"seed={seed} is invalid: the run trained seeds 0..{seeds - 1}")
    abstract = jax.eval_shape(
        jax.vmap(lambda k: network.init(k, run_env.obs_dim,
                                        run_env.state_dim if critic else None)),
        jax.ShapeDtypeStruct((seeds, 2), jnp.uint32))
    checkpoints = Checkpoints(run_dir, read_only=True)
    try:
        restored = checkpoints.restore(abstract_policy=abstract, step=step, log=log)
        if log is not None and not restored.skipped:
            log(f"{run_dir}: {restored.message}")
        params = restored.policy
    finally:
        checkpoints.close()
    params = jax.tree.map(lambda x: jnp.asarray(x[seed]), params)
    return network, params, env_config


def load_policy(run_dir: str, env: SoccerEnv | None = None, *, sample: bool = False,
                seed: int = 0, step: int | None = None, log=None) -> Player:
    """The trained policy of `run_dir` as a player, callable with the bots' signature
    `(key, state, team) -> int32 [T]`.

    It observes the state in `team`'s frame and acts greedily unless `sample=True`. `seed`
    picks one of the run's `--seeds`; `step` a checkpoint (default: the latest usable one);
    `log` gets the line saying which checkpoint was used.
    """
    network, params, env_config = load_policy_params(run_dir, env, seed, step, log)
    config = env.config if env is not None else env_config
    return Player(policy_act(network, config, not sample), params, run_dir)
