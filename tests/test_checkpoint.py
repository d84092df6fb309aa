"""agents.checkpoint: every reader validates a checkpoint the same way and reports it in one line.

Real checkpoints are written with `Checkpoints.save` (small pytrees of jnp arrays), then damaged
the ways users met: the biggest data file of the policy or the state item cut short or deleted,
meta's JSON deleted or garbage. A resume (writer, restores "state"), a policy load (read only,
restores "policy") and a plain check (read only, restores neither) must all skip the same
checkpoint and say so in one line; only the writer moves it aside.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents.checkpoint import CheckpointError, Checkpoints, Restored

STEPS = (2, 4, 6)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def noise(step, shape):
    # Incompressible values, so that the biggest file of an item is its data, not its metadata.
    return jax.random.normal(jax.random.PRNGKey(step), shape)


def state_of(step):
    # Several arrays per item: a failed read of one leaves the reads of the others to asyncio,
    # which is where the unraisable-coroutine tracebacks came from.
    return {"params": policy_of(step),
            "opt": (noise(step + 100, (64, 32)), jnp.ones(7, jnp.int32) * step),
            "key": jax.random.PRNGKey(step), "update": jnp.asarray(step, jnp.int32)}


def policy_of(step):
    return {"w": noise(step, (64, 32)), "b": jnp.arange(32.0) + step}


ABSTRACT_STATE = jax.eval_shape(lambda: state_of(0))
ABSTRACT_POLICY = jax.eval_shape(lambda: policy_of(0))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "pristine"
    checkpoints = Checkpoints(str(run), keep=5)
    for step in STEPS:
        checkpoints.save(step, state_of(step), policy_of(step), {"update": step, "wall_s": 1.0})
    checkpoints.close()
    return run


@pytest.fixture
def run(pristine, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(pristine, copy)
    return copy


def biggest_file(directory):
    files = [os.path.join(d, f) for d, _, fs in os.walk(directory) for f in fs]
    path = max(files, key=os.path.getsize)
    assert f"{os.sep}d{os.sep}" in path, path  # an array data file (orbax's OCDBT "d/" files)
    return path


def truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def corrupt(run, step, how):
    """Damage checkpoint `step`; returns the item whose failure must be reported."""
    item_dir = lambda item: os.path.join(run, "checkpoints", str(step), item)
    if how == "truncate policy":
        truncate(biggest_file(item_dir("policy")))
        return "policy"
    if how == "truncate state":
        truncate(biggest_file(item_dir("state")))
        return "state"
    if how == "delete policy file":
        os.remove(biggest_file(item_dir("policy")))
        return "policy"
    if how == "delete state file":
        os.remove(biggest_file(item_dir("state")))
        return "state"
    if how == "truncate state metadata":
        truncate(os.path.join(item_dir("state"), "_METADATA"))
        return "state"
    if how == "delete meta":
        os.remove(os.path.join(item_dir("meta"), "metadata"))
        return "meta"
    if how == "garbage meta":
        with open(os.path.join(item_dir("meta"), "metadata"), "w") as f:
            f.write('{"update": 6, ')
        return "meta"
    if how == "meta without update":
        with open(os.path.join(item_dir("meta"), "metadata"), "w") as f:
            f.write('{"wall_s": 1.0}')
        return "meta"
    raise ValueError(how)


CORRUPTIONS = ("truncate policy", "truncate state", "delete policy file", "delete state file",
               "truncate state metadata", "delete meta", "garbage meta", "meta without update")

# name -> (read_only, restore kwargs): how train.py --resume, agents.load_policy and a check
# that restores nothing read a run.
READERS = {
    "resume": (False, dict(abstract_state=ABSTRACT_STATE)),
    "load_policy": (True, dict(abstract_policy=ABSTRACT_POLICY)),
    "both": (True, dict(abstract_state=ABSTRACT_STATE, abstract_policy=ABSTRACT_POLICY)),
    "check": (True, dict()),
}


def read(run, reader, **extra):
    read_only, kwargs = READERS[reader]
    lines = []
    checkpoints = Checkpoints(str(run), read_only=read_only)
    try:
        result = checkpoints.restore(log=lines.append, **kwargs, **extra)
    finally:
        checkpoints.close()
    return result, lines


def snapshot(run):
    """Every path under the run with its size and modification time."""
    out = {}
    for d, dirs, files in os.walk(run):
        for name in dirs + files:
            path = os.path.join(d, name)
            st = os.stat(path)
            out[os.path.relpath(path, run)] = (st.st_size if name in files else 0, st.st_mtime_ns)
    return out


def assert_tree_is_step(tree, want):
    for x, y in zip(jax.tree.leaves(tree), jax.tree.leaves(want)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_a_sound_run_uses_the_latest_checkpoint_quietly(run):
    for reader in READERS:
        result, lines = read(run, reader)
        assert isinstance(result, Restored)
        assert result.step == 6 and result.update == 6 and result.skipped == ()
        assert result.message == "using checkpoint 6 (update 6)"
        assert lines == []  # nothing to report: the caller prints result.message if it wants
    result, _ = read(run, "both")
    assert_tree_is_step(result.state, state_of(6))
    assert_tree_is_step(result.policy, policy_of(6))
    step, state, policy, meta = read(run, "load_policy")[0]  # unpacks as the old tuple did
    assert step == 6 and state is None and meta["update"] == 6
    assert_tree_is_step(policy, policy_of(6))


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_every_reader_skips_the_same_checkpoint_and_says_so_in_one_line(run, how):
    item = corrupt(run, 6, how)
    for reader in ("load_policy", "both", "check", "resume"):  # the writer last: it moves 6
        result, lines = read(run, reader)
        assert result.step == 4 and result.update == 4, (reader, how)
        assert [s for s, _ in result.skipped] == [6]
        reason = result.skipped[0][1]
        assert reason.startswith(f"{item}: ") and "\n" not in reason and len(reason) <= 320
        assert result.message == f"checkpoint 6 is unusable ({reason}); using checkpoint 4 " \
                                 "(update 4)"
        assert lines[0] == f"{run}: {result.message}"
        assert len(lines) == (2 if reader == "resume" else 1)
        if reader in ("resume", "both"):
            assert_tree_is_step(result.state, state_of(4))
        if reader in ("load_policy", "both"):
            assert_tree_is_step(result.policy, policy_of(4))


@pytest.mark.parametrize("how", ["truncate policy", "truncate state", "garbage meta"])
def test_read_only_readers_do_not_modify_the_run(run, how):
    corrupt(run, 6, how)
    before = snapshot(run)
    for reader in ("load_policy", "both", "check"):
        result, _ = read(run, reader)
        assert result.step == 4 and result.discarded == ()
        assert snapshot(run) == before
    checkpoints = Checkpoints(str(run), read_only=True)
    with pytest.raises(ValueError, match="read_only"):
        checkpoints.restore(discard=True)
    checkpoints.close()
    assert snapshot(run) == before


def test_a_writers_resume_moves_the_corrupt_newer_checkpoint_aside(run):
    corrupt(run, 6, "truncate policy")
    checkpoints = Checkpoints(str(run), keep=5)
    lines = []
    result = checkpoints.restore(abstract_state=ABSTRACT_STATE, log=lines.append)
    aside = os.path.join(run, "checkpoints", "6.corrupt")
    assert result.step == 4 and result.discarded == (aside,)
    assert lines[1] == f"{run}: moved unusable checkpoint 6 aside to {aside}"
    assert not os.path.exists(os.path.join(run, "checkpoints", "6"))
    with open(os.path.join(aside, "UNUSABLE.txt")) as f:
        assert result.skipped[0][1] in f.read()
    assert checkpoints.steps() == [2, 4]
    # Training goes on from 4 and saves 6 again: that works, and 6 is the latest again.
    checkpoints.save(6, state_of(60), policy_of(60), {"update": 6})
    assert checkpoints.steps() == [2, 4, 6]
    checkpoints.close()
    for reader in READERS:
        again, lines = read(run, reader)
        assert again.step == 6 and again.skipped == () and lines == []
    assert_tree_is_step(read(run, "both")[0].policy, policy_of(60))
    # A second damaged 6 goes aside next to the first.
    corrupt(run, 6, "truncate state")
    result, lines = read(run, "resume")
    assert result.step == 4 and result.discarded == (aside + ".1",)
    assert sorted(os.listdir(os.path.join(run, "checkpoints"))) == ["2", "4", "6.corrupt",
                                                                     "6.corrupt.1"]


def test_several_unusable_checkpoints_are_one_line(run):
    corrupt(run, 6, "truncate state")
    corrupt(run, 4, "garbage meta")
    result, lines = read(run, "load_policy")
    assert result.step == 2 and [s for s, _ in result.skipped] == [6, 4]
    assert len(lines) == 1
    assert lines[0].startswith(f"{run}: checkpoint 6 is unusable (state: ")
    assert "; checkpoint 4 is unusable (meta: " in lines[0]
    assert lines[0].endswith("; using checkpoint 2 (update 2)")


def test_no_usable_checkpoint_raises_naming_every_step(run):
    corrupt(run, 6, "truncate policy")
    corrupt(run, 4, "delete state file")
    corrupt(run, 2, "delete meta")
    before = snapshot(run)
    for reader in READERS:
        with pytest.raises(CheckpointError) as err:
            read(run, reader)
        message = str(err.value).splitlines()
        assert os.path.join(str(run), "checkpoints") in message[0]
        assert [line.split(":")[0].strip() for line in message[1:]] == [
            "checkpoint 6", "checkpoint 4", "checkpoint 2"]
        assert message[1].startswith("  checkpoint 6: policy: ")
        assert message[2].startswith("  checkpoint 4: state: ")
        assert message[3].startswith("  checkpoint 2: meta: ")
        assert [s for s, _ in err.value.reasons] == [6, 4, 2]
        assert snapshot(run) == before  # nothing usable: nothing moved, even by the writer


def test_an_explicit_step_is_that_step_or_an_error(run):
    corrupt(run, 6, "truncate policy")
    result, _ = read(run, "load_policy", step=4)
    assert result.step == 4 and result.skipped == ()
    with pytest.raises(CheckpointError, match=r"checkpoint 6: policy: "):
        read(run, "load_policy", step=6)
    with pytest.raises(CheckpointError, match=r"no checkpoint 5 .*2, 4, 6"):
        read(run, "check", step=5)


def test_missing_directory_and_empty_run(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoints directory"):
        Checkpoints(str(tmp_path / "nothing"), read_only=True)
    checkpoints = Checkpoints(str(tmp_path / "empty"))
    with pytest.raises(CheckpointError, match="no checkpoint in"):
        checkpoints.restore()
    checkpoints.close()


READER_SCRIPT = textwrap.dedent("""
    import logging, sys
    sys.path.insert(0, {root!r})
    import jax, jax.numpy as jnp
    from absl import logging as absl_logging
    from agents.checkpoint import Checkpoints
    abstract = jax.eval_shape(lambda: {{
        "params": {{"w": jnp.zeros((64, 32)), "b": jnp.zeros(32)}},
        "opt": (jnp.zeros((64, 32)), jnp.zeros(7, jnp.int32)),
        "key": jax.random.PRNGKey(0), "update": jnp.asarray(0, jnp.int32)}})
    jnp.zeros(1).block_until_ready()  # the backend's own start-up messages come before this
    if {loud}:  # the worst case: every logger on, absl's handler writing to stderr
        logging.basicConfig(level=logging.DEBUG)
        absl_logging.set_verbosity(absl_logging.DEBUG)
        absl_logging.use_absl_handler()
    print("--- restore ---", file=sys.stderr, flush=True)
    checkpoints = Checkpoints({run!r}, read_only={read_only})
    result = checkpoints.restore(abstract_state=abstract)
    checkpoints.close()
    import gc, time
    time.sleep(0.5)  # let the reads orbax abandoned complete on their threads
    gc.collect()
    print("--- done ---", file=sys.stderr, flush=True)
    print("restored", result.step)
""")


@pytest.mark.parametrize("read_only,loud", [(False, False), (True, True)])
def test_a_real_corrupt_restore_prints_only_its_lines(run, read_only, loud):
    corrupt(run, 6, "truncate state")
    script = READER_SCRIPT.format(root=ROOT, run=str(run), read_only=read_only, loud=loud)
    env = dict(os.environ, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="0")
    env.pop("SOCCER_CHECKPOINT_DEBUG", None)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "restored 4"
    # Only what the restore printed counts (not the backend's start-up lines, if any).
    stderr = done.stderr.split("--- restore ---\n", 1)[1].split("--- done ---\n", 1)[0]
    lines = stderr.splitlines()
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    want = [f"{run}: checkpoint 6 is unusable (state: "]
    if not read_only:
        want.append(f"{run}: moved unusable checkpoint 6 aside to ")
    assert len(lines) == len(want), stderr
    for line, start in zip(lines, want):
        assert line.startswith(start), stderr
    assert lines[0].endswith("; using checkpoint 4 (update 4)")
