"""Checkpoints of training runs (orbax-checkpoint; no pickle anywhere).

A run directory holds `config.json` (the TrainConfig and run options) and `checkpoints/<update>/`
with three items: "state" (the whole TrainState: parameters, optimizer state, reference policy,
trunk games, RNG key, counters, and the league's opponent pool when there is one), "policy"
(just the policy parameters, so loading a policy does not need the trainer) and "meta" (JSON:
update count, simulated steps, wall time).

Saving is synchronous and atomic (orbax writes to a temporary directory and renames it), so a
process killed at any moment leaves either a complete checkpoint or none; a checkpoint that
fails to restore is reported and the previous one is used.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import orbax.checkpoint as ocp


class CheckpointError(RuntimeError):
    """No usable checkpoint (missing directory, or every checkpoint is corrupt)."""


def _manager(directory: str, keep: int | None = None, read_only: bool = False):
    # Reading only: no directory creation and no clean-up (orbax's own read_only mode logs
    # warnings on every use, so it is not used).
    options = ocp.CheckpointManagerOptions(
        max_to_keep=None if read_only else keep, create=not read_only,
        enable_async_checkpointing=False, cleanup_tmp_directories=not read_only)
    return ocp.CheckpointManager(os.path.abspath(directory), options=options,
                                 item_names=("state", "policy", "meta"))


class Checkpoints:
    """Save and restore the checkpoints of one run directory (`<run_dir>/checkpoints`)."""

    def __init__(self, run_dir: str, keep: int = 3, read_only: bool = False):
        self.directory = os.path.join(run_dir, "checkpoints")
        if read_only and not os.path.isdir(self.directory):
            raise CheckpointError(f"no checkpoints directory in {run_dir!r}: is it a run "
                                  "directory written by train.py?")
        self._manager = _manager(self.directory, keep, read_only)

    def steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def save(self, step: int, state: Any, policy: Any, meta: dict) -> None:
        self._manager.save(step, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state),
            policy=ocp.args.StandardSave(policy),
            meta=ocp.args.JsonSave(meta)))
        self._manager.wait_until_finished()

    def restore(self, abstract_state: Any = None, abstract_policy: Any = None,
                step: int | None = None, log=None):
        """Restore the latest usable checkpoint (or `step`).

        Returns (step, state, policy, meta); `state`/`policy` are None when their abstract
        target is None (not restored). A checkpoint that fails to restore is reported through
        `log` (default: stderr) and the previous one is tried.
        """
        log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        candidates = [step] if step is not None else self.steps()[::-1]
        if not candidates:
            raise CheckpointError(f"no checkpoint in {self.directory!r}")
        errors = []
        for s in candidates:
            items = {"meta": ocp.args.JsonRestore()}
            if abstract_state is not None:
                items["state"] = ocp.args.StandardRestore(abstract_state)
            if abstract_policy is not None:
                items["policy"] = ocp.args.StandardRestore(abstract_policy)
            try:
                restored = self._manager.restore(s, args=ocp.args.Composite(**items))
                meta = restored["meta"]
                if not isinstance(meta, dict) or "update" not in meta:
                    raise CheckpointError("metadata is missing or has no 'update'")
            except Exception as exc:  # noqa: BLE001 - any failure means this one is unusable
                errors.append(f"{s}: {type(exc).__name__}: {exc}")
                log(f"checkpoint {s} in {self.directory} is unusable ({type(exc).__name__}: "
                    f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); trying the "
                    "previous one")
                continue
            return (s, restored.get("state") if abstract_state is not None else None,
                    restored.get("policy") if abstract_policy is not None else None, meta)
        raise CheckpointError(f"every checkpoint in {self.directory!r} failed to restore:\n  "
                              + "\n  ".join(errors))

    def close(self):
        self._manager.close()


def read_run_config(run_dir: str) -> dict:
    """The parsed config.json of a run directory, with a clear error when missing/corrupt."""
    path = os.path.join(run_dir, "config.json")
    if not os.path.isfile(path):
        raise CheckpointError(f"{run_dir!r} has no config.json: not a run directory written by "
                              "train.py")
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is unreadable: {exc}") from exc
    if not isinstance(data, dict) or "train" not in data:
        raise CheckpointError(f"{path} has no 'train' section")
    return data

