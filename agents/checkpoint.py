"""Checkpoints of training runs (orbax-checkpoint; no pickle anywhere).

A run directory holds `config.json` (the TrainConfig and run options) and `checkpoints/<update>/`
with three items: "state" (the whole TrainState: parameters, optimizer state, reference policy,
trunk games, RNG key, counters, and the league's opponent pool when there is one), "policy"
(just the policy parameters, so loading a policy does not need the trainer) and "meta" (JSON:
update count, simulated steps, wall time).

Saving is synchronous and atomic (orbax writes to a temporary directory and renames it), so a
process killed at any moment leaves either a complete checkpoint or none. A checkpoint can still
be damaged afterwards (a truncated or deleted file, a disk that filled up), so every reader goes
through `Checkpoints.restore`, which uses one rule: a checkpoint is usable only if *all three*
items read back: "meta" is JSON with an integer 'update'; "state" and "policy" have readable tree
metadata and every value stored in their OCDBT databases reads back as raw bytes (this catches a
truncated or deleted data file, quietly, before orbax touches it); then the items the reader asked
for restore onto its abstract targets and the other ones are decoded in full as host (numpy)
arrays. Reading the data is the only check that catches a truncated data file: orbax keeps no
checksums, and its metadata files stay intact when a data file is cut (a metadata-only check
passes). It costs little next to the restore itself.
So a resume (which needs "state") and a policy load (which needs "policy") skip the same
checkpoints and end on the same one.

Messages: orbax, absl, tensorstore and asyncio noise (log records, "Exception ignored in
<coroutine ...>" tracebacks, C++ log lines on stderr) is kept off the terminal while a checkpoint
is read; the reader's log gets one line per decision (which checkpoint is used and why the newer
ones are not; which unusable ones were moved aside). Set SOCCER_CHECKPOINT_DEBUG=1 to see the raw
orbax output instead.

A writer's restore (`Checkpoints(run_dir)`, not read_only) that had to fall back to an older
checkpoint moves the newer unusable ones aside to `checkpoints/<step>.corrupt` (with a file
UNUSABLE.txt saying why), so the next save at that step works and later resumes do not meet them
again. Read-only readers (`read_only=True`: policy loading, evaluation) never modify the run
directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import json
import logging
import os
import sys
import tempfile
import traceback
import warnings
from typing import Any, Callable, Iterator

import jax
from jax.experimental import multihost_utils
import numpy as np
import orbax.checkpoint as ocp
import tensorstore as ts
from etils import epath

ITEMS = ("state", "policy", "meta")
_NOISY_LOGGERS = ("absl", "orbax", "tensorstore", "asyncio", "etils")
_REASON_CHARS = 300


class CheckpointError(RuntimeError):
    """No usable checkpoint (missing directory, or every checkpoint is corrupt).

    `reasons`: [(step, reason)] of the checkpoints that were tried, newest first."""

    def __init__(self, message: str, reasons: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.reasons = list(reasons or [])


@dataclasses.dataclass(frozen=True)
class Restored:
    """What `Checkpoints.restore` found.

    step: the checkpoint used; state / policy: the restored items (None when no abstract target
    was given for them: they were only checked); meta: its JSON; skipped: [(step, reason)] of the
    newer checkpoints that are unusable, newest first (reason: "<item>: <first line of the
    error>"); discarded: the paths they were moved aside to (writers only); details: {step: the
    full error text} for debugging.

    `message` is the one line to print: "using checkpoint 6 (update 6)", or "checkpoint 6 is
    unusable (policy: ...); using checkpoint 4 (update 4)". It unpacks like the tuple of earlier
    versions: `step, state, policy, meta = checkpoints.restore(...)`.
    """

    step: int
    state: Any
    policy: Any
    meta: dict
    skipped: tuple[tuple[int, str], ...] = ()
    discarded: tuple[str, ...] = ()
    details: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def update(self) -> int:
        return int(self.meta["update"])

    @property
    def message(self) -> str:
        used = f"using checkpoint {self.step} (update {self.update})"
        if not self.skipped:
            return used
        return "; ".join([f"checkpoint {s} is unusable ({why})" for s, why in self.skipped]
                         + [used])

    def __iter__(self) -> Iterator[Any]:
        return iter((self.step, self.state, self.policy, self.meta))

    def __getitem__(self, index):
        return (self.step, self.state, self.policy, self.meta)[index]

    def __len__(self) -> int:
        return 4


def _debug() -> bool:
    return os.environ.get("SOCCER_CHECKPOINT_DEBUG", "") not in ("", "0")


@contextlib.contextmanager
def _quiet_logs():
    """Python log records of orbax/absl/asyncio off while this runs (levels restored after)."""
    if _debug():
        yield
        return
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _is_late_read_noise(info) -> bool:
    """The unraisable exceptions that orbax's abandoned reads raise on tensorstore's threads
    *after* a failed restore returned: a completion callback posting to the event loop orbax
    already closed (RuntimeError 'Event loop is closed' in call_soon_threadsafe), or one of its
    read coroutines finalized unawaited."""
    obj = info.object
    code = getattr(obj, "cr_code", None)
    if code is not None and f"{os.sep}orbax{os.sep}" in code.co_filename:
        return True
    if info.exc_type is RuntimeError and str(info.exc_value) == "Event loop is closed":
        frames = traceback.extract_tb(info.exc_traceback)
        return any(f.name == "call_soon_threadsafe" and f"asyncio{os.sep}" in f.filename
                   for f in frames)
    return False


def _install_late_filter() -> None:
    """Once a checkpoint failed to read: drop its late read noise (see _is_late_read_noise)
    wherever it surfaces, and pass every other unraisable exception on as before."""
    if getattr(sys.unraisablehook, "_drops_checkpoint_read_noise", False) or _debug():
        return
    previous = sys.unraisablehook

    def hook(info):
        if not _is_late_read_noise(info):
            previous(info)

    hook._drops_checkpoint_read_noise = True
    sys.unraisablehook = hook


@contextlib.contextmanager
def _silenced(captured: list[str]):
    """Everything orbax and its libraries print while reading a checkpoint is captured into
    `captured` instead of the terminal: log records, Python writes to sys.stderr, C++ writes to
    file descriptor 2 (tensorstore, absl) and unraisable exceptions (the "Exception ignored in
    <coroutine ...>" tracebacks of reads that asyncio abandoned after the first failure; a
    garbage collection before leaving finalizes them while the hook is in place)."""
    if _debug():
        yield
        return
    buffer = io.StringIO()

    def unraisable(info):
        buffer.write("".join(traceback.format_exception(
            info.exc_type, info.exc_value, info.exc_traceback)))

    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    fd_copy = None
    sink = tempfile.TemporaryFile(mode="w+b")
    try:
        for stream in (sys.stdout, sys.stderr, sys.__stderr__):
            with contextlib.suppress(Exception):
                stream.flush()
        with contextlib.suppress(OSError):
            fd_copy = os.dup(2)
            os.dup2(sink.fileno(), 2)
        with _quiet_logs(), contextlib.redirect_stderr(buffer):
            try:
                yield
            except BaseException:
                gc.collect()  # a failed read: finalize what it abandoned while captured
                raise
    finally:
        if fd_copy is not None:
            with contextlib.suppress(Exception):
                sys.__stderr__.flush()
            os.dup2(fd_copy, 2)
            os.close(fd_copy)
        sys.unraisablehook = old_hook
        sink.seek(0)
        captured.append(sink.read().decode("utf-8", "replace") + buffer.getvalue())
        sink.close()


def _manager(directory: str, keep: int | None = None, read_only: bool = False):
    # Reading only: no directory creation and no clean-up (orbax's own read_only mode logs
    # warnings on every use, so it is not used).
    options = ocp.CheckpointManagerOptions(
        max_to_keep=None if read_only else keep, create=not read_only,
        enable_async_checkpointing=False, cleanup_tmp_directories=not read_only)
    with _quiet_logs():
        return ocp.CheckpointManager(os.path.abspath(directory), options=options,
                                     item_names=ITEMS)


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception of the chain (orbax wraps tensorstore's precise error, e.g.
    'OUT_OF_RANGE: ... byte range [0, 2291) is not valid for value of size 100', in a generic
    Exception whose message is a page of TensorStore spec)."""
    seen = {id(exc)}
    while True:
        nxt = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if nxt is None or id(nxt) in seen:
            return exc
        seen.add(id(nxt))
        exc = nxt


class Checkpoints:
    """Save and restore the checkpoints of one run directory (`<run_dir>/checkpoints`)."""

    def __init__(self, run_dir: str, keep: int = 3, read_only: bool = False):
        self.run_dir = run_dir
        self.directory = os.path.join(run_dir, "checkpoints")
        self.read_only = read_only
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

    # --- reading ------------------------------------------------------------------------------

    def _reason(self, item: str, exc: BaseException) -> str:
        root = _root_cause(exc)
        lines = str(root).strip().splitlines()
        text = lines[0] if lines else ""
        # Paths inside the run are named relative to the checkpoints directory.
        for prefix in (os.path.abspath(self.directory) + os.sep, self.directory + os.sep):
            text = text.replace(prefix, "")
        if not isinstance(root, CheckpointError):  # its message says all
            text = f"{type(root).__name__}: {text}" if text else type(root).__name__
        if len(text) > _REASON_CHARS:
            text = text[:_REASON_CHARS - 3] + "..."
        return f"{item}: {text}"

    def _item_path(self, step: int, item: str) -> str:
        path = os.path.join(os.path.abspath(self.directory), str(step), item)
        if not os.path.isdir(path):
            raise FileNotFoundError(f"{step}/{item}/ is missing")
        return path

    def _check_stored_bytes(self, step: int, item: str) -> None:
        """Parse the item's tree metadata and read every value stored in its OCDBT database as
        raw bytes (no decoding, no devices), waiting for every read. A truncated or deleted
        data file fails here, with its key, before orbax reads the item: orbax's own reads
        fail too, but they abandon their sibling reads, whose late errors are the noise this
        module keeps off the terminal."""
        path = self._item_path(step, item)
        # The handler's own metadata read raises the real error (a damaged _METADATA); the
        # Checkpointer's would log it and return None.
        ocp.PyTreeCheckpointHandler().metadata(epath.Path(path))
        if not os.path.isfile(os.path.join(path, "manifest.ocdbt")):
            return  # not an OCDBT item (older orbax layout): the full read below checks it
        kvstore = ts.KvStore.open({"driver": "ocdbt", "base": f"file://{path}/"}).result()
        keys = kvstore.list().result()
        reads = [kvstore.read(key) for key in keys]
        failed = None
        for key, read in zip(keys, reads):
            try:
                value = read.result()
            except Exception as exc:  # noqa: BLE001 - reported below, after every read ended
                failed = failed or (key, (str(exc).strip().splitlines()
                                          or [type(exc).__name__])[0])
                continue
            # A listed value is never empty (zarr metadata JSON, compressed chunks); reading one
            # whose data file was deleted gives b"" instead of an error.
            if value.state != "value" or not len(value.value):
                failed = failed or (key, "the stored value is missing (a deleted data file?)")
        if failed is not None:
            key, why = failed
            raise CheckpointError(f"{key.decode(errors='replace')}: {why}")

    def _decode_on_host(self, step: int, item: str) -> None:
        """Restore a whole item as numpy arrays (no devices, no shardings needed)."""
        path = self._item_path(step, item)
        handler = ocp.PyTreeCheckpointHandler()
        checkpointer = ocp.Checkpointer(handler)
        try:
            tree = handler.metadata(epath.Path(path)).tree
            restore_args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray),
                                        tree)
            checkpointer.restore(path, args=ocp.args.PyTreeRestore(restore_args=restore_args))
        finally:
            checkpointer.close()

    def _read(self, step: int, targets: dict) -> tuple[dict, str | None, str]:
        """(restored items, None or the reason this checkpoint is unusable, full error text)."""
        out = {}
        captured: list[str] = []
        item = "meta"
        try:
            with _silenced(captured):
                meta = self._manager.restore(
                    step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
                if not isinstance(meta, dict) or "update" not in meta:
                    raise CheckpointError("metadata is missing or has no 'update'")
                int(meta["update"])
                out["meta"] = meta
                for item in ("state", "policy"):
                    self._check_stored_bytes(step, item)
                for item in ("state", "policy"):
                    if targets.get(item) is not None:
                        out[item] = self._manager.restore(step, args=ocp.args.Composite(
                            **{item: ocp.args.StandardRestore(targets[item])}))[item]
                    else:
                        self._decode_on_host(step, item)
        except Exception as exc:  # noqa: BLE001 - any failure means this one is unusable
            _install_late_filter()
            full = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            return out, self._reason(item, exc), full + "".join(captured)
        return out, None, ""

    def restore(self, abstract_state: Any = None, abstract_policy: Any = None,
                step: int | None = None, log: Callable[[str], None] | None = None,
                discard: bool | None = None) -> Restored:
        """Restore the latest usable checkpoint (or exactly `step`).

        Every item of a candidate is read (see the module docstring): "state" and "policy" onto
        `abstract_state` / `abstract_policy` when given (returned), read in full on the host
        when not (checked only, returned as None). The newest checkpoint whose three items all
        read back is used.

        log: called once, with "<run_dir>: checkpoint 6 is unusable (policy: ...); using
            checkpoint 4 (update 4)", when newer checkpoints had to be skipped (default: stderr),
            and once more per checkpoint moved aside. Nothing is logged when the latest one is
            fine: print `result.message` ("using checkpoint 6 (update 6)") if wanted.
        discard: move the skipped (unusable, newer) checkpoints aside to `<step>.corrupt` once
            an older one restored; default: True for a writer, False for read_only (which may
            not pass True).
        Returns a `Restored` (unpacks as (step, state, policy, meta)).
        Raises CheckpointError naming the directory and, one line each, every step's reason
        when no checkpoint is usable.
        """
        log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        if discard is None:
            discard = not self.read_only
        if discard and self.read_only:
            raise ValueError("a read_only Checkpoints never modifies the run directory: "
                             "discard=True needs Checkpoints(run_dir) (read_only=False)")
        available = self.steps()
        if step is not None:
            if step not in available:
                raise CheckpointError(
                    f"no checkpoint {step} in {self.directory!r} (there are: "
                    f"{', '.join(map(str, available)) or 'none'})")
            candidates = [step]
        else:
            candidates = available[::-1]
        if not candidates:
            raise CheckpointError(f"no checkpoint in {self.directory!r}")
        targets = {"state": abstract_state, "policy": abstract_policy}
        skipped: list[tuple[int, str]] = []
        details: dict = {}
        for s in candidates:
            out, reason, full = self._read(s, targets)
            if reason is not None:
                skipped.append((s, reason))
                details[s] = full
                continue
            result = Restored(step=s, state=out.get("state"), policy=out.get("policy"),
                              meta=out["meta"], skipped=tuple(skipped), details=details)
            if skipped:
                log(f"{self.run_dir}: {result.message}")
                if discard:
                    moved = []
                    for bad, why in skipped:
                        try:
                            path = self.discard(bad, why, details.get(bad, ""))
                        except OSError as exc:
                            log(f"{self.run_dir}: could not move unusable checkpoint {bad} "
                                f"aside ({type(exc).__name__}: {exc})")
                            continue
                        moved.append(path)
                        log(f"{self.run_dir}: moved unusable checkpoint {bad} aside to {path}")
                    result = dataclasses.replace(result, discarded=tuple(moved))
            return result
        lines = "\n".join(f"  checkpoint {s}: {why}" for s, why in skipped)
        raise CheckpointError(f"no usable checkpoint in {self.directory!r}:\n{lines}", skipped)

    # --- writing ------------------------------------------------------------------------------

    def discard(self, step: int, reason: str = "", details: str = "") -> str:
        """Move checkpoint `step` aside to `<checkpoints>/<step>.corrupt` (`.corrupt.1`, ... when
        taken), with UNUSABLE.txt holding `reason` and `details`; returns the new path. Orbax
        ignores such directories, so a later save at `step` works. Writers only; on several
        hosts the main process moves it and every process then reloads its step list."""
        if self.read_only:
            raise ValueError("a read_only Checkpoints never modifies the run directory")
        if jax.process_count() > 1:
            multihost_utils.sync_global_devices(f"checkpoint discard {step} (before)")
        src = os.path.join(self.directory, str(step))
        dst = f"{src}.corrupt"
        n = 0
        while os.path.exists(dst):
            n += 1
            dst = f"{src}.corrupt.{n}"
        if jax.process_index() == 0:
            os.rename(src, dst)
            with contextlib.suppress(OSError), open(os.path.join(dst, "UNUSABLE.txt"), "w") as f:
                f.write(f"checkpoint {step} was moved aside: {reason}\n\n{details}")
        if jax.process_count() > 1:
            multihost_utils.sync_global_devices(f"checkpoint discard {step}")
        with _quiet_logs():
            self._manager.reload()
        return dst

    def close(self):
        with _quiet_logs():
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
