"""Pictures and animations of soccer games (numpy + Pillow, host side, not jitted).

    frame = render_frame(config, state)              # uint8 [H, W, 3]
    save_gif(trajectory, "match.gif", config)        # trajectory: State with a leading time axis

Demo (a match between two bots, written as a GIF):

    python -m soccer_env.render --scenario 2v2 --left bot:random --right bot:random \
        --steps 200 --out match.gif

The picture is in the world frame: the left team (index 0, blue) defends x = -L/2 on the left of
the picture, +y points up. Players off the pitch (`state.active` False) are not drawn.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys

import jax
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from soccer_env.config import EnvConfig

# Colours (RGB). Tests look for BALL_COLOUR at the ball's centre, so nothing else uses it.
GRASS = ((48, 128, 58), (56, 140, 66))  # alternating mowing stripes
LINE_COLOUR = (225, 235, 225)
NET_COLOUR = (170, 180, 170)
NET_MESH_COLOUR = (140, 150, 140)
BALL_COLOUR = (255, 255, 255)
BALL_OUTLINE = (0, 0, 0)
TEAM_COLOURS = ((40, 90, 220), (215, 45, 45))  # left team blue, right team red
TEAM_NAMES = ("BLUE", "RED")
PLAYER_OUTLINE = (20, 20, 20)
LAST_TOUCH_COLOUR = (255, 215, 0)
HEADER_COLOUR = (25, 25, 30)
TEXT_COLOUR = (240, 240, 240)

MAX_PX_PER_METRE = 40.0
MAX_WIDTH = 1000  # default frames stay at most this wide (11v11: ~9 px per metre)
MIN_PLAYER_PX = 5.0  # players and ball stay visible on big pitches
MIN_BALL_PX = 3.0


@functools.lru_cache(maxsize=16)
def _font(size: int):
    """A TrueType font when one is available (Pillow's bundled one, else DejaVu), else bitmap."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, AttributeError):  # Pillow < 10.1 or built without FreeType
        pass
    for name in ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


def pitch_geometry(config: EnvConfig) -> dict[str, float]:
    """Sizes of the pitch markings in metres (shared by the GIF and the HTML replay).

    Penalty and goal areas are scaled down with the pitch (full size on an 11v11 pitch); the
    margin is the room drawn around the pitch for the goals and the run-off of `rules` mode.
    """
    from soccer_env.scenarios import centre_circle_radius

    length, width, half_goal = config.field_length, config.field_width, config.goal_width / 2
    goal_depth = float(np.clip(0.025 * length, 0.6, 2.0))
    penalty_depth = min(16.5, 0.2 * length)
    goal_area_depth = min(5.5, 0.12 * length)  # where goal kicks are taken
    return {
        "goal_depth": goal_depth,
        "margin": max(1.5, goal_depth + 0.4),
        "centre_radius": float(centre_circle_radius(config)),
        "penalty_depth": penalty_depth,
        "penalty_half_width": min(half_goal + penalty_depth, max(half_goal + 1.0, 0.33 * width)),
        "goal_area_depth": goal_area_depth,
        "goal_area_half_width": min(half_goal + goal_area_depth,
                                    max(half_goal + 0.5, 0.22 * width)),
        "stripes": 10 if length <= 30 else 14,  # mowing stripes across the pitch
    }


class _Canvas:
    """World (metres, origin at the centre spot, +y up) to pixel mapping of one frame size."""

    def __init__(self, config: EnvConfig, scale: float | None, width: int | None):
        self.config = config
        self.pitch = pitch_geometry(config)
        self.goal_depth, self.margin = self.pitch["goal_depth"], self.pitch["margin"]
        world_w = config.field_length + 2 * self.margin
        world_h = config.field_width + 2 * self.margin
        if scale is None:
            if width is not None:
                scale = width / world_w
            else:
                scale = min(MAX_PX_PER_METRE, MAX_WIDTH / world_w)
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        self.scale = float(scale)
        self.width = int(width) if width is not None else int(round(world_w * self.scale))
        self.header = max(22, int(round(0.045 * self.width)))
        self.height = self.header + int(round(world_h * self.scale))
        self.cx = self.width / 2
        self.cy = self.header + world_h * self.scale / 2

    def px(self, x, y):
        """Pixel coordinates (column, row) of world points (arrays broadcast)."""
        return self.cx + np.asarray(x) * self.scale, self.cy - np.asarray(y) * self.scale

    def box(self, x0, y0, x1, y1):
        """Pixel rectangle [left, top, right, bottom] of a world rectangle."""
        (a, b), (c, d) = self.px(x0, y0), self.px(x1, y1)
        return [min(a, c), min(b, d), max(a, c), max(b, d)]

    def line_px(self) -> int:
        return max(1, int(round(0.08 * self.scale)))


def _draw_pitch(draw: ImageDraw.ImageDraw, cv: _Canvas) -> None:
    cfg, geo = cv.config, cv.pitch
    hl, hw, gw = cfg.field_length / 2, cfg.field_width / 2, cfg.goal_width / 2
    lw = cv.line_px()
    # Mowing stripes across the whole grass area (run-off included).
    stripes = geo["stripes"]
    stripe = cfg.field_length / stripes
    top, bottom = cv.header, cv.height
    draw.rectangle([0, top, cv.width, bottom], fill=GRASS[0])
    for k in range(stripes):
        if k % 2:
            x0, _ = cv.px(-hl + k * stripe, 0)
            x1, _ = cv.px(-hl + (k + 1) * stripe, 0)
            draw.rectangle([x0, top, x1, bottom], fill=GRASS[1])

    # Goals: a net behind each goal line, between the posts.
    for side in (-1, 1):
        net = cv.box(side * hl, -gw, side * (hl + cv.goal_depth), gw)
        draw.rectangle(net, fill=NET_COLOUR, outline=LINE_COLOUR, width=lw)
        step = max(3, int(round(0.4 * cv.scale)))
        for x in range(int(net[0]), int(net[2]), step):
            draw.line([x, net[1], x, net[3]], fill=NET_MESH_COLOUR, width=1)
        for y in range(int(net[1]), int(net[3]), step):
            draw.line([net[0], y, net[2], y], fill=NET_MESH_COLOUR, width=1)

    # Touchlines and goal lines, halfway line, centre circle and spot.
    draw.rectangle(cv.box(-hl, -hw, hl, hw), outline=LINE_COLOUR, width=lw)
    draw.line([*cv.px(0, -hw), *cv.px(0, hw)], fill=LINE_COLOUR, width=lw)
    r = geo["centre_radius"]
    draw.ellipse(cv.box(-r, -r, r, r), outline=LINE_COLOUR, width=lw)
    spot = max(1.5, 0.12 * cv.scale)
    cx, cy = cv.px(0, 0)
    draw.ellipse([cx - spot, cy - spot, cx + spot, cy + spot], fill=LINE_COLOUR)

    # Penalty areas and goal areas.
    pen_depth, pen_half = geo["penalty_depth"], geo["penalty_half_width"]
    area_depth, area_half = geo["goal_area_depth"], geo["goal_area_half_width"]
    for side in (-1, 1):
        x_line = side * hl
        draw.rectangle(cv.box(x_line, -pen_half, x_line - side * pen_depth, pen_half),
                       outline=LINE_COLOUR, width=lw)
        draw.rectangle(cv.box(x_line, -area_half, x_line - side * area_depth, area_half),
                       outline=LINE_COLOUR, width=lw)
    # Goal posts on top of the lines.
    post = max(2.0, 0.12 * cv.scale)
    for side in (-1, 1):
        for y in (-gw, gw):
            px, py = cv.px(side * hl, y)
            draw.ellipse([px - post, py - post, px + post, py + post], fill=BALL_OUTLINE)


def _text_centered(draw, xy, text, font, fill):
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((xy[0] - (left + right) / 2, xy[1] - (top + bottom) / 2), text, font=font,
              fill=fill)


def _to_numpy(state):
    return jax.tree.map(np.asarray, jax.device_get(state))


def render_frame(config: EnvConfig, state, *, scale: float | None = None,
                 width: int | None = None) -> np.ndarray:
    """uint8 [H, W, 3] picture of one game state (no batch axis).

    scale: pixels per metre (default: 40, less on big pitches so that frames stay at most
        1000 px wide). width: the frame width in pixels (sets the scale); give one or neither.
    """
    if scale is not None and width is not None:
        raise ValueError("give scale or width, not both")
    s = _to_numpy(state)
    T = config.team_size
    if s.player_pos.shape != (2, T, 2):
        raise ValueError(
            f"render_frame draws one game with team_size={T}: expected player_pos [2, {T}, 2], "
            f"got {s.player_pos.shape} (index a batch or time axis first)")
    cv = _Canvas(config, scale, width)
    image = Image.new("RGB", (cv.width, cv.height), HEADER_COLOUR)
    draw = ImageDraw.Draw(image)
    _draw_pitch(draw, cv)

    # Players: team-coloured discs with their index; the last player to touch the ball ringed.
    r_player = max(MIN_PLAYER_PX, config.player_radius * cv.scale)
    font = _font(max(10, int(round(1.15 * r_player))))
    for team in range(2):
        for i in range(T):
            if not s.active[team, i]:
                continue
            x, y = cv.px(*s.player_pos[team, i])
            outline = LAST_TOUCH_COLOUR if s.last_touch[team, i] else PLAYER_OUTLINE
            width_px = max(1, int(round(0.2 * r_player))) if s.last_touch[team, i] else 1
            draw.ellipse([x - r_player, y - r_player, x + r_player, y + r_player],
                         fill=TEAM_COLOURS[team], outline=outline, width=width_px)
            if r_player >= 6:
                _text_centered(draw, (x, y), str(i), font, TEXT_COLOUR)
            else:  # too small to hold the number: write it beside the disc
                draw.text((x + r_player, y - 2.5 * r_player), str(i), font=font,
                          fill=TEXT_COLOUR)

    # Ball last, on top of everything.
    r_ball = max(MIN_BALL_PX, config.ball_radius * cv.scale)
    bx, by = cv.px(*s.ball_pos)
    draw.ellipse([bx - r_ball, by - r_ball, bx + r_ball, by + r_ball], fill=BALL_COLOUR,
                 outline=BALL_OUTLINE, width=1 if r_ball < 5 else 2)

    # Header: score and time.
    header_font = _font(max(10, int(cv.header * 0.6)))
    score = f"{TEAM_NAMES[0]} {int(s.score[0])} : {int(s.score[1])} {TEAM_NAMES[1]}"
    _text_centered(draw, (cv.width / 2, cv.header / 2), score, header_font, TEXT_COLOUR)
    clock = f"step {int(s.step)}/{config.max_steps}"
    left, top, right, bottom = draw.textbbox((0, 0), clock, font=header_font)
    draw.text((cv.width - (right - left) - 8, cv.header / 2 - (top + bottom) / 2), clock,
              font=header_font, fill=TEXT_COLOUR)
    # Team-coloured discs beside the team names.
    left, _, right, _ = draw.textbbox((0, 0), score, font=header_font)
    dot, gap = cv.header * 0.22, cv.header * 0.45
    for team, x in ((0, cv.width / 2 - (right - left) / 2 - gap),
                    (1, cv.width / 2 + (right - left) / 2 + gap)):
        draw.ellipse([x - dot, cv.header / 2 - dot, x + dot, cv.header / 2 + dot],
                     fill=TEAM_COLOURS[team], outline=TEXT_COLOUR)
    return np.asarray(image, dtype=np.uint8)


def config_for_team_size(team_size: int) -> EnvConfig:
    """The registered full-match scenario of this team size, else `EnvConfig(team_size=T)`."""
    from soccer_env.scenarios import SCENARIOS, scenario_config

    for name, scenario in SCENARIOS.items():
        cfg = scenario.config
        if cfg.get("team_size") == team_size and cfg.get("layout", "match") == "match":
            return scenario_config(name)
    return EnvConfig(team_size=team_size)


_SWATCH = (*GRASS, LINE_COLOUR, NET_COLOUR, BALL_COLOUR, BALL_OUTLINE, *TEAM_COLOURS,
           PLAYER_OUTLINE, LAST_TOUCH_COLOUR, HEADER_COLOUR, TEXT_COLOUR)


def _palette_source(frames: list) -> Image.Image:
    picks = frames[:: max(1, len(frames) // 4)][:4]
    w, h = picks[0].size
    source = Image.new("RGB", (w, h * len(picks) + 64))
    for k, frame in enumerate(picks):
        source.paste(frame, (0, h * k))
    block = max(1, w // len(_SWATCH))
    swatch = ImageDraw.Draw(source)
    for k, colour in enumerate(_SWATCH):  # big blocks: median cut keeps them exact
        swatch.rectangle([k * block, h * len(picks), (k + 1) * block, h * len(picks) + 64],
                         fill=colour)
    return source


def trajectory_and_config(states, config: EnvConfig | None, fps: float, caller: str):
    """(numpy trajectory, config) of one game's states with a leading time axis; ValueError
    naming `caller` when it is not one non-empty game or fps is not positive. A config of None
    is inferred from the team size (`config_for_team_size`)."""
    s = _to_numpy(states)
    if s.player_pos.ndim != 4:
        raise ValueError(
            f"{caller} expects one game's trajectory, player_pos [time, 2, T, 2]; got "
            f"{s.player_pos.shape} (index the batch axis first)")
    if not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"fps must be a finite number > 0, got {fps}")
    if s.player_pos.shape[0] == 0:
        raise ValueError(f"{caller} needs at least one state")
    team_size = s.player_pos.shape[2]
    if config is None:
        config = config_for_team_size(team_size)
    elif config.team_size != team_size:
        raise ValueError(f"{caller}: the trajectory has {team_size} players per team but "
                         f"config.team_size={config.team_size}")
    return s, config


def make_parent_dir(path) -> None:
    directory = os.path.dirname(os.fspath(path))
    if directory:
        os.makedirs(directory, exist_ok=True)


def save_gif(states, path, config: EnvConfig | None = None, fps: float = 10, *,
             scale: float | None = None, width: int | None = None) -> str:
    """Write a trajectory as an animated GIF and return `path`.

    states: a State whose arrays have a leading time axis (e.g. stacked by `lax.scan`), one game.
    config: the game's config; None infers it from the team size (the registered full match of
        that size, else `EnvConfig(team_size=T)`), which only sets the pitch drawn.
    The GIF has one frame per state (the step counter in the header makes every frame of a
    trajectory distinct; Pillow would merge identical consecutive frames).
    """
    s, config = trajectory_and_config(states, config, fps, "save_gif")
    num_frames = s.player_pos.shape[0]
    frames = [
        Image.fromarray(render_frame(config, jax.tree.map(lambda a: a[t], s), scale=scale,
                                     width=width))
        for t in range(num_frames)
    ]
    # One shared palette keeps colours stable from frame to frame; it is built from a few frames
    # and a swatch of every drawing colour, so colours absent from the first frame survive.
    palette = _palette_source(frames).quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    frames = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    make_parent_dir(path)
    frames[0].save(path, format="GIF", save_all=True, append_images=frames[1:],
                   duration=max(20, int(round(1000 / fps))), loop=0, disposal=1,
                   optimize=False)
    return os.fspath(path)


# ---------------------------------------------------------------------------------------------
# Demo: a match between two bots.


def _random_policy(env):
    def act(key, state, team):
        del team
        return jax.random.randint(key, (env.team_size,), 0, env.num_actions, dtype=np.int32)

    return act


def _policy(spec: str, env):
    """'bot:NAME' (or 'NAME') from soccer_env.bots; uniformly random actions when bots are
    unavailable for 'bot:random'."""
    name = spec.split(":", 1)[1] if spec.startswith("bot:") else spec
    try:
        from soccer_env import bots

        get = getattr(bots, "get", None)
    except ImportError:
        get = None
    if get is None:
        if name == "random":
            return _random_policy(env)
        raise SystemExit(f"soccer_env.bots.get is not available; cannot build bot {name!r}")
    try:
        return get(name, config=env.config)
    except TypeError:
        return get(name)


def play(env, left, right, key, steps: int):
    """[steps + 1]-long trajectory (a State with a leading time axis) of one game."""
    import jax.numpy as jnp

    def body(state, key):
        k_left, k_right, k_step = jax.random.split(key, 3)
        actions = jnp.stack([left(k_left, state, 0), right(k_right, state, 1)]).astype(jnp.int32)
        _, state, _, _, _ = env.step(k_step, state, actions)
        return state, state

    k_reset, k_run = jax.random.split(key)
    _, state = env.reset(k_reset)
    _, trajectory = jax.jit(lambda s, k: jax.lax.scan(body, s, jax.random.split(k, steps)))(
        state, k_run)
    return jax.tree.map(lambda first, rest: jnp.concatenate([first[None], rest]), state,
                        trajectory)


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(prog="python -m soccer_env.render",
                                     description="Play one game between two bots, save a GIF.")
    parser.add_argument("--scenario", default="2v2")
    parser.add_argument("--left", default="bot:random", help="bot:NAME (soccer_env.bots)")
    parser.add_argument("--right", default="bot:random", help="bot:NAME (soccer_env.bots)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fps", type=float, default=10)
    parser.add_argument("--out", default="match.gif")
    args = parser.parse_args(argv)

    import soccer_env

    env = soccer_env.make(args.scenario)
    trajectory = play(env, _policy(args.left, env), _policy(args.right, env),
                      jax.random.PRNGKey(args.seed), args.steps)
    path = save_gif(trajectory, args.out, env.config, fps=args.fps)
    final = jax.tree.map(lambda a: np.asarray(a[-1]), trajectory)
    print(f"wrote {path}: {args.steps + 1} frames, {args.scenario}, {args.left} vs {args.right}, "
          f"last score {final.score[0]}:{final.score[1]}", file=sys.stderr)
    return path


if __name__ == "__main__":
    main()
