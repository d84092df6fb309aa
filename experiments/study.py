"""The reproduction study: six update rules, one loss, network, budget, warm start and seeds.

    python -m experiments.study                 # the full study -> docs/grpo_soccer_report.md
    python -m experiments.study --quick         # tiny end to end run (minutes on a 2-core CPU)
    python -m experiments.study --settings 3v3 --seeds 3 --steps 1000000 --out runs/study-small

Settings: the 3v3 match against bot:positional (the `default` preset's game) and the passing
drills `3v1_with_keeper` and `pass_and_shoot_with_keeper` (the learners attack; a drill ends at
a goal, a turnover or its time limit). In each setting every method of
`experiments.presets.METHODS` trains S seeds at once (one jitted program: `lax.scan` over
updates of `vmap` over seeds), all from the same S warm starts (behaviour clones of
bot:positional, computed once per setting and shared) and the same S trunk-game streams.
Along training it measures

1. gradient variance at fixed checkpoints (`variance_at`, fractions of training): the relative
   variance of the policy gradient over `variance_batches` independent batches, per seed, with
   the method's own estimator and (`paired`) with the absolute-return estimator on the very same
   batches (experiments/grad_variance.py); for `grpo-cf` also with independent branch noise at
   the same parameters (what the common random numbers do on their own);
2. stability: every seed's greedy win rate against bot:positional at `eval_points` evenly spaced
   points (and before training), and per-update diagnostics (approx KL, clip fraction);

and after training

3. strength: every seed's win rate against each bot, and (in the match) Elo among the methods
   and the bots (the methods' seeds paired seed by seed, bootstrap 95% intervals);
4. cooperation: completed passes per game over training and at the end, pass completion, share
   of goals scored after a completed pass, and pass maps (where every pass of `pass_games`
   recorded games per seed starts and ends; experiments/passmap.py) with, in the match, a GIF
   of a goal built from passes by the best method.

Resumable: each finished (setting, method) unit, its S seeds together, is kept in
OUT/SETTING/METHOD.json (with its final parameters, METHOD.msgpack), and a rerun with the same
configuration continues from the first unit missing (a unit of another configuration is an
error, never overwritten). OUT/results.json gathers them; experiments/report.py turns it into
the markdown report with its figures. Evaluations use one "roster" player (a `lax.switch` over
the policy and the bots), so every match of a setting runs on a single compiled program.
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
import shutil
import sys
import time

import flax
import flax.serialization
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
from experiments.passmap import goal_after_pass_clip, pass_map
from experiments.presets import (BASE_TRAIN, DESCRIPTIONS, DRILL_UPDATES, FULL_SEEDS,
                                 FULL_UPDATES, METHODS, method_config)
from soccer_env import SoccerEnv, match
from soccer_env.layouts import LAYOUTS
from soccer_env.players import Player

DEFAULT_REPORT = os.path.join("docs", "grpo_soccer_report.md")
DEFAULT_OUT = os.path.join("results", "study")  # the full study's units (committed)
POSITIONAL = "positional"
GOAL_GIF = "goal_after_pass.gif"  # the match setting's GIF, in OUT/SETTING/ and beside the report
MATCH = "3v3"  # the match setting: the `default` preset's game
DRILLS = ("3v1_with_keeper", "pass_and_shoot_with_keeper")  # GRF academy's passing drills
SETTINGS = (MATCH,) + DRILLS
# Per-update metrics kept as per-chunk means in results.json (seed by seed).
TRACKED = ("team_return", "goals_for", "goals_against", "passes", "entropy", "approx_kl",
           "clip_frac", "adv_std", "grad_norm")


def is_drill(setting: str) -> bool:
    """A drill: the learners attack and the opponent defends (not a symmetric match)."""
    return not LAYOUTS[soccer_env.scenario_config(setting).layout].symmetric


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything that defines a study run (results.json records it)."""
    name: str = "full"  # "quick" marks the report as a pipeline check
    methods: tuple[str, ...] = METHODS
    settings: tuple[str, ...] = SETTINGS  # scenarios: the match and the drills
    seeds: int = FULL_SEEDS  # independent runs per method, vmapped
    seed: int = 0  # base key: the same S seeds (warm starts, games) for every method
    updates: int = FULL_UPDATES  # per seed in a match setting; a multiple of eval_points
    drill_updates: int = DRILL_UPDATES  # per seed in a drill; a multiple of eval_points
    base: tuple[tuple[str, object], ...] = ()  # TrainConfig overrides shared by every method
    anneal_lr: bool = True  # lr decays linearly to 0 over the run (the default preset's recipe)
    eval_points: int = 8  # win-rate checks along training (plus one before it)
    eval_games: int = 128  # games per seed and check, half on each side in a match (every
    # match of the study is played in calls of this many games: one compiled match a setting)
    eval_steps: int | None = None  # evaluation game length (None: the scenario's max_steps)
    variance_at: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)  # fractions of training
    variance_batches: int = 32  # K independent batches per measurement
    paired: bool = True  # also the absolute estimator on the same batches
    final_games: int = 256  # per seed and bot, after training (a multiple of eval_games)
    h2h_games: int = 128  # per seed and pair of methods, for Elo (a multiple of eval_games)
    pass_games: int = 8  # recorded games per seed against bot:positional for the pass maps
    bots: tuple[str, ...] = ("random", "chaser", "positional")
    fast_compile: bool = False  # XLA backend optimization level 0 (quick runs: compile-bound)

    def __post_init__(self):
        def fail(name, allowed):
            raise ValueError(f"StudyConfig.{name}={getattr(self, name)!r} is invalid: "
                             f"allowed {allowed}")

        if not self.methods or any(m not in METHODS for m in self.methods) \
                or len(set(self.methods)) != len(self.methods):
            fail("methods", f"distinct names from {METHODS}")
        known = soccer_env.scenarios()
        if not self.settings or any(s not in known for s in self.settings) \
                or len(set(self.settings)) != len(self.settings):
            fail("settings", f"distinct scenario names from {known}")
        for name in ("seeds", "updates", "drill_updates", "eval_points", "eval_games",
                     "variance_batches", "final_games", "h2h_games", "pass_games"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                fail(name, "an integer >= 1")
        for name in ("eval_games", "final_games", "h2h_games", "variance_batches"):
            if getattr(self, name) < 2:
                fail(name, "an integer >= 2")
        for name in ("updates", "drill_updates"):
            if getattr(self, name) % self.eval_points:
                fail(name, f"a multiple of eval_points={self.eval_points}")
        for name in ("final_games", "h2h_games"):
            if getattr(self, name) % self.eval_games:
                fail(name, f"a multiple of eval_games={self.eval_games}")
        if not self.variance_at or any(not 0.0 <= f <= 1.0 for f in self.variance_at):
            fail("variance_at", "fractions in [0, 1]")
        if POSITIONAL not in self.bots or len(set(self.bots)) != len(self.bots):
            fail("bots", f"distinct bot names including {POSITIONAL!r}")

    def setting_updates(self, setting: str) -> int:
        """Updates per seed in `setting`."""
        return self.drill_updates if is_drill(setting) else self.updates

    def chunk(self, setting: str) -> int:
        """Updates between two evaluation points."""
        return self.setting_updates(setting) // self.eval_points

    def variance_points(self) -> list[int]:
        """Evaluation-point indices (0 .. eval_points) of the variance checkpoints."""
        return sorted({round(f * self.eval_points) for f in self.variance_at})

    def train_config(self, method: str, setting: str = MATCH) -> TrainConfig:
        """The TrainConfig of `method` in `setting` (validated)."""
        base = TrainConfig(**{**BASE_TRAIN, "scenario": setting, **dict(self.base)})
        config = method_config(method, base)
        return config.replace(lr_anneal_updates=self.setting_updates(setting)
                              if self.anneal_lr else 0)

    def unit_key(self, method: str, setting: str) -> dict:
        """What a finished unit's results depend on (a rerun reuses the unit when equal)."""
        fields = ("seeds", "seed", "eval_points", "eval_games", "eval_steps", "variance_at",
                  "variance_batches", "paired", "final_games", "bots", "fast_compile")
        return json.loads(json.dumps({
            "train_config": self.train_config(method, setting).to_dict(),
            "updates": self.setting_updates(setting),
            **{k: getattr(self, k) for k in fields}}))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The `--quick` study: every piece of the full one, tiny (a few minutes on a 2-core CPU,
# mostly compilation): the match and one drill.
QUICK = StudyConfig(
    name="quick", settings=(MATCH, DRILLS[0]), seeds=2, updates=4, drill_updates=4,
    eval_points=2, eval_games=8, eval_steps=60, variance_batches=16, final_games=16,
    h2h_games=8, pass_games=2, fast_compile=True,
    base=(("num_games", 4), ("group_size", 2), ("horizon", 8), ("epochs", 1),
          ("num_minibatches", 2), ("hidden_sizes", (16, 16)), ("imitate_games", 2),
          ("imitate_epochs", 1)),
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


def _jit(study: StudyConfig):
    return functools.partial(jax.jit, compiler_options=(
        {"xla_backend_optimization_level": 0} if study.fast_compile else None))


def _keys(study: StudyConfig):
    return jax.random.split(jax.random.PRNGKey(study.seed), study.seeds)


def warm_start(study: StudyConfig, setting: str) -> dict:
    """The S seeds' warm-start policies in `setting` ([S, ...] policy-network parameters):
    each seed's behaviour clone of the default preset's teacher, exactly what `init` of a
    TrainConfig with `imitate` computes from that seed's key (every method's network has the
    same policy part, so one clone serves them all)."""
    return _jit(study)(_clone_fn(study, setting))(_keys(study))


def _clone_fn(study: StudyConfig, setting: str):
    config = study.train_config("grpo", setting)
    if not config.imitate:
        raise ValueError("the study's warm start needs TrainConfig.imitate (a bot to clone)")
    trainer = make_trainer(config)
    return jax.vmap(lambda k: trainer.init(k).params["policy"])


def _programs(config, study: StudyConfig, setting: str, clone):
    """The method's compiled programs: (trainer, initial state [S, ...] from the warm start
    `clone`, run_chunk(state) -> (state, metrics [chunk, S]), probes {name: (probe(state, keys)
    -> variance stats [S], paired estimator)})."""
    trainer = make_trainer(config.replace(imitate=""))  # same streams; the clone comes next
    jit = _jit(study)

    def init(key, policy):
        state = trainer.init(key)
        params = {**state.params, "policy": policy}
        return state.replace(params=params, ref_params=params)

    keys = _keys(study)
    state = jit(jax.vmap(init))(keys, clone)

    def chunk_fn(state):
        return jax.lax.scan(lambda s, _: jax.vmap(trainer.update)(s), state, None,
                            length=study.chunk(setting))

    run_chunk = jit(chunk_fn, donate_argnums=0).lower(state).compile()
    paired = "absolute" if study.paired and config.advantage != "absolute" else None
    probes = {"own": (make_probe(config, study.variance_batches, paired), paired)}
    if config.advantage == "grpo-cf":  # the common random numbers' part, at the same parameters
        probes["independent_noise"] = (make_probe(
            config.replace(branch_noise="independent"), study.variance_batches), None)
    probes = {k: (jit(jax.vmap(f)).lower(state, keys).compile(), a)
              for k, (f, a) in probes.items()}
    return trainer, state, run_chunk, probes


def train_method(method: str, setting: str, study: StudyConfig, arena: Arena,
                 clone) -> tuple[dict, object]:
    """Train `study.seeds` seeds of `method` in `setting` from the warm starts `clone`, with
    the measurements along the way and the final matches against the bots. Returns (its
    entry of results.json, final parameters [S, ...])."""
    config = study.train_config(method, setting)
    S, updates, chunk = study.seeds, study.setting_updates(setting), study.chunk(setting)
    t0 = time.perf_counter()
    trainer, state, run_chunk, probes = _programs(config, study, setting, clone)
    timing = {"compile_s": time.perf_counter() - t0, "train_s": 0.0, "variance_s": 0.0,
              "eval_s": 0.0}
    tag = f"[{setting} {method}]"
    _log(f"{tag} {DESCRIPTIONS[method]}: {S} seeds x {updates} updates x "
         f"{trainer.env_steps_per_update:,} steps (compiled in {timing['compile_s']:.0f}s)")
    var_points = study.variance_points()
    eval_key, var_key = jax.random.PRNGKey(study.seed + 1), jax.random.PRNGKey(study.seed + 2)
    curve = {k: [] for k in ("update", "env_steps", "win_rate", "passes_per_game",
                             "passes_completed_per_game", "goals_for", "goals_against")}
    variance, tracked, kl = [], {k: [] for k in TRACKED}, []
    for point in range(study.eval_points + 1):
        update = point * chunk
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
            out = {k: jax.device_get(probe(state, keys)) for k, (probe, _) in probes.items()}
            variance.append((update, out))
            timing["variance_s"] += time.perf_counter() - t
            own = out["own"]["own"]
            snr = np.mean(np.asarray(own["signal_sq_norm"]) / np.asarray(own["trace"]))
            note = f" | gradient SNR {snr:.3g} (mean of seeds; relative variance 1/SNR)"
        t = time.perf_counter()
        key = jax.random.fold_in(eval_key, point)  # the same games for every method
        matches = [arena.match(arena.player(policy_of(state.params, s)),
                               arena.player(policy_of(state.params, s), POSITIONAL),
                               jax.random.fold_in(key, s), study.eval_games) for s in range(S)]
        timing["eval_s"] += time.perf_counter() - t
        curve["update"].append(update)
        curve["env_steps"].append(update * trainer.env_steps_per_update)
        for k in curve:
            if k not in ("update", "env_steps"):
                curve[k].append([m[k] for m in matches])
        win = np.asarray(curve["win_rate"][-1])
        _log(f"{tag} update {update}/{updates} ({update / updates:4.0%}) "
             f"steps {update * trainer.env_steps_per_update:,} | "
             f"{time.perf_counter() - t0:6.1f}s | win vs positional {win.mean():.0%} "
             f"(seeds {' '.join(f'{w:.0%}' for w in win)}) | completed passes "
             f"{np.mean(curve['passes_completed_per_game'][-1]):.2f}{note}")

    def stats(probe, kind):
        if kind not in variance[0][1][probe]:
            return None
        return {k: _to_list([v[probe][kind][k] for _, v in variance])
                for k in variance[0][1][probe][kind]}

    t = time.perf_counter()
    params = jax.device_get(state.params)
    final = bot_finals(study, arena, params)
    timing["final_s"] = time.perf_counter() - t
    _log(f"{tag} final: " + ", ".join(
        f"{b} {np.mean([r['win_rate'] for r in final[b]]):.0%}" for b in study.bots))
    kl = np.concatenate(kl, axis=0)  # [updates, S]
    timing["total_s"] = time.perf_counter() - t0
    paired = probes["own"][1]
    entry = {
        "description": DESCRIPTIONS[method],
        "train_config": config.to_dict(),
        "credit_weight": trainer.env.config.credit_weight,
        "env_steps_per_update": trainer.env_steps_per_update,
        "samples_per_update": trainer.samples_per_update,
        "updates": updates,
        "env_steps": updates * trainer.env_steps_per_update,
        "curve": {k: v if k in ("update", "env_steps") else _to_list(v) for k, v in curve.items()},
        "train_metrics": {"update": [p * chunk for p in range(1, study.eval_points + 1)],
                          **{k: _to_list(v) for k, v in tracked.items()}},
        "kl_per_update": {"mean": _to_list(kl.mean(0)), "p95": _to_list(np.percentile(kl, 95, 0)),
                          "max": _to_list(kl.max(0))},
        "variance": {"update": [u for u, _ in variance],
                     "progress": [u / updates for u, _ in variance],
                     "paired_with": paired, "own": stats("own", "own"),
                     "paired": stats("own", "paired"),
                     "paired_gap": [float(np.max(v["own"]["paired_gap"])) if paired else None
                                    for _, v in variance]},
        "final": final,
        "skipped_minibatches": [int(x) for x in np.asarray(state.skipped)],
        "timing": {k: round(v, 2) for k, v in timing.items()},
    }
    if "independent_noise" in probes:
        entry["variance"]["independent_noise"] = stats("independent_noise", "own")
    return entry, params


# --- after training: strength, Elo, cooperation ----------------------------------------------


def _fold(key, *data: int):
    """A key for one match: `key` folded with each integer in turn."""
    for d in data:
        key = jax.random.fold_in(key, d)
    return key


def bot_finals(study: StudyConfig, arena: Arena, params) -> dict:
    """Every seed of one method's final parameters against every bot: {bot: [per-seed
    summaries]} (the same games for every method)."""
    key = jax.random.PRNGKey(study.seed + 3)
    return {bot: [arena.match(arena.player(policy_of(params, s)),
                              arena.player(policy_of(params, s), bot), _fold(key, j, s),
                              study.final_games) for s in range(study.seeds)]
            for j, bot in enumerate(study.bots)}


def elo_matches(study: StudyConfig, arena: Arena, entries: dict, finals: dict) -> dict:
    """Elo among the methods and the bots: every method's games against the bots (from its
    entry) and a round robin among the methods (seed s of one against seed s of the other)."""
    methods = list(entries)
    players = methods + [f"bot:{b}" for b in study.bots]
    results = {}  # (i, j) -> per-game points of i against j

    def points(r):
        return np.repeat([1.0, 0.5, 0.0], [r["win"], r["draw"], r["loss"]])

    for i, m in enumerate(methods):
        for j, bot in enumerate(study.bots):
            results[(i, len(methods) + j)] = np.concatenate(
                [points(r) for r in entries[m]["final"][bot]])
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
    return {"players": players, "rating": _to_list(ratings, 5), "lo": _to_list(lo, 5),
            "hi": _to_list(hi, 5), "head_to_head": h2h}


def pass_maps(study: StudyConfig, arena: Arena, entries: dict, finals: dict,
              gif: str | None = None) -> dict:
    """Every method's passes in `pass_games` recorded games per seed against bot:positional
    (`experiments.passmap.pass_map`, the seeds' games together): {"maps": {method: ...},
    "gif_method": ...}. With `gif`, a GIF there of the first goal right after a pass by the
    method with the best final rate against bot:positional that scored one (its name in
    "gif_method"; None when no method did)."""
    key = jax.random.PRNGKey(study.seed + 5)
    maps, clips = {}, {}
    for i, (m, params) in enumerate(finals.items()):
        rows = {"completed": [], "intercepted": [], "games": 0}
        for s in range(study.seeds):
            policy = policy_of(params, s)
            _, states, events = match.recorded(
                arena.env, Player(arena.act, arena.player(policy), m),
                Player(arena.act, arena.player(policy, POSITIONAL), POSITIONAL),
                _fold(key, i, s), study.pass_games, study.eval_steps)
            part = pass_map(states, events)
            for k in rows:
                rows[k] += part[k]
            if clips.get(m) is None:
                clips[m] = goal_after_pass_clip(states, events)
        maps[m] = rows
    out = {"maps": maps, "gif_method": None}
    if gif is not None:
        best = sorted(finals, key=lambda m: -np.mean(
            [r["win_rate"] for r in entries[m]["final"][POSITIONAL]]))
        scorer = next((m for m in best if clips[m] is not None), None)
        if scorer is not None:
            from soccer_env.render import save_gif  # lazy: only the GIF needs Pillow

            save_gif(clips[scorer], gif, arena.env.config)
            out["gif_method"] = scorer
    return out


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


class StudyDirError(ValueError):
    """A unit on disk that this run cannot use (unreadable, or of another configuration)."""


def _read_json(path: str):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise StudyDirError(f"{path} cannot be read ({exc}): move it away to recompute "
                            "it") from exc


def _write_json(path: str, data) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)  # a unit on disk is complete or absent


def _write_bytes(path: str, data: bytes) -> None:
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def _same_key(saved, key, new_fields_ok: bool = False) -> bool:
    """Whether a unit's saved configuration is this run's. TrainConfig fields added to the code
    after the unit was computed are left out (with their defaults they change nothing)."""
    if isinstance(key, dict) and isinstance(saved, dict):
        if set(saved) - set(key) or (not new_fields_ok and set(key) - set(saved)):
            return False
        return all(_same_key(saved[k], v, k == "train_config")
                   for k, v in key.items() if k in saved)
    return saved == key


class Units:
    """The finished units of a study directory: OUT/SETTING/METHOD.json (the results.json
    entry and the configuration it was computed with), OUT/SETTING/METHOD.msgpack (its final
    parameters, flax msgpack, no pickle), OUT/SETTING/clone.msgpack (the warm starts) and
    OUT/SETTING/elo.json."""

    def __init__(self, out: str, study: StudyConfig):
        self.out, self.study = out, study

    def path(self, setting: str, name: str) -> str:
        os.makedirs(os.path.join(self.out, setting), exist_ok=True)
        return os.path.join(self.out, setting, name)

    def _check(self, path: str, key) -> dict | None:
        if not os.path.exists(path):
            return None
        saved = _read_json(path)
        if not _same_key(saved.get("key"), key):
            raise StudyDirError(f"{path} was computed with another configuration than this "
                                "run's (a different StudyConfig or TrainConfig): use another "
                                "--out, or move it away to recompute it")
        return saved

    def load(self, setting: str, method: str, template) -> tuple[dict, object] | None:
        saved = self._check(self.path(setting, f"{method}.json"),
                            self.study.unit_key(method, setting))
        if saved is None:
            return None
        return saved["entry"], self._params(self.path(setting, f"{method}.msgpack"), template)

    @staticmethod
    def _params(path: str, template):
        try:
            with open(path, "rb") as f:
                return flax.serialization.from_bytes(template, f.read())
        except Exception as exc:  # noqa: BLE001 - any unreadable file: say which one
            raise StudyDirError(f"{path} cannot be read ({type(exc).__name__}: {exc}): move it "
                                "and its .json away to recompute them") from exc

    def save(self, setting: str, method: str, entry: dict, params) -> None:
        _write_bytes(self.path(setting, f"{method}.msgpack"),
                     flax.serialization.to_bytes(params))
        _write_json(self.path(setting, f"{method}.json"),
                    {"key": self.study.unit_key(method, setting), "entry": entry})

    def cached(self, setting: str, name: str, key, compute):
        """OUT/SETTING/NAME's data if it was computed with `key`, else `compute()` saved there.
        Unlike a unit it is derived from the units (the round robin, the pass maps), so one of
        another key, e.g. from a run over a subset of the methods, is recomputed, not refused."""
        path = self.path(setting, name)
        saved = _read_json(path) if os.path.exists(path) else None
        if saved is not None and _same_key(saved.get("key"), key):
            return saved["data"]
        t = time.perf_counter()
        data = compute()
        _write_json(path, {"key": key, "data": data, "wall_s": round(time.perf_counter() - t, 1)})
        return data

    def clone(self, setting: str) -> dict:
        """The warm starts of `setting`, computed once and kept."""
        path = self.path(setting, "clone.msgpack")
        template = jax.eval_shape(_clone_fn(self.study, setting), _keys(self.study))
        meta = self.path(setting, "clone.json")
        key = self.study.unit_key("grpo", setting)["train_config"]
        key = {k: v for k, v in key.items() if k.startswith("imitate") or k in (
            "scenario", "opponent", "hidden_sizes", "activation", "env_overrides")}
        key = {"seeds": self.study.seeds, "seed": self.study.seed, **key}
        if self._check(meta, key) is not None:
            return self._params(path, template)
        t = time.perf_counter()
        clone = jax.device_get(warm_start(self.study, setting))
        _write_bytes(path, flax.serialization.to_bytes(clone))
        _write_json(meta, {"key": key, "wall_s": round(time.perf_counter() - t, 1)})
        _log(f"[{setting}] warm start: {self.study.seeds} clones of "
             f"{self.study.train_config('grpo', setting).imitate} in "
             f"{time.perf_counter() - t:.0f}s")
        return clone


def run_study(study: StudyConfig, out: str, report: str | None = None,
              command: str | None = None) -> dict:
    """Run the study (continuing from the units already in `out`), write OUT/results.json
    and the report (default OUT/report.md; with its figures in the report's directory under
    figures/). Returns the results."""
    os.makedirs(out, exist_ok=True)
    started = datetime.datetime.now().astimezone()
    t0 = time.perf_counter()
    units = Units(out, study)
    results = {
        "study": study.to_dict(),
        "command": command or "experiments.study.run_study(...)",
        "machine": machine_info(),
        "started": started.isoformat(timespec="seconds"),
        "wall_s": None,
        "settings": {},
    }
    total = len(study.settings) * len(study.methods)
    _log(f"study: {len(study.settings)} settings x {len(study.methods)} methods x "
         f"{study.seeds} seeds -> {out}")
    done = 0
    for setting in study.settings:
        configs = {m: study.train_config(m, setting) for m in study.methods}
        per_update = {m: c.num_games * c.group_size * c.horizon for m, c in configs.items()}
        if len(set(per_update.values())) != 1:
            raise ValueError(f"unequal budgets (simulated steps per update): {per_update}")
        arena = Arena(configs[study.methods[0]], study)
        clone = None
        entries, finals = {}, {}
        for m in study.methods:
            template = jax.eval_shape(lambda c=configs[m]: jax.vmap(make_trainer(
                c.replace(imitate="")).init)(_keys(study)).params)
            loaded = units.load(setting, m, template)
            if loaded is None:
                clone = units.clone(setting) if clone is None else clone
                loaded = train_method(m, setting, study, arena, clone)
                units.save(setting, m, *loaded)
                state = "trained"
            else:
                state = "kept from an earlier run"
            entries[m], finals[m] = loaded
            done += 1
            _log(f"[{setting} {m}] {state} ({done}/{total} units; "
                 f"{time.perf_counter() - t0:.0f}s since the study started)")
        elo = None
        if not is_drill(setting):  # a round robin needs a game both sides play alike
            key = {"units": {m: study.unit_key(m, setting) for m in study.methods},
                   "h2h_games": study.h2h_games}
            elo = units.cached(setting, "elo.json", key,
                               lambda: elo_matches(study, arena, entries, finals))
        key = {"units": {m: study.unit_key(m, setting) for m in study.methods},
               "pass_games": study.pass_games}
        gif = None if is_drill(setting) else units.path(setting, GOAL_GIF)
        passes = units.cached(setting, "passes.json", key,
                              lambda: pass_maps(study, arena, entries, finals, gif))
        results["settings"][setting] = {"scenario": setting, "drill": is_drill(setting),
                                        "updates": study.setting_updates(setting),
                                        "methods": entries, "elo": elo, "passes": passes}
    results["wall_s"] = round(time.perf_counter() - t0, 1)
    _write_json(os.path.join(out, "results.json"), results)
    report = report or os.path.join(out, "report.md")
    for setting, r in results["settings"].items():  # the GIF goes beside the report's figures
        source = units.path(setting, GOAL_GIF)
        if r["passes"]["gif_method"] is not None and os.path.exists(source):
            figures = os.path.join(os.path.dirname(os.path.abspath(report)), "figures")
            os.makedirs(figures, exist_ok=True)
            shutil.copyfile(source, os.path.join(figures, f"grpo_soccer_{setting}_{GOAL_GIF}"))
    report_module.write_report(results, report)
    if os.path.dirname(os.path.abspath(report)) != os.path.abspath(out):
        _write_json(os.path.splitext(report)[0] + ".json", results)
    _log(f"study done in {results['wall_s']:.0f}s: {out}/results.json, report {report}")
    return results


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m experiments.study",
                                description=__doc__.strip().splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="tiny configs: the whole pipeline in minutes (tests); writes the "
                        "report to OUT/report.md unless --report is given")
    p.add_argument("--out", default=None,
                   help=f"directory of the study's units and results.json; a rerun continues "
                        f"there (default: {DEFAULT_OUT} for the full study as defined, "
                        "runs/study[-quick]-<time> otherwise)")
    p.add_argument("--report", default=None,
                   help=f"report path (default: {DEFAULT_REPORT} for the full study as "
                        "defined, OUT/report.md when --quick or any option changes it)")
    p.add_argument("--methods", default=None, help=f"comma-separated subset of {METHODS}")
    p.add_argument("--settings", default=None,
                   help=f"comma-separated scenarios (default: {','.join(SETTINGS)})")
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--updates", type=int, default=None, help="updates per seed in a match")
    p.add_argument("--drill-updates", type=int, default=None, help="updates per seed in a drill")
    p.add_argument("--steps", type=int, default=None,
                   help="simulated steps per seed in a match (rounded up to whole evaluation "
                        "chunks)")
    p.add_argument("--drill-steps", type=int, default=None,
                   help="simulated steps per seed in a drill (rounded up likewise)")
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
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="a TrainConfig override shared by every method, e.g. "
                        "normalize_std=false (repeatable; scalar fields only; a method's own "
                        "settings, e.g. its advantage, still win): for ablations, into their "
                        "own --out")
    return p.parse_args(argv)


def parse_override(text: str) -> tuple[str, object]:
    """'FIELD=VALUE' -> (field, value) typed like TrainConfig's scalar field (bool: true/false,
    int, float, str; 'none' for an optional one)."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    name, sep, raw = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or name not in fields:
        raise ValueError(f"--set {text!r} is invalid: allowed FIELD=VALUE with FIELD one of "
                         f"TrainConfig's fields ({', '.join(fields)})")
    kind, raw = str(fields[name].type), raw.strip()
    if "tuple" in kind:
        raise ValueError(f"--set {name}: a tuple field cannot be set here (scalar fields only)")
    if "None" in kind and raw.lower() == "none":
        return name, None
    try:
        if kind.startswith("bool"):
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError(raw)
            return name, raw.lower() in ("true", "1")
        if kind.startswith("int"):
            return name, int(raw)
        if kind.startswith("float"):
            return name, float(raw)
    except ValueError:
        raise ValueError(f"--set {name}={raw!r} is invalid: allowed a value of type "
                         f"{kind}") from None
    return name, raw


def config_from_args(args) -> StudyConfig:
    base = QUICK if args.quick else StudyConfig()
    changes = {}
    for name, field in (("seeds", "seeds"), ("seed", "seed"), ("eval_points", "eval_points"),
                        ("eval_games", "eval_games"), ("batches", "variance_batches"),
                        ("final_games", "final_games"), ("h2h_games", "h2h_games"),
                        ("updates", "updates"), ("drill_updates", "drill_updates")):
        if getattr(args, name) is not None:
            changes[field] = getattr(args, name)
    for name in ("methods", "settings"):
        if getattr(args, name):
            changes[name] = tuple(m.strip() for m in getattr(args, name).split(","))
    if args.no_paired:
        changes["paired"] = False
    if args.no_anneal:
        changes["anneal_lr"] = False
    if args.set:
        changes["base"] = tuple({**dict(base.base), **dict(map(parse_override, args.set))}.items())
    study = dataclasses.replace(base, **changes)
    for setting in study.settings:  # every unit's TrainConfig is valid before anything runs
        for m in study.methods:
            study.train_config(m, setting)
    for arg, field in (("steps", "updates"), ("drill_steps", "drill_updates")):
        if getattr(args, arg) is not None:
            c = study.train_config(study.methods[0])
            per_chunk = c.num_games * c.group_size * c.horizon * study.eval_points
            study = dataclasses.replace(study, **{field: study.eval_points * max(
                1, math.ceil(getattr(args, arg) / per_chunk))})
    return study


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parse(argv)
    try:
        study = config_from_args(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Only the full study as defined (no overrides) replaces the published report by default.
    publish = study == StudyConfig()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = args.out or (DEFAULT_OUT if publish else os.path.join(
        "runs", f"study{'-quick' if args.quick else ''}-{stamp}"))
    report = args.report or (DEFAULT_REPORT if publish else os.path.join(out, "report.md"))
    try:
        run_study(study, out, report, command=" ".join(["python -m experiments.study", *argv]))
    except StudyDirError as exc:  # a unit of another configuration: nothing was overwritten
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0

if __name__ == "__main__":
    sys.exit(main())
