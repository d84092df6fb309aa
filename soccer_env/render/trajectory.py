"""One game's trajectory on the host, checked, with the config it was played under (shared by
the GIF writer and the HTML replay)."""

from __future__ import annotations

import os

import numpy as np

from soccer_env.config import EnvConfig
from soccer_env.render.frame import to_numpy
from soccer_env.scenarios import config_for_team_size


def trajectory_and_config(states, config: EnvConfig | None, fps: float, caller: str):
    """(numpy trajectory, config) of one game's states with a leading time axis; ValueError
    naming `caller` when it is not one non-empty game or fps is not positive. A config of None
    is inferred from the team size (`config_for_team_size`)."""
    s = to_numpy(states)
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
