"""agents.evaluation and eval.py: intervals, Elo, vectorized matches, eval.json and errors."""

from __future__ import annotations

import json
import math

import jax
import numpy as np
import pytest
import soccer_env
from agents import evaluation
from agents.cli import eval as eval_cli
from soccer_env import players

ENV = soccer_env.make("2v2", max_steps=120)


@pytest.mark.parametrize("k, n, lo, hi", [
    (8, 10, 0.4902, 0.9433),  # standard textbook values (z = 1.96)
    (0, 10, 0.0, 0.2775),
    (50, 100, 0.4038, 0.5962),
])
def test_wilson_interval_known_values(k, n, lo, hi):
    got = evaluation.wilson_interval(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_elo_recovers_the_rating_gap_of_a_known_score():
    # A 75% expected score is a gap of 400 log10(3) = 190.8 Elo points.
    points = np.array([[0.0, 7500.0], [2500.0, 0.0]])
    games = np.array([[0.0, 10000.0], [10000.0, 0.0]])
    ratings = evaluation.elo_ratings(points, games)
    assert ratings[0] - ratings[1] == pytest.approx(400 * math.log10(3), abs=0.5)
    assert ratings.mean() == pytest.approx(1000.0)


def test_elo_orders_a_transitive_league_and_intervals_contain_ratings():
    rng = np.random.default_rng(0)
    true = np.array([0.0, 200.0, 400.0])
    results = {}
    for i in range(3):
        for j in range(i + 1, 3):
            p = 1 / (1 + 10 ** ((true[j] - true[i]) / 400))
            results[(i, j)] = (rng.random(400) < p).astype(float)
    ratings, lo, hi = evaluation.elo_with_intervals(results, 3, samples=50)
    assert list(np.argsort(ratings)) == [0, 1, 2]
    assert np.all(lo <= ratings) and np.all(ratings <= hi)


def test_elo_against_an_anchor_is_the_gap_of_the_score():
    even = evaluation.elo_against({"win": 30, "draw": 40, "loss": 30})
    assert even == pytest.approx(1000.0)
    strong = evaluation.elo_against({"win": 7000, "draw": 1000, "loss": 2000}, anchor=1500.0)
    assert strong == pytest.approx(1500.0 + 400 * math.log10(3), abs=0.5)  # a 75% score
    weak = evaluation.elo_against({"win": 2000, "draw": 1000, "loss": 7000}, anchor=1500.0)
    assert weak == pytest.approx(3000.0 - strong)
    assert math.isfinite(evaluation.elo_against({"win": 128, "draw": 0, "loss": 0}))


def test_elo_bootstrap_of_unvarying_results_collapses_onto_the_rating():
    # Every resample equals the data, so the interval must be the rating itself; a bootstrap
    # that iterates less than the point estimate misses a dominant player's rating.
    results = {(0, 1): np.ones(128), (0, 2): np.ones(128), (1, 2): np.full(128, 0.5)}
    ratings, lo, hi = evaluation.elo_with_intervals(results, 3, samples=5)
    assert ratings[0] > ratings[1] + 500
    np.testing.assert_allclose(lo, ratings, atol=0.01)
    np.testing.assert_allclose(hi, ratings, atol=0.01)


@pytest.fixture(scope="module")
def positional():
    return players.resolve("bot:positional", ENV)


def test_bot_against_itself_is_even(positional):
    out = evaluation.evaluate(ENV, positional, positional, jax.random.PRNGKey(0), games=200)
    assert out["win"] + out["draw"] + out["loss"] == out["games"] == 200
    # Points per game of a bot against itself: 1.5 up to sampling noise, wins ~ losses.
    assert abs(out["win"] - out["loss"]) < 0.2 * out["games"]
    lo, hi = out["win_rate_ci95"]
    assert lo <= out["win_rate"] <= hi


def test_stronger_bot_wins_and_statistics_are_consistent(positional):
    weak = players.resolve("bot:random", ENV)
    out = evaluation.evaluate(ENV, positional, weak, jax.random.PRNGKey(1), games=64)
    assert out["win_rate"] > 0.8 and out["goals_for"] > out["goals_against"]
    left, right = out["by_side"]["left"], out["by_side"]["right"]
    assert left["games"] + right["games"] == out["games"]
    assert left["win"] + right["win"] == out["win"]
    assert 0.0 <= out["possession"] <= 1.0 and 0.0 <= out["pass_completion"] <= 1.0


def test_a_drill_is_evaluated_on_its_attacking_side():
    """In a drill the right team only defends: by default every game puts the evaluated
    player on the left (the attackers), and both_sides=True still splits them."""
    env = soccer_env.make("3v1_with_keeper")
    bot = players.resolve("bot:positional", env)
    out = evaluation.evaluate(env, bot, bot, jax.random.PRNGKey(2), games=16)
    assert out["games_as_left"] == out["games"] == 16 and list(out["by_side"]) == ["left"]
    assert out["goals_for"] > out["goals_against"]  # the attackers score, the defenders hardly
    both = evaluation.evaluate(env, bot, bot, jax.random.PRNGKey(2), games=16, both_sides=True)
    assert both["games_as_left"] == 8 and set(both["by_side"]) == {"left", "right"}
    assert evaluation.evaluate(env, bot, bot, jax.random.PRNGKey(2), games=1)["games"] == 1


def test_evaluate_rejects_too_few_games(positional):
    with pytest.raises(ValueError, match="games"):
        evaluation.evaluate(ENV, positional, positional, jax.random.PRNGKey(0), games=1)


def test_eval_cli_rejects_bad_input_and_writes_nothing(tmp_path, capsys):
    run_dir = tmp_path / "not_a_run"
    run_dir.mkdir()
    assert eval_cli.main([str(run_dir)]) == 2
    assert "config.json" in capsys.readouterr().err
    assert list(run_dir.iterdir()) == []
    (run_dir / "config.json").write_text(json.dumps({"train": {}}))
    assert eval_cli.main([str(run_dir), "--opponent", "bot:nobody"]) == 2
    err = capsys.readouterr().err
    assert "--opponent='bot:nobody' is invalid" in err and "run directory" in err
    assert "self" not in err  # eval.py's opponents: bots and runs only
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json"]


def test_eval_cli_rejects_a_bad_replay_path_and_writes_nothing(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps({"train": {}, "env": ENV.config.to_dict()}))
    for args in ([str(run_dir), "--replay", str(tmp_path / "match.gif")],
                 ["--league", str(run_dir), "--bots", "--replay", str(tmp_path / "m.html")]):
        with pytest.raises(SystemExit) as exc:
            eval_cli.main(args)
        assert exc.value.code == 2
        assert "--replay" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in run_dir.iterdir()) == ["config.json"]
