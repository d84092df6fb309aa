"""soccer_env.actions: the typed action table matches DESIGN.md's (indices, move directions in
the team frame, the pass actions) and works as plain ints."""

from __future__ import annotations

import numpy as np
import pytest

from soccer_env import SoccerEnv, EnvConfig
from soccer_env.actions import NUM_MOVES, Action, move_table, num_actions, pass_slot

DIRECTIONS = {  # unit direction in the team frame: +x forward, +y left
    Action.FORWARD: (1, 0), Action.FORWARD_LEFT: (1, 1), Action.LEFT: (0, 1),
    Action.BACK_LEFT: (-1, 1), Action.BACK: (-1, 0), Action.BACK_RIGHT: (-1, -1),
    Action.RIGHT: (0, -1), Action.FORWARD_RIGHT: (1, -1),
}


def test_indices_follow_the_design_table():
    assert (Action.IDLE, Action.FORWARD, Action.LEFT, Action.BACK, Action.RIGHT) == (0, 1, 3, 5, 7)
    assert (Action.SHOOT, Action.FIRST_PASS) == (9, 10) and NUM_MOVES == 8
    assert [int(a) for a in Action] == list(range(11))


@pytest.mark.parametrize("team_size", [1, 2, 5, 11])
def test_move_directions_and_sizes(team_size):
    table = move_table(team_size)
    assert table.shape == (num_actions(team_size), 2) == (9 + team_size, 2)
    assert num_actions(team_size) == SoccerEnv(EnvConfig(team_size=team_size)).num_actions
    for action, direction in DIRECTIONS.items():
        np.testing.assert_allclose(table[action], np.array(direction) / np.linalg.norm(direction),
                                   atol=1e-6)
    not_moves = [Action.IDLE, *range(Action.SHOOT, num_actions(team_size))]
    assert not table[not_moves].any()


def test_pass_actions_address_teammates_in_index_order():
    slot = pass_slot(4)
    # Player 1's teammates are 0, 2, 3: actions FIRST_PASS + 0, + 1, + 2.
    assert list(slot[1]) == [0, -1, 1, 2]
    assert Action.FIRST_PASS + slot[1, 3] == num_actions(4) - 1
