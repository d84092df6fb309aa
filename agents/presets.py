"""Named presets of training runs: a registry that train.py and `agents.runner` read.

    config, options = agents.presets.get("smoke").configs()     # (TrainConfig, RunOptions)
    agents.presets.register("my-run", "...", train=dict(lr=1e-3), run=dict(total_steps=10**6))

Other packages add presets without train.py importing them: a distribution declares an entry
point in the group `soccer_grpo.presets` (this project's `experiments` does, in pyproject.toml)
naming a function that calls `register`; the registry loads those the first time a preset is
looked up.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import sys

from agents.runner import RunOptions
from agents.trainer import TrainConfig

ENTRY_POINT_GROUP = "soccer_grpo.presets"


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named run: TrainConfig fields and RunOptions fields over their defaults."""

    name: str
    description: str
    train: dict
    run: dict

    def configs(self) -> tuple[TrainConfig, RunOptions]:
        """(TrainConfig, RunOptions) of the preset (validated)."""
        return TrainConfig(**self.train), RunOptions(**self.run)


_PRESETS: dict[str, Preset] = {}
_plugins_loaded = False


def register(name: str, description: str, train: dict | None = None,
             run: dict | None = None) -> Preset:
    """Add a preset (ValueError when the name is taken by another preset or a field is
    unknown; registering the same preset again is a no-op)."""
    for cls, fields in ((TrainConfig, train or {}), (RunOptions, run or {})):
        unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ValueError(f"preset {name!r}: unknown {cls.__name__} fields {unknown}")
    preset = Preset(name, description, dict(train or {}), dict(run or {}))
    if _PRESETS.get(name, preset) != preset:
        raise ValueError(f"preset {name!r} is already registered (differently)")
    _PRESETS[name] = preset
    return preset


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not break train.py
            print(f"warning: presets from {entry.value!r} could not be loaded: {exc}",
                  file=sys.stderr)


def names() -> list[str]:
    """Names of every registered preset (plugins included)."""
    _load_plugins()
    return sorted(_PRESETS)


def get(name: str) -> Preset:
    """The preset `name`; ValueError listing the known presets otherwise."""
    _load_plugins()
    if name not in _PRESETS:
        raise ValueError(f"--preset={name!r} is invalid: allowed one of {names()}")
    return _PRESETS[name]


# The `default` preset's TrainConfig fields (the study, experiments/, trains its methods on them).
DEFAULT_TRAIN: dict = dict(
    scenario="3v3", opponent="bot:positional", credit_weight=0.0, ball_reach_weight=1.0, lr=3e-4,
    ent_coef=0.003, hidden_sizes=(256, 256), activation="relu", imitate="bot:positional",
    epochs=2)

register(
    "default",
    "the main job: 3v3 (keeper + two outfield players a side) against bot:positional; the "
    "policy (256 x 256 relu) starts as a behaviour clone of bot:positional (512 games of it "
    "against itself), then team-relative GRPO on the team reward (goals, progress shaping) plus "
    "each player's reach-the-ball potential, no event credit, 2 epochs a batch, lr 3e-4 "
    "annealed to 0 over 7.2M simulated steps (875 updates)",
    train=DEFAULT_TRAIN,
    run=dict(total_steps=7_000_000, log_every=25, checkpoint_every=100, eval_every=100,
             eval_games_quick=128, anneal_lr=True),
)
register(
    "smoke",
    "a complete tiny run for tests and CI (well under a minute)",
    train=dict(scenario="2v2", opponent="bot:chaser", num_games=8, group_size=2, horizon=8,
               epochs=1, num_minibatches=2, hidden_sizes=(32, 32)),
    run=dict(total_steps=8 * 2 * 8 * 6, log_every=2, checkpoint_every=2, eval_every=2,
             eval_games_quick=8, eval_games=16),
)
