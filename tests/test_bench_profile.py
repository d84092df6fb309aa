"""python -m soccer_env.bench.profile: the step's kernel time by part, on a tiny batch."""

from __future__ import annotations

import pytest

from soccer_env import physics
from soccer_env.bench import profile


def test_profile_splits_the_step_into_its_parts_and_restores_the_functions():
    before = physics.move_loose_ball
    r = profile.profile("2v2", batch=8, steps=2)
    parts = {name: (share, kernels) for name, share, kernels in r["parts"]}
    for name in ("move_loose_ball", "collide_players", "kick", "observe", profile.OTHER):
        assert name in parts and parts[name][0] > 0 and parts[name][1] >= 1, (name, parts)
    assert sum(share for share, _ in parts.values()) == pytest.approx(1.0)
    assert r["kernels"] == pytest.approx(sum(k for _, k in parts.values()))
    assert r["step_ms"] > 0
    assert physics.move_loose_ball is before  # the scopes were for this run only


def test_profile_cli_rejects_an_unknown_scenario(capsys):
    with pytest.raises(SystemExit) as exit_:
        profile.main(["--scenario", "4v4"])
    assert exit_.value.code == 2
    assert "--scenario='4v4' is invalid: allowed one of" in capsys.readouterr().err
