"""Experiment logging: the progress lines through a pipe, TensorBoard's scalars, and a real
smoke run logged to Weights & Biases in offline mode (no network: W&B's server address and the
proxies point at a closed port), read back from the run's own .wandb file and media files.
The W&B run reuses the session's XLA cache (after `smoke_runs`), so it compiles nothing new."""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import time

import pytest

from agents import loggers, runner
from agents.cli import train as train_cli_module
from agents.runner import RunOptions, reconcile_resume
from agents.trainer import TrainConfig

from conftest import ROOT, cli_env, read_json

PROGRESS = re.compile(r"^\[\s*\d+%\] update (\d+)/(\d+) steps [\d,]+ \| [\d,]+ steps/s")
CLOSED_PORT = "http://127.0.0.1:9"  # discard port: nothing listens, any request fails at once


def _rows(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def _progress_updates(stdout: str, run_dir) -> list[int]:
    """The updates of the progress lines, checked to be one plain line per chunk."""
    assert "\r" not in stdout and "\x1b" not in stdout  # no carriage returns, no colours
    updates = [int(m.group(1)) for m in map(PROGRESS.match, stdout.splitlines()) if m]
    log_every = read_json(os.path.join(run_dir, "config.json"))["run"]["log_every"]
    total = read_json(os.path.join(run_dir, "summary.json"))["updates"]
    assert updates == list(range(log_every, total + 1, log_every)), stdout
    return updates


def test_progress_is_one_line_per_chunk_through_a_pipe(smoke_runs):
    """smoke_runs ran train.py with stdout to a pipe (not a terminal)."""
    assert _progress_updates(smoke_runs["stdout"], smoke_runs["a"]) == [2, 4, 6]


# --- TensorBoard ------------------------------------------------------------------------------

def _tb_events(tb_dir):
    """Every event of the TFRecord files in tb_dir (length, crc, data, crc per record)."""
    from tensorboardX.proto import event_pb2

    events = []
    for name in sorted(os.listdir(tb_dir)):
        data = open(os.path.join(tb_dir, name), "rb").read()
        pos = 0
        while pos + 12 <= len(data):
            (length,) = struct.unpack("<Q", data[pos:pos + 8])
            event = event_pb2.Event()
            event.ParseFromString(data[pos + 12:pos + 12 + length])
            events.append(event)
            pos += 12 + length + 4
    return events


def test_tensorboard_holds_every_metric_by_update(smoke_runs):
    pytest.importorskip("tensorboardX")
    run = smoke_runs["a"]
    scalars, tags = {}, set()
    for event in _tb_events(run / "tb"):
        for value in event.summary.value:
            tags.add(value.tag)
            if value.HasField("simple_value"):
                scalars.setdefault(value.tag, {})[event.step] = value.simple_value
    rows = _rows(run)
    assert scalars["loss"] == pytest.approx({r["update"]: r["loss"] for r in rows}, rel=1e-6)
    assert sorted(scalars["env_steps"]) == [r["update"] for r in rows]
    assert "config/text_summary" in tags
    summary = read_json(run / "summary.json")
    assert scalars["eval/win_rate"] == {summary["updates"]: summary["eval"]["win_rate"]}


def test_missing_tensorboard_is_one_note_and_no_tensorboard_is_silent(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import fails as if not installed
    notes = []
    sinks = loggers.open_sinks(RunOptions(), str(tmp_path), notes.append)
    assert sinks.sinks == [] and len(notes) == 1
    assert "pip install 'soccer-grpo[tensorboard]'" in notes[0] and "--no-tensorboard" in notes[0]
    notes.clear()
    assert loggers.open_sinks(RunOptions(tensorboard=False), str(tmp_path), notes.append).sinks == []
    assert notes == [] and not (tmp_path / "tb").exists()


# --- Weights & Biases -------------------------------------------------------------------------

def wandb_records(path):
    """The records of a .wandb file (a LevelDB log: 32 KiB blocks of chunks, each with a
    7-byte header of crc32, length and type FULL/FIRST/MIDDLE/LAST; the file starts with
    ':W&B', magic and version)."""
    from wandb.proto import wandb_internal_pb2

    data = open(path, "rb").read()
    assert data[:4] == b":W&B", data[:7]
    block, pos, part, records = 32768, 7, b"", []
    while pos + 7 <= len(data):
        room = block - pos % block
        if room < 7:  # a block's tail too short for a header is padding
            pos += room
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if kind == 0 and length == 0:
            pos += room
            continue
        part += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # FULL or LAST
            record = wandb_internal_pb2.Record()
            record.ParseFromString(part)
            records.append(record)
            part = b""
    return records


def _key(item):
    return item.key or "/".join(item.nested_key)


def read_wandb_run(run_dir):
    """{run, config, history {step: {key: value}}, summary} of an offline W&B run directory."""
    [path] = [os.path.join(run_dir, n) for n in os.listdir(run_dir) if n.endswith(".wandb")]
    # W&B's service writes the file in the background: `run.finish()` can return before the
    # last records are on disk (seen once under a loaded full suite: a resumed run's history
    # read back empty). The exit record comes last; wait for it, a bounded time.
    deadline = time.time() + 30
    records = wandb_records(path)
    while (not any(r.WhichOneof("record_type") == "exit" for r in records)
           and time.time() < deadline):
        time.sleep(0.2)
        records = wandb_records(path)
    out = {"run": None, "config": {}, "history": {}, "summary": {}}
    for record in records:
        kind = record.WhichOneof("record_type")
        if kind == "run":
            out["run"] = record.run
            for item in record.run.config.update:
                out["config"][item.key] = json.loads(item.value_json)
        elif kind == "config":
            for item in record.config.update:
                out["config"][item.key] = json.loads(item.value_json)
        elif kind == "history":
            out["history"][record.history.step.num] = {
                _key(i): json.loads(i.value_json) for i in record.history.item}
        elif kind == "summary":
            for item in record.summary.update:
                out["summary"][_key(item)] = json.loads(item.value_json)
    return out


def wandb_env(tmp_path) -> dict:
    """W&B kept inside tmp_path and off the network."""
    env = {f"WANDB_{name}_DIR": str(tmp_path / f"wandb-{name.lower()}")
           for name in ("CONFIG", "CACHE", "DATA", "ARTIFACT")}
    env.update(WANDB_BASE_URL=CLOSED_PORT, HTTP_PROXY=CLOSED_PORT, HTTPS_PROXY=CLOSED_PORT,
               http_proxy=CLOSED_PORT, https_proxy=CLOSED_PORT, NO_PROXY="", no_proxy="")
    return env


@pytest.fixture(scope="module")
def wandb_run(smoke_runs, xla_cache, tmp_path_factory):
    """`train.py --preset smoke --wandb --wandb-mode offline` with WANDB_DIR elsewhere and
    stdout to a pipe, read line by line: {out, wandb_dir, stdout, stderr, finished_early}."""
    pytest.importorskip("wandb")
    base = tmp_path_factory.mktemp("wandb")
    out, wandb_dir = base / "logged", base / "wandb-dir"
    env = dict(cli_env(xla_cache), **wandb_env(base), WANDB_DIR=str(wandb_dir))
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--preset", "smoke", "--out", str(out),
         "--wandb", "--wandb-mode", "offline"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    lines, finished_early = [], None
    for line in proc.stdout:
        lines.append(line)
        if finished_early is None and PROGRESS.match(line):
            # The first progress line arrives while the run is still training (stdout is
            # flushed per line even into a pipe), long before summary.json is written.
            finished_early = (out / "summary.json").exists()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=600) == 0, "".join(lines) + stderr
    return {"out": out, "wandb_dir": wandb_dir, "stdout": "".join(lines), "stderr": stderr,
            "finished_early": finished_early}


def test_wandb_offline_run_logs_config_metrics_summary_and_media(wandb_run):
    out, stdout = wandb_run["out"], wandb_run["stdout"]
    _progress_updates(stdout, out)
    assert wandb_run["finished_early"] is False, "progress lines were held back until the end"
    # WANDB_DIR decides where W&B writes; the run directory keeps the id.
    [run_dir] = [wandb_run["wandb_dir"] / "wandb" / n
                 for n in os.listdir(wandb_run["wandb_dir"] / "wandb")
                 if n.startswith("offline-run-")]
    assert not (out / "wandb").exists()
    run_id = (out / "wandb-id").read_text().strip()
    assert run_dir.name.endswith("-" + run_id)
    assert f"wandb sync {run_dir}" in stdout
    assert "Weave" not in stdout + wandb_run["stderr"]

    logged = read_wandb_run(run_dir)
    assert logged["run"].run_id == run_id and logged["run"].display_name == "logged"
    assert logged["run"].project == "soccer-grpo"
    config = read_json(out / "config.json")
    for key in ("preset", "train", "run", "env", "devices"):
        assert logged["config"][key] == config[key], key

    rows = _rows(out)
    history = logged["history"]
    assert sorted(history) == [r["update"] for r in rows]
    for r in rows:
        step = history[r["update"]]
        for key in ("loss", "entropy", "approx_kl", "env_steps", "team_return"):
            assert step[key] == pytest.approx(r[key], rel=1e-12), (r["update"], key)
        assert ("win_rate" in step) == ("win_rate" in r)

    summary = read_json(out / "summary.json")
    s = logged["summary"]
    assert s["params_digest"] == summary["params_digest"] and s["updates"] == summary["updates"]
    assert s["eval"] == summary["eval"]

    # The media: curves.png as an image and match.gif as a video, byte for byte.
    last = history[summary["updates"]]
    assert last["match/_type"] == "video-file" and last["curves/_type"] == "image-file"
    files = run_dir / "files"
    assert (files / last["match/path"]).read_bytes() == (out / "match.gif").read_bytes()
    assert (files / last["curves/path"]).read_bytes() == (out / "curves.png").read_bytes()


@pytest.fixture
def offline_wandb(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for name, value in wandb_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("WANDB_DIR", raising=False)
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_CONSOLE", "off")  # leave pytest's capture alone
    yield
    import wandb

    wandb.teardown()


def test_a_resumed_run_continues_the_same_wandb_run(tmp_path, offline_wandb):
    """Opened twice on one run directory (a run and its resume): one W&B id, stored in
    RUN/wandb-id, both offline runs under RUN/wandb (no WANDB_DIR)."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"preset": "smoke", "run": {"seeds": 1}}))
    options = RunOptions(out=str(out), wandb=True, wandb_mode="offline", tensorboard=False,
                         wandb_name="mine")
    notes = []
    for first, last in ((1, 2), (3, 4)):
        sinks = loggers.open_sinks(options, str(out), notes.append)
        for u in range(first, last + 1):
            sinks.metrics({"update": u, "loss": 0.5 / u, "loss_per_seed": [0.5 / u, 1.0]})
        sinks.close()
    run_id = (out / "wandb-id").read_text().strip()
    dirs = sorted(n for n in os.listdir(out / "wandb") if n.startswith("offline-run-"))
    assert len(dirs) == 2 and all(d.endswith("-" + run_id) for d in dirs)
    runs = [read_wandb_run(out / "wandb" / d) for d in dirs]
    assert [sorted(r["history"]) for r in runs] == [[1, 2], [3, 4]]
    assert runs[1]["history"][4]["loss_per_seed/0"] == 0.125
    assert all(r["run"].display_name == "mine" and r["config"]["preset"] == "smoke"
               for r in runs)
    assert len(notes) == 2 and all("offline" in n and run_id in n for n in notes)


def test_wandb_without_the_package_fails_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import fails as if not installed
    with pytest.raises(ValueError, match=re.escape("pip install 'soccer-grpo[wandb]'")):
        loggers.check(RunOptions(wandb=True))
    loggers.check(RunOptions())  # without --wandb the package is not needed
    out = tmp_path / "never"
    with pytest.raises(ValueError, match="--wandb needs the wandb package"):
        runner.train(TrainConfig(), RunOptions(wandb=True, out=str(out)))
    assert not out.exists()


@pytest.mark.parametrize("options, match", [
    ({"wandb_mode": "cloud"}, "--wandb-mode='cloud' is invalid: allowed one of online, offline, "
                              "disabled"),
    ({"wandb_project": ""}, "--wandb-project='' is invalid"),
    ({"wandb_name": " "}, "--wandb-name=' ' is invalid"),
])
def test_bad_wandb_options_raise_clear_errors(options, match):
    with pytest.raises(ValueError, match=re.escape(match)):
        RunOptions(**options)


def test_a_resume_may_change_the_logging(smoke_runs):
    argv = ["--out", str(smoke_runs["a"]), "--resume", "--wandb", "--wandb-mode", "offline",
            "--wandb-project", "other", "--wandb-name", "again", "--no-tensorboard"]
    preset, train, run, saved = train_cli_module.parse_args(argv)
    _, options = reconcile_resume(saved, train, run)
    assert options.wandb and not options.tensorboard and options.wandb_project == "other"
