"""experiments/: the presets share one budget, the gradient-variance estimator recovers known
variances, and the quick study runs end to end and writes the report's tables."""

from __future__ import annotations

import dataclasses
import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import soccer_env
from agents import evaluation
from experiments import passmap, presets, report, study
from soccer_env import match, players
from experiments.grad_variance import relative_variance

# --- presets: one loss, network and budget ------------------------------------------------------


def test_presets_share_the_default_game_and_budget():
    from agents import presets as registry
    from agents.runner import prepare
    from agents.trainer import TrainConfig

    defaults = TrainConfig()
    assert (presets.DEFAULT_GAMES, presets.DEFAULT_GROUP, presets.DEFAULT_HORIZON) == (
        defaults.num_games, defaults.group_size, defaults.horizon)
    # The default preset's game, reward, network and warm start.
    assert presets.BASE_TRAIN == registry.get("default").train == registry.DEFAULT_TRAIN
    configs = {}
    for m in presets.METHODS:
        # Registered through the entry point (train.py does not import experiments).
        config, run = registry.get(f"exp-{m}").configs()
        config = prepare(config, run)
        # The study's own config of the method (learning rate annealed over its updates).
        assert config == study.StudyConfig().train_config(m)
        configs[m] = config
        assert run.total_steps == presets.FULL_UPDATES * 8192 and run.seeds >= 5
    steps = {c.num_games * c.group_size * c.horizon for c in configs.values()}
    assert steps == {8192}
    # Only the advantage estimator and the batch shape it needs differ.
    varying = {"advantage", "group_size", "num_games"}
    reference = dataclasses.asdict(configs["grpo"])
    for c in configs.values():
        diff = {k for k, v in dataclasses.asdict(c).items() if reference[k] != v}
        assert diff <= varying, diff
    assert configs["grpo"] == registry.get("default").configs()[0].replace(
        lr_anneal_updates=configs["grpo"].lr_anneal_updates)  # the default preset's estimator
    assert configs["grpo-branch"].advantage == "grpo-branch"
    assert configs["grpo-team"].group_size == 1 and configs["grpo-team"].advantage == "grpo"
    assert configs["absolute"].advantage == "absolute" and configs["critic"].advantage == "critic"


def test_study_config_validates_and_cli_overrides():
    with pytest.raises(ValueError, match="StudyConfig.methods"):
        study.StudyConfig(methods=("grpo", "ppo"))
    with pytest.raises(ValueError, match="StudyConfig.updates"):
        study.StudyConfig(updates=10, eval_points=4)
    with pytest.raises(ValueError, match="StudyConfig.final_games"):
        study.StudyConfig(eval_games=128, final_games=200)
    with pytest.raises(ValueError, match="StudyConfig.settings.*3v1_with_keeper"):
        study.StudyConfig(settings=("3v3", "4v4"))
    with pytest.raises(ValueError, match="StudyConfig.drill_updates"):
        study.StudyConfig(drill_updates=10, eval_points=4)
    assert [study.is_drill(s) for s in study.SETTINGS] == [False, True, True]
    assert study.StudyConfig().setting_updates("3v1_with_keeper") == presets.DRILL_UPDATES
    full = study.config_from_args(study._parse([]))
    assert full.seeds >= 5 and full.variance_batches >= 32 and not full.fast_compile
    quick = study.config_from_args(study._parse(["--quick", "--steps", "1000", "--seeds", "3",
                                                 "--settings", "3v3"]))
    assert quick.name == "quick" and quick.seeds == 3 and quick.settings == ("3v3",)
    per_update = 4 * 2 * 8  # the quick base: 4 games x 2 branches x 8 steps
    assert quick.updates % quick.eval_points == 0
    assert quick.updates * per_update >= 1000 > (quick.updates - quick.eval_points) * per_update


def test_study_cli_sets_train_config_fields_for_ablations(capsys):
    """--set FIELD=VALUE overrides a TrainConfig field for every method, typed like the field;
    a bad one is refused before anything runs, naming the field and the allowed values."""
    ablation = study.config_from_args(study._parse(
        ["--quick", "--set", "normalize_std=false", "--set", "credit_weight=none",
         "--set", "lr=1e-3"]))
    assert dict(ablation.base)["normalize_std"] is False
    for m in study.METHODS:
        c = ablation.train_config(m)
        assert c.normalize_std is False and c.lr == 1e-3 and c.credit_weight is None
        assert c.num_games == study.QUICK.train_config(m).num_games  # the quick base is kept
    assert ablation.unit_key("grpo", "3v3") != study.QUICK.unit_key("grpo", "3v3")
    for bad, says in (("bogus=1", "FIELD one of TrainConfig's fields"),
                      ("lr=abc", "lr='abc' is invalid: allowed a value of type float"),
                      ("normalize_std=maybe", "allowed a value of type bool"),
                      ("hidden_sizes=8", "scalar fields only"),
                      ("lr=-1", "TrainConfig.lr=-1.0 is invalid")):
        assert study.main(["--quick", "--set", bad, "--out", "unused"]) == 2
        assert says in capsys.readouterr().err


def test_merge_matches_pools_games_passes_and_goals():
    a = dict(games=10, win=5, draw=3, loss=2, goals_for=2.0, goals_against=1.0,
             passes_per_game=4.0, shots_per_game=3.0, possession=0.6, pass_completion=0.5,
             goals_after_pass_share=0.5)
    b = dict(a, win=1, draw=1, loss=8, goals_for=1.0, passes_per_game=0.0,
             pass_completion=0.0, goals_after_pass_share=0.0)
    m = evaluation.merge_matches([a, b])
    assert (m["games"], m["win"], m["draw"], m["loss"]) == (20, 6, 4, 10)
    assert m["win_rate"] == pytest.approx(0.3)
    assert m["passes_per_game"] == pytest.approx(2.0)
    assert m["pass_completion"] == pytest.approx(0.5)  # only a's 40 passes count
    assert m["goals_after_pass_share"] == pytest.approx(10 / 30)  # 10 of 30 goals


# --- the gradient-variance estimator ------------------------------------------------------------


def _gaussian_gradients(key, reps, K, mu, sigma):
    """reps independent stacks of K gradients ~ N(mu, sigma^2 I)."""
    noise = jax.random.normal(key, (reps, K, mu.shape[0]))
    return mu + sigma * noise


@pytest.mark.parametrize("D,K,target", [(200, 64, 4.0), (400, 32, 16.0)])
def test_relative_variance_recovers_a_known_variance(D, K, target):
    # Gradients ~ N(mu, sigma^2 I): trace(Cov) / |mu|^2 = D sigma^2 / |mu|^2 = target.
    sigma = 0.3
    mu = jnp.full((D,), sigma * np.sqrt(1.0 / target))  # |mu|^2 = D sigma^2 / target
    reps = 200
    grads = _gaussian_gradients(jax.random.PRNGKey(0), reps, K, mu, sigma)
    out = jax.jit(jax.vmap(relative_variance))(grads)
    rel = np.asarray(out["relative_variance"])
    assert np.all(np.isfinite(rel))
    assert np.mean(rel) == pytest.approx(target, rel=0.03)
    np.testing.assert_allclose(np.asarray(out["trace"]).mean(), D * sigma ** 2, rtol=0.01)
    # The plug-in |mean|^2 carries trace / K of noise: the literal ratio is biased toward
    # target / (1 + target / K), which the unbiased denominator removes.
    plugin = np.mean(np.asarray(out["relative_variance_plugin"]))
    assert plugin == pytest.approx(target / (1 + target / K), rel=0.03)
    assert plugin < 0.95 * target
    # Independent batches: consecutive deviations are uncorrelated (about -1/K).
    assert abs(np.mean(np.asarray(out["lag1_autocorr"])) + 1 / K) < 0.01

    # It can fail: twice the noise is four times the relative variance, clearly told apart.
    louder = _gaussian_gradients(jax.random.PRNGKey(1), reps, K, mu, 2 * sigma)
    rel_louder = np.asarray(jax.vmap(relative_variance)(louder)["relative_variance"])
    assert np.mean(rel_louder) == pytest.approx(4 * target, rel=0.1)
    assert np.percentile(rel_louder, 5) > 2 * np.percentile(rel, 95)


def test_relative_variance_of_pytrees_unresolved_signal_and_correlated_batches():
    key = jax.random.PRNGKey(2)
    g = jax.random.normal(key, (16, 30)) + 1.0
    tree = {"a": g[:, :10].reshape(16, 2, 5), "b": {"c": g[:, 10:]}}
    flat, nested = relative_variance(g), relative_variance(tree)
    for k in flat:
        np.testing.assert_allclose(nested[k], flat[k], rtol=1e-5)
    # No signal at all: g and -g average to 0, so |E g|^2 is estimated <= 0 -> +inf.
    v = jnp.arange(1.0, 5.0)
    out = relative_variance(jnp.stack([v, -v]))
    assert np.isinf(out["relative_variance"]) and float(out["signal_sq_norm"]) < 0
    # A slowly drifting chain (AR(1), rho = 0.9) is flagged by the lag-1 correlation.
    eps = jax.random.normal(jax.random.PRNGKey(3), (64, 50))

    def ar(x, e):
        x = 0.9 * x + e
        return x, x

    _, chain = jax.lax.scan(ar, jnp.zeros(50), eps)
    assert float(relative_variance(chain)["lag1_autocorr"]) > 0.5
    with pytest.raises(ValueError, match="at least 2"):
        relative_variance(jnp.ones((1, 3)))


# --- pass maps ------------------------------------------------------------------------------


def test_recorded_events_add_up_to_the_counters_and_locate_the_passes():
    """match.recorded's per-step events sum to the counters, and every completed pass of the
    pass map runs from where a pass was struck to the receiver's feet."""
    env = soccer_env.make("3v3", max_steps=300)
    bot = players.resolve("bot:positional", env)
    counters, states, events = match.recorded(env, bot, bot, jax.random.PRNGKey(3), 6)
    for k in match.RECORDED_EVENTS:
        np.testing.assert_array_equal(events[k].sum(axis=1), counters[k])
    passes = passmap.pass_map(states, events)
    assert len(passes["completed"]) == counters["passes_completed"][:, 0].sum() > 0
    assert len(passes["intercepted"]) == counters["interceptions"][:, 1].sum()
    g, t = np.argwhere(events["passes_completed"][..., 0] > 0)[0]
    owner = int(states.owner[g, t])
    assert owner // 3 == 0  # a teammate of the left team's passer has the ball
    feet = states.player_pos[g, t, 0, owner % 3]
    x0, y0, x1, y1 = passes["completed"][0]
    assert np.hypot(x1 - feet[0], y1 - feet[1]) < 1.0
    assert np.hypot(x1 - x0, y1 - y0) > 0.5
    assert sum(passmap.length_histogram(passes["completed"])) == len(passes["completed"])


# --- the quick study end to end ---------------------------------------------------------------


# The quick study with two of its methods (the reference and grpo-cf, which has every
# optional measurement): both settings, every step of the pipeline, half the compilation.
SUITE = dataclasses.replace(study.QUICK, methods=("absolute", "grpo-cf"))


@pytest.fixture(scope="module")
def quick_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    results = study.run_study(SUITE, str(out), command="pytest quick study")
    return out, results


def _table_rows(markdown: str, heading: str) -> list[list[str]]:
    """Rows (cells) of the first table after `heading`."""
    section = markdown.split(heading, 1)[1]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    start = next(i for i, ln in enumerate(section.splitlines()) if ln.startswith("|"))
    table = []
    for ln in section.splitlines()[start:]:
        if not ln.startswith("|"):
            break
        table.append([c.strip() for c in ln.strip("|").split("|")])
    assert lines
    return table[2:]  # without the header and the separator


def test_quick_study_writes_results_and_the_report_tables(quick_study):
    out, results = quick_study
    with open(out / "results.json") as f:
        saved = json.load(f)
    assert saved["study"]["name"] == "quick"
    methods = list(SUITE.methods)
    q = SUITE
    assert list(saved["settings"]) == list(q.settings) == ["3v3", "3v1_with_keeper"]
    for setting, s in saved["settings"].items():
        assert list(s["methods"]) == methods and s["drill"] == study.is_drill(setting)
        budgets = {s["methods"][m]["env_steps"] for m in methods}
        assert len(budgets) == 1  # same simulated steps for every method
        for m in methods:
            e = s["methods"][m]
            assert e["train_config"]["scenario"] == setting
            assert len(e["curve"]["win_rate"]) == q.eval_points + 1
            assert all(len(row) == q.seeds for row in e["curve"]["win_rate"])
            assert all(len(row) == q.seeds for row in e["curve"]["passes_completed_per_game"])
            var = e["variance"]
            assert var["progress"] == [0.0, 0.5, 1.0]
            assert np.all(np.asarray(var["own"]["trace"]) > 0)
            if m == "absolute":
                assert var["paired"] is None
            else:  # the absolute estimator saw exactly the same games
                assert var["paired_with"] == "absolute" and var["paired_gap"] == [0.0, 0.0, 0.0]
            # Common random numbers on their own: grpo-cf with independent draws as well.
            assert ("independent_noise" in var) == (m == "grpo-cf")
            assert set(e["final"]) == set(q.bots)
            assert all(r["games"] == q.final_games for r in e["final"]["positional"])
            if s["drill"]:  # the learners attack in every game
                assert all(r["games_as_left"] == r["games"] for r in e["final"]["positional"])
        maps = s["passes"]["maps"]
        assert list(maps) == methods
        assert all(pm["games"] == q.pass_games * q.seeds for pm in maps.values())
        elo = s["elo"]
        if s["drill"]:
            assert elo is None
            continue
        assert elo["players"] == methods + [f"bot:{b}" for b in q.bots]
        assert all(np.isfinite([r, lo, hi]).all() and lo <= hi
                   for r, lo, hi in zip(elo["rating"], elo["lo"], elo["hi"]))

    markdown = (out / "report.md").read_text()
    for heading in ("## Match `3v3`", "## Drill `3v1_with_keeper`", "### Conclusions",
                    "### 1. Gradient variance", "### 2. Stability", "### 3. Strength",
                    "### 4. Cooperation", "## Reproduce"):
        assert heading in markdown
    for setting in q.settings:
        part = markdown.split(f"`{setting}`", 1)[1]
        for heading in ("Each method at its own parameters", "### 2. Stability",
                        "### 3. Strength", "### 4. Cooperation"):
            rows = _table_rows(part, heading)
            assert [r[0] for r in rows] == [f"`{m}`" for m in methods], (setting, heading)
        paired = _table_rows(part, "on the same batches")
        assert [r[0] for r in paired] == [f"`{m}`" for m in methods if m != "absolute"]
        assert [r[0] for r in _table_rows(part, "on their own")] == ["`grpo-cf`"]
        for kind in report.FIGURES:
            name = report.figure_name(setting, kind)
            path = out / "figures" / name
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"(figures/{name})" in markdown
    assert "pytest quick study" in markdown and "jax " in markdown
    # The report is a function of results.json: regenerating it gives the same text.
    again = out / "again.md"
    assert report.main([str(out / "results.json"), "--out", str(again)]) == 0
    assert again.read_text() == markdown
    assert re.search(r"\| lower variance \(same batches\) \|", markdown)
    assert "strength (scoring rate)" in markdown and "strength (win rate)" in markdown


def test_a_rerun_continues_from_the_finished_units(quick_study, tmp_path, capsys):
    """The same study again trains nothing and gives the same results; a unit computed with
    another configuration is refused, naming its file, and is left as it was."""
    out, results = quick_study
    units = sorted(out.glob("*/*.json"))
    assert {u.name for u in units} >= {f"{m}.json" for m in SUITE.methods} | {"clone.json"}
    before = {u: u.stat().st_mtime_ns for u in units}
    again = study.run_study(SUITE, str(out), str(tmp_path / "r.md"), command="again")
    log = capsys.readouterr().out
    assert "trained" not in log and log.count("kept from an earlier run") == 4
    assert {u: u.stat().st_mtime_ns for u in units} == before
    for setting, s in results["settings"].items():
        assert again["settings"][setting]["methods"] == json.loads(json.dumps(s["methods"]))
        assert again["settings"][setting]["elo"] == json.loads(json.dumps(s["elo"]))
    other = dataclasses.replace(SUITE, final_games=24)
    with pytest.raises(study.StudyDirError, match="absolute.json.*another configuration"):
        study.run_study(other, str(out), str(tmp_path / "r2.md"))
    assert {u: u.stat().st_mtime_ns for u in units} == before
    code = study.main(["--quick", "--methods", "absolute,grpo-cf", "--out", str(out),
                       "--final-games", "24"])
    assert code == 2 and "another configuration" in capsys.readouterr().err


def test_report_verdicts_follow_the_numbers():
    """Synthetic results: grpo has lower variance and passes more, absolute is steadier."""
    seeds = 5

    def entry(rv, paired_rv, final_wins, passes, after, drop):
        final = [dict(games=100, win=w, draw=0, loss=100 - w, win_rate=w / 100, goals_for=2.0,
                      goals_against=1.0, passes_per_game=passes, shots_per_game=5.0,
                      possession=0.5, pass_completion=0.5, goals_after_pass_share=after)
                 for w in final_wins]
        curve = [[0.0] * seeds, [w / 100 + drop for w in final_wins],
                 [w / 100 for w in final_wins]]
        variance = {"update": [0, 10], "progress": [0.0, 1.0], "paired_with": "absolute",
                    "own": {"relative_variance": [[rv] * seeds] * 2,
                            "lag1_autocorr": [[0.0] * seeds] * 2},
                    "paired": None if paired_rv is None else {
                        "relative_variance": [[paired_rv] * seeds] * 2},
                    "paired_gap": [0.0, 0.0]}
        return {"curve": {"win_rate": curve}, "final": {"positional": final},
                "kl_per_update": {"p95": [0.01] * seeds}, "skipped_minibatches": [0] * seeds,
                "variance": variance}

    results = {
        "study": {"seeds": seeds},
        "drill": False,
        "methods": {"absolute": entry(20.0, None, [50] * seeds, 0.5, 0.1, 0.0),
                    "grpo": entry(5.0, 25.0, [50, 70, 90, 100, 80], 3.0, 0.4, 0.1),
                    # Like absolute within the tolerances: ties everywhere.
                    "critic": entry(20.0, 20.0, [50, 51, 50, 49, 50], 0.5, 0.1, 0.01)},
        "elo": {"players": ["absolute", "grpo", "critic"], "rating": [1000, 1100, 1010],
                "lo": [950, 1060, 960], "hi": [1040, 1150, 1050]},
    }
    text = "\n".join(report.conclusions(results))
    grpo = [ln for ln in text.splitlines() if ln.startswith("- `grpo`")]
    assert "same batches: **holds**" in grpo[0] and "own parameters: **holds**" in grpo[0]
    assert "**does not hold (less stable)**" in grpo[1]  # larger spread and drops
    assert "**holds**" in grpo[2]  # more passes and more goals after a pass
    assert "**stronger than**" in grpo[3]
    critic = [ln for ln in text.splitlines() if ln.startswith("- `critic`")]
    assert "same batches: **not distinguishable**" in critic[0]
    assert "**no clear difference**" in critic[1] and "**no clear difference**" in critic[2]
    assert "**not distinguishable from**" in critic[3]
    assert text.startswith("| compared with `absolute` | `grpo` | `critic` |")


def test_collapsed_seeds_are_not_stable_learning():
    """All seeds stuck at 0% have no spread and no drop, but neither counts as more stable
    when the final rate is lower; the strength verdict says weaker."""
    seeds = 5

    def entry(final_wins, drops):
        final = [dict(games=256, win=w, draw=256 - w, loss=0, win_rate=w / 256, goals_for=w / 256,
                      goals_against=0.0, passes_per_game=1.0, shots_per_game=1.0,
                      possession=0.9, pass_completion=0.8, goals_after_pass_share=0.5)
                 for w in final_wins]
        curve = [[0.05] * seeds, [w / 256 + d for w, d in zip(final_wins, drops)],
                 [w / 256 for w in final_wins]]
        return {"curve": {"win_rate": curve}, "final": {"positional": final},
                "kl_per_update": {"p95": [0.01] * seeds}, "skipped_minibatches": [0] * seeds,
                "variance": {"progress": [1.0], "own": {"relative_variance": [[10.0] * seeds]},
                             "paired": None}}

    results = {"study": {"seeds": seeds, "eval_games": 128, "final_games": 256}, "drill": True,
               "elo": None, "methods": {"absolute": entry([100, 150, 130, 90, 120],
                                                          [0.1, 0.12, 0.08, 0.11, 0.09]),
                                        "grpo-cf": entry([0] * seeds, [0.0] * seeds)}}
    lines = [ln for ln in report.conclusions(results) if ln.startswith("- `grpo-cf`")]
    stable, strength = lines[1], lines[3]
    assert "**no clear difference**" in stable
    assert "its final scoring rate is lower, so neither lower measure counts" in stable
    assert "**weaker than**" in strength


def test_the_verdicts_statistical_tests():
    """Welch's t and the paired t agree with scipy's, certain differences (no spread) have
    p = 0, one seed is never significant, and seeds without data are left out."""
    from scipy import stats

    a, b = [0.2, 0.35, 0.3, 0.5, 0.4], [0.1, 0.15, 0.3, 0.2, 0.05]
    got = report.welch(a, b)
    want = stats.ttest_ind(a, b, equal_var=False)
    assert got["p"] == pytest.approx(want.pvalue, rel=1e-6)
    assert got["diff"] == pytest.approx(np.mean(a) - np.mean(b))
    assert got["lo"] < got["diff"] < got["hi"]
    assert got["lo"] > 0 and report._tested(got, 0.05) == 1 and report._tested(got, 0.3) == 0
    assert report.welch([1.0] * 5, [0.5] * 5)["p"] == 0.0
    assert report.welch([1.0] * 5, [1.0] * 5)["p"] == 1.0
    d = [0.3, 0.1, 0.2, -0.05, 0.15]
    got = report.paired_t(d)
    assert got["p"] == pytest.approx(stats.ttest_1samp(d, 0.0).pvalue, rel=1e-6)
    assert got["lo"] < got["diff"] < got["hi"]
    # One seed (or one seed with data) has no spread to test against: never significant.
    assert report.welch([0.3], [0.5])["p"] == 1.0 and report.paired_t([0.4])["p"] == 1.0
    assert report.welch([0.3, np.nan, 0.4], [0.1, 0.2])["diff"] == pytest.approx(0.2)


def test_variance_comparison_keeps_unresolved_seeds():
    """Seeds whose unbiased signal is negative (relative variance unresolved) still compare by
    their signal-to-noise ratio, and the pooled relative variance is 1 / mean SNR."""
    trace = [[1.0] * 4]
    own = {"signal_sq_norm": [[0.04, 0.02, -0.01, 0.03]], "trace": trace,
           "relative_variance": [[25.0, 50.0, None, 33.3]]}
    paired = {"signal_sq_norm": [[0.01, -0.02, -0.03, 0.0]], "trace": trace,
              "relative_variance": [[100.0, None, None, None]]}
    entry = {"variance": {"progress": [1.0], "own": own, "paired": paired}}
    results = {"methods": {"grpo": entry}}
    row, = report.variance_comparison(results, "grpo", "paired")
    assert (row["lower"], row["higher"]) == (4, 0)
    np.testing.assert_allclose(report.variance_differences(results, "grpo", "paired"),
                               [0.03, 0.04, 0.02, 0.03])
    assert row["ratio"] == 0.0  # absolute's pooled signal is negative: unresolved
    np.testing.assert_allclose(report.pooled_relative_variance(report.snr(own)), [1 / 0.02])
    assert np.isinf(report.pooled_relative_variance(report.snr(paired)))[0]
    swapped = {"variance": {"progress": [1.0], "own": paired, "paired": own}}
    results = {"methods": {"grpo": swapped}}
    row, = report.variance_comparison(results, "grpo", "paired")
    assert (row["lower"], row["higher"], row["ratio"]) == (0, 4, float("inf"))
    np.testing.assert_allclose(report.variance_differences(results, "grpo", "paired"),
                               [-0.03, -0.04, -0.02, -0.03])


def test_derived_data_of_another_key_is_recomputed_not_refused(tmp_path):
    """Elo and pass maps are derived from the units: a run over another set of methods
    recomputes them (a unit of another configuration is refused instead)."""
    units = study.Units(str(tmp_path), study.QUICK)
    calls = []

    def compute(value):
        calls.append(value)
        return {"value": value}

    assert units.cached("3v3", "passes.json", {"units": ["a"]}, lambda: compute(1)) == {"value": 1}
    assert units.cached("3v3", "passes.json", {"units": ["a"]}, lambda: compute(2)) == {"value": 1}
    assert units.cached("3v3", "passes.json", {"units": ["a", "b"]},
                        lambda: compute(3)) == {"value": 3}
    assert calls == [1, 3]
    saved = json.loads((tmp_path / "3v3" / "passes.json").read_text())
    assert saved["key"] == {"units": ["a", "b"]} and saved["data"] == {"value": 3}
