"""A match as one self-contained HTML page that plays it back in a browser (host side).

    save_replay(trajectory, "match.html", config)    # trajectory: State with a leading time axis

The page needs no network: its CSS, its JavaScript and the trajectory (compact JSON, positions
rounded to millimetres) are all inline. It draws the pitch as the GIFs of `soccer_env.render.gif` do
(same geometry and colours) on a canvas, with the score and the clock above it, and has
play/pause, a timeline scrubber and a speed selector (keys: space plays or pauses, the arrows step
one frame, Home and End jump to the ends).

For scripts and tests the page reads options from its query string or fragment
(`match.html?autoplay=1&speed=8` or `match.html#frame=120`): `frame=K` shows frame K first (default
0), `autoplay=1` plays from there on, `speed=X` sets the playback speed. `window.replay` exposes
`numFrames`, `frame`, `framesDrawn`, `playing`, `speed` and `play()`, `pause()`, `seek(k)`,
`setSpeed(x)`; the element `#score` holds the score shown ("2 : 1", also in its `data-left` and
`data-right`), and `document.body` carries `data-frame`, `data-frames-drawn` and, once the last
frame has been shown, `data-finished="1"`.
"""

from __future__ import annotations

import html
import json
import os
import re

import numpy as np

from soccer_env.config import EnvConfig
from soccer_env.render import frame
from soccer_env.render.trajectory import make_parent_dir, trajectory_and_config

SPEEDS = (0.25, 0.5, 1, 2, 4, 8)  # the speed selector's choices (others can come from ?speed=)
DECIMALS = 3  # positions in the page are rounded to millimetres


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _rounded(a: np.ndarray) -> list:
    # `+ 0.0` turns -0.0 into 0.0, which JSON writes shorter.
    return (np.round(np.asarray(a, np.float64), DECIMALS) + 0.0).tolist()


def replay_data(states, config: EnvConfig | None = None, *, title: str | None = None,
                fps: float = 10) -> dict:
    """The JSON-able description of a trajectory that the replay page plays.

    frames: `step` [N], `score` [N][2], `ball` [N][2], `players` [N][4T] (x, y of the left
    team's players in index order, then the right team's), `active` [N] strings of 2T '0'/'1'
    (same order), `last_touch` [N] (team * T + index of the last player to touch the ball,
    -1 for nobody).
    """
    s, config = trajectory_and_config(states, config, fps, "save_replay")
    num_frames, T = s.player_pos.shape[0], config.team_size
    active = s.active.reshape(num_frames, 2 * T)
    touched = s.last_touch.reshape(num_frames, 2 * T)
    return {
        "title": "Soccer replay" if title is None else str(title),
        "fps": float(fps),
        "team_size": T,
        "max_steps": config.max_steps,
        "dt": config.dt,
        "pitch": {"length": config.field_length, "width": config.field_width,
                  "goal_width": config.goal_width, "player_radius": config.player_radius,
                  "ball_radius": config.ball_radius, **frame.pitch_geometry(config)},
        "style": {
            "grass": [_hex(c) for c in frame.GRASS], "line": _hex(frame.LINE_COLOUR),
            "net": _hex(frame.NET_COLOUR), "net_mesh": _hex(frame.NET_MESH_COLOUR),
            "ball": _hex(frame.BALL_COLOUR), "ball_outline": _hex(frame.BALL_OUTLINE),
            "teams": [_hex(c) for c in frame.TEAM_COLOURS], "team_names": frame.TEAM_NAMES,
            "player_outline": _hex(frame.PLAYER_OUTLINE),
            "last_touch": _hex(frame.LAST_TOUCH_COLOUR), "header": _hex(frame.HEADER_COLOUR),
            "text": _hex(frame.TEXT_COLOUR), "max_px_per_metre": frame.MAX_PX_PER_METRE,
            "max_width": frame.MAX_WIDTH, "min_player_px": frame.MIN_PLAYER_PX,
            "min_ball_px": frame.MIN_BALL_PX,
        },
        "frames": {
            "step": s.step.astype(int).tolist(),
            "score": s.score.astype(int).tolist(),
            "ball": _rounded(s.ball_pos),
            "players": _rounded(s.player_pos.reshape(num_frames, 4 * T)),
            "active": ["".join("1" if a else "0" for a in row) for row in active],
            "last_touch": np.where(touched.any(axis=1), touched.argmax(axis=1), -1).tolist(),
        },
    }


def replay_html(data: dict) -> str:
    """The page of `replay_data(...)`: one HTML document with everything inline."""
    # "<" escaped inside the JSON so that no "</script>" (or "<!--") in a title can end the block.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    speeds = "".join(f'<option value="{x}"{" selected" if x == 1 else ""}>{x}x</option>'
                     for x in SPEEDS)
    # One pass, so that a placeholder inside the title is not substituted again.
    parts = {"__TITLE__": html.escape(data["title"]), "__SPEEDS__": speeds, "__DATA__": payload}
    return re.sub("__TITLE__|__SPEEDS__|__DATA__", lambda m: parts[m.group(0)], _PAGE)


def save_replay(states, path, config: EnvConfig | None = None, *, title: str | None = None,
                fps: float = 10) -> str:
    """Write a trajectory as a self-contained HTML replay page and return `path`.

    states: a State whose arrays have a leading time axis (e.g. `record_match`'s trajectory),
        one game. config: the game's config; None infers it from the team size, as `save_gif`
        does. title: shown above the pitch and as the page title. fps: frames per second at
        speed 1x (10 is real time with the default `dt` of 0.1 s).
    """
    page = replay_html(replay_data(states, config, title=title, fps=fps))
    make_parent_dir(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return os.fspath(path)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  body { margin: 0; background: #19191e; color: #f0f0f0;
         font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
  main { max-width: 1000px; margin: 0 auto; padding: 12px; box-sizing: content-box; }
  h1 { font-size: 15px; font-weight: normal; margin: 0 0 6px; opacity: 0.75;
       overflow-wrap: anywhere; }
  .board { display: flex; align-items: center; justify-content: space-between; gap: 12px;
           padding: 6px 10px; background: #25252c; border-radius: 6px 6px 0 0; }
  .teams { display: flex; align-items: center; gap: 10px; font-weight: bold; font-size: 22px; }
  .team::before { content: ""; display: inline-block; width: 0.6em; height: 0.6em;
                  margin: 0 0.35em; border-radius: 50%; background: var(--colour);
                  border: 1px solid #f0f0f0; vertical-align: 0.05em; }
  #score { font-variant-numeric: tabular-nums; min-width: 3.5em; text-align: center; }
  #clock { font-variant-numeric: tabular-nums; opacity: 0.85; }
  canvas { display: block; width: 100%; height: auto; }
  .controls { display: flex; align-items: center; gap: 10px; padding: 8px 10px;
              background: #25252c; border-radius: 0 0 6px 6px; }
  .controls label { white-space: nowrap; }
  #timeline { flex: 1; min-width: 80px; }
  button, select { font: inherit; color: inherit; background: #3a3a44;
                   border: 1px solid #55555f; border-radius: 4px; padding: 3px 10px; }
  #play { min-width: 6.5em; }
  #position { font-variant-numeric: tabular-nums; white-space: nowrap; opacity: 0.85; }
  .help { font-size: 12px; opacity: 0.6; margin: 6px 0 0; }
</style>
</head>
<body>
<main>
  <h1 id="title">__TITLE__</h1>
  <div class="board">
    <div class="teams">
      <span class="team" id="team-left"></span>
      <span id="score" data-left="0" data-right="0">0 : 0</span>
      <span class="team" id="team-right"></span>
    </div>
    <div id="clock"></div>
  </div>
  <canvas id="pitch" aria-label="the match, drawn from above"></canvas>
  <div class="controls">
    <button id="play" type="button">&#9654; Play</button>
    <input id="timeline" type="range" min="0" max="0" step="1" value="0" aria-label="timeline">
    <span id="position"></span>
    <label>speed <select id="speed">__SPEEDS__</select></label>
  </div>
  <p class="help">space: play / pause &middot; &larr; &rarr;: one frame &middot;
    Home / End: first / last frame</p>
  <noscript><p>This replay needs JavaScript.</p></noscript>
</main>
<script type="application/json" id="replay-data">__DATA__</script>
<script>
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("replay-data").textContent);
  var F = data.frames, S = data.style, P = data.pitch, T = data.team_size;
  var n = F.step.length;

  // Options from the query string and the fragment (the fragment wins).
  var options = new URLSearchParams(location.search);
  new URLSearchParams(location.hash.replace(/^#/, "")).forEach(function (v, k) {
    options.set(k, v);
  });

  var canvas = document.getElementById("pitch");
  var scoreEl = document.getElementById("score"), clockEl = document.getElementById("clock");
  var playEl = document.getElementById("play"), timeline = document.getElementById("timeline");
  var positionEl = document.getElementById("position"), speedEl = document.getElementById("speed");

  // World (metres, origin at the centre spot, +y up) to canvas pixels, as render/frame.py maps it.
  var worldW = P.length + 2 * P.margin, worldH = P.width + 2 * P.margin;
  var scale = Math.min(S.max_px_per_metre, S.max_width / worldW);
  var cssW = Math.round(worldW * scale), cssH = Math.round(worldH * scale);
  var dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  // The page is as wide as the picture (or the window, when narrower: the canvas then shrinks).
  document.querySelector("main").style.maxWidth = cssW + "px";
  var ctx = canvas.getContext("2d");
  function px(x) { return cssW / 2 + x * scale; }
  function py(y) { return cssH / 2 - y * scale; }
  var lineW = Math.max(1, Math.round(0.08 * scale));

  function rect(c, x0, y0, x1, y1) {  // a world rectangle as a path
    c.rect(Math.min(px(x0), px(x1)), Math.min(py(y0), py(y1)),
           Math.abs(px(x1) - px(x0)), Math.abs(py(y1) - py(y0)));
  }
  function disc(c, x, y, r) { c.beginPath(); c.arc(x, y, r, 0, 2 * Math.PI); }

  // The pitch does not change: draw it once, copy it under every frame.
  var pitch = document.createElement("canvas");
  pitch.width = canvas.width;
  pitch.height = canvas.height;
  (function drawPitch(c) {
    var hl = P.length / 2, hw = P.width / 2, gw = P.goal_width / 2, side, k;
    c.setTransform(dpr, 0, 0, dpr, 0, 0);
    c.fillStyle = S.grass[0];
    c.fillRect(0, 0, cssW, cssH);
    var stripe = P.length / P.stripes;
    c.fillStyle = S.grass[1];
    for (k = 1; k < P.stripes; k += 2) {
      c.fillRect(px(-hl + k * stripe), 0, stripe * scale, cssH);
    }
    c.lineWidth = lineW;
    c.strokeStyle = S.line;
    var mesh = Math.max(3, Math.round(0.4 * scale));
    [-1, 1].forEach(function (side) {  // goals: a net behind each goal line
      var x0 = Math.min(px(side * hl), px(side * (hl + P.goal_depth)));
      var x1 = Math.max(px(side * hl), px(side * (hl + P.goal_depth)));
      var y0 = py(gw), y1 = py(-gw), v;
      c.fillStyle = S.net;
      c.fillRect(x0, y0, x1 - x0, y1 - y0);
      c.save();
      c.strokeStyle = S.net_mesh;
      c.lineWidth = 1;
      c.beginPath();
      for (v = x0; v < x1; v += mesh) { c.moveTo(v, y0); c.lineTo(v, y1); }
      for (v = y0; v < y1; v += mesh) { c.moveTo(x0, v); c.lineTo(x1, v); }
      c.stroke();
      c.restore();
      c.strokeRect(x0, y0, x1 - x0, y1 - y0);
    });
    c.beginPath();  // touchlines, goal lines, halfway line, centre circle
    rect(c, -hl, -hw, hl, hw);
    c.moveTo(px(0), py(-hw));
    c.lineTo(px(0), py(hw));
    c.moveTo(px(P.centre_radius), py(0));
    c.arc(px(0), py(0), P.centre_radius * scale, 0, 2 * Math.PI);
    for (side = -1; side <= 1; side += 2) {  // penalty areas and goal areas
      rect(c, side * hl, -P.penalty_half_width, side * (hl - P.penalty_depth),
           P.penalty_half_width);
      rect(c, side * hl, -P.goal_area_half_width, side * (hl - P.goal_area_depth),
           P.goal_area_half_width);
    }
    c.stroke();
    c.fillStyle = S.line;
    disc(c, px(0), py(0), Math.max(1.5, 0.12 * scale));
    c.fill();
    c.fillStyle = S.ball_outline;  // goal posts on top of the lines
    [[-hl, -gw], [-hl, gw], [hl, -gw], [hl, gw]].forEach(function (p) {
      disc(c, px(p[0]), py(p[1]), Math.max(2, 0.12 * scale));
      c.fill();
    });
  })(pitch.getContext("2d"));

  // The frame of the latest goal at or before each frame (-1: none yet), for the GOAL banner.
  var goalAt = new Array(n), goalTeam = new Array(n);
  for (var i = 0; i < n; i++) {
    var prev = i > 0 ? F.score[i - 1] : [0, 0], now = F.score[i];
    var scoredTeam = now[0] > prev[0] ? 0 : (now[1] > prev[1] ? 1 : -1);
    if (i > 0 && scoredTeam >= 0) { goalAt[i] = i; goalTeam[i] = scoredTeam; }
    else { goalAt[i] = i > 0 ? goalAt[i - 1] : -1; goalTeam[i] = i > 0 ? goalTeam[i - 1] : -1; }
  }

  var rPlayer = Math.max(S.min_player_px, P.player_radius * scale);
  var rBall = Math.max(S.min_ball_px, P.ball_radius * scale);
  var replay = window.replay = {
    numFrames: n, frame: 0, framesDrawn: 0, playing: false, speed: 1, fps: data.fps,
    data: data
  };

  function draw(f) {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(pitch, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    var pos = F.players[f], active = F.active[f], team, k, x, y;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.font = "bold " + Math.max(10, Math.round(1.15 * rPlayer)) + "px sans-serif";
    for (team = 0; team < 2; team++) {
      for (k = 0; k < T; k++) {
        var j = team * T + k;
        if (active.charAt(j) !== "1") continue;  // off the pitch: not drawn (as in the GIFs)
        x = px(pos[2 * j]);
        y = py(pos[2 * j + 1]);
        var touched = F.last_touch[f] === j;
        disc(ctx, x, y, rPlayer);
        ctx.fillStyle = S.teams[team];
        ctx.fill();
        ctx.lineWidth = touched ? Math.max(1, Math.round(0.2 * rPlayer)) : 1;
        ctx.strokeStyle = touched ? S.last_touch : S.player_outline;
        ctx.stroke();
        ctx.fillStyle = S.text;
        if (rPlayer >= 6) ctx.fillText(String(k), x, y + 0.5);
        else ctx.fillText(String(k), x + 1.5 * rPlayer, y - 2 * rPlayer);
      }
    }
    disc(ctx, px(F.ball[f][0]), py(F.ball[f][1]), rBall);  // the ball last, on top
    ctx.fillStyle = S.ball;
    ctx.fill();
    ctx.lineWidth = rBall < 5 ? 1 : 2;
    ctx.strokeStyle = S.ball_outline;
    ctx.stroke();
    if (goalAt[f] >= 0 && f - goalAt[f] < 1.5 * data.fps) {
      var label = "GOAL " + S.team_names[goalTeam[f]];
      ctx.font = "bold " + Math.round(Math.max(16, 0.07 * cssH)) + "px sans-serif";
      ctx.lineWidth = 4;
      ctx.strokeStyle = S.header;
      ctx.strokeText(label, cssW / 2, 0.12 * cssH);
      ctx.fillStyle = S.last_touch;
      ctx.fillText(label, cssW / 2, 0.12 * cssH);
    }
    replay.framesDrawn += 1;
  }

  function show(f) {
    f = Math.max(0, Math.min(n - 1, Math.round(f)));
    replay.frame = f;
    draw(f);
    var score = F.score[f];
    scoreEl.textContent = score[0] + " : " + score[1];
    scoreEl.dataset.left = score[0];
    scoreEl.dataset.right = score[1];
    clockEl.textContent = "step " + F.step[f] + "/" + data.max_steps + " \\u00b7 " +
      (F.step[f] * data.dt).toFixed(1) + " s";
    timeline.value = f;
    positionEl.textContent = "frame " + (f + 1) + " / " + n;
    document.body.dataset.frame = f;
    document.body.dataset.framesDrawn = replay.framesDrawn;
    if (f === n - 1) document.body.dataset.finished = "1";
  }

  // Playback: a timer advances a fractional frame position at fps * speed frames per second
  // (at most one tick every 10 ms; faster playback skips frames rather than falling behind).
  var timer = null, position = 0;
  function tickMs() { return Math.max(10, 1000 / (data.fps * replay.speed)); }
  function tick() {
    timer = null;
    if (!replay.playing) return;
    position += tickMs() * data.fps * replay.speed / 1000;
    var f = Math.min(n - 1, Math.floor(position + 1e-9));
    if (f !== replay.frame) show(f);
    if (replay.frame >= n - 1) pause();
    else timer = setTimeout(tick, tickMs());
  }
  function setButton() {
    playEl.innerHTML = replay.playing ? "&#10074;&#10074; Pause" : "&#9654; Play";
    document.body.dataset.playing = replay.playing ? "1" : "0";
  }
  function play() {
    if (replay.playing) return;
    if (replay.frame >= n - 1) show(0);  // at the end: play again from the start
    replay.playing = true;
    position = replay.frame;
    setButton();
    if (n > 1) timer = setTimeout(tick, tickMs()); else pause();
  }
  function pause() {
    replay.playing = false;
    if (timer !== null) { clearTimeout(timer); timer = null; }
    setButton();
  }
  function seek(f) { show(f); position = replay.frame; }
  function setSpeed(x) {
    x = Number(x);
    if (!(x > 0) || !isFinite(x)) return;
    replay.speed = x;
    var value = String(x);
    if (!Array.prototype.some.call(speedEl.options, function (o) { return o.value === value; })) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value + "x";
      speedEl.appendChild(option);
    }
    speedEl.value = value;
  }
  replay.play = play;
  replay.pause = pause;
  replay.seek = seek;
  replay.setSpeed = setSpeed;

  playEl.addEventListener("click", function () { if (replay.playing) pause(); else play(); });
  timeline.addEventListener("input", function () { seek(Number(timeline.value)); });
  speedEl.addEventListener("change", function () { setSpeed(speedEl.value); });
  document.addEventListener("keydown", function (e) {
    var tag = e.target && e.target.tagName;
    if (e.key === " " || e.code === "Space") {
      if (tag === "BUTTON") return;  // a focused button clicks itself on space
      e.preventDefault();
      if (replay.playing) pause(); else play();
    } else if (tag === "SELECT" || tag === "INPUT") {
      return;  // the focused control handles its own arrow keys
    } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      pause();
      seek(replay.frame + (e.key === "ArrowRight" ? 1 : -1));
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      seek(e.key === "Home" ? 0 : n - 1);
    }
  });

  document.getElementById("team-left").textContent = S.team_names[0];
  document.getElementById("team-right").textContent = S.team_names[1];
  document.getElementById("team-left").style.setProperty("--colour", S.teams[0]);
  document.getElementById("team-right").style.setProperty("--colour", S.teams[1]);
  timeline.max = n - 1;
  if (options.has("speed")) setSpeed(options.get("speed"));
  seek(options.has("frame") ? Number(options.get("frame")) || 0 : 0);
  setButton();
  if (options.get("autoplay") === "1") play();
})();
</script>
</body>
</html>
"""
