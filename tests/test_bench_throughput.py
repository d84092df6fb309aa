"""python -m soccer_env.bench: the throughput benchmark's rollout, on a tiny batch."""

import json
import subprocess
import sys

import jax
import numpy as np

import soccer_env
from soccer_env.bench.__main__ import make_rollout, measure


def test_rollout_plays_the_predrawn_actions_deterministically():
    env = soccer_env.make("2v2")
    fn, actions = make_rollout(env, batch=4, steps=5)
    assert actions.shape == (1, 5, 4, 2, env.team_size)
    assert int(actions.min()) >= 0 and int(actions.max()) < env.num_actions
    a = float(fn(jax.random.PRNGKey(0), actions))
    assert np.isfinite(a)
    assert a == float(fn(jax.random.PRNGKey(0), actions)), "same key and actions, same result"
    # The actions are played: other actions, another outcome.
    assert a != float(fn(jax.random.PRNGKey(0), (actions + 1) % env.num_actions))
    row = measure(env, batch=4, steps=5, repeats=1)
    assert row["batch"] == 4 and row["run_s"] > 0
    assert row["agent_steps_per_s"] == row["env_steps_per_s"] * 2 * env.team_size


def test_command_line_splits_the_batch_over_host_devices(tmp_path):
    """The command as BENCHMARKS.md runs it, on 2 host devices in a fresh process: each batch
    on one device and split over both, the JSON written."""
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, "-m", "soccer_env.bench", "--scenarios", "2v2", "--batches",
                    "4", "--steps", "3", "--repeats", "1", "--host-devices", "2", "--json",
                    str(out)], check=True, capture_output=True, timeout=600)
    rows = json.loads(out.read_text())["results"]
    assert [r["devices"] for r in rows] == [1, 2]
    assert all(r["env_steps_per_s"] > 0 and r["batch"] == 4 for r in rows)
