"""The study's markdown report, computed from results.json: tables, figures and verdicts.

    python -m experiments.report runs/study-X/results.json --out docs/grpo_soccer_report.md

Every verdict is a rule applied to the numbers (stated next to it), so rerunning the study
rewrites the conclusions as well as the tables. Figures go to figures/ beside the report.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

from agents.evaluation import merge_matches, wilson_interval
from experiments.passmap import length_histogram

REFERENCE = "absolute"  # the traditional update the claims are made against
GRPO_FAMILY = ("grpo-team", "grpo-branch", "grpo", "grpo-cf")
# Per setting: grpo_soccer_SETTING_KIND.png ("pass_map" only with recorded passes).
FIGURES = ("win_rate", "grad_variance", "cooperation", "pass_map")
COOPERATION = (("passes_completed_per_game", "completed passes per game"),
               ("passes_per_game", "passes per game"), ("pass_completion", "pass completion"),
               ("goals_after_pass_share", "goals after a pass"))


# --- numbers ------------------------------------------------------------------------------------


def _values(x) -> np.ndarray:
    """JSON lists -> float array; None (an unresolved relative variance) becomes +inf."""
    a = np.array(x, dtype=object)
    a[a == None] = np.inf  # noqa: E711 (elementwise)
    return a.astype(float)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _g(x: float) -> str:
    if x is None or not np.isfinite(x):
        return "unresolved"
    return f"{x:.3g}"


def _int(x) -> str:
    """A rounded number, "n/a" for None (a bound the bootstrap could not give) or non-finite."""
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.0f}"


def _ratio(x: float) -> str:
    """A ratio of pooled relative variances (0: only the reference was unresolved, inf: only
    the method was, nan: both were)."""
    if np.isnan(x):
        return "n/a (both unresolved)"
    if x == 0:
        return "below (absolute unresolved)"
    if np.isinf(x):
        return "above (method unresolved)"
    return f"x{x:.2g}"


def _mean_std(values, fmt=_pct) -> str:
    v = np.asarray(values, float)
    if len(v) < 2:
        return fmt(v.mean())
    return f"{fmt(v.mean())} ± {fmt(v.std(ddof=1))}"


def final_rows(entry: dict, bot: str) -> list[dict]:
    return entry["final"][bot]


def final_win_rates(entry: dict, bot: str = "positional") -> np.ndarray:
    return np.array([r["win_rate"] for r in final_rows(entry, bot)])


def pooled(rows: list[dict]) -> dict:
    """Statistics of all seeds' games together, with the win rate's 95% Wilson interval."""
    out = merge_matches(rows)
    out["ci95"] = wilson_interval(out["win"], out["games"])
    return out


def stability(entry: dict) -> dict:
    """Per-seed stability numbers from the win-rate curve (eval points) and the final eval."""
    curve = np.asarray(entry["curve"]["win_rate"], float)  # [points, S]
    trained = curve[1:] if len(curve) > 1 else curve
    drops = np.maximum(0.0, -np.diff(curve, axis=0)) if len(curve) > 1 else np.zeros((1,) +
                                                                                     curve.shape[1:])
    final = final_win_rates(entry)
    return {
        "final": final,
        "auc": trained.mean(axis=0),  # mean win rate over the checks after training started
        "peak_drop": trained.max(axis=0) - trained[-1],  # best check minus last check
        "worst_drop": drops.max(axis=0),  # largest fall between consecutive checks
        "kl_p95": np.asarray(entry["kl_per_update"]["p95"], float),
        "skipped": np.asarray(entry["skipped_minibatches"], float),
    }


def std_ratio_threshold(seeds: int, level: float = 0.05, draws: int = 20000) -> float:
    """Two-sided critical ratio of two sample standard deviations of `seeds` normal values
    each (F-test at `level`), by simulation (no scipy): ratios beyond it are unlikely under
    equal spread."""
    if seeds < 2:
        return math.inf
    rng = np.random.default_rng(0)
    a = rng.standard_normal((draws, seeds)).std(axis=1, ddof=1)
    b = rng.standard_normal((draws, seeds)).std(axis=1, ddof=1)
    return float(np.quantile(a / b, 1 - level / 2))


def snr(block: dict) -> np.ndarray:
    """[checkpoints, S] signal-to-noise ratio of one batch's policy gradient: the unbiased
    |E g|^2 over trace(Cov), i.e. 1 / relative variance. Unlike the relative variance it is
    finite where the signal is not resolved (then near 0 or below it), so seeds average and
    compare without dropping the unresolved ones. Results without the raw terms fall back to
    1 / relative variance (unresolved -> 0)."""
    if "signal_sq_norm" in block and "trace" in block:
        return np.asarray(block["signal_sq_norm"], float) / np.asarray(block["trace"], float)
    return 1.0 / _values(block["relative_variance"])


def pooled_relative_variance(s: np.ndarray) -> np.ndarray:
    """Relative variance from the mean SNR over seeds (last axis): 1 / mean, +inf where the
    mean is not positive (the signal unresolved even pooled over the seeds)."""
    m = np.nanmean(s, axis=-1)
    with np.errstate(divide="ignore"):
        return np.where(m > 0, 1.0 / np.where(m > 0, m, 1.0), np.inf)


def paired_snr(results: dict, method: str, kind: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(`method`'s gradient SNR, the reference's), each [checkpoints, S]. kind "own": each
    method at its own parameters (same seeds, checkpoints); "paired": the method's estimator
    against the absolute one on the same batches. None when that comparison was not run."""
    var = results["methods"][method]["variance"]
    if kind == "own":
        ref = results["methods"].get(REFERENCE)
        if ref is None or var["own"] is None:
            return None
        return snr(var["own"]), snr(ref["variance"]["own"])
    if var.get("paired") is None:
        return None
    return snr(var["own"]), snr(var["paired"])


def variance_comparison(results: dict, method: str, kind: str) -> list[dict] | None:
    """Per checkpoint (`paired_snr`): the ratio of the method's pooled relative variance to
    the reference's, and how many seeds have the lower variance ("lower": the method's SNR is
    higher) or the higher."""
    pair = paired_snr(results, method, kind)
    if pair is None:
        return None
    rows = []
    for progress, a, b in zip(results["methods"][method]["variance"]["progress"], *pair):
        ra, rb = pooled_relative_variance(a), pooled_relative_variance(b)
        ratio = (float("nan") if np.isinf(ra) and np.isinf(rb) else 0.0 if np.isinf(rb)
                 else float(ra / rb))
        rows.append({"progress": progress, "ratio": ratio, "lower": int(np.sum(a > b)),
                     "higher": int(np.sum(a < b)), "seeds": len(a)})
    return rows


def variance_differences(results: dict, method: str, kind: str) -> np.ndarray:
    """[S] per seed: the mean over checkpoints of `method`'s gradient SNR minus the
    reference's (`paired_snr`); positive: lower variance. The variance verdict's sample."""
    mine, theirs = paired_snr(results, method, kind)
    return np.mean(mine - theirs, axis=0)


# --- figures ------------------------------------------------------------------------------------


def figure_name(setting: str, kind: str) -> str:
    return f"grpo_soccer_{setting}_{kind}.png"


def setting_view(results: dict, setting: str) -> dict:
    """One setting's results in the shape the per-setting functions read: the study's
    fields with "methods", "elo" (None in a drill) and the setting's name and updates."""
    s = results["settings"][setting]
    return {**results, "methods": s["methods"], "elo": s["elo"], "setting": setting,
            "drill": s["drill"], "updates": s["updates"], "passes": s.get("passes")}


def _win_label(view: dict) -> str:
    return "scoring rate" if view.get("drill") else "win rate"


def write_figures(results: dict, figures_dir: str) -> dict[str, str]:
    import matplotlib  # lazy: only the figures need it (the report's text does not)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above, after choosing the Agg backend

    os.makedirs(figures_dir, exist_ok=True)
    methods = list(results["methods"])
    colors = {m: plt.cm.tab10(i) for i, m in enumerate(methods)}
    paths = {k: os.path.join(figures_dir, figure_name(results["setting"], k)) for k in FIGURES}
    win = _win_label(results)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for m in methods:
        e = results["methods"][m]
        x = np.asarray(e["curve"]["env_steps"], float) / 1e6
        for ax, key in zip(axes, ("win_rate", "passes_completed_per_game")):
            if key not in e["curve"]:  # (results from before completed passes were tracked)
                continue
            w = np.asarray(e["curve"][key], float)
            mean = w.mean(axis=1)
            sd = w.std(axis=1, ddof=1) if w.shape[1] > 1 else 0 * mean
            ax.plot(x, mean, marker="o", ms=3, color=colors[m], label=m)
            ax.fill_between(x, mean - sd, mean + sd, color=colors[m], alpha=0.15)
    axes[0].set_ylabel(f"{win} vs bot:positional")
    axes[0].set_ylim(-0.02, 1.02)
    axes[1].set_ylabel("completed passes per game vs bot:positional")
    for ax in axes:
        ax.set_xlabel("simulated steps per seed (millions, branch steps included)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{results['setting']}: {win} and completed passes over training, mean ± std "
                 f"over {results['study']['seeds']} seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(paths["win_rate"], dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    for m in methods:
        var = results["methods"][m]["variance"]
        x = 100 * np.asarray(var["progress"], float)
        s = snr(var["own"])  # [checkpoints, S]
        axes[0].plot(x, s.mean(axis=1), marker="o", color=colors[m], label=m)
        axes[0].fill_between(x, s.min(axis=1), s.max(axis=1), color=colors[m], alpha=0.12)
        rows = variance_comparison(results, m, "paired")
        if rows:
            ratio = np.array([r["ratio"] for r in rows])
            ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, np.nan)
            axes[1].plot(x, ratio, marker="o", color=colors[m],
                         label=f"{m} / absolute")
    axes[0].axhline(0.0, color="k", lw=0.8)
    axes[0].set_title("signal-to-noise ratio of one batch's policy gradient, each method at\n"
                      "its own parameters (mean over seeds, band: min-max; higher: less "
                      "variance)", fontsize=9)
    axes[1].axhline(1.0, color="k", lw=0.8, ls="--")
    axes[1].set_yscale("log")
    axes[1].set_title("relative variance over the absolute estimator's on the same batches\n"
                      "(pooled over seeds; < 1: lower variance than absolute)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("training progress (%)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(paths["grad_variance"], dpi=90)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(COOPERATION), figsize=(15, 3.8))
    for ax, (key, title) in zip(axes, COOPERATION):
        vals = [np.array([r[key] for r in final_rows(results["methods"][m], "positional")])
                for m in methods]
        means = [v.mean() for v in vals]
        errs = [v.std(ddof=1) if len(v) > 1 else 0.0 for v in vals]
        ax.bar(range(len(methods)), means, yerr=errs, color=[colors[m] for m in methods],
               capsize=3)
        ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{title} (vs positional)", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"{results['setting']}: cooperation of the final policies, mean ± std over "
                 "seeds", fontsize=10)
    fig.tight_layout()
    fig.savefig(paths["cooperation"], dpi=90)
    plt.close(fig)

    passes = results.get("passes")
    if not passes:
        del paths["pass_map"]
        return paths
    from soccer_env import scenario_config  # lazy: only the pass map needs the pitch

    cfg = scenario_config(results["setting"])
    half_l, half_w = cfg.field_length / 2, cfg.field_width / 2
    cols = min(3, len(methods))
    rows = math.ceil(len(methods) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(methods):]:
        ax.axis("off")
    for ax, m in zip(axes.flat, methods):
        ax.add_patch(plt.Rectangle((-half_l, -half_w), 2 * half_l, 2 * half_w, fill=False,
                                   lw=1, color="0.4"))
        ax.plot([0, 0], [-half_w, half_w], color="0.7", lw=0.8)
        ax.plot([half_l, half_l], [-cfg.goal_width / 2, cfg.goal_width / 2], color="k", lw=3)
        pm = passes["maps"][m]
        for key, color in (("completed", "tab:green"), ("intercepted", "tab:red")):
            for x0, y0, x1, y1 in pm[key]:
                ax.annotate("", (x1, y1), (x0, y0), arrowprops=dict(
                    arrowstyle="->", color=color, alpha=0.45, lw=0.8))
        ax.set_xlim(-half_l - 1, half_l + 1)
        ax.set_ylim(-half_w - 1, half_w + 1)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{m}: {len(pm['completed'])} completed, {len(pm['intercepted'])} "
                     f"intercepted\nin {pm['games']} games", fontsize=8)
    fig.suptitle(f"{results['setting']}: passes of the final policies against bot:positional "
                 "(attacking to the right; green completed, red intercepted)", fontsize=9)
    fig.tight_layout()
    fig.savefig(paths["pass_map"], dpi=90)
    plt.close(fig)
    return paths


# --- the markdown -------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]], align: str | None = None) -> list[str]:
    align = align or ("l" + "r" * (len(header) - 1))
    sep = ["---" if a == "l" else "---:" for a in align]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"] + [
        "| " + " | ".join(r) + " |" for r in rows]


ALPHA = 0.05  # the significance level of every test below


def welch(a, b) -> dict:
    """Welch's t-test of mean(a) - mean(b) over seeds (unequal variances): {"diff", "lo", "hi"
    (its 95% interval), "p" (two-sided)}. Chosen over a bootstrap because with 5 seeds a
    bootstrap's percentile interval is too narrow. NaN values (a seed without data) are left
    out; with fewer than 2 values on a side there is no spread to test against (p = 1, no
    interval). Samples without spread on both sides are certain: p = 0 if the means differ."""
    from scipy import stats  # lazy: jax's own dependency, only the verdicts need it

    a, b = np.asarray(a, float), np.asarray(b, float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    diff = float(a.mean() - b.mean()) if len(a) and len(b) else float("nan")
    if len(a) < 2 or len(b) < 2:
        return {"diff": diff, "lo": float("nan"), "hi": float("nan"), "p": 1.0}
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return {"diff": diff, "lo": diff, "hi": diff, "p": 0.0 if diff else 1.0}
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va ** 2 / (len(a) - 1) if va else 0.0)
                           + (vb ** 2 / (len(b) - 1) if vb else 0.0))
    q = float(stats.t.ppf(0.975, df))
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    return {"diff": diff, "lo": diff - q * se, "hi": diff + q * se, "p": p}


def paired_t(d) -> dict:
    """One-sample t-test that the mean of per-seed differences `d` is 0: {"diff", "lo", "hi",
    "p"} as `welch` returns (NaN values left out; fewer than 2: p = 1)."""
    from scipy import stats  # lazy: as in welch, only the verdicts need it

    d = np.asarray(d, float)
    d = d[~np.isnan(d)]
    diff = float(d.mean()) if len(d) else float("nan")
    if len(d) < 2:
        return {"diff": diff, "lo": float("nan"), "hi": float("nan"), "p": 1.0}
    se = float(d.std(ddof=1) / math.sqrt(len(d)))
    if se == 0:
        return {"diff": diff, "lo": diff, "hi": diff, "p": 0.0 if diff else 1.0}
    q = float(stats.t.ppf(0.975, len(d) - 1))
    p = float(stats.ttest_1samp(d, 0.0).pvalue)
    return {"diff": diff, "lo": diff - q * se, "hi": diff + q * se, "p": p}


def _tested(test: dict, tol: float) -> int:
    """-1 / +1: the difference is significant (p < ALPHA) and larger than `tol` (below /
    above); 0 otherwise."""
    if test["p"] >= ALPHA or abs(test["diff"]) <= tol:
        return 0
    return -1 if test["diff"] < 0 else 1


def _compare(value: float, reference: float, tol: float) -> int:
    """-1: value lower than the reference by more than tol, +1: higher, 0: tied."""
    return -1 if value < reference - tol else 1 if value > reference + tol else 0


def _verdict(outcomes: list[int], better: str, worse: str) -> str:
    """Lower is better: some lower and none higher -> `better`; the reverse -> `worse`."""
    lower, higher = outcomes.count(-1), outcomes.count(1)
    if lower and not higher:
        return better
    if higher and not lower:
        return worse
    return "mixed" if lower else "no clear difference"


def conclusions(results: dict) -> list[str]:
    """The verdicts, one bullet each, computed from the numbers."""
    methods = results["methods"]
    S = results["study"]["seeds"]
    if REFERENCE not in methods:
        return [f"- No verdicts: the `{REFERENCE}` method (the claims' reference) was not run."]
    lines, summary = [], {}
    family = [m for m in GRPO_FAMILY if m in methods]
    others = family + (["critic"] if "critic" in methods else [])

    # Claim 2: lower variance.
    lines.append("**Claim: lower variance.** Rule: each seed gives one number, its mean over "
                 "the checkpoints of the method's gradient signal-to-noise ratio minus "
                 "`absolute`'s (higher SNR: lower relative variance); the method has lower "
                 "variance when the mean of these over the seeds is positive and a one-sample "
                 "t-test over the seeds gives p < 5%, higher variance when it is negative with "
                 "p < 5%, and is not distinguishable otherwise. (Checkpoints of one seed share "
                 "its run, so they are not counted as independent trials; the seeds per "
                 "checkpoint with the higher SNR are shown as a description.) *Same batches* "
                 "compares the two estimators on identical samples at the method's own "
                 "parameters (the clean test); *own parameters* compares the trained methods "
                 "as they are.")
    for m in others:
        parts = []
        for kind, label in (("paired", "same batches"), ("own", "own parameters")):
            rows = variance_comparison(results, m, kind)
            if not rows:
                continue
            test = paired_t(variance_differences(results, m, kind))
            outcome = _tested(test, 0.0)
            verdict = ("holds" if outcome > 0 else "does not hold (higher variance)"
                       if outcome < 0 else "not distinguishable")
            ratios = ", ".join(f"{_pct(r['progress'])}: {_ratio(r['ratio'])} "
                               f"({r['lower']}/{r['seeds']} seeds lower)" for r in rows)
            parts.append(f"{label}: **{verdict}** (mean SNR difference {test['diff']:.3g}, 95% "
                         f"interval [{test['lo']:.3g}, {test['hi']:.3g}], p = {test['p']:.2g}; "
                         f"pooled relative variance over absolute's {ratios})")
            summary.setdefault(f"variance_{kind}", {})[m] = verdict
        if parts:
            lines.append(f"- `{m}`: " + "; ".join(parts) + ".")

    # Claim 1: more stable.
    thr = std_ratio_threshold(S)
    ref = stability(methods[REFERENCE])
    lines.append("")
    win = _win_label(results)
    # One evaluation's largest sampling error (a rate's std is at most 0.5 / sqrt(games)).
    tol = 0.5 / math.sqrt(results["study"].get("eval_games", 128))
    tol_final = 0.5 / math.sqrt(results["study"].get("final_games", 256))
    final_ref = final_win_rates(methods[REFERENCE])
    lines.append("**Claim: more stable updates.** Rule: two measures, the spread of the final "
                 f"{win} over seeds (std) and the mean drop from a run's best check to its "
                 "last check; each is lower or higher when the difference is significant at "
                 f"5% and larger than one evaluation's largest sampling error ({_pct(tol_final)} "
                 f"for the final {win}, {_pct(tol)} for a check), else tied. Tests: the std by "
                 f"an F-test (with {S} seeds a ratio beyond {thr:.2g}x or below 1/{thr:.2g}; it "
                 f"assumes roughly normal {win}s, which a collapsed seed breaks), the drops by "
                 "Welch's t on the seeds' drops. Neither lower measure counts when the "
                 f"method's final {win} is itself lower (Welch's t, same thresholds): seeds "
                 "that collapsed alike, or never rose, are not stable learning. More stable than `absolute` when "
                 "one is lower and none higher; less stable when one is higher and none lower; "
                 "otherwise mixed or no clear difference.")
    for m in others:
        st = stability(methods[m])
        sd_m = np.std(st["final"], ddof=1) if S > 1 else 0.0
        sd_r = np.std(ref["final"], ddof=1) if S > 1 else 0.0
        drop_m, drop_r = st["peak_drop"].mean(), ref["peak_drop"].mean()
        drop = welch(st["peak_drop"], ref["peak_drop"])
        if sd_r > 0:
            ratio = sd_m / sd_r
            significant = ratio > thr or ratio < 1 / thr
            sig = f"ratio {ratio:.2g}, " + ("significant" if significant else "not significant")
        else:
            significant = sd_m > 0
            sig = "ratio n/a: absolute's std is 0"
        outcomes = [_compare(sd_m, sd_r, tol_final) if significant else 0, _tested(drop, tol)]
        lower_final = _tested(welch(st["final"], final_ref), tol_final) < 0
        if lower_final and -1 in outcomes:  # a run that ends worse is not learning stably
            outcomes = [max(o, 0) for o in outcomes]
            sig += f"; its final {win} is lower, so neither lower measure counts"
        verdict = _verdict(outcomes, "holds", "does not hold (less stable)")
        summary.setdefault("stable", {})[m] = verdict
        lines.append(f"- `{m}`: **{verdict}**: final {win} std {_pct(sd_m)} vs "
                     f"{_pct(sd_r)} ({sig}); mean drop from the best check "
                     f"{_pct(drop_m)} vs {_pct(drop_r)} (Welch p = {drop['p']:.2g}); KL per "
                     "update (95th percentile) "
                     f"{_g(st['kl_p95'].mean())} vs {_g(ref['kl_p95'].mean())}.")

    # Claim 3: more cooperative.
    lines.append("")
    lines.append("**Claim: more cooperative play.** Rule: more cooperative than `absolute` when "
                 "the final policies (against bot:positional) complete more passes per game or "
                 "score a larger share of their goals after a pass, and neither is lower; a "
                 "difference counts when Welch's t on the seeds' values is significant at 5% "
                 "and it exceeds 0.1 completed passes per game or 2 points of share (a seed "
                 "whose final games scored no goal has no share and is left out of that test); "
                 "less "
                 "cooperative the other way round; otherwise mixed or no clear difference. "
                 "Fewer than 0.1 passes per game for both methods (all seeds' games pooled) "
                 "counts as no passing at all.")
    ref_pool = pooled(final_rows(methods[REFERENCE], "positional"))

    def per_seed(entry, key):
        rows = final_rows(entry, "positional")
        if key == "completed":
            return [r["passes_per_game"] * r["pass_completion"] for r in rows]
        return [r[key] if r["goals_for"] > 0 else np.nan for r in rows]

    for m in others:
        p = pooled(final_rows(methods[m], "positional"))
        completed = p["passes_per_game"] * p["pass_completion"]
        completed_ref = ref_pool["passes_per_game"] * ref_pool["pass_completion"]
        tests = {k: welch(per_seed(methods[m], k), per_seed(methods[REFERENCE], k))
                 for k in ("completed", "goals_after_pass_share")}
        if p["passes_per_game"] < 0.1 and ref_pool["passes_per_game"] < 0.1:
            verdict = "not measurable (neither passes)"
        else:
            # -1 when the method passes more (the verdict reads "lower is better").
            verdict = _verdict([-_tested(tests["completed"], 0.1),
                                -_tested(tests["goals_after_pass_share"], 0.02)],
                               "holds", "does not hold (less cooperative)")
        summary.setdefault("cooperative", {})[m] = verdict
        lines.append(f"- `{m}`: **{verdict}**: completed passes per game {completed:.2f} vs "
                     f"{completed_ref:.2f} (attempted {p['passes_per_game']:.2f} vs "
                     f"{ref_pool['passes_per_game']:.2f}); goals after a pass "
                     f"{_pct(p['goals_after_pass_share'])} vs "
                     f"{_pct(ref_pool['goals_after_pass_share'])} (all games pooled; tested on "
                     "the seeds' values: differences "
                     f"{tests['completed']['diff']:+.2f} passes, Welch p = "
                     f"{tests['completed']['p']:.2g}, and "
                     f"{100 * tests['goals_after_pass_share']['diff']:+.0f} points of share, "
                     f"p = {tests['goals_after_pass_share']['p']:.2g}).")

    # Strength.
    elo = results["elo"]
    lines.append("")
    ref_win = final_ref.mean()
    lines.append("**Strength** (not one of the claims, but what the updates are for). Rule: "
                 f"stronger than `absolute` when the seeds' final {win}s against bot:positional "
                 f"are higher by Welch's t at 5% and by more than {_pct(tol_final)}; weaker the "
                 "other way round."
                 + (" The Elo ratings of the round robin (intervals from bootstrapping games, "
                    "not seeds) describe the methods against each other." if elo else ""))
    idx = {p: i for i, p in enumerate(elo["players"])} if elo else {}

    def elo_text(m):
        i = idx[m]
        return f"Elo {_int(elo['rating'][i])} [{_int(elo['lo'][i])}, {_int(elo['hi'][i])}]"

    for m in others:
        test = welch(final_win_rates(methods[m]), final_ref)
        outcome = _tested(test, tol_final)
        verdict = ("stronger than" if outcome > 0 else "weaker than" if outcome < 0
                   else "not distinguishable from")
        summary.setdefault("strength", {})[m] = verdict.rsplit(" ", 1)[0]
        lines.append(f"- `{m}`: **{verdict}** `absolute`: {win} "
                     f"{_pct(final_win_rates(methods[m]).mean())} vs {_pct(ref_win)} "
                     f"(difference {_pct(test['diff'])}, 95% interval "
                     f"[{_pct(test['lo'])}, {_pct(test['hi'])}], p = {test['p']:.2g})"
                     + (f"; {elo_text(m)} vs {elo_text(REFERENCE)}." if elo else "."))
    best = max(methods, key=lambda m: final_win_rates(methods[m]).mean())
    lines.append(f"- Highest final {win} among the methods: `{best}`."
                 + (f" Highest Elo: `{max(methods, key=lambda m: elo['rating'][idx[m]])}`."
                    if elo else ""))

    labels = (("variance_paired", "lower variance (same batches)"),
              ("variance_own", "lower variance (own parameters)"),
              ("stable", "more stable"), ("cooperative", "more cooperative"),
              ("strength", f"strength ({win})"))
    table = _table(["compared with `absolute`"] + [f"`{m}`" for m in others],
                   [[label] + [summary.get(key, {}).get(m, "-") for m in others]
                    for key, label in labels if key in summary], "l" * (1 + len(others)))
    return table + ["", "Details, with the rule behind each verdict:", ""] + lines


def render_setting(results: dict, figures: dict[str, str]) -> list[str]:
    """The markdown lines of one setting (`setting_view`)."""
    study, methods = results["study"], results["methods"]
    S, names = study["seeds"], list(results["methods"])
    first = methods[names[0]]
    setting, win = results["setting"], _win_label(results)
    steps = first["env_steps"]
    best = max(np.mean([r["win_rate"] for r in m["final"]["positional"]])
               for m in methods.values())
    if results["drill"]:
        title = (f"## Drill `{setting}`: the learners attack bot:positional's defenders "
                 "(an episode ends at a goal, a turnover or the time limit; its \"win\" is a "
                 "goal)")
    else:
        title = f"## Match `{setting}` against bot:positional (the `default` preset's game)"
    out = [title, "", "### Conclusions", ""] + conclusions(results) + [""]
    if study.get("name") != "quick":
        target = ("" if results["drill"] else
                  " (the study's target for the match: at least 60%, past early learning)")
        out += [f"**What limits these conclusions.** Each seed trained for "
                f"{steps / 1e6:.1f}M simulated steps from its warm start; the best final mean "
                f"{win} against bot:positional is {best:.0%}{target}. {S} seeds tell apart "
                "only differences larger than the seeds' spread; see each verdict's rule.", ""]

    out += ["### Setup", "",
            f"Game: `{first['train_config']['scenario']}` against "
            f"`{first['train_config']['opponent']}`. {S} seeds per "
            f"method, trained at once (vmapped); every method starts from the same {S} warm "
            f"starts (behaviour clones of `{first['train_config']['imitate'] or 'nothing'}`). "
            f"Budget per seed: {first['updates']} updates x "
            f"{first['env_steps_per_update']:,} simulated steps = {first['env_steps']:,} "
            f"steps (branch steps included), {first['samples_per_update']:,} learning "
            "samples per update for every method.", ""]
    rows = []
    for m in names:
        c = methods[m]["train_config"]
        cw = f"{methods[m]['credit_weight']:g}"
        rows.append([f"`{m}`", methods[m]["description"], c["advantage"], str(c["group_size"]),
                     str(c["num_games"]), str(c["horizon"]), cw,
                     f"{methods[m]['env_steps_per_update']:,}",
                     f"{methods[m]['timing']['total_s']:.0f}"])
    out += _table(["method", "description", "advantage", "G", "B", "H", "credit w.",
                   "steps/update", "wall s"], rows, "lllrrrlrr")
    c = first["train_config"]
    lr = f"lr {c['lr']:g}" + (f" annealed linearly to 0 over {c['lr_anneal_updates']} updates"
                              if c.get("lr_anneal_updates") else " (constant)")
    out += ["", f"Shared: {lr}, {c['epochs']} epochs x {c['num_minibatches']} "
            f"minibatches, clip {c['clip_eps']:g}, entropy {c['ent_coef']:g}, KL {c['kl_coef']:g},"
            f" gamma {c['gamma']:g}, policy MLP {tuple(c['hidden_sizes'])} {c['activation']}, "
            f"ball-progress shaping {c['ball_progress_weight']}, reach-the-ball potential "
            f"{c['ball_reach_weight']}, credit weight {c['credit_weight']} (the `default` "
            "preset's reward: teammates share the team reward; each player's reach-the-ball "
            "potential is its own, the per-player signal that `grpo-team` and `grpo` compare "
            "teammates on and that `grpo-branch` and `grpo-cf` average into the team's "
            "return). `critic` adds a value network of the same width.", ""]

    # 1. gradient variance
    K = study["variance_batches"]
    out += ["### 1. Gradient variance", "",
            f"At each checkpoint the policy gradient (no entropy or KL term) is computed on {K} "
            "independent batches at fixed parameters, for every seed. The batches are a chain: "
            "each continues the trunk games where the previous one left them (fresh keys, "
            "parameters unchanged), so they sample the on-policy state distribution instead "
            "of sharing start states. Relative variance r = trace(Cov) / |E g|^2, with the "
            f"unbiased |E g|^2 = |mean|^2 - trace/{K}; lower is better, and r = 1 means one "
            "batch's noise is as large as the signal. One seed resolves r only when it is "
            f"well below {K}; the policy gradient's r is often larger, so a seed's unbiased "
            "|E g|^2 can come out negative (\"unresolved\"). The comparisons therefore use its "
            "inverse, the signal-to-noise ratio SNR = |E g|^2 / trace(Cov), which stays "
            "finite and unbiased up to the trace's noise: seed against seed for the verdicts, "
            "and averaged over the seeds for the tables (pooled r = 1 / mean SNR; "
            "\"unresolved\" when even the mean is not positive).", "",
            f"![gradient variance]({figures['grad_variance']})", "",
            "Each method at its own parameters: pooled relative variance (seeds whose own "
            "signal is resolved):", ""]
    progress = first["variance"]["progress"]
    header = ["method"] + [f"{_pct(p)}" for p in progress]

    def cell(s: np.ndarray) -> str:
        return f"{_g(pooled_relative_variance(s))} ({int(np.sum(s > 0))}/{len(s)})"

    rows = []
    for m in names:
        rows.append([f"`{m}`"] + [cell(s) for s in snr(methods[m]["variance"]["own"])])
    out += _table(header, rows)
    paired_rows = []
    for m in names:
        var = methods[m]["variance"]
        if var.get("paired") is None:
            continue
        paired_rows.append([f"`{m}`"] + [f"{cell(a)} vs {cell(b)}" for a, b in zip(
            snr(var["own"]), snr(var["paired"]))])
    if paired_rows:
        out += ["", "The method's estimator vs the absolute estimator on the same batches "
                "(pooled relative variance; same parameters, games and samples, only the "
                "advantage differs):", ""]
        out += _table(header, paired_rows)
    lag = np.concatenate([np.ravel(_values(methods[m]["variance"]["own"]["lag1_autocorr"]))
                          for m in names])
    gaps = [g for m in names for g in (methods[m]["variance"].get("paired_gap") or [])
            if g is not None]
    out += ["", f"Independence check: the correlation of consecutive batches' deviations is "
            f"{np.median(lag):+.3f} (median; range {lag.min():+.3f} to {lag.max():+.3f}; about "
            f"{-1 / K:+.3f} expected for independent batches)."
            + (f" Same-batch pairing check: the two estimators' trunk games differ by at most "
               f"{max(gaps):g} (0: identical games)." if gaps else ""), ""]

    cf_rows = []
    for m in names:
        var = methods[m]["variance"]
        if var.get("independent_noise"):
            cf_rows.append([f"`{m}`"] + [f"{cell(a)} vs {cell(b)}" for a, b in zip(
                snr(var["own"]), snr(var["independent_noise"]))])
    if cf_rows:
        out += ["What the common random numbers do on their own: the same estimator at the "
                "same parameters with common random numbers (its own) vs independent draws in "
                "every branch (pooled relative variance; different games, so not paired):", ""]
        out += _table(header, cf_rows) + [""]

    # 2. stability
    n_eval = study["eval_games"]
    out += ["### 2. Stability", "",
            f"Every seed's greedy policy plays {n_eval} games against bot:positional at "
            f"{study['eval_points']} evenly spaced points of training (and before it). One "
            f"check's sampling error is at most {0.5 / math.sqrt(n_eval):.1%} (binomial std), "
            "so drops smaller than about twice that are noise.", "",
            f"![{win}]({figures['win_rate']})", ""]
    rows = []
    for m in names:
        st = stability(methods[m])
        rows.append([f"`{m}`", _mean_std(st["final"]), _mean_std(st["auc"]),
                     _pct(st["peak_drop"].mean()), _pct(st["worst_drop"].mean()),
                     _g(st["kl_p95"].mean()), f"{int(st['skipped'].sum())}"])
    out += _table(["method", f"final {win} (mean ± std over seeds)",
                   f"mean {win} over training", "drop from best check (mean)",
                   "largest fall between checks (mean)", "KL per update, p95",
                   "skipped minibatches"], rows)
    out += ["", f"Final {win} per seed: " + "; ".join(
        f"`{m}` " + " ".join(_pct(w) for w in final_win_rates(methods[m])) for m in names)
        + f" ({study['final_games']} games each).", ""]

    # 3. strength
    bots = study["bots"]
    out += ["### 3. Strength", "",
            f"Final policies, {study['final_games']} games per seed and bot"
            + (" (the learners attack)" if results["drill"] else " (half on each side)")
            + f": {win}, mean ± std over seeds, and the 95% interval of all seeds' games "
            "pooled.", ""]
    rows = []
    for m in names:
        cells = [f"`{m}`"]
        for b in bots:
            p = pooled(final_rows(methods[m], b))
            cells.append(f"{_mean_std(final_win_rates(methods[m], b))} "
                         f"({_pct(p['ci95'][0])}-{_pct(p['ci95'][1])})")
        rows.append(cells)
    out += _table(["method"] + [f"vs {b}" for b in bots], rows)
    elo = results["elo"]
    if elo is not None:
        order = np.argsort(elo["rating"])[::-1]
        out += ["", f"Elo (Bradley-Terry maximum likelihood, mean 1000, bootstrap 95% intervals) "
                "from every method's games against the bots and a round robin among the "
                f"methods (seed s against seed s, {study['h2h_games']} games per seed and "
                "pair):", ""]
        out += _table(["player", "Elo", "95% interval"],
                      [[f"`{elo['players'][i]}`", f"{elo['rating'][i]:.0f}",
                        f"{elo['lo'][i]:.0f} - {elo['hi'][i]:.0f}"] for i in order])
        if elo.get("head_to_head"):
            out += ["", "Head to head (points per game of the first: win 1, draw 1/2): "
                    + "; ".join(f"{k} {v['points_per_game']:.2f}"
                                for k, v in elo["head_to_head"].items()) + ".", ""]

    # 4. cooperation
    out += ["### 4. Cooperation", "",
            "Final policies against bot:positional: mean ± std over seeds (pooled over all "
            "seeds' games in parentheses). A goal counts as after a pass when its scorer "
            "received a completed pass and nobody touched the ball in between.", "",
            f"![cooperation]({figures['cooperation']})", ""]
    rows = []
    for m in names:
        rs = final_rows(methods[m], "positional")
        p = pooled(rs)
        cells = [f"`{m}`"]
        for key, _ in COOPERATION:
            fmt = (lambda x: f"{x:.2f}") if key.endswith("_per_game") else _pct
            cells.append(f"{_mean_std([r[key] for r in rs], fmt)} ({fmt(p[key])})")
        cells.append(f"{np.mean([r['goals_for'] for r in rs]):.2f} - "
                     f"{np.mean([r['goals_against'] for r in rs]):.2f}")
        cells.append(f"{np.mean([r['shots_per_game'] for r in rs]):.1f}")
        rows.append(cells)
    out += _table(["method"] + [t for _, t in COOPERATION] + ["goals for - against",
                                                              "shots per game"], rows)
    passes = results.get("passes")
    if passes and "pass_map" in figures:
        pm = passes["maps"]
        games = next(iter(pm.values()))["games"]
        out += ["", f"Where the passes go: every pass of {games} recorded games per method "
                "against bot:positional (the seeds' games together), from where it was struck "
                "to where it was taken, attacking to the right.", "",
                f"![pass maps]({figures['pass_map']})", ""]
        out += _table(["method", "completed", "intercepted", "completed: < 5 m", "5-10 m",
                       "10-15 m", "> 15 m"],
                      [[f"`{m}`", str(len(pm[m]["completed"])), str(len(pm[m]["intercepted"]))]
                       + [str(n) for n in length_histogram(pm[m]["completed"])] for m in names])
        if passes.get("gif_method") and figures.get("goal_gif"):
            out += ["", f"A goal right after a pass by `{passes['gif_method']}` (the best method "
                    "against bot:positional that scored one in those games):", "",
                    f"![goal after a pass]({figures['goal_gif']})"]

    out += ["", "Per method (s): " + "; ".join(
        f"`{m}` " + ", ".join(f"{k[:-2]} {v:.0f}" for k, v in methods[m]["timing"].items())
        for m in names) + ".", ""]
    return out


def render(results: dict, figures: dict[str, dict[str, str]]) -> str:
    """The whole report: an introduction, one section per setting, how to reproduce it."""
    study, machine = results["study"], results["machine"]
    settings = list(results["settings"])
    out = ["# Does scoring players against the team average help? A reproduction on soccer", ""]
    out += [
        "The source document claims that scoring each player's action against the team's "
        "average outcome in the same situation (team-relative GRPO) gives (1) more stable "
        "updates, (2) lower variance and (3) more cooperative play than the traditional update "
        "that uses the absolute reward. This report turns each claim into a measurement "
        "(DESIGN.md section 6), in a 3v3 match and in passing drills. Every method trains the "
        "same policy network with the same loss, optimizer, hyperparameters, reward, warm start, "
        "budget and seeds; only the advantage estimator changes. All numbers below are computed "
        "by `experiments/report.py` from the raw results; the verdicts are rules applied to "
        "them.", ""]
    if study.get("name") == "quick":
        out += ["> **This is a `--quick` run**: tiny networks, a few updates, a handful of "
                "games. Its numbers test the pipeline, not the claims.", ""]
    out += ["Settings: " + ", ".join(f"`{s}`" for s in settings) + ".", ""]
    for setting in settings:
        out += render_setting(setting_view(results, setting), figures[setting])
    devices = ", ".join(machine["devices"])
    out += ["## Reproduce", "", "```bash", results["command"], "```", "",
            f"- Machine: {machine['cpu']} ({machine['cpu_count']} CPUs"
            + (f", {machine['memory_gib']} GiB" if machine.get("memory_gib") else "")
            + f"), {machine['platform']}; Python {machine['python']}, jax {machine['jax']} "
            f"({machine['backend']}: {devices}), flax {machine['flax']}, optax "
            f"{machine['optax']}.",
            f"- Assembled {results['started']}; the units' wall times are in each setting's "
            "last line (a study runs across sittings: each finished (setting, method) is kept "
            "and a rerun continues from the next).",
            "- Raw results: the JSON file next to this report (or `results.json` of the study "
            "directory); `python -m experiments.report RESULTS.json --out REPORT.md` rewrites "
            "this report and its figures from it.",
            "- One method of the match alone with train.py: `python train.py --preset exp-grpo` "
            "(also `exp-absolute`, `exp-grpo-team`, `exp-grpo-branch`, `exp-critic`, "
            "`exp-grpo-cf`).", ""]
    return "\n".join(out)


def write_report(results: dict, path: str) -> str:
    """Write the markdown report to `path` and its figures to figures/ beside it."""
    base = os.path.dirname(os.path.abspath(path))
    figures = {}
    for setting in results["settings"]:
        paths = write_figures(setting_view(results, setting), os.path.join(base, "figures"))
        gif = os.path.join(base, "figures", f"grpo_soccer_{setting}_goal_after_pass.gif")
        if os.path.exists(gif):  # written by the study beside the figures
            paths["goal_gif"] = gif
        figures[setting] = {k: os.path.relpath(v, base).replace(os.sep, "/")
                            for k, v in paths.items()}
    with open(path, "w") as f:
        f.write(render(results, figures))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m experiments.report",
                                description="Write the study's report from results.json.")
    p.add_argument("results", help="results.json written by python -m experiments.study")
    p.add_argument("--out", default=None, help="report path (default: report.md beside the "
                   "results)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    with open(args.results) as f:
        results = json.load(f)
    out = args.out or os.path.join(os.path.dirname(os.path.abspath(args.results)), "report.md")
    write_report(results, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
