"""train.py end to end: the smoke preset, the run directory, exact resume after SIGKILL, four
(fake CPU) devices, and clear errors for bad options.

The runs in subprocesses share a persistent XLA compilation cache, so only the first compiles.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(cache_dir, devices=None):
    env = dict(os.environ)
    env["JAX_COMPILATION_CACHE_DIR"] = str(cache_dir)
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    if devices:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _train(args, cache_dir, devices=None, **kwargs):
    return subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), *args],
                          env=_env(cache_dir, devices), capture_output=True, text=True,
                          timeout=600, **kwargs)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("xla_cache")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory, cache_dir):
    out = tmp_path_factory.mktemp("smoke") / "run"
    proc = _train(["--preset", "smoke", "--out", str(out)], cache_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc.stdout


def _summary(run_dir):
    with open(os.path.join(run_dir, "summary.json")) as f:
        return json.load(f)


def test_smoke_run_writes_the_run_directory(smoke_run):
    out, stdout = smoke_run
    for name in ("config.json", "metrics.jsonl", "curves.png", "match.gif", "eval.json",
                 "summary.json"):
        assert os.path.isfile(out / name), name
    assert os.listdir(out / "checkpoints")
    summary = _summary(out)
    for key in ("steps", "wall_s", "devices", "params_digest", "eval"):
        assert key in summary
    assert summary["devices"] == 1 and len(summary["params_digest"]) == 64
    ev = summary["eval"]
    assert ev["win"] + ev["draw"] + ev["loss"] == ev["games"]
    lo, hi = ev["win_rate_ci95"]
    assert 0.0 <= lo <= ev["win_rate"] <= hi <= 1.0
    with open(out / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    assert [r["update"] for r in rows] == list(range(1, summary["updates"] + 1))
    for key in ("loss", "entropy", "approx_kl", "clip_frac", "grad_norm", "team_return",
                "steps_per_s"):
        assert key in rows[0], key
    assert "win rate" in stdout and "eval vs bot:chaser" in stdout


def test_resume_after_sigkill_is_bit_exact(smoke_run, tmp_path, cache_dir):
    """Kill the run right after its first checkpoint, resume, and end with the same weights."""
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--preset", "smoke", "--out", str(out),
         "--no-gif"], env=_env(cache_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    first = out / "checkpoints" / "2"
    while not first.is_dir() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.is_dir(), "the run never wrote its first checkpoint"
    assert not (out / "summary.json").exists(), "the run finished before it was killed"
    resumed = _train(["--out", str(out), "--resume", "--no-gif"], cache_dir)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming" in resumed.stdout
    assert _summary(out)["params_digest"] == _summary(smoke_run[0])["params_digest"]


def test_four_devices_match_one_device(smoke_run, tmp_path, cache_dir):
    out = tmp_path / "four"
    proc = _train(["--preset", "smoke", "--out", str(out), "--no-gif"], cache_dir, devices=4)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _summary(out)["devices"] == 4

    def first_losses(run_dir):
        with open(os.path.join(run_dir, "metrics.jsonl")) as f:
            return [json.loads(line)["loss"] for line in f][:2]

    one, four = first_losses(smoke_run[0]), first_losses(out)
    assert four == pytest.approx(one, rel=1e-4, abs=1e-6)


def test_league_with_seeds_logs_elo_and_resumes_exactly(tmp_path, cache_dir):
    """A league run of 2 vmapped seeds: per-seed win rates and Elo in metrics.jsonl, the
    snapshot pool restored from a checkpoint (the latest one removed) to the same weights."""
    out = tmp_path / "league"
    args = ["--preset", "smoke", "--opponent", "league", "--league-size", "2",
            "--league-refresh-every", "2", "--league-bots", "bot:chaser", "bot:random",
            "--seeds", "2", "--out", str(out), "--no-gif"]
    proc = _train(args, cache_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out / "metrics.jsonl") as f:
        rows = [json.loads(line) for line in f]
    checked = [r for r in rows if "win_rate" in r]
    assert checked and all(len(r["win_rate_per_seed"]) == 2 for r in checked)
    for r in checked:
        assert r["win_rate"] == pytest.approx(sum(r["win_rate_per_seed"]) / 2)
        assert r["elo"] == pytest.approx(sum(r["elo_per_seed"]) / 2)
        assert all(0 < e < 2000 for e in r["elo_per_seed"])
    assert rows[-1]["league_snapshots"] == 1 + rows[-1]["update"] // 2
    digest = _summary(out)["params_digest"]
    last = max(int(d) for d in os.listdir(out / "checkpoints") if d.isdigit())
    import shutil

    shutil.rmtree(out / "checkpoints" / str(last))
    resumed = _train(["--out", str(out), "--resume", "--no-gif"], cache_dir)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _summary(out)["params_digest"] == digest


def test_resume_refuses_a_run_whose_preset_has_changed(smoke_run, tmp_path):
    import shutil

    out = tmp_path / "changed"
    shutil.copytree(smoke_run[0], out)
    with open(out / "config.json") as f:
        saved = json.load(f)
    saved["train"]["lr"] = 0.5  # as if the preset had said so when the run started
    with open(out / "config.json", "w") as f:
        json.dump(saved, f)
    before = _summary(out)
    with pytest.raises(ValueError, match="changed.*lr"):
        train.run("smoke", {"out": str(out), "resume": True})
    assert _summary(out) == before


def test_existing_run_is_not_overwritten(smoke_run):
    out = smoke_run[0]
    before = _summary(out)
    with pytest.raises(ValueError, match="--resume"):
        train.run("smoke", {"out": str(out)})
    assert _summary(out) == before


@pytest.mark.parametrize("overrides, match", [
    ({"total_steps": 0}, "total-steps"),
    ({"checkpoint_every": 3, "log_every": 2}, "checkpoint-every"),
    ({"eval_games": 1}, "eval-games"),
    ({"group_size": 0}, "group_size"),
    ({"opponent": "bot:nobody"}, "opponent"),
    ({"opponent": "league", "league_bots": ("bot:nobody",)}, "league_bots"),
    ({"anneal_lr": True, "lr_anneal_updates": 5}, "anneal"),
    ({"eval_opponent": "nowhere"}, "opponent"),
])
def test_bad_options_raise_clear_errors(overrides, match):
    with pytest.raises(ValueError, match=match):
        train.resolve("smoke", overrides)


def test_unknown_preset_and_help(tmp_path, cache_dir):
    with pytest.raises(ValueError, match="known presets"):
        train.resolve("nope", {})
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "train.py"), "--help"],
                          env=_env(cache_dir), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    for flag in ("--preset", "--total-steps", "--seeds", "--out", "--resume",
                 "--checkpoint-every", "--opponent", "--scenario", "--group-size"):
        assert flag in proc.stdout, flag


def test_resume_without_a_run_directory_is_an_error(tmp_path):
    with pytest.raises(Exception, match="config.json"):
        train.run("smoke", {"out": str(tmp_path / "missing"), "resume": True})


def test_every_cli_option_has_a_help_text():
    helps = {name: text for name, _, text in train._cli_fields()}
    assert "league_size" in helps and "snapshots" in helps["league_size"]
    bare = [n for n, text in helps.items() if text == f"TrainConfig.{n}"]
    assert not bare, f"TrainConfig fields without a '# comment' (their --help text): {bare}"
