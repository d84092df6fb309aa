"""One player contract: who plays a team, and one way to name it.

A **player** decides the actions of one team's T players in one unbatched game:

    player.act(player.params, key, state, team) -> int32 [T]     # team 0 left, 1 right (traced)
    player(key, state, team)                                     # the same, params bound

`Player(act, params, name)` keeps the decision rule (`act`, a pure function: jit caches compiled
matches on it) apart from its parameters (a pytree, traced, so a new checkpoint of the same
network reuses the compiled match). Scripted bots are players with `params=None`; trained
policies (`agents.players`) carry their network parameters. A plain bot function
`(key, state, team) -> [T]` becomes a player with `from_bot`.

**Specs** name players everywhere (train.py's `--opponent`, eval.py, the PettingZoo adapter, the
render CLI, leagues, experiments): one grammar, one parser, one error message.

    bot:NAME               a scripted bot of soccer_env.bots (random, chaser, positional)
    bot:NAME:DIFFICULTY    positional with difficulty in [0, 1]
    self                   the policy being trained (training only)
    league                 past snapshots and bots (training only)
    RUN_DIR                a run directory written by train.py (resolved by agents.players)

`parse_spec(spec, allowed=...)` checks a spec for one context; `resolve(spec, env)` turns bot
specs, bot functions and players into players (run directories need `agents.players.resolve`,
which extends this one).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from typing import Any, Callable, NamedTuple

import jax

from soccer_env import bots as bots_lib
from soccer_env.bots import Bot  # (key, state, team) -> int32 [T]
from soccer_env.env import SoccerEnv

# (params, key, state, team) -> int32 [T]; a Player binds it to its params.
Act = Callable[[Any, jax.Array, Any, Any], jax.Array]

KINDS = ("bot", "run", "self", "league")


@dataclasses.dataclass(frozen=True, eq=False)
class Player:
    """A team's decision rule `act(params, key, state, team) -> int32 [T]` and its params.

    Callable with the bots' signature, and `jax.jit`-able as a function (compared and hashed
    by identity: its params are arrays)."""

    act: Act
    params: Any = None
    name: str = "player"

    def __call__(self, key, state, team):
        return self.act(self.params, key, state, team)

    def replace(self, **changes) -> "Player":
        return dataclasses.replace(self, **changes)


class Spec(NamedTuple):
    """A parsed player spec: kind in KINDS; `name` the bot's name or the run directory;
    `params` the bot's parameters ({"difficulty": d} for positional)."""

    kind: str
    name: str
    params: dict


@functools.lru_cache(maxsize=None)
def bot_act(bot: Bot) -> Act:
    """A bot `(key, state, team)` as an `act(params, key, state, team)` that ignores params
    (cached: the same bot gives the same function, so compiled matches are reused)."""

    def act(params, key, state, team):
        del params
        return bot(key, state, team)

    return act


def from_bot(bot: Bot, name: str | None = None) -> Player:
    """A bot function (or any `(key, state, team) -> [T]` callable) as a player."""
    return Player(bot_act(bot), None, name or getattr(bot, "__name__", "bot"))


def describe(allowed) -> str:
    """The allowed forms of a spec for one context, as the error messages say them."""
    forms = {
        "bot": f"'bot:NAME' with NAME in {bots_lib.names()} (or 'bot:positional:DIFFICULTY', "
               "DIFFICULTY in [0, 1])",
        "run": "a run directory written by train.py",
        "self": "'self' (self-play)",
        "league": "'league' (past snapshots and bots)",
    }
    return ", ".join(forms[k] for k in KINDS if k in allowed)


def parse_spec(spec: str, allowed=KINDS, what: str = "opponent") -> Spec:
    """Parse a player spec allowed in this context; ValueError naming `what` and the allowed
    forms otherwise (a run directory must exist)."""
    allowed = tuple(allowed)

    def fail(reason: str = ""):
        raise ValueError(f"{what}={spec!r} is invalid{reason}: allowed {describe(allowed)}")

    if not isinstance(spec, str) or not spec:
        fail()
    if spec in ("self", "league"):
        if spec not in allowed:
            fail(" here")
        return Spec(spec, spec, {})
    if spec.startswith("bot:"):
        if "bot" not in allowed:
            fail(" here")
        parts = spec.split(":")
        if len(parts) > 3 or parts[1] not in bots_lib.names():
            fail()
        params = {}
        if len(parts) == 3:
            try:
                difficulty = float(parts[2])
            except ValueError:
                fail()
            if parts[1] != "positional" or not (math.isfinite(difficulty)
                                                and 0.0 <= difficulty <= 1.0):
                fail()
            params["difficulty"] = difficulty
        return Spec("bot", parts[1], params)
    if os.path.isdir(spec):
        if "run" not in allowed:
            fail(" here (load a run with agents.load_policy(RUN_DIR) and pass the player)")
        return Spec("run", spec, {})
    fail(" (no such run directory)" if "run" in allowed else "")


def bot_player(spec: Spec, env: SoccerEnv) -> Player:
    """The player of a parsed bot spec for games of `env`."""
    bot = bots_lib.get(spec.name, env.config, **spec.params)
    label = f"bot:{spec.name}" + (f":{spec.params['difficulty']:g}" if spec.params else "")
    return Player(bot_act(bot), None, label)


def resolve(spec, env: SoccerEnv, what: str = "opponent") -> Player:
    """A player from a `Player`, a bot function `(key, state, team)`, or a bot spec string.

    Run directories are resolved by `agents.players.resolve` (the policy lives there)."""
    if isinstance(spec, Player):
        return spec
    if callable(spec):
        return from_bot(spec)
    parsed = parse_spec(spec, ("bot",), what)
    return bot_player(parsed, env)
