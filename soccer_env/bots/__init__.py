"""Scripted bots: the fixed yardsticks of evaluation, and a vectorized match runner.

A bot is a jittable function `bot(key, state, team) -> int32 [T]`: the actions of one team's T
players (in that team's frame, see `SoccerEnv`) for one unbatched game `state`; `team` is 0 (left)
or 1 (right) and may be traced. Bots work under `jax.vmap` (over games) and inside `lax.scan`,
for any team size 1..11, with inactive players (drills), and output only actions legal under
`SoccerEnv.action_mask` (idle for players off the pitch).

Bots need the pitch (sizes, kick range, ...), which a state's shapes do not tell, so they close
over an `EnvConfig`:

    bot = soccer_env.bots.get("positional", env.config, difficulty=0.5)
    actions = jnp.stack([bot(k0, state, 0), other_bot(k1, state, 1)])   # int32 [2, T]

`config` may be an `EnvConfig` or a `SoccerEnv`; when omitted it is `EnvConfig()` (the 2v2
pitch), and a state of another team size raises a ValueError when the bot is traced.

Registered bots (`names()`; defaults are the strongest settings):
    random      uniform over the legal actions.
    chaser      everyone runs at the ball and shoots when in kick range.
    positional  a keeper (player 0 when T >= 2) on the line between the ball and its goal
                centre; the outfield player nearest the ball plays it (from behind, so that
                touches push it toward goal; on the shot line when the opponent is first to it);
                the others hold a formation shifted with the ball, goal-side of it, forwards
                pushing up in possession. A player in kick range always kicks: shoots when the
                lane is open, passes to an open teammate upfield when pressed (or to one with an
                open shot), and otherwise shoots anyway. `difficulty` in [0, 1] (default 1.0):
                each player's action is replaced, each step, with probability 1 - difficulty by
                a uniformly random legal action (0.0 plays like `random`).

Modules: `bots.common` (the team view, moves, legal actions, geometry helpers), `bots.simple`
(random, chaser), `bots.positional`; this package holds the registry (`BOTS`, `names`, `get`).
`play_match` / `head_to_head` run many vectorized games between any two bots (wrappers over
the match runner `soccer_env.match`); `python -m soccer_env.bots` prints the strength table
recorded in docs/bots.md.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Callable, NamedTuple

import jax
import numpy as np

from soccer_env import match, players
from soccer_env.bots.common import (
    Bot,
    TeamView,
    legalize,
    move_action,
    move_to,
    random_legal,
    team_view,
)
from soccer_env.bots.positional import PositionalTuning, make_positional
from soccer_env.bots.simple import make_chaser, make_random
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.match import MATCH_STATS
from soccer_env.scenarios import scenario_config


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
    "chaser": BotEntry(make_chaser, _no_params, "everyone runs at the ball and shoots in range"),
    "positional": BotEntry(make_positional, _positional_params,
                         "keeper, formation, ball player shooting/passing/dribbling; "
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


# ---------------------------------------------------------------------------------------------
# Matches (thin wrappers over soccer_env.match, kept for now: bots -> match -> players -> bots is
# the one import cycle left, allowed by name in pyproject.toml's import contracts).


def play_match(env: SoccerEnv, bot_left: Bot, bot_right: Bot, key: jax.Array, num_games: int,
               steps: int | None = None) -> dict[str, np.ndarray]:
    """Play `num_games` vectorized games of `env` (no auto-reset), `bot_left` as team 0.

    Each game starts from `env.reset` and lasts `steps` steps (default `env.config.max_steps`),
    or until its episode ends (drills); after a goal a match restarts from a kickoff as usual.
    Returns numpy int32 arrays [num_games, 2] (index 0 = the left team) of MATCH_STATS: "goals",
    "shots", "shots_on_target", "passes", "passes_completed" and "touches". The compiled match
    is cached per (config, bots, steps): reuse the same bot objects (`get` caches them) to avoid
    recompiling.
    """
    counters, _ = match.play(env, players.from_bot(bot_left), players.from_bot(bot_right), key,
                             num_games, steps, games_name="num_games")
    return {k: counters[k] for k in MATCH_STATS}


def head_to_head(env: SoccerEnv, bot_a: Bot, bot_b: Bot, key: jax.Array, num_games: int,
                 steps: int | None = None) -> dict:
    """`bot_a` against `bot_b` over `num_games` vectorized games, `bot_a` on the left in the
    first half of them and on the right in the rest (one compilation for both).

    Returns, from `bot_a`'s side: "goal_diff" [num_games] (numpy), "mean", "ci95" (half-width
    of the normal-approximation 95% interval of the mean), "win", "draw", "loss" (fractions),
    "goals_for", "goals_against" (means), and "<stat>_a" / "<stat>_b", the per-team means of
    the other MATCH_STATS.
    """
    stats = match.head_to_head(env, players.from_bot(bot_a), players.from_bot(bot_b), key,
                               num_games, steps, games_name="num_games")
    diff = (stats["goals"][:, 0] - stats["goals"][:, 1]).astype(np.float64)
    ci95 = 1.96 * diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    out = {
        "goal_diff": diff,
        "mean": float(diff.mean()),
        "ci95": float(ci95),
        "win": float(np.mean(diff > 0)),
        "draw": float(np.mean(diff == 0)),
        "loss": float(np.mean(diff < 0)),
        "goals_for": float(stats["goals"][:, 0].mean()),
        "goals_against": float(stats["goals"][:, 1].mean()),
    }
    for k in MATCH_STATS[1:]:
        out[f"{k}_a"] = float(stats[k][:, 0].mean())
        out[f"{k}_b"] = float(stats[k][:, 1].mean())
    return out


# Pairings of the strength table (docs/bots.md): (bot a, params a, bot b, params b).
TABLE = (
    ("positional", {}, "chaser", {}),
    ("chaser", {}, "random", {}),
    ("positional", {}, "random", {}),
    ("positional", {}, "positional", {}),
    ("chaser", {}, "chaser", {}),
    ("positional", {"difficulty": 0.75}, "positional", {}),
    ("positional", {"difficulty": 0.5}, "positional", {}),
    ("positional", {"difficulty": 0.5}, "chaser", {}),
    ("positional", {"difficulty": 0.25}, "chaser", {}),
    ("positional", {"difficulty": 0.25}, "random", {}),
)


def _label(name, params):
    return name + "".join(f"({k}={v})" for k, v in params.items())


def strength_table(scenario: str = "2v2", num_games: int = 1000, seed: int = 0,
                   steps: int | None = None, pairs=TABLE) -> list[dict]:
    """Head-to-head results of `pairs` in `scenario` (see docs/bots.md)."""
    env = SoccerEnv(scenario_config(scenario))
    rows = []
    for i, (a, pa, b, pb) in enumerate(pairs):
        start = time.time()
        r = head_to_head(env, get(a, env.config, **pa), get(b, env.config, **pb),
                         jax.random.fold_in(jax.random.PRNGKey(seed), i), num_games, steps)
        r.update(a=_label(a, pa), b=_label(b, pb), seconds=time.time() - start)
        rows.append(r)
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| A | B | goal diff (A - B), 95% CI | A win / draw / loss | goals A : B "
             "| shots A : B | passes A : B |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(
            f"| {r['a']} | {r['b']} | {r['mean']:+.2f} ± {r['ci95']:.2f} | "
            f"{r['win']:.1%} / {r['draw']:.1%} / {r['loss']:.1%} | "
            f"{r['goals_for']:.2f} : {r['goals_against']:.2f} | "
            f"{r['shots_a']:.1f} : {r['shots_b']:.1f} | "
            f"{r['passes_a']:.1f} : {r['passes_b']:.1f} |")
    return "\n".join(lines)


__all__ = ["BOTS", "Bot", "BotEntry", "PositionalTuning", "TABLE", "TeamView", "format_table",
           "get", "head_to_head", "legalize", "make_chaser", "make_positional", "make_random",
           "move_action", "move_to", "names", "play_match", "random_legal", "strength_table",
           "team_view"]
