"""Evaluation of players: win/draw/loss with Wilson intervals, match statistics and Elo.

Players are `soccer_env.players.Player`s (scripted bots, trained policies); every game is a
full episode from `env.reset` (no auto-reset), half with each side (in a drill, all on the
attacking left side), all of them played by the one match runner `soccer_env.match` in one
compiled program.

    stats = evaluate(env, agents.load_policy("runs/a"), players.resolve("bot:positional", env),
                     key, games=1000)
"""

from __future__ import annotations

import math

import jax
import numpy as np

from soccer_env import match
from soccer_env.env import SoccerEnv
from soccer_env.layouts import LAYOUTS
from soccer_env.players import Player


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% for z = 1.96)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(for_side: dict[str, np.ndarray], games_as: np.ndarray) -> dict:
    """eval.json-style statistics from counters seen from one player's side.

    for_side: counters [games, 2] with index 0 = the evaluated player, 1 = the opponent.
    games_as: [games] 0 where the evaluated player was the left team, 1 where right.
    """
    goals = for_side["goals"]
    diff = goals[:, 0] - goals[:, 1]
    games = int(len(diff))
    win, draw, loss = int(np.sum(diff > 0)), int(np.sum(diff == 0)), int(np.sum(diff < 0))
    passes = for_side["passes"][:, 0].sum()
    possession = for_side["possession_steps"].astype(np.float64)
    held = possession.sum()
    goals_for = goals[:, 0].sum()
    shots = for_side["shots"][:, 0].sum()
    steps = for_side["steps"][:, 0].sum()
    return {
        "games": games,
        "win": win,
        "draw": draw,
        "loss": loss,
        "win_rate": win / games,
        "win_rate_ci95": list(wilson_interval(win, games)),
        "points_per_game": (3 * win + draw) / games,
        "goals_for": float(goals[:, 0].mean()),
        "goals_against": float(goals[:, 1].mean()),
        "goal_diff": float(diff.mean()),
        "passes_per_game": float(for_side["passes"][:, 0].mean()),
        "passes_completed_per_game": float(for_side["passes_completed"][:, 0].mean()),
        "pass_completion": float(for_side["passes_completed"][:, 0].sum() / passes)
        if passes else 0.0,
        **{f"{k}_per_game": float(for_side[k][:, 0].mean())
           for k in ("passes_over_5m", "passes_over_10m", "passes_over_15m", "interceptions",
                     "tackles", "saves")},
        "shots_per_game": float(for_side["shots"][:, 0].mean()),
        "shots_on_target_per_game": float(for_side["shots_on_target"][:, 0].mean()),
        "goals_per_shot": float(goals_for / shots) if shots else 0.0,
        "possession": float(possession[:, 0].sum() / held) if held else 0.5,
        "goals_after_pass_share": float(for_side["goals_after_pass"][:, 0].sum() / goals_for)
        if goals_for else 0.0,
        "goals_carried_share": float(for_side["goals_carried"][:, 0].sum() / goals_for)
        if goals_for else 0.0,
        "keeper_home_share": float(for_side["keeper_home_steps"][:, 0].sum() / steps)
        if steps else 0.0,
        "games_as_left": int(np.sum(games_as == 0)),
    }


def evaluate(env: SoccerEnv, player: Player, opponent: Player, key: jax.Array,
             games: int = 1000, steps: int | None = None, both_sides: bool | None = None) -> dict:
    """Evaluate `player` against `opponent` over `games` games, half on each side (one
    compiled program for both sides), or all on the left with `both_sides=False`. The default
    (None) is both sides in a match and the left, attacking side in a drill (a layout that is
    not `symmetric`: the right team only defends there).

    Returns the eval.json statistics (see `summarize`) plus "by_side": the same split into
    games played as the left and as the right team (only "left" when all were on the left).
    """
    if both_sides is None:
        both_sides = LAYOUTS[env.config.layout].symmetric
    least = 2 if both_sides else 1
    if not isinstance(games, (int, np.integer)) or games < least:
        raise ValueError(f"games={games!r} is invalid: allowed an integer >= {least}"
                         + (" (half are played on each side)" if both_sides else ""))
    counters = match.head_to_head(env, player, opponent, key, games, steps,
                                  both_sides=both_sides)
    half = games // 2 if both_sides else games
    sides = (np.arange(games) >= half).astype(int)
    out = summarize(counters, sides)
    out["by_side"] = {"left": summarize({k: v[:half] for k, v in counters.items()}, sides[:half])}
    if both_sides:
        out["by_side"]["right"] = summarize({k: v[half:] for k, v in counters.items()},
                                            sides[half:])
    return out


def merge_matches(parts: list[dict]) -> dict:
    """Statistics of several `evaluate` results of the same pairing together (compact:
    the totals, win rate and the per-game means)."""
    games = sum(p["games"] for p in parts)

    def total(key, weight=lambda p: p["games"]):
        return sum(p[key] * weight(p) for p in parts)

    passes = total("passes_per_game")
    goals = total("goals_for")
    out = {k: sum(p[k] for p in parts) for k in ("games", "win", "draw", "loss")}
    if all("games_as_left" in p for p in parts):  # (older results lack it)
        out["games_as_left"] = sum(p["games_as_left"] for p in parts)
    out["win_rate"] = out["win"] / games
    for k in ("goals_for", "goals_against", "passes_per_game", "shots_per_game", "possession"):
        out[k] = total(k) / games
    if all("passes_completed_per_game" in p for p in parts):  # (older results lack it)
        out["passes_completed_per_game"] = total("passes_completed_per_game") / games
    out["pass_completion"] = (total("pass_completion", lambda p: p["passes_per_game"]
                                    * p["games"]) / passes) if passes else 0.0
    out["goals_after_pass_share"] = (total("goals_after_pass_share", lambda p: p["goals_for"]
                                           * p["games"]) / goals) if goals else 0.0
    return out


# --- Elo ----------------------------------------------------------------------------------------


def elo_ratings(points: np.ndarray, games: np.ndarray, iters: int = 2000,
                anchor: float = 1000.0) -> np.ndarray:
    """Elo ratings from a round robin by maximum likelihood (Bradley-Terry).

    points[i, j]: points player i scored against j (win 1, draw 1/2, loss 0), summed over
    games[i, j] games (symmetric). Returns ratings whose mean is `anchor`; a 400-point gap means
    10:1 expected odds. A player that won or lost everything gets a finite rating through a
    weak prior (one draw against a virtual average player).
    """
    points = np.asarray(points, np.float64)
    games = np.asarray(games, np.float64)
    n = len(points)
    if points.shape != (n, n) or games.shape != (n, n):
        raise ValueError(f"points and games must both be [n, n], got {points.shape} and "
                         f"{games.shape}")
    strength = np.ones(n)
    wins = points.sum(axis=1) + 0.5  # the prior's half point
    for _ in range(iters):
        denom = (games / (strength[:, None] + strength[None, :])).sum(axis=1) + 1.0 / (
            strength + 1.0)
        new = wins / denom
        new /= np.exp(np.mean(np.log(new)))
        if np.max(np.abs(new - strength)) < 1e-12:
            strength = new
            break
        strength = new
    ratings = 400.0 * np.log10(strength)
    return ratings - ratings.mean() + anchor


def elo_against(result: dict, anchor: float = 1000.0) -> float:
    """Elo of a player from its results (the `win`, `draw`, `loss` counts of `evaluate`)
    against one opponent rated `anchor` (same weak prior as `elo_ratings`)."""
    points = np.array([[0.0, result["win"] + 0.5 * result["draw"]],
                       [result["loss"] + 0.5 * result["draw"], 0.0]])
    games = np.full((2, 2), float(result["win"] + result["draw"] + result["loss"]))
    np.fill_diagonal(games, 0.0)
    ratings = elo_ratings(points, games)
    return float(anchor + ratings[0] - ratings[1])


def elo_with_intervals(results: dict, n: int, samples: int = 200, seed: int = 0):
    """Ratings and bootstrap 95% intervals from per-pair game outcomes.

    results: {(i, j): array of per-game outcomes for i against j in {1, 0.5, 0}}.
    Returns (ratings [n], lo [n], hi [n]); the bootstrap resamples the games of each pair.
    """
    def matrices(sample):
        points = np.zeros((n, n))
        games = np.zeros((n, n))
        for (i, j), outcomes in sample.items():
            points[i, j] += outcomes.sum()
            points[j, i] += (1 - outcomes).sum()
            games[i, j] += len(outcomes)
            games[j, i] += len(outcomes)
        return points, games

    ratings = elo_ratings(*matrices(results))
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(samples):
        resampled = {k: rng.choice(v, size=len(v), replace=True) for k, v in results.items()}
        boot.append(elo_ratings(*matrices(resampled)))  # as many iterations as the estimate
    boot = np.asarray(boot)
    return ratings, np.percentile(boot, 2.5, axis=0), np.percentile(boot, 97.5, axis=0)


def outcomes(for_side: dict[str, np.ndarray]) -> np.ndarray:
    """Per-game points (1 win, 0.5 draw, 0 loss) of side 0 from counters [games, 2]."""
    goals = for_side["goals"]
    return np.where(goals[:, 0] > goals[:, 1], 1.0, np.where(goals[:, 0] == goals[:, 1], 0.5, 0.0))
