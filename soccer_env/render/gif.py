"""Animated GIFs of one game's trajectory (host side).

    save_gif(trajectory, "match.gif", config)        # trajectory: State with a leading time axis
"""

from __future__ import annotations

import os

import jax
from PIL import Image, ImageDraw

from soccer_env.config import EnvConfig
from soccer_env.render.frame import (
    BALL_COLOUR,
    BALL_OUTLINE,
    GRASS,
    HEADER_COLOUR,
    LAST_TOUCH_COLOUR,
    LINE_COLOUR,
    NET_COLOUR,
    PLAYER_OUTLINE,
    TEAM_COLOURS,
    TEXT_COLOUR,
    render_frame,
)
from soccer_env.render.trajectory import make_parent_dir, trajectory_and_config

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
