"""soccer_env.layouts: one table of initial-state distributions, which EnvConfig validates
against, each placing a state of the right shapes from `num_uniforms` draws."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import soccer_env
from soccer_env import EnvConfig
from soccer_env.constants import PARK_OFFSET
from soccer_env.layouts import LAYOUTS, initial_state_from_uniforms, num_uniforms


def test_every_scenario_uses_a_registered_layout():
    used = {soccer_env.scenario_config(name).layout for name in soccer_env.scenarios()}
    assert used == set(LAYOUTS)


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_config_validates_layout_and_its_smallest_team(name):
    smallest = LAYOUTS[name].min_team_size
    assert EnvConfig(layout=name, team_size=smallest).layout == name
    if smallest > 1:
        with pytest.raises(ValueError, match=rf"team_size.*>= {smallest}.*{name}"):
            EnvConfig(layout=name, team_size=smallest - 1)


def test_unknown_layout_names_the_known_ones():
    with pytest.raises(ValueError, match=r"layout.*'match'.*'counterattack'"):
        EnvConfig(layout="penalties")


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_layouts_place_states_from_uniforms(name):
    config = EnvConfig(layout=name, team_size=3)
    u = jax.random.uniform(jax.random.PRNGKey(0), (num_uniforms(config),))
    state = initial_state_from_uniforms(config, u)
    assert state.player_pos.shape == (2, 3, 2) and state.ball_pos.shape == (2,)
    active = np.asarray(state.active)
    # Players a drill leaves off the pitch are parked PARK_OFFSET beyond the touchline.
    parked_y = np.asarray(state.player_pos)[~active][:, 1]
    np.testing.assert_allclose(parked_y, config.field_width / 2 + PARK_OFFSET)
    assert active[0, 0], "the left team's player 0 is always on the pitch (it has the ball)"
