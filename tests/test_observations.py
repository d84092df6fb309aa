"""soccer_env.observations: the layout as data. The named blocks tile the observation and the
global state, their contents are what their names say, and their bounds are the adapter's."""

from __future__ import annotations

import numpy as np
import pytest

import soccer_env
from soccer_env import EnvConfig, SoccerEnv, observations, pettingzoo
from conftest import place


@pytest.mark.parametrize("team_size", [1, 2, 3, 11])
def test_blocks_tile_the_vectors(team_size):
    config = EnvConfig(team_size=team_size)
    env = SoccerEnv(config)
    for layout, dim in ((observations.observation_layout(config), env.obs_dim),
                        (observations.state_layout(config), env.state_dim)):
        names = [b.name for b in layout]
        assert len(set(names)) == len(names)
        stops = [b.start for b in layout[1:]] + [dim]
        assert layout[0].start == 0 and [b.slice.stop for b in layout] == stops
        for b in layout:
            assert b.low.dtype == b.high.dtype == np.float32 and np.all(b.low <= b.high)


def test_blocks_hold_what_their_names_say(compiled):
    config = soccer_env.scenario_config("3v3")
    c = compiled(config, quick=True)
    layout = observations.observation_layout(config)
    T, scale = 3, 2.0 / config.field_length
    feet = config.player_radius + config.ball_radius + 0.03
    state = place(config, left={1: (-4.0, 2.0)}, right={2: (5.0, -1.0)},
                  ball=(5.0 - feet, -1.0), step=40, score=(2, 0), owner=(1, 2))
    obs = np.asarray(c.observe(state))
    block = {b.name: obs[..., b.slice] for b in layout}
    np.testing.assert_allclose(block["own_pos"][0, 1], np.array([-4.0, 2.0]) * scale, rtol=1e-6)
    # The right team's frame is rotated by 180 degrees.
    np.testing.assert_allclose(block["own_pos"][1, 2], np.array([-5.0, 1.0]) * scale, rtol=1e-6)
    np.testing.assert_array_equal(block["own_index"], np.broadcast_to(np.eye(T), (2, T, T)))
    np.testing.assert_allclose(block["time_left"], 1.0 - 40 / config.max_steps, rtol=1e-6)
    np.testing.assert_allclose(block["score_diff"][:, :, 0], [[0.4] * T, [-0.4] * T], rtol=1e-6)
    # Right player 2 has the ball: possession and the has-ball flags in each player's view.
    np.testing.assert_array_equal(block["possession"][:, :, 0], [[-1.0] * T, [1.0] * T])
    np.testing.assert_array_equal(block["self_has_ball"][:, :, 0], [[0, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(block["mates_has_ball"][1], [[0, 1], [0, 1], [0, 0]])
    np.testing.assert_array_equal(block["mates_has_ball"][0], 0.0)
    np.testing.assert_array_equal(block["opps_has_ball"][0], [[0, 0, 1]] * T)
    np.testing.assert_array_equal(block["opps_has_ball"][1], 0.0)
    np.testing.assert_array_equal(block["self_active"], 1.0)
    # The ball relative to its owner, in the owner's (rotated) frame: just ahead, toward +x.
    np.testing.assert_allclose(block["ball_rel_pos"][1, 2], [feet * scale, 0.0], atol=1e-6)
    loose = np.asarray(c.observe(state.replace(owner=np.int32(-1))))
    for name in ("possession", "self_has_ball", "mates_has_ball", "opps_has_ball"):
        np.testing.assert_array_equal(
            {b.name: loose[..., b.slice] for b in layout}[name], 0.0, err_msg=name)
    assert block["mate_rel_x"].shape[-1] == T - 1 and block["opp_rel_x"].shape[-1] == T

    gs = np.asarray(c.global_state(state))
    sblock = {b.name: gs[..., b.slice] for b in observations.state_layout(config)}
    np.testing.assert_allclose(sblock["ball"][0, :2], np.array([5.0 - feet, -1.0]) * scale,
                               rtol=1e-6)
    np.testing.assert_allclose(sblock["own_pos"][0, 2:4], np.array([-4.0, 2.0]) * scale,
                               rtol=1e-6)
    np.testing.assert_array_equal(sblock["own_active"], 1.0)
    # Opponents in the observing team's frame, as the ball is: the left team sees the right
    # team's player 2 at its world position; the right team sees the left's player 1 rotated.
    np.testing.assert_allclose(sblock["opp_pos"][0, 4:6], np.array([5.0, -1.0]) * scale,
                               rtol=1e-6)
    np.testing.assert_allclose(sblock["opp_pos"][1, 2:4], np.array([4.0, -2.0]) * scale,
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["1v1", "5v5", "counterattack"])
def test_the_adapter_declares_the_layout_bounds(compiled, name):
    config = soccer_env.scenario_config(name, boundary="rules")
    for ours, theirs in ((observations.observation_bounds(config),
                          pettingzoo.observation_bounds(config)),
                         (observations.state_bounds(config), pettingzoo.state_bounds(config))):
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)
    low, high = observations.observation_bounds(config)
    obs = np.asarray(compiled(config, quick=True).observe(place(config)))
    assert np.all((obs >= low) & (obs <= high))
