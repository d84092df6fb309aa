"""The reproduction study: six update rules, one loss, network, budget and seeds.

    python -m experiments.study                 # full study -> docs/grpo_soccer_report.md
    python -m experiments.study --quick         # tiny end to end run (minutes on a 2-core CPU)
    python -m experiments.study --seeds 3 --steps 1000000 --out runs/study-small

For every method of `experiments.presets.METHODS`, S seeds train at once (one jitted program:
`lax.scan` over updates of `vmap` over seeds; the same S keys for every method, so every method
starts from the same initial policy and trunk games). Along training it measures

1. gradient variance at fixed checkpoints (`variance_at`, fractions of training): the relative
   variance of the policy gradient over `variance_batches` independent batches, per seed, with
   the method's own estimator and (`paired`) with the absolute-return estimator on the very same
   batches (experiments/grad_variance.py);
2. stability: every seed's greedy win rate against bot:positional at `eval_points` evenly spaced
   points (and before training), and per-update diagnostics (approx KL, clip fraction);

and after training

3. strength: every seed's win rate against each bot, and Elo among the methods and the bots
   (the methods' seeds paired seed by seed, bootstrap 95% intervals);
4. cooperation: passes per game, pass completion, share of goals scored after a completed pass.

Everything goes to OUT/results.json; experiments/report.py turns it into the markdown report
with its figures. Evaluations use one "roster" player (a `lax.switch` over the policy and the
bots), so every match of the study runs on a single compiled program.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import math
import os
import platform
import sys
import time

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax

import soccer_env
from agents import evaluation
from agents.networks import make_policy, policy_act
from agents.trainer import TrainConfig, make_trainer
from experiments import report as report_module
from experiments.grad_variance import make_probe
from experiments.presets import (BASE_TRAIN, DESCRIPTIONS, FULL_SEEDS, FULL_UPDATES, METHODS,
                                 method_config)
from soccer_env import SoccerEnv
from soccer_env.players import Player

DEFAULT_REPORT = os.path.join("docs", "grpo_soccer_report.md")
POSITIONAL = "positional"
# Per-update metrics kept as per-chunk means in results.json (seed by seed).
TRACKED = ("team_return", "goals_for", "goals_against", "passes", "entropy", "approx_kl",
           "clip_frac", "adv_std", "grad_norm")


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything that defines a study run (results.json records it)."""
    name: str = "full"  # "quick" marks the report as a pipeline check
    methods: tuple[str, ...] = METHODS
    seeds: int = FULL_SEEDS  # independent runs per method, vmapped
    seed: int = 0  # base key: the same S seeds for every method
    updates: int = FULL_UPDATES  # per seed; a multiple of eval_points
    base: tuple[tuple[str, object], ...] = ()  # TrainConfig overrides shared by every method
    anneal_lr: bool = True  # lr decays linearly to 0 over the run (the default preset's recipe)
    eval_points: int = 16  # win-rate checks along training (plus one before it)
    eval_games: int = 128  # games per seed and check, half on each side (every match of the
    # study is played in calls of this many games: one compiled match for the whole study)
    eval_steps: int | None = None  # evaluation game length (None: the scenario's max_steps)
    variance_at: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)  # fractions of training
    variance_batches: int = 32  # K independent batches per measurement
    paired: bool = True  # also the absolute estimator on the same batches
    final_games: int = 256  # per seed and bot, after training (a multiple of eval_games)
    h2h_games: int = 128  # per seed and pair of methods, for Elo (a multiple of eval_games)
    bots: tuple[str, ...] = ("random", "chaser", "positional")
    fast_compile: bool = False  # XLA backend optimization level 0 (quick runs: compile-bound)

    def __post_init__(self):
        def fail(name, allowed):
            raise ValueError(f"StudyConfig.{name}={getattr(self, name)!r} is invalid: "
                             f"allowed {allowed}")

        if not self.methods or any(m not in METHODS for m in self.methods) \
                or len(set(self.methods)) != len(self.methods):
            fail("methods", f"distinct names from {METHODS}")
        for name in ("seeds", "updates", "eval_points", "eval_games", "variance_batches",
                     "final_games", "h2h_games"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                fail(name, "an integer >= 1")
        for name in ("eval_games", "final_games", "h2h_games", "variance_batches"):
            if getattr(self, name) < 2:
                fail(name, "an integer >= 2")
        if self.updates % self.eval_points:
            fail("updates", f"a multiple of eval_points={self.eval_points}")
        for name in ("final_games", "h2h_games"):
            if getattr(self, name) % self.eval_games:
                fail(name, f"a multiple of eval_games={self.eval_games}")
        if not self.variance_at or any(not 0.0 <= f <= 1.0 for f in self.variance_at):
            fail("variance_at", "fractions in [0, 1]")
        if POSITIONAL not in self.bots or len(set(self.bots)) != len(self.bots):
            fail("bots", f"distinct bot names including {POSITIONAL!r}")

    @property
    def chunk(self) -> int:
        """Updates between two evaluation points."""
        return self.updates // self.eval_points

    def variance_points(self) -> list[int]:
        """Evaluation-point indices (0 .. eval_points) of the variance checkpoints."""
        return sorted({round(f * self.eval_points) for f in self.variance_at})

    def train_config(self, method: str):

        config = method_config(method, TrainConfig(**{**BASE_TRAIN, **dict(self.base)}))
        return config.replace(lr_anneal_updates=self.updates if self.anneal_lr else 0)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The `--quick` study: every piece of the full one, tiny (about 1-3 minutes on a 2-core CPU,
# mostly compilation).
QUICK = StudyConfig(
    name="quick", seeds=2, updates=4, eval_points=2, eval_games=8, eval_steps=60,
    variance_batches=16, final_games=16, h2h_games=8, fast_compile=True,
    base=(("num_games", 4), ("group_size", 2), ("horizon", 8), ("epochs", 1),
          ("num_minibatches", 2), ("hidden_sizes", (16, 16))),
)


def _log(msg: str):
    print(msg, flush=True)


# --- evaluation: one compiled match for every pairing -------------------------------------------


@functools.lru_cache(maxsize=None)
def roster_act(network, env_config, bots: tuple[str, ...]):
    """A player `(params, key, state, team) -> int32 [T]` that is the greedy policy
    (params {"player": 0, "policy": ...}) or bot `bots[i - 1]` ({"player": i, ...}): the index
    is not batched over games, so `lax.switch` runs only the chosen player, and every match of
    the study (policy vs bot, policy vs policy) reuses one compiled match."""
    policy = policy_act(network, env_config, True)
    bot_fns = [soccer_env.bots.get(name, env_config) for name in bots]

    def act(params, key, state, team):
        def as_policy(key, state, team):
            return policy({"policy": params["policy"]}, key, state, team).astype(jnp.int32)

        branches = [as_policy] + [
            (lambda bot: lambda key, state, team: bot(key, state, team).astype(jnp.int32))(b)
            for b in bot_fns]
        return jax.lax.switch(params["player"], branches, key, state, team)

    return act


class Arena:
    """Matches of the study: policies (policy-network parameters) and bots on one roster."""
    def __init__(self, config, study: StudyConfig):

        self.env = SoccerEnv(config.env_config())
        self.study = study
        network = make_policy(self.env.num_actions, hidden_sizes=config.hidden_sizes,
                              activation=config.activation)
        self.act = roster_act(network, self.env.config, tuple(study.bots))

    def player(self, policy_params, bot: str | None = None) -> dict:

        index = 0 if bot is None else 1 + self.study.bots.index(bot)
        return {"player": jnp.asarray(index, jnp.int32), "policy": policy_params}

    def match(self, a: dict, b: dict, key, games: int) -> dict:
        """`evaluation.evaluate` of a against b (half the games on each side), played in calls
        of `eval_games` games (one compiled match) and merged; compact statistics."""
        n = self.study.eval_games
        if games % n:
            raise ValueError(f"games={games} must be a multiple of eval_games={n}")
        parts = [evaluation.evaluate(self.env, Player(self.act, a, "a"), Player(self.act, b, "b"),
                                     jax.random.fold_in(key, i), n, steps=self.study.eval_steps)
                 for i in range(games // n)]
        return evaluation.merge_matches(parts)


def policy_of(params, seed: int):
    """The policy network's parameters of one seed (the critic's value head left out)."""
    return jax.tree.map(lambda x: x[seed], params["policy"])


# --- one method ----------------------------------------------------------------------------------


def _to_list(x, digits: int = 6):
    """numpy -> JSON-ready nested lists (non-finite values become None)."""
    x = np.asarray(x, np.float64)
    if x.ndim == 0:
        v = float(x)
        return float(f"{v:.{digits}g}") if math.isfinite(v) else None
    return [_to_list(v, digits) for v in x]


def _programs(config, study: StudyConfig):
    """The method's compiled programs: (trainer, initial state [S, ...], run_chunk(state) ->
    (state, metrics [chunk, S]), probe(state, keys) -> variance stats [S], paired estimator)."""
    trainer = make_trainer(config)
    jit = functools.partial(jax.jit, compiler_options=(
        {"xla_backend_optimization_level": 0} if study.fast_compile else None))
    keys = jax.random.split(jax.random.PRNGKey(study.seed), study.seeds)
    state = jit(jax.vmap(trainer.init))(keys)

    def chunk_fn(state):
        return jax.lax.scan(lambda s, _: jax.vmap(trainer.update)(s), state, None,
                            length=study.chunk)

    run_chunk = jit(chunk_fn, donate_argnums=0).lower(state).compile()
    paired = "absolute" if study.paired and config.advantage != "absolute" else None
    probe = jit(jax.vmap(make_probe(config, study.variance_batches, paired)))
    return trainer, state, run_chunk, probe.lower(state, keys).compile(), paired


def train_method(method: str, study: StudyConfig, arena: Arena) -> tuple[dict, object]:
    """Train `study.seeds` seeds of `method` with the measurements along the way.
    Returns (its entry of results.json, final parameters [S, ...])."""
    config = study.train_config(method)
    S = study.seeds
    t0 = time.perf_counter()
    trainer, state, run_chunk, probe, paired = _programs(config, study)
    timing = {"compile_s": time.perf_counter() - t0, "train_s": 0.0, "variance_s": 0.0,
              "eval_s": 0.0}
    _log(f"[{method}] {DESCRIPTIONS[method]}: {S} seeds x {study.updates} updates x "
         f"{trainer.env_steps_per_update:,} steps (compiled in {timing['compile_s']:.0f}s)")
    var_points = study.variance_points()
    eval_key, var_key = jax.random.PRNGKey(study.seed + 1), jax.random.PRNGKey(study.seed + 2)
    curve = {k: [] for k in ("update", "env_steps", "win_rate", "passes_per_game", "goals_for",
                             "goals_against")}
    variance, tracked, kl = [], {k: [] for k in TRACKED}, []
    for point in range(study.eval_points + 1):
        update = point * study.chunk
        t = time.perf_counter()
        if point:
            state, metrics = run_chunk(state)
            metrics = jax.device_get(metrics)  # {name: [chunk, S]}
            for k in TRACKED:
                tracked[k].append(np.mean(metrics[k], axis=0))
            kl.append(metrics["approx_kl"])
        timing["train_s"] += time.perf_counter() - t
        note = ""
        if point in var_points:
            t = time.perf_counter()
            # Same keys for every method: at 0% (same initial policies) methods with the same
            # batch shape (B, G) measure on the same games.
            keys = jax.random.split(jax.random.fold_in(var_key, point), S)
            variance.append((update, jax.device_get(probe(state, keys))))
            timing["variance_s"] += time.perf_counter() - t
            rv = variance[-1][1]["own"]["relative_variance"]
            note = f" | grad rel. var. {np.median(rv):.3g} (median of seeds)"
        t = time.perf_counter()
        key = jax.random.fold_in(eval_key, point)  # the same games for every method
        matches = [arena.match(arena.player(policy_of(state.params, s)),
                               arena.player(policy_of(state.params, s), POSITIONAL),
                               jax.random.fold_in(key, s), study.eval_games) for s in range(S)]
        timing["eval_s"] += time.perf_counter() - t
        curve["update"].append(update)
        curve["env_steps"].append(update * trainer.env_steps_per_update)
        for k in ("win_rate", "passes_per_game", "goals_for", "goals_against"):
            curve[k].append([m[k] for m in matches])
        win = np.asarray(curve["win_rate"][-1])
        _log(f"[{method}] update {update}/{study.updates} ({update / study.updates:4.0%}) "
             f"steps {update * trainer.env_steps_per_update:,} | "
             f"{time.perf_counter() - t0:6.1f}s | win vs positional {win.mean():.0%} "
             f"(seeds {' '.join(f'{w:.0%}' for w in win)}){note}")

    def stats(kind):
        if kind not in variance[0][1]:
            return None
        return {k: _to_list([v[kind][k] for _, v in variance]) for k in variance[0][1][kind]}

    kl = np.concatenate(kl, axis=0)  # [updates, S]
    timing["total_s"] = time.perf_counter() - t0
    entry = {
        "description": DESCRIPTIONS[method],
        "train_config": config.to_dict(),
        "credit_weight": trainer.env.config.credit_weight,
        "env_steps_per_update": trainer.env_steps_per_update,
        "samples_per_update": trainer.samples_per_update,
        "updates": study.updates,
        "env_steps": study.updates * trainer.env_steps_per_update,
        "curve": {k: v if k in ("update", "env_steps") else _to_list(v) for k, v in curve.items()},
        "train_metrics": {"update": [p * study.chunk for p in range(1, study.eval_points + 1)],
                          **{k: _to_list(v) for k, v in tracked.items()}},
        "kl_per_update": {"mean": _to_list(kl.mean(0)), "p95": _to_list(np.percentile(kl, 95, 0)),
                          "max": _to_list(kl.max(0))},
        "variance": {"update": [u for u, _ in variance],
                     "progress": [u / study.updates for u, _ in variance],
                     "paired_with": paired, "own": stats("own"), "paired": stats("paired"),
                     "paired_gap": [float(np.max(v["paired_gap"])) if paired else None
                                    for _, v in variance]},
        "skipped_minibatches": [int(x) for x in np.asarray(state.skipped)],
        "timing": {k: round(v, 2) for k, v in timing.items()},
    }
    return entry, jax.device_get(state.params)


# --- after training: strength, Elo, cooperation ----------------------------------------------


def _fold(key, *data: int):
    """A key for one match: `key` folded with each integer in turn."""
    for d in data:
        key = jax.random.fold_in(key, d)
    return key


def final_matches(study: StudyConfig, arena: Arena, finals: dict) -> tuple[dict, dict]:
    """Every method's seeds against every bot, and the methods against each other (seed s of
    one against seed s of the other). Returns ({method: {bot: [per-seed summaries]}}, elo)."""
    methods = list(finals)
    players = methods + [f"bot:{b}" for b in study.bots]
    results = {}  # (i, j) -> per-game points of i against j

    def points(r):
        return np.repeat([1.0, 0.5, 0.0], [r["win"], r["draw"], r["loss"]])

    key = jax.random.PRNGKey(study.seed + 3)
    vs_bots = {}
    for i, m in enumerate(methods):
        vs_bots[m] = {}
        for j, bot in enumerate(study.bots):
            rows = [arena.match(arena.player(policy_of(finals[m], s)),
                                arena.player(policy_of(finals[m], s), bot),
                                _fold(key, j, s),
                                study.final_games) for s in range(study.seeds)]
            vs_bots[m][bot] = rows
            results[(i, len(methods) + j)] = np.concatenate([points(r) for r in rows])
        _log(f"[final] {m}: " + ", ".join(
            f"{b} {np.mean([r['win_rate'] for r in vs_bots[m][b]]):.0%}" for b in study.bots))
    h2h = {}
    key = jax.random.PRNGKey(study.seed + 4)
    for i, a in enumerate(methods):
        for j in range(i + 1, len(methods)):
            b = methods[j]
            rows = [arena.match(arena.player(policy_of(finals[a], s)),
                                arena.player(policy_of(finals[b], s)),
                                _fold(key, i, j, s),
                                study.h2h_games) for s in range(study.seeds)]
            results[(i, j)] = np.concatenate([points(r) for r in rows])
            h2h[f"{a} vs {b}"] = {"games": int(len(results[(i, j)])),
                                  "points_per_game": float(results[(i, j)].mean()),
                                  "win": int(sum(r["win"] for r in rows)),
                                  "draw": int(sum(r["draw"] for r in rows)),
                                  "loss": int(sum(r["loss"] for r in rows))}
    ratings, lo, hi = evaluation.elo_with_intervals(results, len(players), samples=200,
                                                    seed=study.seed)
    elo = {"players": players, "rating": _to_list(ratings, 5), "lo": _to_list(lo, 5),
           "hi": _to_list(hi, 5), "head_to_head": h2h}
    return vs_bots, elo


def machine_info() -> dict:
    """Where the study ran (the report prints it)."""
    cpu = platform.processor() or platform.machine()
    mem_gb = None
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
        with open("/proc/meminfo") as f:
            kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
        mem_gb = round(kb / 2 ** 20, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {"platform": platform.platform(), "cpu": cpu, "cpu_count": os.cpu_count(),
            "memory_gib": mem_gb, "python": platform.python_version(), "jax": jax.__version__,
            "flax": flax.__version__, "optax": optax.__version__, "numpy": np.__version__,
            "backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()]}


def run_study(study: StudyConfig, out: str, report: str | None = None,
              command: str | None = None) -> dict:
    """Run the whole study, write OUT/results.json and the report (default OUT/report.md;
    with its figures in the report's directory under figures/). Returns the results."""
    os.makedirs(out, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    t0 = time.perf_counter()
    steps = {m: study.train_config(m) for m in study.methods}
    per_update = {m: c.num_games * c.group_size * c.horizon for m, c in steps.items()}
    if len(set(per_update.values())) != 1:
        raise ValueError(f"unequal budgets (simulated steps per update): {per_update}")
    arena = Arena(steps[study.methods[0]], study)
    _log(f"study: {len(study.methods)} methods x {study.seeds} seeds x "
         f"{study.updates * next(iter(per_update.values())):,} simulated steps each -> {out}")
    results = {
        "study": study.to_dict(),
        "command": command or "experiments.study.run_study(...)",
        "machine": machine_info(),
        "started": started.isoformat(timespec="seconds"),
        "wall_s": None,
        "final_eval_s": None,
        "methods": {},
        "elo": None,
    }
    path = os.path.join(out, "results.json")
    finals = {}
    for m in study.methods:
        results["methods"][m], finals[m] = train_method(m, study, arena)
        with open(path, "w") as f:  # partial results (wall_s None) after every method
            json.dump(results, f, indent=1)
        _log(f"[{m}] done: {time.perf_counter() - t0:.0f}s since the study started")
    t = time.perf_counter()
    vs_bots, results["elo"] = final_matches(study, arena, finals)
    for m in study.methods:
        results["methods"][m]["final"] = vs_bots[m]
    results["final_eval_s"] = round(time.perf_counter() - t, 2)
    results["wall_s"] = round(time.perf_counter() - t0, 1)
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    report = report or os.path.join(out, "report.md")
    report_module.write_report(results, report)
    if os.path.dirname(os.path.abspath(report)) != os.path.abspath(out):
        with open(os.path.splitext(report)[0] + ".json", "w") as f:
            json.dump(results, f, indent=1)
    _log(f"study done in {results['wall_s']:.0f}s: {out}/results.json, report {report}")
    return results


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m experiments.study",
                                description=__doc__.strip().splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="tiny configs: the whole pipeline in minutes (tests); writes the "
                        "report to OUT/report.md unless --report is given")
    p.add_argument("--out", default=None,
                   help="directory for results.json (default runs/study[-quick]-<time>)")
    p.add_argument("--report", default=None,
                   help=f"report path (default: {DEFAULT_REPORT} for the full study as "
                        "defined, OUT/report.md when --quick or any option changes it)")
    p.add_argument("--methods", default=None, help=f"comma-separated subset of {METHODS}")
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--updates", type=int, default=None, help="updates per seed")
    p.add_argument("--steps", type=int, default=None,
                   help="simulated steps per seed (rounded up to whole evaluation chunks)")
    p.add_argument("--eval-points", type=int, default=None)
    p.add_argument("--eval-games", type=int, default=None)
    p.add_argument("--batches", type=int, default=None, help="gradient batches per variance "
                   "measurement")
    p.add_argument("--final-games", type=int, default=None)
    p.add_argument("--h2h-games", type=int, default=None)
    p.add_argument("--no-paired", action="store_true",
                   help="skip the absolute estimator on the same batches")
    p.add_argument("--no-anneal", action="store_true",
                   help="constant learning rate (default: annealed to 0 over the run)")
    return p.parse_args(argv)


def config_from_args(args) -> StudyConfig:
    base = QUICK if args.quick else StudyConfig()
    changes = {}
    for name, field in (("seeds", "seeds"), ("seed", "seed"), ("eval_points", "eval_points"),
                        ("eval_games", "eval_games"), ("batches", "variance_batches"),
                        ("final_games", "final_games"), ("h2h_games", "h2h_games"),
                        ("updates", "updates")):
        if getattr(args, name) is not None:
            changes[field] = getattr(args, name)
    if args.methods:
        changes["methods"] = tuple(m.strip() for m in args.methods.split(","))
    if args.no_paired:
        changes["paired"] = False
    if args.no_anneal:
        changes["anneal_lr"] = False
    study = dataclasses.replace(base, **changes)
    if args.steps is not None:
        c = study.train_config(study.methods[0])
        per_chunk = c.num_games * c.group_size * c.horizon * study.eval_points
        study = dataclasses.replace(study, updates=study.eval_points * max(
            1, math.ceil(args.steps / per_chunk)))
    return study


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parse(argv)
    try:
        study = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or os.path.join("runs", f"study{'-quick' if args.quick else ''}-{stamp}")
    # Only the full study as defined (no overrides) replaces the published report by default.
    publish = study == StudyConfig()
    report = args.report or (DEFAULT_REPORT if publish else os.path.join(out, "report.md"))
    run_study(study, out, report, command=" ".join(["python -m experiments.study", *argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
