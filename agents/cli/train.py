"""Train the shared team policy with team-relative GRPO, end to end in one jitted loop.

    python train.py                               # the `default` preset: 2v2 vs bot:positional
    python train.py --preset smoke                # a complete tiny run (tests, CI)
    python train.py --opponent self --seeds 4     # self-play, 4 independent seeds vmapped
    python train.py --opponent league             # past snapshots (on device) and bots
    python train.py --out runs/a --resume         # continue a run exactly where it stopped
    python train.py --help                        # every option, with the preset's defaults

The command line is the dataclasses `agents.runner.RunOptions` and `agents.trainer.TrainConfig`
(tyro), with the preset's values as defaults; with `--resume` the defaults are the saved run's,
so the flags given are exactly what the resume changes. The host loop is `agents.runner.train`.
"""

from __future__ import annotations

import dataclasses
import sys

import tyro

from agents import presets
from agents.checkpoint import CheckpointError
from agents.policy import SavedRun, read_run
from agents.runner import Interrupted, RunOptions, train
from agents.trainer import TrainConfig


@dataclasses.dataclass(frozen=True)
class Args:
    """Train the shared team policy with team-relative GRPO, end to end in one jitted loop."""

    preset: str = "default"  # named set of defaults (listed above)
    run: RunOptions = RunOptions()
    train: TrainConfig = TrainConfig()


def _scan(argv: list[str], flag: str) -> str | None:
    """The value of `--flag VALUE` / `--flag=VALUE` in argv (the last one), else None."""
    value = None
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(flag + "="):
            value = arg.split("=", 1)[1]
    return value


def parse_args(argv: list[str]) -> tuple[str, TrainConfig, RunOptions, SavedRun | None]:
    """(preset, TrainConfig, RunOptions, the saved run when resuming) from the command line.

    Defaults are the preset's values, or with `--resume` the saved run's (read from
    `--out`/config.json). ValueError or CheckpointError for a bad preset or run directory."""
    resume = "--resume" in argv and "--no-resume" not in argv[argv.index("--resume"):]
    preset_name = _scan(argv, "--preset")
    saved = None
    if resume:
        out = _scan(argv, "--out")
        if not out:
            raise ValueError("--resume needs --out RUN_DIR (the run to continue)")
        saved = read_run(out)
        if preset_name is not None and saved.preset and preset_name != saved.preset:
            raise ValueError(f"--preset={preset_name!r} differs from the run's preset "
                             f"{saved.preset!r}: a resumed run continues the same run")
        preset_name = saved.preset or preset_name or "default"
        # The multi-host layout belongs to this launch, not to the run: a run trained on two
        # processes resumes on one (or the other way round) with only the flags given now.
        run = RunOptions.from_dict(saved.run).replace(
            out=out, coordinator_address=None, num_processes=None, process_id=None)
        default = Args(preset_name, run, saved.train)
    else:
        preset_name = preset_name or "default"
        config, options = presets.get(preset_name).configs()
        default = Args(preset_name, options, config)
    description = (Args.__doc__ + "\n\npresets:\n" + "\n".join(
        f"  {name}: {presets.get(name).description}" for name in presets.names()))
    args = tyro.cli(Args, default=default, args=argv, description=description,
                    config=(tyro.conf.OmitArgPrefixes,))
    return preset_name, args.train, args.run, saved


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        preset, config, options, saved = parse_args(argv)
        train(config, options, preset=preset, saved=saved)
    except (ValueError, CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        print(f"\n{stop}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # during the final evaluation: training is saved
        print("\ninterrupted after training (its last checkpoint is saved): evaluate it with "
              "python eval.py RUN_DIR", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
