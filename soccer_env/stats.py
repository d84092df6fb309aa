"""Match statistics between any two players, and the bots' strength table.

    python -m soccer_env.stats 3v3 bot:positional bot:chaser --games 1000
    python -m soccer_env.stats 3v3 --table --games 1024        # docs/game.md's table
    python -m soccer_env.stats 3v3 --ablation --games 1024     # does passing pay?

`head_to_head(env, a, b, key, games)` plays `games` games in one compiled program (a on the left
in the first half, on the right in the rest; soccer_env.match) and summarizes them from a's
side: the goal difference with its 95% interval, win/draw/loss shares and the per-team means
of every match counter.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import jax
import numpy as np

from soccer_env import match, players
from soccer_env.devices import use_all_cores
from soccer_env.bots.positional import PositionalTuning, make_positional
from soccer_env.env import SoccerEnv
from soccer_env.players import Player
from soccer_env.scenarios import scenario_config, scenarios

# Pairings of the strength table (docs/game.md): (spec a, spec b).
TABLE = (
    ("bot:positional", "bot:chaser"),
    ("bot:chaser", "bot:random"),
    ("bot:positional", "bot:random"),
    ("bot:positional", "bot:positional"),
    ("bot:chaser", "bot:chaser"),
    ("bot:positional:0.75", "bot:positional"),
    ("bot:positional:0.5", "bot:positional"),
    ("bot:positional:0.5", "bot:chaser"),
    ("bot:positional:0.25", "bot:chaser"),
    ("bot:positional:0.25", "bot:random"),
)


def summarize(from_a: dict[str, np.ndarray]) -> dict:
    """Summary of counters [games, 2] from a's side (index 0 = a): "goal_diff" [games],
    "mean", "ci95" (half-width of the normal-approximation 95% interval of the mean), "win",
    "draw", "loss" (shares), "goals_for", "goals_against" (means), and "<counter>_a" /
    "<counter>_b", the per-team means of the other counters."""
    diff = (from_a["goals"][:, 0] - from_a["goals"][:, 1]).astype(np.float64)
    ci95 = 1.96 * diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    out = {
        "goal_diff": diff,
        "mean": float(diff.mean()),
        "ci95": float(ci95),
        "win": float(np.mean(diff > 0)),
        "draw": float(np.mean(diff == 0)),
        "loss": float(np.mean(diff < 0)),
        "goals_for": float(from_a["goals"][:, 0].mean()),
        "goals_against": float(from_a["goals"][:, 1].mean()),
    }
    for k, v in from_a.items():
        if k != "goals":
            out[f"{k}_a"] = float(v[:, 0].mean())
            out[f"{k}_b"] = float(v[:, 1].mean())
    return out


def head_to_head(env: SoccerEnv, a: Player, b: Player, key: jax.Array, games: int,
                 steps: int | None = None) -> dict:
    """`summarize` of a against b over `games` games, both sides in one program."""
    return summarize(match.head_to_head(env, a, b, key, games, steps))


def strength_table(scenario: str = "3v3", games: int = 1000, seed: int = 0,
                   steps: int | None = None, pairs=TABLE) -> list[dict]:
    """Head-to-head results of the spec `pairs` in `scenario` (docs/game.md)."""
    env = SoccerEnv(scenario_config(scenario))
    rows = []
    for i, (a, b) in enumerate(pairs):
        start = time.time()
        r = head_to_head(env, players.resolve(a, env), players.resolve(b, env),
                         jax.random.fold_in(jax.random.PRNGKey(seed), i), games, steps)
        r.update(a=a, b=b, seconds=time.time() - start)
        rows.append(r)
    return rows


def format_table(rows: list[dict]) -> str:
    """A markdown table of `strength_table` rows (or any `head_to_head` results with a, b):
    the result, then per team per game (A : B) the match statistics."""
    def pair(r, key, fmt="{:.1f}"):
        return f"{fmt.format(r[key + '_a'])} : {fmt.format(r[key + '_b'])}"

    def share(num, den):
        return f"{num / den:.0%}" if den else "-"

    lines = ["| A | B | goal diff (A - B), 95% CI | A win / draw / loss | goals A : B "
             "| shots (on target) A : B | goals per shot A : B | passes completed / attempted "
             "A : B | passes over 5 / 10 / 15 m, A | tackles A : B | interceptions A : B "
             "| saves A : B | possession A | goals after a pass A : B | goals carried in A : B |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
             "| --- | --- |"]
    for r in rows:
        held = r["possession_steps_a"] + r["possession_steps_b"]
        lines.append(
            f"| {r['a']} | {r['b']} | {r['mean']:+.2f} ± {r['ci95']:.2f} | "
            f"{r['win']:.1%} / {r['draw']:.1%} / {r['loss']:.1%} | "
            f"{r['goals_for']:.2f} : {r['goals_against']:.2f} | "
            f"{r['shots_a']:.1f} ({r['shots_on_target_a']:.1f}) : "
            f"{r['shots_b']:.1f} ({r['shots_on_target_b']:.1f}) | "
            f"{share(r['goals_for'], r['shots_a'])} : {share(r['goals_against'], r['shots_b'])} | "
            f"{r['passes_completed_a']:.1f} / {r['passes_a']:.1f} : "
            f"{r['passes_completed_b']:.1f} / {r['passes_b']:.1f} | "
            f"{r['passes_over_5m_a']:.1f} / {r['passes_over_10m_a']:.1f} / "
            f"{r['passes_over_15m_a']:.1f} | "
            f"{pair(r, 'tackles')} | {pair(r, 'interceptions')} | {pair(r, 'saves')} | "
            f"{share(r['possession_steps_a'], held)} | "
            f"{share(r['goals_after_pass_a'], r['goals_for'])} : "
            f"{share(r['goals_after_pass_b'], r['goals_against'])} | "
            f"{share(r['goals_carried_a'], r['goals_for'])} : "
            f"{share(r['goals_carried_b'], r['goals_against'])} |")
    return "\n".join(lines)


def ablation(scenario: str = "3v3", games: int = 1024, seed: int = 0,
             steps: int | None = None) -> dict:
    """Does passing pay? `bot:positional` against the same bot with passing switched off
    (`PositionalTuning(passing=False)`: where it would pass it dribbles), sides balanced."""
    env = SoccerEnv(scenario_config(scenario))
    full = players.resolve("bot:positional", env)
    no_pass = players.from_bot(
        make_positional(env.config, tuning=PositionalTuning(passing=False)),
        "bot:positional (no passes)")
    start = time.time()
    r = head_to_head(env, full, no_pass, jax.random.PRNGKey(seed), games, steps)
    r.update(a=full.name, b=no_pass.name, seconds=time.time() - start)
    return r


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m soccer_env.stats",
        description="Match statistics of two players (bot specs), or the bots' strength table.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("scenario", nargs="?", default="3v3", help="a registered scenario")
    parser.add_argument("a", nargs="?", default="bot:positional", help="player A: bot:NAME[:D]")
    parser.add_argument("b", nargs="?", default="bot:chaser", help="player B: bot:NAME[:D]")
    parser.add_argument("--table", action="store_true",
                        help="the strength table of docs/game.md instead of one pairing")
    parser.add_argument("--ablation", action="store_true",
                        help="does passing pay: bot:positional against itself without passes")
    parser.add_argument("--games", type=int, default=1000,
                        help="games per pairing (A on each side in half of them)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per game (default: the scenario's max_steps)")
    args = parser.parse_args(argv)
    use_all_cores()  # the games split over one device per core
    try:
        if args.scenario not in scenarios():
            raise ValueError(f"scenario={args.scenario!r} is invalid: allowed one of "
                             f"{scenarios()}")
        if args.table:
            rows = strength_table(args.scenario, args.games, args.seed, args.steps)
        elif args.ablation:
            rows = [ablation(args.scenario, args.games, args.seed, args.steps)]
        else:
            for spec, what in ((args.a, "A"), (args.b, "B")):
                players.parse_spec(spec, ("bot",), what)
            rows = strength_table(args.scenario, args.games, args.seed, args.steps,
                                  pairs=((args.a, args.b),))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.scenario}, {args.games} games per pairing (A on each side in half), seed "
          f"{args.seed}, {args.steps or 'max_steps'} steps")
    print(format_table(rows))
    print(f"total {sum(r['seconds'] for r in rows):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
