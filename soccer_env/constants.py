"""Geometry constants that several modules share, each written once (metres, seconds).

Plain numbers only (no imports of the package): every other module may depend on this one.
"""

from __future__ import annotations

import numpy as np

# World sign of each team's frame: the right team's frame is the world rotated by 180 degrees.
TEAM_SIGN = np.array([1.0, -1.0], np.float32)

# Gap between the bodies of a kickoff or restart taker and the ball: it stands just behind the
# ball, in kick range, without touching it.
KICKER_GAP = 0.05
# Gap between a drill's ball carrier and the ball (a little more room than a kickoff taker).
CARRIER_GAP = 0.1

# Passes are aimed where the receiver will be this many seconds from now (the physics leads
# them; the positional bot judges a pass at the same point).
PASS_LEAD = 0.3

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
