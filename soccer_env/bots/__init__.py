"""Scripted bots: the fixed yardsticks of evaluation.

A bot is a jittable function `bot(key, state, team) -> int32 [T]`: the actions of one team's T
players (in that team's frame, see `SoccerEnv`) for one unbatched game `state`; `team` is 0 (left)
or 1 (right) and may be traced. Bots work under `jax.vmap` (over games) and inside `lax.scan`,
for any team size 1..11, with inactive players (drills), and output only actions legal under
`SoccerEnv.action_mask` (idle for players off the pitch).

Bots need the pitch (sizes, control radius, ...), which a state's shapes do not tell, so they close
over an `EnvConfig`:

    bot = soccer_env.bots.get("positional", env.config, difficulty=0.5)
    actions = jnp.stack([bot(k0, state, 0), other_bot(k1, state, 1)])   # int32 [2, T]

`config` may be an `EnvConfig` or a `SoccerEnv`; when omitted it is `EnvConfig()` (the 2v2
pitch), and a state of another team size raises a ValueError when the bot is traced.

Registered bots (`names()`; defaults are the strongest settings):
    random      uniform over the legal actions.
    chaser      everyone runs at the ball; the one with the ball shoots at once.
    positional  a keeper (player 0 when T >= 2) that positions on the ball's line to its goal,
                catches, and closes down a carrier near its area; off the ball one player
                presses the carrier and the others mark goal-side, the first to reach a loose ball chases it; the carrier shoots, passes
                (led) or dribbles by expected value, the others move into open spots.
                `difficulty` in [0, 1] (default 1.0): each player's action is replaced, each
                step, with probability 1 - difficulty by a uniformly random legal action (0.0
                plays like `random`). docs/bots.md has the details. `positional_act(config)`
                is the same bot with the difficulty as data, `act({"difficulty": d}, key,
                state, team)`, for schedules (TrainConfig.difficulty_step).

Modules: `bots.common` (the team view, moves, legal actions, geometry helpers), `bots.simple`
(random, chaser), `bots.positional`; this package holds the registry (`BOTS`, `names`, `get`).
Matches between bots are played by `soccer_env.match` (bots become players with
`soccer_env.players.resolve("bot:NAME", env)`); `python -m soccer_env.stats 3v3 --table`
prints the strength table recorded in docs/game.md.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

from soccer_env.bots.common import (
    Bot,
    TeamView,
    legalize,
    move_action,
    move_to,
    random_legal,
    team_view,
)
from soccer_env.bots.positional import PositionalTuning, make_positional, positional_act
from soccer_env.bots.simple import make_chaser, make_random
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv


def _no_params(**params):
    if params:
        raise ValueError(f"unexpected parameters {sorted(params)}: this bot takes none")
    return {}


def _positional_params(difficulty: float = 1.0, **rest):
    if rest:
        raise ValueError(f"unexpected parameters {sorted(rest)}: positional takes 'difficulty'")
    if (isinstance(difficulty, bool) or not isinstance(difficulty, (int, float))
            or not math.isfinite(difficulty) or not 0.0 <= difficulty <= 1.0):
        raise ValueError(f"difficulty={difficulty!r} is invalid: allowed a number in [0, 1]")
    return {"difficulty": float(difficulty)}


class BotEntry(NamedTuple):
    """A registered bot: its factory `make(config, **params)`, the check of its parameters
    (returns them normalized, ValueError when bad) and a one-line description."""

    make: Callable[..., Bot]
    params: Callable[..., dict]
    description: str


BOTS: dict[str, BotEntry] = {
    "random": BotEntry(make_random, _no_params, "uniform over the legal actions"),
    "chaser": BotEntry(make_chaser, _no_params, "everyone runs at the ball and shoots with it"),
    "positional": BotEntry(make_positional, _positional_params,
                         "keeper, pressing and marking, carrier shooting/passing/dribbling by "
                         "expected value; "
                         "difficulty in [0, 1]"),
}


def names() -> list[str]:
    """Names of the registered bots."""
    return list(BOTS)


def get(name: str, config: EnvConfig | SoccerEnv | None = None, **params) -> Bot:
    """The bot `name` for games of `config`: a jittable `bot(key, state, team) -> int32 [T]`.

    `config`: the game's `EnvConfig` (or its `SoccerEnv`); `EnvConfig()` when omitted.
    `params`: the bot's parameters (`positional`: `difficulty` in [0, 1], default 1.0).
    The same (name, config, params) returns the same function object, so jitted code that
    closes over it is compiled once. Unknown names or bad parameters raise ValueError.
    """
    if name not in BOTS:
        raise ValueError(f"unknown bot {name!r}; known bots: {names()}")
    if isinstance(config, SoccerEnv):
        config = config.config
    if config is None:
        config = EnvConfig()
    if not isinstance(config, EnvConfig):
        raise ValueError(f"config must be an EnvConfig or a SoccerEnv, got "
                         f"{type(config).__name__}")
    checked = BOTS[name].params(**params)
    return _cached_bot(name, config, tuple(sorted(checked.items())))


@functools.lru_cache(maxsize=None)
def _cached_bot(name, config, params):
    bot = BOTS[name].make(config, **dict(params))
    bot.__name__ = bot.__qualname__ = name
    return bot


__all__ = ["BOTS", "Bot", "BotEntry", "PositionalTuning", "TeamView", "get", "legalize",
           "make_chaser", "make_positional", "make_random", "move_action", "move_to", "names",
           "positional_act", "random_legal", "team_view"]
