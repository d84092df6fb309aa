"""soccer_env.render.replay: the HTML match replay is self-contained, holds the recorded trajectory,
rejects bad input, and plays to the recorded final score in headless Chromium.

The browser tests need Chromium (Debian: `apt-get install chromium`; .ci/run installs it). They
skip without it, except under CI=true, where a missing browser fails them.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import subprocess

import jax
import numpy as np
import pytest
from PIL import Image

import soccer_env
from soccer_env import match as match_runner
from soccer_env import players, render
from soccer_env.render import frame as drawing
from soccer_env.render import replay_data, save_replay

ENV = soccer_env.make("2v2", max_steps=150)
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def match():
    """A short 2v2 game, chaser against random, that has goals (so the score is a real check)."""
    chaser = players.resolve("bot:chaser", ENV)
    random = players.resolve("bot:random", ENV)
    trajectory, counters = match_runner.record(ENV, chaser, random, jax.random.PRNGKey(0))
    assert trajectory.score[-1].sum() > 0, "the test match should have goals"
    np.testing.assert_array_equal(trajectory.score[-1], counters["goals"])
    return trajectory


@pytest.fixture(scope="module")
def page(match, tmp_path_factory):
    path = tmp_path_factory.mktemp("replay") / "match.html"
    assert save_replay(match, path, ENV.config, title="chaser vs random") == str(path)
    return path, path.read_text(encoding="utf-8")


def embedded(text: str) -> dict:
    found = re.search(r'<script type="application/json" id="replay-data">(.*?)</script>', text,
                      re.DOTALL)
    assert found, "the page embeds its trajectory as JSON"
    return json.loads(found.group(1))


def test_page_is_self_contained(page):
    _, text = page
    lowered = text.lower()
    for needle in ("http://", "https://", "<script src", " src=", "<link", "@import", "url("):
        assert needle not in lowered, f"the page must load nothing: found {needle!r}"
    assert lowered.count("<script") == 2  # the trajectory and the player, both inline
    for element in ('id="score"', 'id="play"', 'id="timeline"', 'id="speed"', "<canvas"):
        assert element in text


def test_embedded_trajectory_matches_the_match(match, page):
    data = embedded(page[1])
    frames, n, T = data["frames"], match.step.shape[0], ENV.team_size
    assert data["title"] == "chaser vs random" and data["team_size"] == T
    assert data["fps"] == 10 and data["max_steps"] == ENV.config.max_steps
    assert data["pitch"]["length"] == ENV.config.field_length
    assert data["pitch"]["goal_width"] == ENV.config.goal_width
    assert data["pitch"]["margin"] == render.pitch_geometry(ENV.config)["margin"]
    assert data["style"]["teams"] == ["#{:02x}{:02x}{:02x}".format(*c)
                                      for c in render.TEAM_COLOURS]
    assert frames["step"] == match.step.tolist()
    assert frames["score"] == match.score.tolist()
    assert frames["score"][-1] == match.score[-1].tolist()
    players = np.array(frames["players"]).reshape(n, 2, T, 2)
    np.testing.assert_allclose(players, match.player_pos, atol=5e-4)  # millimetres
    np.testing.assert_allclose(frames["ball"], match.ball_pos, atol=5e-4)
    active = np.array([[c == "1" for c in row] for row in frames["active"]]).reshape(n, 2, T)
    np.testing.assert_array_equal(active, match.active)
    touched = match.last_touch.reshape(n, 2 * T)
    expected = np.where(touched.any(1), touched.argmax(1), -1)
    np.testing.assert_array_equal(frames["last_touch"], expected)


def test_inactive_players_and_inferred_config(match):
    T = ENV.team_size
    benched = match.replace(active=match.active.copy())
    benched.active[:, 1, 0] = False
    data = replay_data(benched)  # config inferred from the team size: the registered 2v2
    assert all(row[T] == "0" and row[0] == "1" for row in data["frames"]["active"])
    assert data["pitch"]["length"] == soccer_env.scenario_config("2v2").field_length


def test_title_cannot_break_out_of_the_page(match, tmp_path):
    title = '</script><script>alert("x")</script><!-- & "quotes" __DATA__ __SPEEDS__'
    path = save_replay(match, tmp_path / "t.html", title=title)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.lower().count("<script") == 2
    assert embedded(text)["title"] == title


@pytest.mark.parametrize("change, kwargs, match_text", [
    (lambda s: jax.tree.map(lambda a: a[None], s), {}, "one game's trajectory"),
    (lambda s: jax.tree.map(lambda a: a[:0], s), {}, "at least one state"),
    (lambda s: s, {"fps": 0}, "fps must be"),
    (lambda s: s, {"fps": float("nan")}, "fps must be"),
    (lambda s: s, {"fps": float("inf")}, "fps must be"),
    (lambda s: s, {"config": soccer_env.scenario_config("3v3")}, "team_size=3"),
])
def test_bad_input_raises_and_writes_nothing(match, tmp_path, change, kwargs, match_text):
    path = tmp_path / "sub" / "bad.html"
    with pytest.raises(ValueError, match=match_text):
        save_replay(change(match), path, **kwargs)
    assert not path.exists() and not path.parent.exists()


# ---------------------------------------------------------------------------------------------
# In a browser.


@pytest.fixture(scope="module")
def chromium():
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    message = ("no Chromium found (looked for " + ", ".join(BROWSERS) + "); install it to run "
               "the browser tests, e.g. `apt-get install chromium` on Debian")
    if os.environ.get("CI") == "true":  # .ci/run installs it: a missing browser is a failure
        pytest.fail(message + " (CI=true: .ci/run should have installed it)")
    pytest.skip(message)


def run_browser(chromium, tmp_path, url, *args, budget_ms=30000):
    """Load `url` in headless Chromium; virtual time lets timers run without waiting."""
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--no-default-browser-check", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'chromium-profile'}",
         f"--virtual-time-budget={budget_ms}", *args, url],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


class _Dom(html.parser.HTMLParser):
    """The attributes of <body> and the attributes and text of #score in a dumped DOM."""

    def __init__(self, text):
        super().__init__()
        self.body, self.score, self.score_text, self._in_score = {}, {}, "", False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        if attrs.get("id") == "score":
            self.score, self._in_score = attrs, True

    def handle_endtag(self, tag):
        self._in_score = False

    def handle_data(self, data):
        if self._in_score:
            self.score_text += data


def test_browser_plays_the_match_to_its_final_score(chromium, match, page, tmp_path):
    path, _ = page
    dom = _Dom(run_browser(chromium, tmp_path, path.as_uri() + "?autoplay=1&speed=8",
                           "--dump-dom"))
    n = match.step.shape[0]
    left, right = (int(x) for x in match.score[-1])
    assert dom.body.get("data-finished") == "1", dom.body
    assert dom.body["data-frame"] == str(n - 1)
    # At 8x and 10 fps every frame is drawn once: the first on load, the others while playing.
    assert int(dom.body["data-frames-drawn"]) == n
    assert dom.body["data-playing"] == "0"
    assert dom.score_text.strip() == f"{left} : {right}"
    assert (dom.score["data-left"], dom.score["data-right"]) == (str(left), str(right))


def test_browser_shows_the_frame_asked_for(chromium, match, page, tmp_path):
    path, _ = page
    k = int(np.argmax(match.score.sum(1) > 0))  # the first frame after the first goal
    dom = _Dom(run_browser(chromium, tmp_path, path.as_uri() + f"#frame={k}", "--dump-dom"))
    assert dom.body["data-frame"] == str(k) and dom.body["data-frames-drawn"] == "1"
    assert "data-finished" not in dom.body and dom.body["data-playing"] == "0"
    assert dom.score_text.strip() == "{} : {}".format(*match.score[k])


# Drives the controls as a user would (clicks, the timeline, the speed menu, keys) and writes
# what it saw into <pre id="result">. Timers run on Chromium's virtual time.
CONTROLS_SCRIPT = """<script>
(function () {
  var r = window.replay, seen = {}, $ = function (id) { return document.getElementById(id); };
  function later(ms, f) { setTimeout(f, ms); }
  function key(k) {
    document.body.dispatchEvent(new KeyboardEvent("keydown", {key: k, bubbles: true}));
  }
  seen.start = r.frame;
  $("play").click();
  seen.playing = r.playing;
  later(1050, function () {  // about 10 frames at 1x, 10 fps
    $("play").click();
    seen.afterSecond = r.frame;
    later(500, function () {
      seen.stillPaused = r.frame;
      $("timeline").value = 50;
      $("timeline").dispatchEvent(new Event("input"));
      seen.scrubbed = r.frame;
      seen.scrubbedScore = $("score").textContent;
      key("ArrowRight");
      seen.stepped = r.frame;
      key("End");
      seen.end = r.frame;
      seen.finished = document.body.dataset.finished || "";
      key("Home");
      seen.home = r.frame;
      $("speed").value = "4";
      $("speed").dispatchEvent(new Event("change"));
      seen.speed = r.speed;
      key(" ");
      seen.spacePlays = r.playing;
      later(1050, function () {  // about 40 frames at 4x
        key(" ");
        seen.spacePaused = !r.playing;
        seen.afterFast = r.frame;
        $("result").textContent = JSON.stringify(seen);
      });
    });
  });
})();
</script>
<pre id="result"></pre>
</body>"""


def test_browser_controls_play_pause_scrub_speed_and_keys(chromium, match, page, tmp_path):
    path = tmp_path / "controls.html"
    path.write_text(page[1].replace("</body>", CONTROLS_SCRIPT), encoding="utf-8")
    dumped = run_browser(chromium, tmp_path, path.as_uri(), "--dump-dom")
    found = re.search(r'<pre id="result">(.*?)</pre>', dumped, re.DOTALL)
    assert found and found.group(1), dumped[-2000:]
    seen = json.loads(found.group(1))
    n = match.step.shape[0]
    assert seen["start"] == 0 and seen["playing"]
    assert 8 <= seen["afterSecond"] <= 11  # 1x is fps frames a second
    assert seen["stillPaused"] == seen["afterSecond"]
    assert seen["scrubbed"] == 50 and seen["scrubbedScore"] == "{} : {}".format(*match.score[50])
    assert seen["stepped"] == 51 and seen["end"] == n - 1 and seen["finished"] == "1"
    assert seen["home"] == 0 and seen["speed"] == 4
    assert seen["spacePlays"] and seen["spacePaused"]
    assert 36 <= seen["afterFast"] <= 43  # 4x


def test_browser_draws_pitch_players_and_ball(chromium, match, page, tmp_path):
    path, _ = page
    shot = tmp_path / "shot.png"
    run_browser(chromium, tmp_path, path.as_uri() + "#frame=40", f"--screenshot={shot}",
                "--window-size=1000,800", budget_ms=5000)
    pixels = np.asarray(Image.open(shot).convert("RGB"))

    def count(colour):
        return int(np.all(pixels == colour, axis=-1).sum())

    player_area = np.pi * (ENV.config.player_radius * drawing.MAX_PX_PER_METRE) ** 2
    assert count(render.GRASS[0]) > 50_000 and count(render.GRASS[1]) > 50_000
    assert count(drawing.LINE_COLOUR) > 1_000
    for team in range(2):  # both players of each team, less the numbers written on them
        assert count(render.TEAM_COLOURS[team]) > 0.5 * ENV.team_size * player_area
    assert count(drawing.BALL_COLOUR) > 10
