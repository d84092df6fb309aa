"""Where a training run's metrics go besides `metrics.jsonl`: TensorBoard and Weights & Biases.

    check(options)                                    # before training: the extras are there
    sinks = open_sinks(options, out, log=print)       # after config.json is written
    sinks.metrics(row)                                # every metrics.jsonl row
    sinks.finish(summary, {"curves": "RUN/curves.png", "match": "RUN/match.gif"})
    sinks.close()                                     # instead of finish, when interrupted

The runner opens them on the main process only. Both back ends are optional extras:

- TensorBoard (`--tensorboard`, on by default; `pip install 'soccer-grpo[tensorboard]'`):
  every numeric metric as a scalar by update in RUN/tb, the config as text and the final
  evaluation's numbers. Without tensorboardX the run says so in one line and goes on.
- Weights & Biases (`--wandb`; `pip install 'soccer-grpo[wandb]'`): config.json as the run's
  config, every metrics row at its update, summary.json as the run summary, curves.png as an
  image and match.gif as a video. `--wandb-mode offline` (or WANDB_MODE=offline) writes the
  run to disk only, for `wandb sync` later. Its files go to RUN/wandb (WANDB_DIR overrides),
  and the run's id is kept in RUN/wandb-id, so a resumed run continues the same W&B run.
  `--wandb` without the package is an error before anything is trained.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from typing import Callable, Optional

WANDB_MODES = ("online", "offline", "disabled")
WANDB_ID_FILE = "wandb-id"  # in the run directory: the W&B run id, for resuming it
TENSORBOARD_DIR = "tb"


def _missing_extra(flag: str, extra: str, package: str) -> str:
    return (f"{flag} needs the {package} package: pip install 'soccer-grpo[{extra}]' "
            "(or pip install -e '.[" + extra + "]' in a checkout)")


def check(options) -> None:
    """ValueError when `options` asks for W&B logging and the wandb package is missing."""
    if options.wandb:
        try:
            import wandb  # noqa: F401  # lazy: optional extra, imported only with --wandb
        except ImportError as exc:
            raise ValueError(_missing_extra("--wandb", "wandb", "wandb")
                             + f"; or drop --wandb ({exc})") from None


def scalars(row: dict) -> dict[str, float]:
    """The numbers of a metrics row: numbers as they are, per-seed lists as `name/i`."""
    out = {}
    for k, v in row.items():
        if isinstance(v, bool):
            continue
        if isinstance(v, (int, float)):
            out[k] = v
        elif isinstance(v, (list, tuple)) and v and all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
            out.update({f"{k}/{i}": x for i, x in enumerate(v)})
    return out


def _plain(x):
    """numpy scalars and arrays as Python numbers and lists (for JSON)."""
    if hasattr(x, "tolist"):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}/"))
        else:
            out[prefix + k] = v
    return out


class TensorBoardSink:
    """Scalars by update in RUN/tb (tensorboardX)."""

    def __init__(self, writer, config: dict):
        self.writer = writer
        self.writer.add_text("config", "```\n" + json.dumps(config, indent=2) + "\n```", 0)

    def metrics(self, row: dict):
        step = row["update"]
        for k, v in scalars(row).items():
            if k != "update":
                self.writer.add_scalar(k, v, step)

    def finish(self, summary: dict, media: dict[str, str]):
        flat = _flatten({"eval": summary.get("eval", {})})
        for k, v in scalars(flat).items():
            self.writer.add_scalar(k, v, summary.get("updates", 0))
        self.close()

    def close(self):
        self.writer.close()


class WandbSink:
    """One W&B run: the config, metrics rows at their update, the summary and the media."""

    def __init__(self, run, wandb_module, log: Callable[[str], None]):
        self.run, self.wandb, self.log = run, wandb_module, log
        # A resumed online run already holds the steps before its start (the resumed updates
        # repeat them bit for bit); W&B would drop them with a warning each.
        self.first_step = int(getattr(run, "starting_step", 0) or 0)

    def metrics(self, row: dict):
        if row["update"] >= self.first_step:
            self.run.log(scalars(row), step=row["update"])

    def finish(self, summary: dict, media: dict[str, str]):
        self.run.summary.update(json.loads(json.dumps(summary, default=_plain)))
        logged = {}
        for key, path in media.items():
            if os.path.isfile(path):
                if path.endswith(".gif"):
                    logged[key] = self.wandb.Video(path, format="gif")
                else:
                    logged[key] = self.wandb.Image(path)
        if logged:
            self.run.log(logged, step=max(int(summary.get("updates", 0)), self.run.step))
        self.close()

    def close(self):
        self.run.finish()


class Sinks:
    """The run's open sinks, called together."""

    def __init__(self, sinks=()):
        self.sinks = list(sinks)

    def metrics(self, row: dict):
        for sink in self.sinks:
            sink.metrics(row)

    def finish(self, summary: dict, media: dict[str, str]):
        """Log the final summary and the media files that exist, and close."""
        for sink in self.sinks:
            sink.finish(summary, media)
        self.sinks = []

    def close(self):
        for sink in self.sinks:
            sink.close()
        self.sinks = []


def _read_config(out: str) -> dict:
    path = os.path.join(out, "config.json")
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def _tensorboard(out: str, config: dict, log) -> Optional[TensorBoardSink]:
    try:
        from tensorboardX import SummaryWriter  # lazy: optional extra (the tensorboard extra)
    except ImportError:
        log("TensorBoard logging off: " + _missing_extra("it", "tensorboard", "tensorboardX")
            + "; --no-tensorboard silences this")
        return None
    return TensorBoardSink(SummaryWriter(os.path.join(out, TENSORBOARD_DIR)), config)


def wandb_run_id(out: str) -> str:
    """The W&B run id of the run directory `out` (RUN/wandb-id; a new one is stored there)."""
    path = os.path.join(out, WANDB_ID_FILE)
    if os.path.isfile(path):
        with open(path) as f:
            run_id = f.read().strip()
        if run_id:
            return run_id
    alphabet = string.ascii_lowercase + string.digits
    run_id = "".join(secrets.choice(alphabet) for _ in range(8))
    with open(path, "w") as f:
        f.write(run_id + "\n")
    return run_id


def _wandb(options, out: str, config: dict, log) -> WandbSink:
    import wandb  # lazy: optional extra, imported only with --wandb

    # wandb takes this project's `agents` package for an LLM agents library and suggests Weave.
    os.environ.setdefault("WANDB_DISABLE_WEAVE", "true")
    wandb_dir = os.environ.get("WANDB_DIR") or out
    os.makedirs(wandb_dir, exist_ok=True)
    name = options.wandb_name or os.path.basename(os.path.normpath(os.path.abspath(out)))
    try:
        run = wandb.init(project=options.wandb_project, entity=options.wandb_entity, name=name,
                         id=wandb_run_id(out), resume="allow", mode=options.wandb_mode,
                         dir=wandb_dir, job_type="train", tags=[config.get("preset", "custom")],
                         settings=wandb.Settings(quiet=True))
    except Exception as exc:  # login, network or settings: say so before training starts
        raise ValueError(f"--wandb: W&B did not start ({type(exc).__name__}: {exc}); log in "
                         "with `wandb login`, or log to disk with --wandb-mode offline") from None
    run.config.update(config, allow_val_change=True)
    mode = getattr(run.settings, "mode", None) or options.wandb_mode or "online"
    if getattr(run, "disabled", False) or mode == "disabled":
        log("W&B logging disabled (--wandb-mode disabled or WANDB_MODE=disabled)")
    elif getattr(run.settings, "_offline", False) or mode in ("offline", "dryrun"):
        run_dir = os.path.dirname(run.dir)
        log(f"W&B run {name} ({run.id}) offline in {run_dir}; upload it with: "
            f"wandb sync {run_dir}")
    else:
        log(f"W&B run {name} ({run.id}): {run.url}")
    return WandbSink(run, wandb, log)


def open_sinks(options, out: str, log: Callable[[str], None]) -> Sinks:
    """The sinks that `options` asks for, logging to run directory `out` (its config.json, as
    written, is their config). ValueError when W&B cannot start."""
    config = _read_config(out)
    sinks = []
    if options.tensorboard:
        tb = _tensorboard(out, config, log)
        if tb is not None:
            sinks.append(tb)
    if options.wandb:
        try:
            sinks.append(_wandb(options, out, config, log))
        except BaseException:
            Sinks(sinks).close()
            raise
    return Sinks(sinks)
