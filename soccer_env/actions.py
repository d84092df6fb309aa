"""The action table: one Discrete action per player, in the player's team frame.

"Forward" is toward the opponent goal (+x in the team frame), "left" is +y.

    0               IDLE: decelerate
    1 .. 8          move at angle (index - 1) * 45 degrees: FORWARD, FORWARD_LEFT, LEFT,
                    BACK_LEFT, BACK, BACK_RIGHT, RIGHT, FORWARD_RIGHT
    9               SHOOT: kick hard toward the opponent goal (with aim noise)
    10 .. 10+T-2    FIRST_PASS + k: pass to teammate k (teammates in index order, the passer
                    skipped)

Kicks act only for the player who has the ball (`State.owner`); otherwise they are idles. `Action`
members are ints (`enum.IntEnum`), so they work unchanged inside jitted code; one exception:
`jnp.full(shape, member, dtype)` marks the result weakly typed, so pass `int(member)` there.
"""

from __future__ import annotations

import enum

import numpy as np


class Action(enum.IntEnum):
    IDLE = 0
    FORWARD = 1
    FORWARD_LEFT = 2
    LEFT = 3
    BACK_LEFT = 4
    BACK = 5
    BACK_RIGHT = 6
    RIGHT = 7
    FORWARD_RIGHT = 8
    SHOOT = 9
    FIRST_PASS = 10  # pass to teammate k is FIRST_PASS + k


NUM_MOVES = 8  # actions FORWARD .. FORWARD_RIGHT


def num_actions(team_size: int) -> int:
    """idle, 8 moves, shoot, and a pass to each of the T - 1 teammates: 9 + T."""
    return Action.FIRST_PASS + team_size - 1


def move_table(team_size: int) -> np.ndarray:
    """[num_actions, 2] unit move direction of each action in the team frame (0 = not a move)."""
    table = np.zeros((num_actions(team_size), 2), np.float32)
    angles = np.arange(NUM_MOVES) * np.pi / 4
    moves = slice(Action.FORWARD, Action.FORWARD + NUM_MOVES)
    table[moves, 0] = np.cos(angles)
    table[moves, 1] = np.sin(angles)
    table[np.abs(table) < 1e-7] = 0.0
    return table


def teammate_index(team_size: int) -> np.ndarray:
    """[T, T-1] indices of each player's teammates in index order, the player itself skipped."""
    T = team_size
    return np.array([[j for j in range(T) if j != i] for i in range(T)], np.int32).reshape(T, T - 1)


def pass_slot(team_size: int) -> np.ndarray:
    """[T, T] slot k of teammate j in player i's pass actions (FIRST_PASS + k); -1 when j == i."""
    T = team_size
    slot = np.full((T, T), -1, np.int32)
    for i in range(T):
        for k, j in enumerate(j for j in range(T) if j != i):
            slot[i, j] = k
    return slot
