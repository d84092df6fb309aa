"""Multi-process training on one machine: real `train.py` processes joined by
`jax.distributed` on 127.0.0.1 (CPU collectives: gloo over TCP), one device each, against one
process with two devices; a stop and resume in that mode; bad multi-host flags fail clearly and
in bounded time. Runs share the session's persistent XLA compilation cache."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from agents.cli import train as train_cli_module
from agents.runner import RunOptions

from conftest import ROOT, cli_env, read_json, train_cli

# The smoke preset, smaller: 16 simulated steps per update, 2 updates per chunk and checkpoint.
TINY = ["--preset", "smoke", "--num-games", "2", "--group-size", "2", "--horizon", "4",
        "--num-minibatches", "1", "--hidden-sizes", "8", "8", "--eval-every", "0",
        "--eval-games", "2", "--no-gif", "--log-every", "2", "--checkpoint-every", "2"]
STEPS_PER_UPDATE = 2 * 2 * 4
UPDATES = 4
LEARNED = ("loss", "approx_kl", "entropy", "team_return", "goals_for", "goals_against")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _multihost(port: int, num_processes: int, process_id: int, timeout_s: int = 60) -> list:
    return ["--coordinator-address", f"127.0.0.1:{port}", "--num-processes", num_processes,
            "--process-id", process_id, "--coordinator-timeout-s", timeout_s]


def _start(args, cache, log_path, devices=None) -> subprocess.Popen:
    """`python train.py ARGS` in the background, stdout and stderr to `log_path`."""
    with open(log_path, "w") as log:
        return subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"),
                                 *map(str, args)], cwd=ROOT, env=cli_env(cache, devices),
                                stdout=log, stderr=subprocess.STDOUT, text=True)


def _wait_all(procs, logs, timeout=600) -> list[str]:
    """Wait for every process (killing all of them on a timeout: a hang fails the test)."""
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            p.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        pytest.fail("multi-process run hung:\n" + "\n".join(
            f"--- {path}\n{open(path).read()[-3000:]}" for path in logs))
    return [open(path).read() for path in logs]


def _rows(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def _learned(rows):
    return [(r["update"], {k: r[k] for k in LEARNED if k in r}) for r in rows]


@pytest.mark.slow  # about 3-5 minutes on 2 busy cores: three runs, two of them two processes
def test_two_processes_train_like_one_process_with_two_devices_stop_and_resume(
        tmp_path, xla_cache):
    total = ["--total-steps", STEPS_PER_UPDATE * UPDATES]
    one = tmp_path / "one"
    proc = train_cli([*TINY, *total, "--out", one], xla_cache, devices=2)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reference = read_json(one / "summary.json")
    assert (reference["devices"], reference["processes"]) == (2, 1)

    # Two processes of one device each; SIGTERM to process 1 alone while the first chunk
    # compiles: both stop after the same chunk (neither waits on the other), checkpoint, 130.
    two = tmp_path / "two"
    port = _free_port()
    logs = [tmp_path / f"stop{i}.log" for i in range(2)]
    procs = [_start([*TINY, *total, "--out", two, *_multihost(port, 2, i)], xla_cache, logs[i])
             for i in range(2)]
    deadline = time.monotonic() + 300
    while "training smoke" not in logs[1].read_text():
        assert procs[1].poll() is None and time.monotonic() < deadline, logs[1].read_text()
        time.sleep(0.05)
    procs[1].send_signal(signal.SIGTERM)
    outputs = _wait_all(procs, logs)
    assert [p.returncode for p in procs] == [130, 130], "\n".join(outputs)
    assert "SIGTERM: stopped at update" in outputs[1]
    assert "a stop request to another process: stopped at update" in outputs[0]
    stopped = [int(o.split("stopped at update ")[1].split()[0].rstrip(",")) for o in outputs]
    assert stopped[0] == stopped[1] < UPDATES, outputs
    assert sorted(int(s) for s in os.listdir(two / "checkpoints"))[-1] == stopped[0]
    assert _learned(_rows(two)) == _learned(_rows(one))[:stopped[0]]
    # The saved run's multi-host flags (process 0's) are not inherited by a resume: each
    # launch gives its own (here: two processes again).
    _, _, options, _ = train_cli_module.parse_args(["--out", str(two), "--resume"])
    assert (options.coordinator_address, options.num_processes, options.process_id) == (
        None, None, None)

    # Resume in two processes: it ends on the same parameters, bit for bit, as one process
    # with the same two devices (and logs the same learning curve).
    port = _free_port()
    logs = [tmp_path / f"resume{i}.log" for i in range(2)]
    procs = [_start(["--out", two, "--resume", *_multihost(port, 2, i)], xla_cache, logs[i])
             for i in range(2)]
    outputs = _wait_all(procs, logs)
    assert [p.returncode for p in procs] == [0, 0], "\n".join(outputs)
    summary = read_json(two / "summary.json")
    assert (summary["devices"], summary["processes"], summary["updates"]) == (2, 2, UPDATES)
    assert summary["params_digest"] == reference["params_digest"]
    assert _learned(_rows(two)) == _learned(_rows(one))
    assert read_json(two / "config.json")["run"]["process_id"] == 0  # process 0 wrote it


@pytest.mark.parametrize("run, match", [
    ({"coordinator_address": "127.0.0.1:1234", "num_processes": 2},
     "together: --process-id missing"),
    ({"num_processes": 2, "process_id": 0}, "--coordinator-address missing"),
    ({"coordinator_address": "127.0.0.1", "num_processes": 2, "process_id": 0},
     "--coordinator-address='127.0.0.1' is invalid: allowed HOST:PORT"),
    ({"coordinator_address": "host:70000", "num_processes": 2, "process_id": 0},
     "port in 1..65535"),
    ({"coordinator_address": "host:1234", "num_processes": 0, "process_id": 0},
     "--num-processes=0 is invalid"),
    ({"coordinator_address": "host:1234", "num_processes": 2, "process_id": 2},
     r"--process-id=2 is invalid: allowed an integer in 0..1"),
    ({"coordinator_address": "host:1234", "num_processes": 2, "process_id": -1},
     "--process-id=-1 is invalid"),
    ({"coordinator_timeout_s": 0}, "--coordinator-timeout-s=0 is invalid"),
    ({"coordinator_address": "host:1234", "num_processes": 2, "process_id": 1, "out": None},
     "needs --out RUN_DIR, the same for every process"),
])
def test_bad_multihost_flags_name_the_flag(run, match):
    with pytest.raises(ValueError, match=match):
        RunOptions(**{"out": "runs/x", **run})


def test_multihost_start_failures_are_clear_and_bounded(tmp_path, xla_cache):
    """A port in use, a coordinator that never comes, processes that never join: each is one
    clear line and exit status 2 within seconds of --coordinator-timeout-s, never a hang, a
    segmentation fault or a C++ stack trace (what jax.distributed.initialize does alone)."""
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_port = busy.getsockname()[1]
    cases = {  # name: (process id, port, what stderr says)
        "port_in_use": (0, busy_port, f"port {busy_port}, but that port is in use"),
        "no_coordinator": (1, _free_port(), "waited 3s and no coordinator answered"),
        "no_peers": (0, _free_port(), "not all 2 processes joined within 3s"),
    }
    start = time.monotonic()
    try:
        procs = {name: _start([*TINY, "--out", tmp_path / name, *_multihost(port, 2, pid, 3)],
                              xla_cache, tmp_path / f"{name}.log")
                 for name, (pid, port, _) in cases.items()}
        outputs = _wait_all(list(procs.values()), [tmp_path / f"{n}.log" for n in procs],
                            timeout=240)
    finally:
        busy.close()
    for (name, (_, _, expected)), proc, output in zip(cases.items(), procs.values(), outputs):
        assert proc.returncode == 2, (name, output)
        assert expected in output and "error: " in output, (name, output)
        assert "Traceback" not in output and "Check failure" not in output, (name, output)
        assert not os.path.exists(tmp_path / name / "checkpoints"), name
    assert time.monotonic() - start < 240
