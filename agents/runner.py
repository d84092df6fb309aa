"""The training host loop: a run directory from a `TrainConfig` and `RunOptions`.

    summary = agents.runner.train(TrainConfig(...), RunOptions(total_steps=..., out="runs/a"))

The loop only runs compiled chunks of `log_every` updates (`lax.scan` over `vmap`-over-seeds of
`Trainer.update`, the games sharded over every local device), logs between them, checkpoints
every `checkpoint_every` updates, and finishes with the final evaluation, `curves.png`,
`match.gif` and `summary.json`. It reports through callbacks, as Brax's trainers do:
`progress(row)` gets each chunk's last metrics row (the default prints one line) and `log(msg)`
every other message, so scripts stay thin (train.py is a CLI over this module).

Ctrl-C or SIGTERM stop the run at the end of the running chunk, save a checkpoint and say how
to resume (`Interrupted`); a second Ctrl-C stops at once. Multi-host (`--coordinator-address`,
`--num-processes`, `--process-id`; agents.distributed): the games are sharded over every
process's devices, process 0 alone writes the run's files, and a stop to any process stops all
of them after the same chunk.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import os
import signal
import time
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from agents import distributed, evaluation, imitation, loggers
from agents.checkpoint import Checkpoints
from agents.players import policy_player, resolve
from agents.policy import SavedRun
from agents.trainer import TrainConfig, make_trainer
from soccer_env import match
from soccer_env.jsonio import JsonConfig
from soccer_env.players import parse_spec
from soccer_env.render import save_gif


@dataclasses.dataclass(frozen=True)
class RunOptions(JsonConfig):
    """How one training run is carried out (not part of the learning algorithm)."""

    total_steps: int = 1_000_000  # simulated game steps to train for (branch steps count)
    seeds: int = 1  # independent runs trained at once (vmapped in one program)
    seed: int = 0  # base random seed
    out: Optional[str] = None  # run directory (default runs/<preset>-<time>)
    resume: bool = False  # continue the run in --out from its latest checkpoint
    log_every: int = 5  # updates per compiled chunk: one log line and metrics row per chunk
    checkpoint_every: int = 20  # updates between checkpoints (a multiple of --log-every)
    keep_checkpoints: int = 3  # how many recent checkpoints to keep
    eval_every: int = 20  # updates between quick win-rate checks of every seed (0: never)
    eval_games_quick: int = 64  # games of each quick win-rate check
    eval_games: int = 1000  # games of the final evaluation of seed 0 (half on each side)
    eval_opponent: Optional[str] = None  # evaluation opponent (default: the training bot, or bot:positional)
    anneal_lr: bool = False  # decay the learning rate linearly to 0 over the run (sets TrainConfig.lr_anneal_updates)
    gif: bool = True  # write match.gif of one evaluation game at the end
    tensorboard: bool = True  # TensorBoard scalars in RUN/tb (needs the tensorboard extra, else a note)
    wandb: bool = False  # log config, metrics, summary and media to Weights & Biases (the wandb extra)
    wandb_project: str = "soccer-grpo"  # W&B project
    wandb_entity: Optional[str] = None  # W&B user or team (default: your default entity)
    wandb_name: Optional[str] = None  # W&B run name (default: the run directory's name)
    wandb_mode: Optional[str] = None  # online, offline (wandb sync later) or disabled (default: $WANDB_MODE, else online)
    coordinator_address: Optional[str] = None  # multi-host: jax.distributed coordinator HOST:PORT
    num_processes: Optional[int] = None  # multi-host: number of processes
    process_id: Optional[int] = None  # multi-host: this process's index
    coordinator_timeout_s: int = 300  # multi-host: seconds for every process to join (then a clear error)

    def __post_init__(self):
        def fail(name, allowed):
            raise ValueError(f"--{name.replace('_', '-')}={getattr(self, name)!r} is invalid: "
                             f"allowed {allowed}")

        def integer(name):
            v = getattr(self, name)
            return isinstance(v, int) and not isinstance(v, bool)

        for name in ("total_steps", "seeds", "log_every", "checkpoint_every", "keep_checkpoints",
                     "eval_games_quick"):
            if not integer(name) or getattr(self, name) < 1:
                fail(name, "an integer >= 1")
        if not integer("seed"):
            fail("seed", "an integer")
        if not integer("eval_games") or self.eval_games < 2:
            fail("eval_games", "an integer >= 2 (half the games are played on each side)")
        if not integer("eval_every") or self.eval_every < 0:
            fail("eval_every", "an integer >= 0")
        if self.checkpoint_every % self.log_every:
            fail("checkpoint_every", f"a multiple of --log-every={self.log_every}")
        if self.eval_every and self.eval_every % self.log_every:
            fail("eval_every", f"0 or a multiple of --log-every={self.log_every}")
        if self.eval_opponent is not None:
            parse_spec(self.eval_opponent, ("bot", "run"), "--eval-opponent")
        self._check_multihost(fail, integer)
        if self.wandb_mode is not None and self.wandb_mode not in loggers.WANDB_MODES:
            fail("wandb_mode", f"one of {', '.join(loggers.WANDB_MODES)} (or unset: $WANDB_MODE, "
                 "else online)")
        if not isinstance(self.wandb_project, str) or not self.wandb_project.strip():
            fail("wandb_project", "a non-empty project name")
        for name in ("wandb_entity", "wandb_name"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, str) or not v.strip()):
                fail(name, "a non-empty name, or unset")

    def _check_multihost(self, fail, integer):
        """--coordinator-address, --num-processes and --process-id come together, valid."""
        trio = ("coordinator_address", "num_processes", "process_id")
        given = [n for n in trio if getattr(self, n) is not None]
        if given and len(given) < 3:
            missing = ", ".join(_flag(n) for n in trio if n not in given)
            raise ValueError(f"multi-host training needs --coordinator-address HOST:PORT, "
                             f"--num-processes N and --process-id I together: {missing} "
                             f"missing (given: {', '.join(_flag(n) for n in given)})")
        if not integer("coordinator_timeout_s") or self.coordinator_timeout_s < 1:
            fail("coordinator_timeout_s", "an integer >= 1 (seconds)")
        if not given:
            return
        if self.out is None:
            raise ValueError("multi-host training needs --out RUN_DIR, the same for every "
                             "process, on a filesystem that all of them share (checkpoints "
                             "are written by all processes together)")
        try:
            distributed.split_address(self.coordinator_address)
        except ValueError:
            fail("coordinator_address", "HOST:PORT with a port in 1..65535, e.g. "
                 "10.0.0.1:12345 (the host of process 0)")
        if not integer("num_processes") or self.num_processes < 1:
            fail("num_processes", "an integer >= 1")
        if not integer("process_id") or not 0 <= self.process_id < self.num_processes:
            fail("process_id", f"an integer in 0..{self.num_processes - 1} "
                 f"(--num-processes={self.num_processes})")


# Options a resumed run may change: they decide what is evaluated, logged or kept, never what
# is learned (total_steps extends the run; see `reconcile_resume`).
RESUMABLE = ("out", "resume", "total_steps", "checkpoint_every", "keep_checkpoints", "eval_every",
             "eval_games_quick", "eval_games", "eval_opponent", "gif", "coordinator_address",
             "num_processes", "process_id", "tensorboard", "wandb", "wandb_project",
             "wandb_entity", "wandb_name", "wandb_mode", "coordinator_timeout_s")


class Interrupted(Exception):
    """Training stopped by Ctrl-C or SIGTERM after saving a checkpoint."""

    def __init__(self, out: str, update: int, signame: str):
        self.out, self.update, self.signame = out, update, signame
        super().__init__(f"{signame}: stopped at update {update}, checkpoint saved; resume with "
                         f"python train.py --out {out} --resume")


def total_updates(config: TrainConfig, options: RunOptions) -> int:
    """Updates of a run: enough for total_steps, rounded up to whole log_every chunks."""
    steps_per_update = config.num_games * config.group_size * config.horizon
    updates = max(1, math.ceil(options.total_steps / steps_per_update))
    return options.log_every * math.ceil(updates / options.log_every)


def prepare(config: TrainConfig, options: RunOptions) -> TrainConfig:
    """The TrainConfig of a new run: `anneal_lr` fixes the annealing horizon to the run's
    updates (ValueError when TrainConfig.lr_anneal_updates is set too)."""
    if not options.anneal_lr:
        return config
    if config.lr_anneal_updates:
        raise ValueError(f"--anneal-lr (anneal over the whole run) and --lr-anneal-updates="
                         f"{config.lr_anneal_updates} both set the annealing: give one "
                         "(--no-anneal-lr to turn the preset's off)")
    return config.replace(lr_anneal_updates=total_updates(config, options))


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def reconcile_resume(saved: SavedRun, config: TrainConfig, options: RunOptions):
    """(config, options) to resume `saved` with: the saved run's, with the changes that a
    resume may make (RESUMABLE, a longer total_steps). ValueError naming every other option
    that differs from the saved run (a resumed run must be the same run)."""
    saved_options = RunOptions.from_dict(saved.run)
    changed = [f.name for f in dataclasses.fields(TrainConfig)
               if getattr(config, f.name) != getattr(saved.train, f.name)]
    changed += [f.name for f in dataclasses.fields(RunOptions)
                if f.name not in RESUMABLE
                and getattr(options, f.name) != getattr(saved_options, f.name)]
    if changed:
        raise ValueError(
            f"cannot resume {options.out!r} with different {', '.join(map(_flag, changed))}: a "
            "resumed run continues the same run (it may change only "
            f"{', '.join(_flag(n) for n in RESUMABLE[2:10])}); start a new run with another "
            "--out instead. Nothing was written")
    if (options.total_steps != saved_options.total_steps and saved.train.lr_anneal_updates
            and total_updates(saved.train, options) > saved.train.lr_anneal_updates):
        raise ValueError(
            f"cannot extend {options.out!r} to --total-steps={options.total_steps}: its learning "
            f"rate anneals to 0 at update {saved.train.lr_anneal_updates}, so further updates "
            "would not learn; start a new run instead. Nothing was written")
    return saved.train, options


def params_digest(params) -> str:
    """sha256 of the parameters' bytes (leaves in tree order): equal digests, equal weights."""
    h = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
        h.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
    return h.hexdigest()


def _json_default(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def _read_metrics(path: str, upto: int) -> list[dict]:
    """Rows of metrics.jsonl with update <= upto (a torn last line is dropped)."""
    rows = []
    if os.path.isfile(path):
        with open(path) as f:
            for line in f:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(row, dict) and row.get("update", 0) <= upto:
                    rows.append(row)
    return rows


def format_progress(row: dict) -> str:
    """The one progress line of a chunk (its last metrics row)."""
    win = ""
    if row.get("last_win_rate") is not None:
        win = f" | win {row['last_win_rate']:.0%}"
        if "elo" in row:
            win += f" elo {row['elo']:.0f}"
    note = " (incl. compile)" if row.get("includes_compile") else ""
    if "difficulty" in row:  # the curriculum's opponent strength (TrainConfig.difficulty_step)
        win = f" | difficulty {row['difficulty']:.2f}" + win
    return (f"[{row['update'] / row['total_updates']:4.0%}] update {row['update']}/"
            f"{row['total_updates']} steps {row['env_steps']:,} | {row['steps_per_s']:,.0f} "
            f"steps/s{note} | goals for/against {row.get('goals_for', 0):.2f}/"
            f"{row.get('goals_against', 0):.2f}{win} | loss {row.get('loss', 0):.3f} kl "
            f"{row.get('approx_kl', 0):.4f} ent {row.get('entropy', 0):.2f}")


class _StopRequests:
    """Ctrl-C / SIGTERM as a flag checked between chunks (a second Ctrl-C stops at once)."""

    def __init__(self):
        self.signame = None
        self._previous = {}

    def __enter__(self):
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        except ValueError:  # not the main thread: signals stay as they are
            self._previous = {}
        return self

    def _handle(self, signum, frame):
        if self.signame is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signame = signal.Signals(signum).name

    def release(self):
        """Give the signals back to their previous handlers."""
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def __exit__(self, *exc):
        self.release()
        return False


def train(config: TrainConfig, options: RunOptions, *, preset: str = "custom",
          saved: SavedRun | None = None, progress: Callable[[dict], None] | None = None,
          log: Callable[[str], None] | None = None) -> dict:
    """Train, evaluate and write the run directory; returns summary.json's content.

    `saved`: the run's saved configuration when resuming (`options.resume`; from
    `agents.policy.read_run`), which `reconcile_resume` checks `config`/`options` against.
    Raises ValueError for invalid input before anything is written, and `Interrupted` after
    saving a checkpoint when stopped by a signal.
    """
    with _StopRequests() as stop:
        return _train(config, options, preset, saved, progress, log, stop)


def _train(config, options, preset, saved, progress, log, stop) -> dict:
    log = log or (lambda msg: print(msg, flush=True))
    progress = progress or (lambda row: log(format_progress(row)))
    command_start = time.perf_counter()
    if options.resume:
        if not options.out:
            raise ValueError("--resume needs --out RUN_DIR (the run to continue)")
        if saved is None:
            raise ValueError("resuming needs the run's saved configuration (agents.read_run)")
        config, options = reconcile_resume(saved, config, options)
    else:
        config = prepare(config, options)
    loggers.check(options)  # a missing extra (--wandb) is an error before anything is written

    out = options.out or os.path.join(
        "runs", f"{preset}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}")
    ckpt_dir = os.path.join(out, "checkpoints")
    if not options.resume and os.path.isdir(ckpt_dir) and os.listdir(ckpt_dir):
        raise ValueError(f"{out!r} already holds a run; pass --resume to continue it or choose "
                         "another --out (nothing was overwritten)")
    # Multi-host: after the check above (every process checks before process 0 can write) and
    # before any JAX computation; bounded, with clear errors (agents.distributed).
    if options.coordinator_address is not None:
        distributed.initialize(options.coordinator_address, options.num_processes,
                               options.process_id, options.coordinator_timeout_s)
    main_process = jax.process_index() == 0

    trainer = make_trainer(config)
    env = trainer.env
    S = options.seeds
    steps_per_update = trainer.env_steps_per_update
    n_updates = total_updates(config, options)
    chunk = options.log_every
    # A curriculum (difficulty_step) moves the training bot's strength: judge against the full one.
    trains_on_bot = config.opponent.startswith("bot:") and not config.difficulty_step
    eval_spec = options.eval_opponent or (config.opponent if trains_on_bot else "bot:positional")
    opponent = resolve(eval_spec, env, what="--eval-opponent")

    devices = jax.devices()
    n_dev = len(devices)
    if config.num_games % n_dev:
        raise ValueError(f"TrainConfig.num_games={config.num_games} must be a multiple of the "
                         f"{n_dev} devices in use (the games are split over them)")
    os.makedirs(out, exist_ok=True)
    mesh = Mesh(np.asarray(devices), ("games",))
    replicated = NamedSharding(mesh, P())
    abstract_state = jax.eval_shape(jax.vmap(trainer.init),
                                    jax.ShapeDtypeStruct((S, 2), jnp.uint32))

    # Games (axis 1, after the seed axis) are split over the devices; the rest is replicated,
    # so gradients are averaged across devices by the compiler's collectives.
    def sharding_of(path, leaf):
        in_trunk = any(getattr(p, "name", None) == "trunk" for p in path)
        if in_trunk and leaf.ndim >= 2:
            return NamedSharding(mesh, P(None, "games"))
        return replicated

    state_sharding = jax.tree_util.tree_map_with_path(sharding_of, abstract_state)

    def chunk_fn(state):
        def body(s, _):
            return jax.vmap(trainer.update)(s)
        return jax.lax.scan(body, state, None, length=chunk)

    run_chunk = jax.jit(chunk_fn, in_shardings=(state_sharding,),
                        out_shardings=(state_sharding, replicated), donate_argnums=0)

    checkpoints = Checkpoints(out, keep=options.keep_checkpoints)
    metrics_path = os.path.join(out, "metrics.jsonl")
    wall_before = 0.0
    if options.resume and checkpoints.steps():
        target = jax.tree.map(lambda a, sh: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sh),
                              abstract_state, state_sharding)
        step0, state, _, meta = checkpoints.restore(abstract_state=target, log=log)
        update = int(meta["update"])
        wall_before = float(meta.get("wall_s", 0.0))
        rows = _read_metrics(metrics_path, update)
        saved_update = update
        log(f"resuming {out} from update {update} (checkpoint {step0})")
    else:
        if options.resume:
            log(f"no checkpoint in {out} yet: starting the run from the beginning")
        keys = jax.random.split(jax.random.PRNGKey(options.seed), S)
        if config.imitate:
            samples = imitation.num_samples(env, config.imitate_games)
            gib = samples * imitation.sample_bytes(env) * S / 2**30
            log(f"warm start: cloning {config.imitate} from {config.imitate_games} games of it "
                f"against itself ({samples:,} samples, {gib:.1f} GiB held while cloning, "
                f"{config.imitate_epochs} epochs)")
        t_init = time.perf_counter()
        state = jax.block_until_ready(
            jax.jit(jax.vmap(trainer.init), out_shardings=state_sharding)(keys))
        wall_before = time.perf_counter() - t_init  # the run's time includes its warm start
        if config.imitate:
            log(f"warm start done in {wall_before:.0f} s")
        update = 0
        rows = []
        saved_update = -1  # no checkpoint yet
    if main_process:
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump({"preset": preset, "train": config.to_dict(), "run": options.to_dict(),
                       "env": env.config.to_dict(), "devices": n_dev,
                       "processes": jax.process_count()}, f, indent=2,
                      default=_json_default)
        with open(metrics_path, "w") as f:  # rewritten: drops rows past the checkpoint
            for row in rows:
                f.write(json.dumps(row) + "\n")

    def policy_of(state, seed=0):
        # From a host copy of the (replicated) parameters: evaluation and the GIF then run on
        # one local device, never as a program over every process's devices (process 0 alone
        # draws the GIF; a global program there would wait for the others).
        params = jax.tree.map(lambda x: x[seed], jax.device_get(state.params))
        return policy_player(trainer.network, params, env.config, name=f"seed {seed}")

    sinks = loggers.open_sinks(options, out, log) if main_process else loggers.Sinks()
    log(f"training {preset}: {config.scenario} vs {config.opponent}, {config.advantage} "
        f"advantages, {S} seed(s), {n_dev} device(s), {n_updates} updates x "
        f"{steps_per_update:,} steps = {n_updates * steps_per_update:,} simulated steps -> {out}")
    start = time.perf_counter()
    last_win = None
    first_chunk = True
    # A stop (Ctrl-C, SIGTERM) to any process stops every process after the same chunk: one
    # that left alone would wait forever in the others' collectives.
    stopping = distributed.any_process(stop.signame is not None)
    while update < n_updates and not stopping:
        t0 = time.perf_counter()
        state, metrics = run_chunk(state)
        update += chunk
        metrics = jax.device_get(metrics)  # [chunk, S] each
        dt = time.perf_counter() - t0
        steps_done = update * steps_per_update
        sps = chunk * steps_per_update * S / dt
        quick_check = bool(options.eval_every) and update % options.eval_every == 0
        if quick_check:  # every seed's policy against the evaluation opponent
            quick = [evaluation.evaluate(env, policy_of(state, i), opponent,
                                         jax.random.PRNGKey(10_000 + update),
                                         games=options.eval_games_quick) for i in range(S)]
            win_per_seed = [q["win_rate"] for q in quick]
            elo_per_seed = [evaluation.elo_against(q) for q in quick]
            last_win = float(np.mean(win_per_seed))
        wall = wall_before + time.perf_counter() - start
        for i in range(chunk):
            u = update - chunk + i + 1
            row = {"update": u, "env_steps": u * steps_per_update, "wall_s": round(wall, 3),
                   "steps_per_s": sps}
            for k, v in metrics.items():
                row[k] = float(np.mean(v[i]))
                if S > 1:
                    row[k + "_per_seed"] = [float(x) for x in v[i]]
            if i == chunk - 1 and quick_check:
                row["win_rate"] = last_win
                row["elo"] = float(np.mean(elo_per_seed))
                if S > 1:
                    row["win_rate_per_seed"] = win_per_seed
                    row["elo_per_seed"] = elo_per_seed
            rows.append(row)
            if main_process:
                with open(metrics_path, "a") as f:
                    f.write(json.dumps(row, default=_json_default) + "\n")
            sinks.metrics(row)
        progress(dict(rows[-1], total_updates=n_updates, last_win_rate=last_win,
                      includes_compile=first_chunk))
        first_chunk = False
        if update % options.checkpoint_every == 0 or update >= n_updates:
            checkpoints.save(update, state, state.params,
                             {"update": update, "env_steps": steps_done, "wall_s": wall})
            saved_update = update
        stopping = distributed.any_process(stop.signame is not None)
    if stopping:
        if saved_update != update:
            checkpoints.save(update, state, state.params,
                             {"update": update, "env_steps": update * steps_per_update,
                              "wall_s": wall_before + time.perf_counter() - start})
        checkpoints.close()
        sinks.close()
        raise Interrupted(out, update, stop.signame or "a stop request to another process")
    stop.release()  # from here on Ctrl-C interrupts at once (the checkpoint is saved)
    train_s = time.perf_counter() - start
    wall_s = wall_before + train_s
    checkpoints.close()

    # --- final evaluation, pictures, summary ---------------------------------------------------
    log(f"evaluating seed 0: {options.eval_games} games against {eval_spec} (both sides) ...")
    eval_start = time.perf_counter()
    result = evaluation.evaluate(env, policy_of(state), opponent,
                                 jax.random.PRNGKey(options.seed + 1), games=options.eval_games)
    result = {"opponent": eval_spec, "seed": 0, **result}
    lo, hi = result["win_rate_ci95"]
    summary = {
        "preset": preset,
        "steps": update * steps_per_update,
        "updates": update,
        "wall_s": wall_s,
        "devices": n_dev,
        "processes": jax.process_count(),
        "seeds": S,
        "params_digest": params_digest(jax.device_get(state.params)),
        "skipped_updates": int(np.sum(jax.device_get(state.skipped))),
        "eval": result,
    }
    if main_process:
        with open(os.path.join(out, "eval.json"), "w") as f:
            json.dump(result, f, indent=2, default=_json_default)
        write_curves(rows, os.path.join(out, "curves.png"))
        if options.gif:
            trajectory, _ = match.record(env, policy_of(state), opponent, jax.random.PRNGKey(7))
            save_gif(trajectory, os.path.join(out, "match.gif"), config=env.config)
    eval_s = time.perf_counter() - eval_start
    summary["eval_wall_s"] = eval_s
    if main_process:
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2, default=_json_default)
    sinks.finish(summary, {"curves": os.path.join(out, "curves.png"),
                           "match": os.path.join(out, "match.gif") if options.gif else ""})
    log(f"eval vs {eval_spec}: win {result['win']} draw {result['draw']} loss {result['loss']}"
        f" of {result['games']} | win rate {result['win_rate']:.1%} (95% CI {lo:.1%}-{hi:.1%})"
        f" | goals {result['goals_for']:.2f}-{result['goals_against']:.2f} per game")
    total = time.perf_counter() - command_start
    log(f"done in {total:.0f}s (training {train_s:.0f}s, evaluation {eval_s:.0f}s): {out}/ "
        f"(summary.json, eval.json, curves.png{', match.gif' if options.gif else ''})")
    return summary


def write_curves(rows: list[dict], path: str):
    """curves.png: team return, goals, completed passes, quick-check win rate and Elo, entropy,
    KL, and the curriculum's opponent difficulty (when it has one) over steps."""
    import matplotlib  # lazy: matplotlib is slow to import and only needed at the end

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # lazy: as above

    if not rows:
        return
    x = [r["env_steps"] for r in rows]
    panels = [("team_return", "mean team return (branch)"),
              ("goals_for", "goals for / against per branch"),
              ("passes", "completed passes per branch"),
              ("win_rate", "win rate (quick eval)"),
              ("elo", "Elo (evaluation opponent = 1000)"),
              ("entropy", "policy entropy"), ("approx_kl", "approx KL"),
              ("difficulty", "opponent difficulty (curriculum)")]
    fig, axes = plt.subplots(2, 4, figsize=(17, 6.5))
    for ax, (key, title) in zip(axes.flat, panels):
        pts = [(xi, r[key]) for xi, r in zip(x, rows) if key in r]
        if pts:
            ax.plot(*zip(*pts), marker="o" if key in ("win_rate", "elo") else None, ms=3)
        if key == "goals_for":
            pts = [(xi, r["goals_against"]) for xi, r in zip(x, rows) if "goals_against" in r]
            if pts:
                ax.plot(*zip(*pts), label="against")
                ax.legend(["for", "against"])
        ax.set_title(title)
        ax.set_xlabel("simulated steps")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
