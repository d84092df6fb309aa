"""Trained policies as players, and the one resolver of player specs.

`soccer_env.players` defines the contract (`Player(act, params, name)`, called
`player(key, state, team) -> int32 [T]`) and the spec grammar; this module adds what needs the
policy network: a policy as a player, run directories as players, and `resolve` for every spec
kind a caller allows.

    player = resolve("bot:positional", env)                       # a scripted bot
    player = resolve("runs/a", env)                               # a trained run, greedy
    actions = player(key, state, 1)                               # it plays the right team
"""

from __future__ import annotations

from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.players import Player, Spec, bot_player, from_bot, parse_spec

from agents.networks import PolicyNetwork, policy_act
from agents.policy import load_policy


def policy_player(network: PolicyNetwork, params, config: EnvConfig, *, greedy: bool = True,
                  name: str = "policy") -> Player:
    """The policy with these parameters as a player for games of `config`."""
    return Player(policy_act(network, config, greedy), params, name)


def resolve(spec, env: SoccerEnv, allowed=("bot", "run"), what: str = "opponent",
            log=None) -> Player:
    """A player from a spec allowed here ('bot:NAME[:DIFFICULTY]', a run directory), a
    `Player`, or a bot function `(key, state, team)`. ValueError with the allowed forms
    otherwise ('self' and 'league' are training opponents: `TrainConfig.opponent`). `log` gets
    the line saying which checkpoint of a run directory was used."""
    if isinstance(spec, Player):
        return spec
    if callable(spec):
        return from_bot(spec)
    parsed: Spec = parse_spec(spec, allowed, what)
    if parsed.kind == "bot":
        return bot_player(parsed, env)
    if parsed.kind == "run":
        return load_policy(parsed.name, env, log=log)
    raise ValueError(f"{what}={spec!r} names a training opponent, not a player")
