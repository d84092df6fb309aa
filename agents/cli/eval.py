"""Evaluate trained policies: win rates with intervals, match statistics, Elo, match replays.

    python eval.py RUN_DIR                                   # 1000 games vs bot:positional
    python eval.py RUN_DIR --opponent bot:chaser --games 200 --gif match.gif
    python eval.py RUN_DIR --replay match.html               # a match to play in a browser
    python eval.py RUN_DIR --opponent OTHER_RUN_DIR
    python eval.py --league RUN_A RUN_B ... [--bots]         # round robin, Elo with intervals

A single evaluation plays the games vectorized in one jitted program, half on each side, prints
a table and writes RUN_DIR/eval_vs_<opponent>.json (or --out); RUN_DIR/eval.json stays the
training's own final evaluation. --gif and --replay record one more match against the opponent
(the run as the left, blue team) and write it as a GIF and as a self-contained HTML page with
play/pause, a timeline and speeds (soccer_env.render). Nothing is written when an input is
invalid.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

import jax
import numpy as np

from agents import evaluation
from agents import players
from agents.checkpoint import CheckpointError
from agents.policy import read_run
from soccer_env import bots as bots_lib
from soccer_env import match
from soccer_env.devices import use_all_cores
from soccer_env.env import SoccerEnv
from soccer_env.render import save_gif, save_replay


def _parse(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.strip().splitlines()[2:]))
    p.add_argument("run_dir", nargs="?", help="run directory written by train.py")
    p.add_argument("--opponent", default="bot:positional",
                   help="bot:NAME[:DIFFICULTY] (NAME: random, chaser, positional) or RUN_DIR")
    p.add_argument("--games", type=int, default=1000, help="games to play (half on each side)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--gif", default=None, help="also write one match as a GIF here")
    p.add_argument("--replay", default=None, metavar="PATH.html",
                   help="also write one match as a self-contained HTML replay page here")
    p.add_argument("--league", nargs="+", metavar="RUN_DIR", default=None,
                   help="round robin among these runs; prints Elo ratings with intervals")
    p.add_argument("--bots", action="store_true",
                   help="with --league: add the scripted bots to the round robin")
    p.add_argument("--out", default=None,
                   help="write the results JSON here (default RUN_DIR/eval_vs_<opponent>.json; "
                        "with --league: not written unless given)")
    args = p.parse_args(argv)
    if args.games < 2:
        p.error(f"--games={args.games} is invalid: allowed an integer >= 2")
    if args.league is None and args.run_dir is None:
        p.error("give a RUN_DIR to evaluate, or --league RUN_DIR ...")
    if args.league is not None and args.run_dir is not None:
        p.error("give either a RUN_DIR or --league RUN_DIR ..., not both")
    if args.replay is not None and not args.replay.lower().endswith((".html", ".htm")):
        p.error(f"--replay={args.replay!r} is invalid: allowed a path ending in .html or .htm")
    if args.league is not None and (args.gif or args.replay):
        p.error("--gif and --replay record a match of a RUN_DIR evaluation, not of --league")
    if args.league is not None and len(args.league) + (3 if args.bots else 0) < 2:
        p.error("--league needs at least two players (runs, or one run and --bots)")
    return args


def _players(specs: list[str], env):
    """The players of `specs` (bot specs or run directories) for games of `env`."""
    def say(line):
        print(line, file=sys.stderr, flush=True)

    return [players.resolve(spec, env, ("bot", "run"), "--opponent", log=say) for spec in specs]


def _run_env(run_dir):
    """The game a run directory was trained on (CheckpointError when unreadable)."""
    return SoccerEnv(read_run(run_dir).env)


def default_output(run_dir: str, opponent: str) -> str:
    """RUN_DIR/eval_vs_<opponent>.json: a name that says what was evaluated (never the
    training's own RUN_DIR/eval.json)."""
    label = opponent.rstrip("/\\")
    if not label.startswith("bot:"):
        label = "run-" + os.path.basename(os.path.abspath(label))
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", label.replace(":", "-")).strip("-")
    return os.path.join(run_dir, f"eval_vs_{slug}.json")


def format_table(result: dict) -> str:
    lo, hi = result["win_rate_ci95"]
    rows = [("games", f"{result['games']}"),
            ("win / draw / loss", f"{result['win']} / {result['draw']} / {result['loss']}"),
            ("win rate (95% CI)", f"{result['win_rate']:.1%} ({lo:.1%} - {hi:.1%})"),
            ("goals for / against", f"{result['goals_for']:.2f} / {result['goals_against']:.2f}"),
            ("passes per game (completed)", f"{result['passes_per_game']:.2f} "
             f"({result['passes_completed_per_game']:.2f})"),
            ("pass completion", f"{result['pass_completion']:.1%}"),
            ("shots per game (on target)", f"{result['shots_per_game']:.2f} "
             f"({result['shots_on_target_per_game']:.2f})"),
            ("goals per shot", f"{result['goals_per_shot']:.1%}"),
            ("goals right after a pass", f"{result['goals_after_pass_share']:.1%}"),
            ("goals carried over the line", f"{result['goals_carried_share']:.1%}"),
            ("tackles / interceptions / saves",
             f"{result['tackles_per_game']:.2f} / {result['interceptions_per_game']:.2f} / "
             f"{result['saves_per_game']:.2f}"),
            ("possession", f"{result['possession']:.1%}"),
            ("keeper in own third", f"{result['keeper_home_share']:.1%}")]
    for side, s in result["by_side"].items():
        rows.append((f"as {side}: win rate", f"{s['win_rate']:.1%} of {s['games']}"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def evaluate_run(run_dir: str, opponent: str, games: int, seed: int = 0,
                 gif: str | None = None, replay: str | None = None,
                 out: str | None = None) -> tuple[dict, str]:
    """Evaluate the policy of `run_dir` against `opponent`; returns (result, path written):
    `out`, default `default_output(run_dir, opponent)`. `gif` and `replay` (paths) write one
    recorded match, the run playing left, as a GIF and as an HTML replay."""
    players.parse_spec(opponent, ("bot", "run"), "--opponent")  # before anything is loaded
    env = _run_env(run_dir)
    player, rival = _players([run_dir, opponent], env)
    result = evaluation.evaluate(env, player, rival, jax.random.PRNGKey(seed), games=games)
    result = {"run": run_dir, "opponent": rival.name, **result}
    path = out or default_output(run_dir, opponent)
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    if gif or replay:
        trajectory, _ = match.record(env, player, rival, jax.random.PRNGKey(seed + 1))
        if gif:
            save_gif(trajectory, gif, config=env.config)
        if replay:
            save_replay(trajectory, replay, config=env.config,
                        title=f"{run_dir} (blue) vs {rival.name} (red)")
    return result, path


def league(run_dirs: list[str], games: int, bots: bool, seed: int = 0) -> dict:
    """Round robin among runs (and bots); Elo ratings with bootstrap 95% intervals."""
    env = _run_env(run_dirs[0])
    specs = list(run_dirs) + ([f"bot:{b}" for b in bots_lib.names()] if bots else [])
    roster = _players(specs, env)
    n = len(roster)
    results, matrix = {}, [[None] * n for _ in range(n)]
    key = jax.random.PRNGKey(seed)
    for i in range(n):
        for j in range(i + 1, n):
            key, sub = jax.random.split(key)
            counters = match.head_to_head(env, roster[i], roster[j], sub, games)
            out = evaluation.outcomes(counters)
            results[(i, j)] = out
            matrix[i][j] = float(out.mean())
            matrix[j][i] = float(1 - out.mean())
    ratings, lo, hi = evaluation.elo_with_intervals(results, n, seed=seed)
    order = np.argsort(-ratings)
    return {
        "players": [p.name for p in roster],
        "games_per_pair": games,
        "elo": [{"player": roster[i].name, "elo": float(ratings[i]), "ci95": [float(lo[i]),
                 float(hi[i])]} for i in order],
        "score_matrix": matrix,
    }


def main(argv=None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    use_all_cores()  # the games split over one device per core
    try:
        if args.league is not None:
            out = league(args.league, args.games, args.bots, args.seed)
            width = max(len(e["player"]) for e in out["elo"])
            print(f"{'player':<{width}}  {'Elo':>6}  95% interval")
            for e in out["elo"]:
                print(f"{e['player']:<{width}}  {e['elo']:6.0f}  [{e['ci95'][0]:.0f}, "
                      f"{e['ci95'][1]:.0f}]")
            print("\nscore of row against column (win 1, draw 1/2):")
            names = [f"#{i}" for i in range(len(out["players"]))]
            for i, p in enumerate(out["players"]):
                print(f"  #{i} {p}")
            print("     " + " ".join(f"{nm:>6}" for nm in names))
            for i, row in enumerate(out["score_matrix"]):
                cells = " ".join("     -" if v is None else f"{v:6.2f}" for v in row)
                print(f"{names[i]:>4} {cells}")
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(out, f, indent=2)
            return 0
        result, path = evaluate_run(args.run_dir, args.opponent, args.games, args.seed,
                                    args.gif, args.replay, args.out)
    except (ValueError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.run_dir} against {result['opponent']}:")
    print(format_table(result))
    written = [path, args.gif, args.replay]
    print("wrote " + ", ".join(w for w in written if w))
    return 0


if __name__ == "__main__":
    sys.exit(main())
