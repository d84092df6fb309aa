"""The mechanics benchmark (`python -m soccer_env.bench.mechanics`) through its command line:
a small run (64 trials, two shot distances) writes its JSON with every table, and the obvious
facts hold with lenient tolerances: close shots beat long ones, a defender in the lane blocks
more the closer it stands, a pass beats a dribble over 10 m, an opponent on the lane takes the
pass more often than one 3 m off it. Bad arguments exit with code 2 and a clear message."""

from __future__ import annotations

import json

import pytest

from soccer_env.bench import mechanics

TRIALS = 64
TOL = 0.15  # lenient: 64 trials give binomial standard errors up to about 0.06


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("mechanics") / "mechanics.json"
    code = mechanics.main(["--scenario", "3v3", "--trials", str(TRIALS), "--seed", "1",
                           "--distances", "2", "16", "--json", str(path)])
    assert code == 0
    return json.loads(path.read_text())


def test_structure_and_parameters(report):
    assert report["scenario"] == "3v3" and report["trials"] == TRIALS
    for name in ("control_radius", "control_speed", "catch_radius", "catch_speed", "catch_prob",
                 "shoot_speed", "shoot_noise", "pass_arrival_speed", "pass_noise",
                 "tackle_range", "tackle_prob"):
        assert name in report["mechanics"], name
    assert [r["distance_m"] for r in report["shot_quality"]["rows"]] == [2.0, 16.0]
    assert [r["gap_m"] for r in report["block"]["rows"]] == list(mechanics.BLOCK_GAPS)
    assert [r["offset_m"] for r in report["interception"]["rows"]] == list(
        mechanics.LANE_OFFSETS)
    for row in report["shot_quality"]["rows"]:
        for key in ("goal", "on_target", "save"):
            r = row[key]
            assert r["n"] == TRIALS and 0 <= r["lo"] <= r["rate"] <= r["hi"] <= 1
        assert row["shot"]["rate"] == 1.0, "every trial shoots on the first step"
    for row in report["block"]["rows"]:
        total = row["goal"]["k"] + row["blocked"]["k"] + row["missed"]["k"]
        assert total == TRIALS, "goal, blocked and missed partition the trials"
    for row in report["interception"]["rows"]:
        assert row["intercepted"]["k"] + row["completed"]["k"] <= TRIALS


def test_close_shots_beat_long_ones(report):
    near, far = report["shot_quality"]["rows"]
    assert near["goal"]["rate"] >= far["goal"]["rate"]
    assert near["on_target"]["rate"] >= far["on_target"]["rate"] - TOL


def test_a_closer_defender_blocks_at_least_as_often(report):
    rows = report["block"]["rows"]
    assert rows[0]["blocked"]["rate"] >= rows[-1]["blocked"]["rate"] - TOL
    assert rows[0]["goal"]["rate"] <= rows[-1]["goal"]["rate"] + TOL


def test_a_pass_beats_a_dribble(report):
    p = report["pass_vs_dribble"]
    assert p["pass"]["n"] > 0 and p["dribble"]["n"] > 0
    assert p["pass"]["mean_s"] < p["dribble"]["mean_s"]
    assert p["ratio"] == pytest.approx(p["pass"]["mean_s"] / p["dribble"]["mean_s"])
    assert p["accepted"] == (p["ratio"] <= 0.6)


def test_an_opponent_on_the_lane_intercepts_more(report):
    rows = report["interception"]["rows"]
    assert rows[0]["intercepted"]["rate"] >= rows[-1]["intercepted"]["rate"]
    assert rows[-1]["completed"]["rate"] >= 1 - TOL, "a lane 3 m clear is completed"
    assert "accept" in rows[0] and "accept" in rows[-1]


def test_wilson_interval():
    lo, hi = mechanics.wilson(0, 10)
    assert lo == 0.0 and 0.2 < hi < 0.35
    lo, hi = mechanics.wilson(50, 100)
    assert lo == pytest.approx(1 - hi) and 0.39 < lo < 0.41


@pytest.mark.parametrize("argv, message", [
    (["--scenario", "nope"], "unknown scenario"),
    (["--scenario", "1v1"], "team_size >= 2"),
    (["--trials", "0"], "--trials"),
    (["--distances", "100"], "--distances"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    assert mechanics.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    if "--scenario" in argv:
        assert "3v3" in err and "2v2" in err, "the allowed scenarios are listed"
