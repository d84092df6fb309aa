"""train.py and agents.runner: devices, leagues, the CLI, what a resume may change, Ctrl-C, and
clear errors for bad options. The plain smoke runs and the killed-run resume are the user
journey (tests/test_journey.py); runs share the session's persistent XLA compilation cache."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from agents import presets
from agents.cli import train as train_cli_module
from agents.runner import RunOptions, prepare
from agents.trainer import TrainConfig

from conftest import ROOT, cli_env, read_json, train_cli


def _rows(run_dir):
    with open(os.path.join(run_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_four_devices_match_one_device(smoke_runs, tmp_path, xla_cache):
    out = tmp_path / "four"
    proc = train_cli(["--preset", "smoke", "--out", out, "--no-gif"], xla_cache, devices=4)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert read_json(out / "summary.json")["devices"] == 4
    one = [r["loss"] for r in _rows(smoke_runs["a"])][:2]
    four = [r["loss"] for r in _rows(out)][:2]
    assert four == pytest.approx(one, rel=1e-4, abs=1e-6)


def test_league_with_seeds_logs_elo_and_resumes_exactly(tmp_path, xla_cache):
    """A league run of 2 vmapped seeds: per-seed win rates and Elo in metrics.jsonl, the
    snapshot pool restored from a checkpoint (the latest one removed) to the same weights."""
    out = tmp_path / "league"
    args = ["--preset", "smoke", "--opponent", "league", "--league-size", "2",
            "--league-refresh-every", "2", "--league-bots", "bot:chaser", "bot:random",
            "--seeds", "2", "--out", out, "--no-gif"]
    proc = train_cli(args, xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _rows(out)
    checked = [r for r in rows if "win_rate" in r]
    assert checked and all(len(r["win_rate_per_seed"]) == 2 for r in checked)
    for r in checked:
        assert r["win_rate"] == pytest.approx(sum(r["win_rate_per_seed"]) / 2)
        assert r["elo"] == pytest.approx(sum(r["elo_per_seed"]) / 2)
        assert all(0 < e < 2000 for e in r["elo_per_seed"])
    assert rows[-1]["league_snapshots"] == 1 + rows[-1]["update"] // 2
    digest = read_json(out / "summary.json")["params_digest"]
    last = max(int(d) for d in os.listdir(out / "checkpoints") if d.isdigit())
    shutil.rmtree(out / "checkpoints" / str(last))
    resumed = train_cli(["--out", out, "--resume", "--no-gif"], xla_cache)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert read_json(out / "summary.json")["params_digest"] == digest


def _copy(run, tmp_path, name):
    out = tmp_path / name
    shutil.copytree(run, out)
    return out


def test_resume_refuses_changed_options_and_writes_nothing(smoke_runs, tmp_path, xla_cache):
    out = _copy(smoke_runs["a"], tmp_path, "refuse")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    proc = train_cli(["--out", out, "--resume", "--lr", "0.1", "--seeds", "2"], xla_cache)
    assert proc.returncode == 2
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "--lr" in err[0] and "--seeds" in err[0], proc.stderr
    assert "Traceback" not in proc.stderr
    proc = train_cli(["--out", out, "--resume", "--preset", "default"], xla_cache)
    assert proc.returncode == 2 and "preset" in proc.stderr
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_resume_with_more_total_steps_extends_a_finished_run(smoke_runs, tmp_path, xla_cache):
    out = _copy(smoke_runs["a"], tmp_path, "extend")
    updates = read_json(out / "summary.json")["updates"]
    steps = read_json(out / "config.json")["run"]["total_steps"]
    proc = train_cli(["--out", out, "--resume", "--total-steps", 2 * steps, "--no-gif",
                      "--eval-games", "4"], xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"from update {updates}" in proc.stdout
    summary = read_json(out / "summary.json")
    assert summary["updates"] == 2 * updates and summary["eval"]["games"] == 4
    assert [r["update"] for r in _rows(out)] == list(range(1, 2 * updates + 1))
    assert read_json(out / "config.json")["run"]["total_steps"] == 2 * steps


def test_resume_refuses_to_extend_an_annealed_run(smoke_runs, tmp_path):
    out = _copy(smoke_runs["a"], tmp_path, "annealed")
    config = read_json(out / "config.json")
    config["train"]["lr_anneal_updates"] = 6
    (out / "config.json").write_text(json.dumps(config))
    argv = ["--out", str(out), "--resume", "--total-steps", "100000"]
    preset, train, run, saved = train_cli_module.parse_args(argv)
    from agents.runner import reconcile_resume

    with pytest.raises(ValueError, match="anneals to 0 at update 6"):
        reconcile_resume(saved, train, run)


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(smoke_runs, tmp_path, xla_cache):
    """SIGINT while the first chunk runs: the run stops after it, saves, prints the resume
    command (no traceback) and exits 130; resuming ends with the uninterrupted run's weights."""
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--preset", "smoke", "--out", str(out),
         "--no-gif"], cwd=ROOT, env=cli_env(xla_cache), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / "config.json").is_file() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert f"python train.py --out {out} --resume" in stderr
    assert not (out / "summary.json").exists()
    saved = [int(d) for d in os.listdir(out / "checkpoints") if d.isdigit()]
    assert saved and max(saved) < 6
    resumed = train_cli(["--out", out, "--resume", "--no-gif"], xla_cache)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (read_json(out / "summary.json")["params_digest"]
            == read_json(smoke_runs["a"] / "summary.json")["params_digest"])


def test_existing_run_is_not_overwritten(smoke_runs, xla_cache):
    out = smoke_runs["a"]
    before = (out / "summary.json").read_bytes()
    proc = train_cli(["--preset", "smoke", "--out", out], xla_cache)
    assert proc.returncode == 2 and "--resume" in proc.stderr
    assert (out / "summary.json").read_bytes() == before


@pytest.mark.parametrize("train, run, match", [
    ({}, {"total_steps": 0}, "total-steps"),
    ({}, {"checkpoint_every": 3, "log_every": 2}, "checkpoint-every"),
    ({}, {"eval_games": 1}, "eval-games"),
    ({"group_size": 0}, {}, "group_size"),
    ({"opponent": "bot:nobody"}, {}, "TrainConfig.opponent='bot:nobody' is invalid"),
    ({"opponent": "league", "league_bots": ("bot:nobody",)}, {}, "league_bots"),
    ({"lr_anneal_updates": 5}, {"anneal_lr": True}, "anneal"),
    ({}, {"eval_opponent": "nowhere"}, "--eval-opponent='nowhere' is invalid"),
    ({}, {"eval_opponent": "self"}, "is invalid here"),
])
def test_bad_options_raise_clear_errors(train, run, match):
    with pytest.raises(ValueError, match=match):
        prepare(TrainConfig(**train), RunOptions(**run))


def test_unknown_preset_and_help(xla_cache):
    with pytest.raises(ValueError, match="allowed one of"):
        presets.get("nope")
    proc = train_cli(["--preset", "nope"], xla_cache)
    assert proc.returncode == 2 and "smoke" in proc.stderr and "Traceback" not in proc.stderr
    proc = train_cli(["--help"], xla_cache, timeout=120)
    assert proc.returncode == 0
    for flag in ("--preset", "--total-steps", "--seeds", "--out", "--resume",
                 "--checkpoint-every", "--opponent", "--scenario", "--group-size",
                 "exp-grpo", "smoke"):
        assert flag in proc.stdout, flag


def test_resume_without_a_run_directory_is_an_error(tmp_path, xla_cache):
    proc = train_cli(["--out", tmp_path / "missing", "--resume"], xla_cache)
    assert proc.returncode == 2 and "config.json" in proc.stderr


def test_every_cli_option_has_a_help_text(xla_cache):
    """Every field of RunOptions and TrainConfig carries a `# comment`: tyro's help text."""
    import dataclasses
    import inspect

    for cls in (RunOptions, TrainConfig):
        source = inspect.getsource(cls)
        for f in dataclasses.fields(cls):
            line = next(ln for ln in source.splitlines() if ln.strip().startswith(f"{f.name}:"))
            assert "#" in line, f"{cls.__name__}.{f.name} has no '# comment' (its --help text)"


def test_a_warm_started_run_clones_once_and_resumes_without_cloning(tmp_path, xla_cache):
    """--imitate through train.py: the run logs its warm start and saves the fields; a resume
    continues from the checkpoint without cloning again."""
    out = tmp_path / "warm"
    proc = train_cli(["--preset", "smoke", "--imitate", "bot:positional", "--imitate-games", "1",
                      "--imitate-epochs", "2", "--out", out, "--no-gif", "--eval-games", "4"],
                     xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warm start: cloning bot:positional from 1 games" in proc.stdout
    assert "warm start done in" in proc.stdout
    train = read_json(out / "config.json")["train"]
    assert (train["imitate"], train["imitate_games"], train["imitate_epochs"]) == (
        "bot:positional", 1, 2)
    updates = read_json(out / "summary.json")["updates"]
    steps = read_json(out / "config.json")["run"]["total_steps"]
    proc = train_cli(["--out", out, "--resume", "--total-steps", 2 * steps, "--no-gif",
                      "--eval-games", "4"], xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"from update {updates}" in proc.stdout and "warm start" not in proc.stdout
    assert read_json(out / "summary.json")["updates"] == 2 * updates
