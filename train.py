"""Train the shared team policy with team-relative GRPO, end to end in one jitted loop.

    python train.py                               # the `default` preset: 2v2 vs bot:positional
    python train.py --preset smoke                # a complete tiny run (tests, CI)
    python train.py --opponent self --seeds 4     # self-play, 4 independent seeds vmapped
    python train.py --opponent league             # past snapshots (on device) and bots
    python train.py --out runs/a --resume         # continue a run exactly where it stopped
    python train.py --help                        # every option, with the preset's defaults

The host loop only runs compiled chunks of `--log-every` updates (each update: branch rollouts,
advantages, epochs of minibatch steps), logs between them and checkpoints every
`--checkpoint-every` updates. The run directory (`--out`, default runs/<preset>-<time>) gets
config.json, metrics.jsonl, checkpoints/, curves.png, eval.json, match.gif and summary.json.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import math
import os
import sys
import time
import typing
from typing import Optional

# --- presets --------------------------------------------------------------------------------

# Run-level options (not part of the learning algorithm), with their help text.
RUN_FIELDS: dict[str, tuple[type, object, str]] = {
    "total_steps": (int, 1_000_000, "simulated game steps to train for (branch steps count)"),
    "seeds": (int, 1, "independent runs trained at once (vmapped in one program)"),
    "seed": (int, 0, "base random seed"),
    "out": (Optional[str], None, "run directory (default runs/<preset>-<time>)"),
    "resume": (bool, False, "continue the run in --out from its latest checkpoint"),
    "log_every": (int, 5, "updates per compiled chunk: one log line and metrics row per chunk"),
    "checkpoint_every": (int, 20, "updates between checkpoints (a multiple of --log-every)"),
    "keep_checkpoints": (int, 3, "how many recent checkpoints to keep"),
    "eval_every": (int, 20, "updates between quick win-rate checks (0: never)"),
    "eval_games_quick": (int, 64, "games of each quick win-rate check"),
    "eval_games": (int, 1000, "games of the final evaluation (half on each side)"),
    "eval_opponent": (Optional[str], None,
                      "opponent of the evaluations (default: the training bot, or "
                      "bot:positional in self-play)"),
    "anneal_lr": (bool, False, "decay the learning rate linearly to 0 over the run (sets "
                  "TrainConfig.lr_anneal_updates to the run's updates)"),
    "gif": (bool, True, "write match.gif of one evaluation game at the end"),
    "coordinator_address": (Optional[str], None, "multi-host: jax.distributed coordinator"),
    "num_processes": (Optional[int], None, "multi-host: number of processes"),
    "process_id": (Optional[int], None, "multi-host: this process's index"),
}

PRESETS: dict[str, dict] = {
    # The main job: 2v2 against the positional bot. The team reward alone (no per-player
    # credit: credit farming cost about 10 points of win rate) and a learning rate annealed to
    # 0 over the run (README, "What it reaches today").
    "default": dict(
        train=dict(scenario="2v2", opponent="bot:positional", credit_weight=0.0),
        run=dict(total_steps=30_000_000, log_every=50, checkpoint_every=500, eval_every=500,
                 eval_games_quick=128, anneal_lr=True),
    ),
    # A complete tiny run for tests and CI.
    "smoke": dict(
        train=dict(scenario="2v2", opponent="bot:chaser", num_games=8, group_size=2,
                   horizon=8, epochs=1, num_minibatches=2, hidden_sizes=(32, 32)),
        run=dict(total_steps=8 * 2 * 8 * 6, log_every=2, checkpoint_every=2, eval_every=2,
                 eval_games_quick=8, eval_games=16),
    ),
}

# Filled in by experiments/ (one preset per method of the reproduction study).
try:  # pragma: no cover - optional until the experiments package exists
    from experiments.presets import EXPERIMENT_PRESETS

    PRESETS.update(EXPERIMENT_PRESETS)
except ImportError:
    pass


def _train_config_cls():
    from agents.trainer import TrainConfig

    return TrainConfig


def _field_comments(cls) -> dict[str, str]:
    """The `# comment` after each field of a dataclass's source: the CLI's help texts."""
    import inspect
    import re

    comments = {}
    for line in inspect.getsource(cls).splitlines():
        m = re.match(r"\s+(\w+): [^#]+#\s*(.+)$", line)
        if m:
            comments[m.group(1)] = m.group(2).strip()
    return comments


def _cli_fields():
    """(name, type, help) of every CLI option: run options, then TrainConfig fields."""
    TrainConfig = _train_config_cls()
    hints = typing.get_type_hints(TrainConfig)
    comments = _field_comments(TrainConfig)
    fields = [(n, t, h) for n, (t, _, h) in RUN_FIELDS.items()]
    for f in dataclasses.fields(TrainConfig):
        if f.name == "env_overrides":
            continue  # not a flat value; set through presets or the Python API
        help_text = f"TrainConfig.{f.name}"
        if f.name in comments:
            help_text += f": {comments[f.name]}"
        fields.append((f.name, hints[f.name], help_text))
    return fields


def resolve(preset: str, overrides: dict):
    """(TrainConfig, run options dict) of a preset with some options overridden."""
    if preset not in PRESETS:
        raise ValueError(f"--preset {preset!r} is unknown; known presets: {sorted(PRESETS)}")
    TrainConfig = _train_config_cls()
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    run = {n: d for n, (_, d, _) in RUN_FIELDS.items()}
    run.update(PRESETS[preset].get("run", {}))
    train = dict(PRESETS[preset].get("train", {}))
    for name, value in overrides.items():
        if name in RUN_FIELDS:
            run[name] = value
        elif name in train_fields:
            # JSON (config.json, read back on --resume) turns tuples into lists.
            train[name] = tuple(value) if isinstance(value, list) else value
        else:
            raise ValueError(f"unknown option {name!r}")
    config = TrainConfig(**train)
    validate_run(run, config)
    if run["anneal_lr"]:
        if config.lr_anneal_updates:
            raise ValueError(f"--anneal-lr (anneal over the whole run) and --lr-anneal-updates="
                             f"{config.lr_anneal_updates} both set the annealing: give one "
                             "(--no-anneal-lr to turn the preset's off)")
        config = config.replace(lr_anneal_updates=total_updates(config, run))
    return config, run


def total_updates(config, run: dict) -> int:
    """Updates of a run: enough for --total-steps, rounded up to whole --log-every chunks."""
    steps_per_update = config.num_games * config.group_size * config.horizon
    updates = max(1, math.ceil(run["total_steps"] / steps_per_update))
    return run["log_every"] * math.ceil(updates / run["log_every"])


def validate_run(run: dict, config) -> None:
    def fail(name, allowed):
        raise ValueError(f"--{name.replace('_', '-')}={run[name]!r} is invalid: allowed "
                         f"{allowed}")

    for name in ("total_steps", "seeds", "log_every", "checkpoint_every", "keep_checkpoints",
                 "eval_games_quick"):
        if not isinstance(run[name], int) or run[name] < 1:
            fail(name, "an integer >= 1")
    if run["eval_games"] < 2:
        fail("eval_games", "an integer >= 2 (half the games are played on each side)")
    if run["eval_every"] < 0:
        fail("eval_every", "an integer >= 0")
    if run["checkpoint_every"] % run["log_every"]:
        fail("checkpoint_every", f"a multiple of --log-every={run['log_every']}")
    if run["eval_every"] and run["eval_every"] % run["log_every"]:
        fail("eval_every", f"0 or a multiple of --log-every={run['log_every']}")
    if run["eval_opponent"] is not None:
        opponent_spec(run["eval_opponent"], config)


def opponent_spec(spec: str, config):
    """Validate an opponent string ("bot:NAME[:DIFFICULTY]" or a run directory)."""
    from agents.trainer import parse_opponent

    if spec.startswith("bot:"):
        return parse_opponent(spec)
    if os.path.isdir(spec):
        return ("run", {"run_dir": spec})
    raise ValueError(f"opponent {spec!r} is invalid: allowed bot:random, bot:chaser, "
                     "bot:positional[:DIFFICULTY] or a run directory")


def parse_args(argv: list[str]):
    """(preset, overrides) from the command line (tyro, with the preset's values as defaults)."""
    import tyro

    preset = "default"
    for i, arg in enumerate(argv):
        if arg == "--preset" and i + 1 < len(argv):
            preset = argv[i + 1]
        elif arg.startswith("--preset="):
            preset = arg.split("=", 1)[1]
    if preset not in PRESETS:
        print(f"error: --preset {preset!r} is unknown; known presets: {sorted(PRESETS)}",
              file=sys.stderr)
        raise SystemExit(2)
    TrainConfig = _train_config_cls()
    base = {n: d for n, (_, d, _) in RUN_FIELDS.items()}
    base.update(PRESETS[preset].get("run", {}))
    train_defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    train_defaults.update(PRESETS[preset].get("train", {}))
    defaults = {**base, **train_defaults}
    spec = [("preset", str, dataclasses.field(default=preset, metadata={}))]
    helps = {}
    for name, typ, help_text in _cli_fields():
        spec.append((name, typ, dataclasses.field(default=defaults[name])))
        helps[name] = help_text
    doc = __doc__.strip().splitlines()[0] + f"\n\nPresets: {', '.join(sorted(PRESETS))}."
    Args = dataclasses.make_dataclass("Args", spec, frozen=True)
    Args.__doc__ = doc
    # Per-field help through tyro's docstring-free annotation mechanism.
    annotations = {}
    for name, typ, _ in spec:
        help_text = helps.get(name, "named set of defaults: " + ", ".join(sorted(PRESETS)))
        annotations[name] = typing.Annotated[typ, tyro.conf.arg(help=help_text)]
    Args.__annotations__ = annotations
    args = tyro.cli(Args, args=argv)
    values = dataclasses.asdict(args)
    values.pop("preset")
    changed = {k: v for k, v in values.items() if v != defaults[k]}
    return preset, changed


# --- the run ---------------------------------------------------------------------------------


def params_digest(params) -> str:
    """sha256 of the parameters' bytes (leaves in tree order): equal digests, equal weights."""
    import jax
    import numpy as np

    h = hashlib.sha256()
    for leaf in jax.tree.leaves(params):
        h.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
    return h.hexdigest()


def _json_default(x):
    import numpy as np

    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def _log(msg: str):
    print(msg, flush=True)


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


def run(preset: str, overrides: dict) -> dict:
    """Train, evaluate and write the run directory. Returns summary.json's content."""
    if overrides.get("resume"):
        out = overrides.get("out")
        if not out:
            raise ValueError("--resume needs --out RUN_DIR (the run to continue)")
        from agents.checkpoint import read_run_config

        saved = read_run_config(out)
        preset = saved.get("preset", preset)
        # The saved run's configuration wins: a resumed run must be the same run.
        keep = {k: v for k, v in overrides.items() if k in ("out", "resume")}
        overrides = {**saved.get("overrides", {}), **keep}
    config, opts = resolve(preset, overrides)
    if overrides.get("resume"):
        rebuilt = json.loads(json.dumps(config.to_dict(), default=_json_default))
        if saved.get("train") is not None and rebuilt != saved["train"]:
            changed = sorted(k for k in rebuilt if rebuilt[k] != saved["train"].get(k))
            raise ValueError(f"cannot resume {overrides['out']!r}: its preset {preset!r} has "
                             f"changed since the run started (TrainConfig fields {changed}); "
                             "nothing was written")

    if opts["coordinator_address"] is not None:
        import jax

        jax.distributed.initialize(coordinator_address=opts["coordinator_address"],
                                   num_processes=opts["num_processes"],
                                   process_id=opts["process_id"])
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    from agents import evaluation
    from agents.checkpoint import Checkpoints
    from agents.trainer import make_trainer

    out = opts["out"] or os.path.join(
        "runs", f"{preset}-{datetime.datetime.now().strftime('%Y%m%d-%H%M%S')}")
    ckpt_dir = os.path.join(out, "checkpoints")
    if not opts["resume"] and os.path.isdir(ckpt_dir) and os.listdir(ckpt_dir):
        raise ValueError(f"{out!r} already holds a run; pass --resume to continue it or choose "
                         "another --out (nothing was overwritten)")
    os.makedirs(out, exist_ok=True)
    main_process = jax.process_index() == 0

    trainer = make_trainer(config)
    env = trainer.env
    S = opts["seeds"]
    steps_per_update = trainer.env_steps_per_update
    n_updates = total_updates(config, opts)
    chunk = opts["log_every"]

    devices = jax.devices()
    n_dev = len(devices)
    if config.num_games % n_dev:
        raise ValueError(f"TrainConfig.num_games={config.num_games} must be a multiple of the "
                         f"{n_dev} devices in use (the games are split over them)")
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
            s, metrics = jax.vmap(trainer.update)(s)
            return s, metrics
        return jax.lax.scan(body, state, None, length=chunk)

    run_chunk = jax.jit(chunk_fn, in_shardings=(state_sharding,),
                        out_shardings=(state_sharding, replicated), donate_argnums=0)

    checkpoints = Checkpoints(out, keep=opts["keep_checkpoints"])
    metrics_path = os.path.join(out, "metrics.jsonl")
    wall_before = 0.0
    if opts["resume"] and checkpoints.steps():
        target = jax.tree.map(lambda a, sh: jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=sh),
                              abstract_state, state_sharding)
        step0, state, _, meta = checkpoints.restore(abstract_state=target, log=_log)
        update = int(meta["update"])
        wall_before = float(meta.get("wall_s", 0.0))
        rows = _read_metrics(metrics_path, update)
        _log(f"resuming {out} from update {update} (checkpoint {step0})")
    else:
        if opts["resume"]:
            _log(f"no checkpoint in {out} yet: starting the run from the beginning")
        keys = jax.random.split(jax.random.PRNGKey(opts["seed"]), S)
        state = jax.jit(jax.vmap(trainer.init), out_shardings=state_sharding)(keys)
        update = 0
        rows = []
    if main_process:
        with open(os.path.join(out, "config.json"), "w") as f:
            json.dump({"preset": preset, "overrides": overrides, "train": config.to_dict(),
                       "run": opts, "env": env.config.to_dict(),
                       "devices": n_dev}, f, indent=2, default=_json_default)
        with open(metrics_path, "w") as f:  # rewritten: drops rows past the checkpoint
            for row in rows:
                f.write(json.dumps(row) + "\n")

    eval_spec = opts["eval_opponent"] or (config.opponent if config.opponent.startswith("bot:")
                                          else "bot:positional")
    opp_act, opp_params = _opponent(eval_spec, env)
    act = evaluation.policy_act(trainer.network, env.config, True)

    def policy_of(state, seed=0):
        return jax.tree.map(lambda x: x[seed], state.params)

    tb = _tensorboard(out) if main_process else None
    _log(f"training {preset}: {config.scenario} vs {config.opponent}, {config.advantage} "
         f"advantages, {S} seed(s), {n_dev} device(s), {n_updates} updates x "
         f"{steps_per_update:,} steps = {n_updates * steps_per_update:,} simulated steps "
         f"-> {out}")
    start = time.perf_counter()
    last_win = None
    compile_note = True
    while update < n_updates:
        t0 = time.perf_counter()
        state, metrics = run_chunk(state)
        metrics = jax.device_get(metrics)  # [chunk, S] each
        dt = time.perf_counter() - t0
        update += chunk
        steps_done = update * steps_per_update
        sps = chunk * steps_per_update * S / dt
        quick_check = bool(opts["eval_every"]) and update % opts["eval_every"] == 0
        if quick_check:  # every seed's policy against the evaluation opponent
            quick = [evaluation.evaluate(env, act, policy_of(state, i), opp_act, opp_params,
                                         jax.random.PRNGKey(10_000 + update),
                                         games=opts["eval_games_quick"]) for i in range(S)]
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
            if tb is not None:
                for k, v in row.items():
                    if isinstance(v, float):
                        tb.add_scalar(k, v, u)
        latest = rows[-1]
        win = (f" | win {last_win:.0%} elo {latest['elo']:.0f}"
               if quick_check else (f" | win {last_win:.0%}" if last_win is not None else ""))
        note = " (incl. compile)" if compile_note else ""
        compile_note = False
        _log(f"[{update / n_updates:4.0%}] update {update}/{n_updates} "
             f"steps {steps_done:,} | {sps:,.0f} steps/s{note} | goals for/against "
             f"{latest.get('goals_for', 0):.2f}/{latest.get('goals_against', 0):.2f}{win} | "
             f"loss {latest.get('loss', 0):.3f} kl {latest.get('approx_kl', 0):.4f} "
             f"ent {latest.get('entropy', 0):.2f}")
        if update % opts["checkpoint_every"] == 0 or update >= n_updates:
            checkpoints.save(update, state, state.params,
                             {"update": update, "env_steps": steps_done, "wall_s": wall})
    wall_s = wall_before + time.perf_counter() - start
    checkpoints.close()

    # --- final evaluation, pictures, summary ---------------------------------------------------
    _log(f"evaluating {opts['eval_games']} games against {eval_spec} (both sides) ...")
    result = evaluation.evaluate(env, act, policy_of(state), opp_act, opp_params,
                                 jax.random.PRNGKey(opts["seed"] + 1), games=opts["eval_games"])
    result = {"opponent": eval_spec, **result}
    lo, hi = result["win_rate_ci95"]
    summary = {
        "preset": preset,
        "steps": update * steps_per_update,
        "updates": update,
        "wall_s": wall_s,
        "devices": n_dev,
        "seeds": S,
        "params_digest": params_digest(jax.device_get(state.params)),
        "skipped_updates": int(np.sum(jax.device_get(state.skipped))),
        "eval": result,
    }
    if main_process:
        with open(os.path.join(out, "eval.json"), "w") as f:
            json.dump(result, f, indent=2, default=_json_default)
        _write_curves(rows, os.path.join(out, "curves.png"))
        if opts["gif"]:
            _write_gif(env, act, policy_of(state), opp_act, opp_params,
                       os.path.join(out, "match.gif"))
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2, default=_json_default)
    if tb is not None:
        tb.close()
    _log(f"eval vs {eval_spec}: win {result['win']} draw {result['draw']} loss {result['loss']}"
         f" of {result['games']} | win rate {result['win_rate']:.1%} (95% CI {lo:.1%}-{hi:.1%})"
         f" | goals {result['goals_for']:.2f}-{result['goals_against']:.2f} per game")
    _log(f"done in {wall_s:.0f}s: {out}/ (summary.json, eval.json, curves.png"
         f"{', match.gif' if opts['gif'] else ''})")
    return summary


def _opponent(spec: str, env):
    """(act, params) of an evaluation opponent: a scripted bot or another run's policy."""
    import soccer_env
    from agents import evaluation

    kind, params = opponent_spec(spec, None)
    if kind == "run":
        from agents.policy import load_policy_params

        network, opp_params, _ = load_policy_params(params["run_dir"], env)
        return evaluation.policy_act(network, env.config, True), opp_params
    bot = soccer_env.bots.get(kind, env.config, **params)
    return evaluation.bot_act(bot), None


def _tensorboard(out):
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(os.path.join(out, "tb"))


def _write_curves(rows: list[dict], path: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rows:
        return
    x = [r["env_steps"] for r in rows]
    panels = [("team_return", "mean team return (branch)"),
              ("goals_for", "goals for / against per branch"),
              ("win_rate", "win rate (quick eval)"),
              ("elo", "Elo (evaluation opponent = 1000)"),
              ("entropy", "policy entropy"), ("approx_kl", "approx KL")]
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
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


def _write_gif(env, act, params, opp_act, opp_params, path):
    import jax

    from agents import evaluation
    from soccer_env.render import save_gif

    trajectory, _ = evaluation.record_match(env, act, params, opp_act, opp_params,
                                            jax.random.PRNGKey(7))
    save_gif(trajectory, path, config=env.config)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    preset, overrides = parse_args(argv)
    try:
        run(preset, overrides)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
