"""The README's user journey, run for real on run directories that train.py writes.

train.py --preset smoke twice (two seeds) -> eval.py RUN --gif --replay -> eval.py RUN
--opponent RUN2 -> eval.py --league RUN RUN2 --bots -> agents.load_policy(RUN) playing as a bot
-> the PettingZoo adapter with that policy as the opponent -> a killed run resumed to the same
weights. Shell commands run as subprocesses, the way the README gives them; nothing is stubbed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
from PIL import Image

import agents
import soccer_env
from soccer_env import match, players
from soccer_env.pettingzoo import parallel_env

from conftest import ROOT, cli_env, eval_cli, read_json, train_cli


def test_train_writes_the_run_directory(smoke_runs):
    out, stdout = smoke_runs["a"], smoke_runs["stdout"]
    for name in ("config.json", "metrics.jsonl", "curves.png", "match.gif", "eval.json",
                 "summary.json"):
        assert (out / name).is_file(), name
    assert os.listdir(out / "checkpoints")
    summary = read_json(out / "summary.json")
    for key in ("steps", "wall_s", "devices", "params_digest", "eval"):
        assert key in summary
    assert summary["devices"] == 1 and len(summary["params_digest"]) == 64
    assert summary["eval"] == read_json(out / "eval.json")
    ev = summary["eval"]
    assert ev["win"] + ev["draw"] + ev["loss"] == ev["games"] == 16 and ev["seed"] == 0
    rows = [json.loads(line) for line in open(out / "metrics.jsonl")]
    assert [r["update"] for r in rows] == list(range(1, summary["updates"] + 1))
    for key in ("loss", "entropy", "approx_kl", "clip_frac", "grad_norm", "team_return",
                "steps_per_s"):
        assert key in rows[0], key
    assert "eval vs bot:chaser" in stdout
    # The closing line counts the whole command, the final evaluation included.
    done = [line for line in stdout.splitlines() if line.startswith("done in")][-1]
    assert "training" in done and "evaluation" in done
    # Two seeds, two different policies.
    other = read_json(smoke_runs["b"] / "summary.json")
    assert other["params_digest"] != summary["params_digest"]


def test_eval_cli_with_gif_and_replay_keeps_the_training_record(smoke_runs, xla_cache, tmp_path):
    run = smoke_runs["a"]
    before = (run / "eval.json").read_bytes()
    gif, replay = tmp_path / "match.gif", tmp_path / "match.html"
    proc = eval_cli([run, "--games", "4", "--gif", gif, "--replay", replay], xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    written = run / "eval_vs_bot-positional.json"
    assert str(written) in proc.stdout and written.is_file()
    assert (run / "eval.json").read_bytes() == before  # training's own record kept
    result = read_json(written)
    assert result["games"] == 4 and result["opponent"] == "bot:positional"
    for key in ("win_rate_ci95", "passes_per_game", "pass_completion", "shots_per_game",
                "possession", "goals_after_pass_share"):
        assert key in result
    # The GIF and the replay show the same recorded match, frame for frame.
    text = replay.read_text(encoding="utf-8")
    data = json.loads(text.split('id="replay-data">', 1)[1].split("</script>", 1)[0])
    with Image.open(gif) as image:
        assert image.n_frames == len(data["frames"]["step"])
    assert str(run) in data["title"] and "bot:positional" in data["title"]


def test_eval_cli_against_another_run(smoke_runs, xla_cache):
    a, b = smoke_runs["a"], smoke_runs["b"]
    proc = eval_cli([a, "--opponent", b, "--games", "4"], xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = read_json(a / "eval_vs_run-b.json")
    assert result["opponent"] == str(b) and result["games"] == 4


def test_eval_cli_league_of_runs_and_bots(smoke_runs, xla_cache, tmp_path):
    a, b = smoke_runs["a"], smoke_runs["b"]
    out = tmp_path / "league.json"
    proc = eval_cli(["--league", a, b, "--bots", "--games", "2", "--out", out], xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    league = read_json(out)
    assert sorted(league["players"]) == sorted([str(a), str(b), "bot:random", "bot:chaser",
                                                "bot:positional"])
    assert len(league["elo"]) == 5
    for e in league["elo"]:
        assert e["ci95"][0] - 1e-6 <= e["elo"] <= e["ci95"][1] + 1e-6
    assert "Elo" in proc.stdout


def test_load_policy_plays_as_a_bot(smoke_runs):
    player = agents.load_policy(str(smoke_runs["a"]))
    env = soccer_env.SoccerEnv(agents.read_run(str(smoke_runs["a"])).env)
    _, state = env.reset(jax.random.PRNGKey(0))
    # With the bots' signature, jitted, on either side.
    actions = jax.jit(player, static_argnums=2)(jax.random.PRNGKey(1), state, 1)
    assert actions.shape == (env.team_size,) and actions.dtype == jnp.int32
    # In the match runner against a scripted bot, and as a bot function inside a scan.
    counters, _ = match.play(env, player, players.resolve("bot:random", env),
                             jax.random.PRNGKey(2), 2, steps=20)
    assert counters["goals"].shape == (2, 2)

    def body(s, k):
        k1, k2, k3 = jax.random.split(k, 3)
        acts = jnp.stack([player(k1, s, 0), player(k2, s, 1)])
        return env.step(k3, s, acts)[1], None

    final, _ = jax.lax.scan(body, state, jax.random.split(jax.random.PRNGKey(3), 10))
    assert int(final.step) == 10


def test_pettingzoo_adapter_with_a_trained_opponent(smoke_runs):
    env = parallel_env("2v2", opponent=agents.load_policy(str(smoke_runs["a"])), max_steps=30)
    observations, infos = env.reset(seed=0)
    assert sorted(env.agents) == ["left_0", "left_1"]
    steps = 0
    while env.agents:
        actions = {a: env.action_space(a).sample(infos[a]["action_mask"]) for a in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)
        steps += 1
    assert steps == 30 and all(truncations.values())


def test_a_killed_run_resumes_to_the_same_weights(smoke_runs, xla_cache, tmp_path):
    """SIGKILL right after the first checkpoint, `--resume`: the same params_digest as the
    uninterrupted run a (same seed), bit for bit."""
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "train.py"), "--preset", "smoke", "--out", str(out),
         "--no-gif"], cwd=ROOT, env=cli_env(xla_cache), stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    deadline = time.time() + 300
    first = out / "checkpoints" / "2"
    while not first.is_dir() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert first.is_dir(), "the run never wrote its first checkpoint"
    assert not (out / "summary.json").exists(), "the run finished before it was killed"
    resumed = train_cli(["--out", out, "--resume", "--no-gif"], xla_cache)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming" in resumed.stdout
    assert (read_json(out / "summary.json")["params_digest"]
            == read_json(smoke_runs["a"] / "summary.json")["params_digest"])


def test_a_corrupt_latest_checkpoint_is_skipped_the_same_way_by_every_reader(
        smoke_runs, xla_cache, tmp_path):
    """A truncated policy file in the latest checkpoint: eval.py says in one line that it uses
    the previous checkpoint (no library noise), and --resume uses that same one, moves the
    corrupt one aside and ends with the uninterrupted run's weights."""
    import shutil

    run = tmp_path / "corrupt"
    shutil.copytree(smoke_runs["a"], run)
    steps = sorted(int(d) for d in os.listdir(run / "checkpoints") if d.isdigit())
    latest, previous = steps[-1], steps[-2]
    files = [p for p in (run / "checkpoints" / str(latest) / "policy").rglob("*") if p.is_file()]
    biggest = max(files, key=lambda p: p.stat().st_size)
    biggest.write_bytes(biggest.read_bytes()[: biggest.stat().st_size // 2])
    proc = eval_cli([run, "--games", "2"], xla_cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    said = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(said) == 1, proc.stderr
    assert f"checkpoint {latest} is unusable (policy" in said[0]
    assert f"using checkpoint {previous}" in said[0]
    assert (run / "checkpoints" / str(latest)).is_dir()  # a reader never modifies the run
    resumed = train_cli(["--out", run, "--resume", "--no-gif"], xla_cache)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Traceback" not in resumed.stdout + resumed.stderr
    assert f"using checkpoint {previous}" in resumed.stdout + resumed.stderr
    assert (run / "checkpoints" / f"{latest}.corrupt").is_dir()
    assert (read_json(run / "summary.json")["params_digest"]
            == read_json(smoke_runs["a"] / "summary.json")["params_digest"])
