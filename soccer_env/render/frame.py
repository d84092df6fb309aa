"""One picture of a game state (numpy + Pillow, host side, not jitted), and the pitch geometry
and colours that the GIFs and the HTML replay share.

    frame = render_frame(config, state)              # uint8 [H, W, 3]

The picture is in the world frame: the left team (index 0, blue) defends x = -L/2 on the left of
the picture, +y points up. Players off the pitch (`state.active` False) are not drawn.

`SoccerEnv.render` draws with this module, so it imports only the config and the layouts.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from soccer_env.config import EnvConfig
from soccer_env.constants import goal_area_depth
from soccer_env.layouts import centre_circle_radius

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
    length, width, half_goal = config.field_length, config.field_width, config.goal_width / 2
    goal_depth = float(np.clip(0.025 * length, 0.6, 2.0))
    penalty_depth = min(16.5, 0.2 * length)
    area_depth = goal_area_depth(length)  # where goal kicks are taken
    return {
        "goal_depth": goal_depth,
        "margin": max(1.5, goal_depth + 0.4),
        "centre_radius": float(centre_circle_radius(config)),
        "penalty_depth": penalty_depth,
        "penalty_half_width": min(half_goal + penalty_depth, max(half_goal + 1.0, 0.33 * width)),
        "goal_area_depth": area_depth,
        "goal_area_half_width": min(half_goal + area_depth,
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


def to_numpy(state):
    """The state as numpy arrays on the host."""
    return jax.tree.map(np.asarray, jax.device_get(state))


def render_frame(config: EnvConfig, state, *, scale: float | None = None,
                 width: int | None = None) -> np.ndarray:
    """uint8 [H, W, 3] picture of one game state (no batch axis).

    scale: pixels per metre (default: 40, less on big pitches so that frames stay at most
        1000 px wide). width: the frame width in pixels (sets the scale); give one or neither.
    """
    if scale is not None and width is not None:
        raise ValueError("give scale or width, not both")
    s = to_numpy(state)
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
