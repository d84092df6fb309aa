"""Geometry constants that several modules share, each written once (metres, seconds).

Plain numbers only (no imports of the package): every other module may depend on this one.
"""

from __future__ import annotations

import numpy as np

# World sign of each team's frame: the right team's frame is the world rotated by 180 degrees.
TEAM_SIGN = np.array([1.0, -1.0], np.float32)

# Gap between the bodies of a kickoff or restart taker and the ball: it stands just behind the
# ball, with it at its feet.
KICKER_GAP = 0.05
# Gap between a drill's ball carrier and the ball (a little more room than a kickoff taker).
CARRIER_GAP = 0.1

# The dribbled ball sits this far in front of its owner's body (metres between the surfaces).
DRIBBLE_GAP = 0.03

# A pass is led by at most this many seconds of the receiver's motion.
MAX_PASS_LEAD = 1.5

# Drills park the players they leave off the pitch this far beyond the touchline; observation
# bounds must cover them.
PARK_OFFSET = 2.0

# In `rules` mode players may run this far beyond the lines (to take throw-ins and corners).
RUNOFF = 1.0

# The goal area (where goal kicks are taken; drawn by the renderers): full size on an 11v11
# pitch, scaled down with the pitch length on small ones.
GOAL_AREA_DEPTH = 5.5
GOAL_AREA_FRACTION = 0.12


def goal_area_depth(field_length: float) -> float:
    """Depth in metres of the goal area of a pitch `field_length` long."""
    return min(GOAL_AREA_DEPTH, GOAL_AREA_FRACTION * field_length)


# The penalty area (where a keeper may catch): full size on an 11v11 pitch, scaled down with
# the pitch length on small ones; it extends this depth beyond each post, too.
PENALTY_DEPTH = 16.5
PENALTY_FRACTION = 0.18


def penalty_depth(field_length: float) -> float:
    """Depth in metres of the penalty area of a pitch `field_length` long."""
    return min(PENALTY_DEPTH, PENALTY_FRACTION * field_length)


def penalty_half_width(field_length: float, goal_width: float, field_width: float) -> float:
    """Half-width in metres of the penalty area (never wider than the pitch)."""
    return min(goal_width / 2 + penalty_depth(field_length), field_width / 2)
