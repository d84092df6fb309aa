"""Pictures, animations and replays of soccer games (host side, not jitted).

    frame = render_frame(config, state)              # uint8 [H, W, 3]      (render.frame)
    save_gif(trajectory, "match.gif", config)        # animated GIF         (render.gif)
    save_replay(trajectory, "match.html", config)    # self-contained HTML  (render.replay)

A trajectory is a State with a leading time axis (e.g. stacked by `lax.scan`), one game. The GIF
and the HTML page draw the same pitch (`pitch_geometry`) in the same colours.

Demo (a match between two bots, written as a GIF): `python -m soccer_env.render --help`.
"""

from soccer_env.render.frame import GRASS, TEAM_COLOURS, pitch_geometry, render_frame
from soccer_env.render.gif import save_gif
from soccer_env.render.replay import replay_data, replay_html, save_replay
from soccer_env.render.trajectory import make_parent_dir, trajectory_and_config
from soccer_env.scenarios import config_for_team_size

# The drawing constants (sizes, colours) live in soccer_env.render.frame.
__all__ = [
    "GRASS", "TEAM_COLOURS", "config_for_team_size", "make_parent_dir", "pitch_geometry",
    "render_frame", "replay_data", "replay_html", "save_gif", "save_replay",
    "trajectory_and_config",
]
