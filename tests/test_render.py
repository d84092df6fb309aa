"""Rendering: frames are pictures of the state they are given; GIFs hold every frame."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

import soccer_env
from soccer_env import EnvConfig, render
from soccer_env.render import frame as drawing
from soccer_env.render.frame import _Canvas
from conftest import place

CONFIG = soccer_env.scenario_config("2v2")


def world_to_pixel(config, xy, scale=None, width=None):
    """Pixel (row, col) of world point `xy` in the frame render_frame draws."""
    canvas = _Canvas(config, scale, width)
    col, row = canvas.px(*xy)
    return int(round(float(row))), int(round(float(col)))


def test_frame_shape_dtype_and_size_cap():
    state = place(CONFIG)
    frame = render.render_frame(CONFIG, state)
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert 200 <= frame.shape[1] <= 1000 and frame.shape[0] < frame.shape[1]
    big = soccer_env.scenario_config("11v11")
    frame = render.render_frame(big, place(big))
    assert frame.shape[1] <= 1000, "11v11 frames stay under ~1000 px wide"
    assert render.render_frame(CONFIG, state, width=400).shape[1] == 400
    assert render.render_frame(CONFIG, state, scale=10).shape[1] < frame.shape[1]
    # env.render is the same picture.
    np.testing.assert_array_equal(soccer_env.SoccerEnv(CONFIG).render(state),
                                  render.render_frame(CONFIG, state))


@pytest.mark.parametrize("xy", [(3.0, 2.0), (-7.5, -4.0), (9.0, 5.5)])
def test_ball_colour_at_ball_position(xy):
    state = place(CONFIG, ball=xy)
    frame = render.render_frame(CONFIG, state)
    row, col = world_to_pixel(CONFIG, xy)
    assert tuple(frame[row, col]) == drawing.BALL_COLOUR
    # ... and not there once the ball has moved away.
    moved = render.render_frame(CONFIG, place(CONFIG, ball=(0.0, -1.0)))
    assert tuple(moved[row, col]) != drawing.BALL_COLOUR


def test_players_drawn_in_team_colours_where_they_stand():
    left = {0: (-6.0, 3.0), 1: (-2.0, -3.5)}
    right = {0: (5.0, 1.0), 1: (7.5, -4.5)}
    state = place(CONFIG, left=left, right=right, ball=(0.0, 5.0))
    frame = render.render_frame(CONFIG, state)
    for team, spots in ((0, left), (1, right)):
        for xy in spots.values():
            row, col = world_to_pixel(CONFIG, xy)
            # The index is written on the disc: look just inside its rim, left of centre.
            r = int(CONFIG.player_radius * drawing.MAX_PX_PER_METRE * 0.75)
            assert tuple(frame[row, col - r]) == render.TEAM_COLOURS[team], (team, xy)


def test_inactive_players_not_drawn():
    cfg = soccer_env.scenario_config("3v1_with_keeper")
    spot = (-3.0, 2.0)
    on = place(cfg, right={2: spot}, ball=(5.0, 0.0), active=np.ones((2, 3), bool))
    active = np.ones((2, 3), bool)
    active[1, 2] = False
    off = place(cfg, right={2: spot}, ball=(5.0, 0.0), active=active)
    row, col = world_to_pixel(cfg, spot)
    r = int(cfg.player_radius * drawing.MAX_PX_PER_METRE * 0.75)
    assert tuple(render.render_frame(cfg, on)[row, col - r]) == render.TEAM_COLOURS[1]
    frame_off = render.render_frame(cfg, off)
    assert tuple(frame_off[row, col - r]) != render.TEAM_COLOURS[1]
    # Fewer red pixels on the pitch (below the header): one disc fewer.
    red = np.all(frame_off == np.array(render.TEAM_COLOURS[1], np.uint8), axis=-1)
    header = _Canvas(cfg, None, None).header
    red_on = np.all(render.render_frame(cfg, on) == np.array(render.TEAM_COLOURS[1]), axis=-1)
    assert red[header:].sum() < red_on[header:].sum()


def test_different_states_give_different_frames():
    a = render.render_frame(CONFIG, place(CONFIG))
    b = render.render_frame(CONFIG, place(CONFIG, left={1: (1.0, 1.0)}))
    c = render.render_frame(CONFIG, place(CONFIG, score=(3, 0)))
    d = render.render_frame(CONFIG, place(CONFIG, step=17))
    for other in (b, c, d):
        assert a.shape == other.shape and not np.array_equal(a, other)
    np.testing.assert_array_equal(a, render.render_frame(CONFIG, place(CONFIG)))


def test_render_rejects_batched_state():
    batched = jax.tree.map(lambda x: jnp.stack([x, x]), place(CONFIG))
    with pytest.raises(ValueError, match="player_pos"):
        render.render_frame(CONFIG, batched)


def trajectory(config, n):
    """n states of a ball rolling across the pitch, stacked on a leading time axis."""
    states = [place(config, ball=(-5.0 + t, 0.5 * t), step=t) for t in range(n)]
    return jax.tree.map(lambda *xs: jnp.stack(xs), *states)


def test_save_gif_writes_every_frame(tmp_path):
    n = 7
    path = render.save_gif(trajectory(CONFIG, n), tmp_path / "sub" / "clip.gif", CONFIG, fps=5)
    with Image.open(path) as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == n
        assert gif.info["duration"] == 200
        # The ball is white where the state puts it, in frames 0 and n - 1.
        for t in (0, n - 1):
            gif.seek(t)
            rgb = np.asarray(gif.convert("RGB"))
            row, col = world_to_pixel(CONFIG, (-5.0 + t, 0.5 * t))
            assert tuple(rgb[row, col]) == drawing.BALL_COLOUR, t


def test_save_gif_infers_config_from_team_size(tmp_path):
    cfg3 = soccer_env.scenario_config("3v3")
    path = render.save_gif(trajectory(cfg3, 2), tmp_path / "a.gif")
    expected = render.render_frame(cfg3, jax.tree.map(lambda x: x[0], trajectory(cfg3, 2)))
    with Image.open(path) as gif:
        assert gif.size == (expected.shape[1], expected.shape[0])
    assert render.config_for_team_size(3) == cfg3
    assert render.config_for_team_size(4) == EnvConfig(team_size=4)  # no 4v4 scenario


def test_save_gif_rejects_single_state(tmp_path):
    with pytest.raises(ValueError, match="time"):
        render.save_gif(place(CONFIG), tmp_path / "x.gif", CONFIG)
