"""Where passes go: pass maps and a goal built from passes, from recorded games.

    counters, states, events = soccer_env.match.recorded(env, policy, bot, key, games=32)
    passes = pass_map(states, events)     # completed and intercepted passes of the left team
    clip = goal_after_pass_clip(states, events)   # a State [t, ...] around an assisted goal

The policy plays the left team, so the world frame is its own (attacking +x). A pass completed
on a step went from `events["pass_origin"]` (where it was struck) to the ball's position after
that step (the receiver's feet); an interception likewise, to the opponent who took it.
"""

from __future__ import annotations

import numpy as np


def pass_map(states, events, digits: int = 2) -> dict[str, list]:
    """The left team's passes in recorded games (`soccer_env.match.recorded`):
    {"completed": [[x0, y0, x1, y1], ...], "intercepted": [...], "games": G} in metres."""
    completed = np.asarray(events["passes_completed"])[..., 0] > 0  # [G, steps]
    intercepted = np.asarray(events["interceptions"])[..., 1] > 0  # taken by the right team
    origin = np.asarray(events["pass_origin"])  # [G, steps, 2]
    end = np.asarray(states.ball_pos)

    def rows(mask):
        return np.round(np.concatenate([origin[mask], end[mask]], axis=-1), digits).tolist()

    return {"completed": rows(completed), "intercepted": rows(intercepted),
            "games": int(completed.shape[0])}


def goal_after_pass_clip(states, events, before: int = 80, after: int = 5):
    """The first goal of the left team scored right after a completed pass, as a State with a
    leading time axis from `before` steps before it to `after` steps after it (None if there
    is no such goal)."""
    import jax  # lazy: the pass map itself is numpy only

    hits = np.argwhere(np.asarray(events["goals_after_pass"])[..., 0] > 0)  # [n, (g, t)]
    if not len(hits):
        return None
    g, t = hits[0]
    steps = np.asarray(states.step).shape[1]
    lo, hi = max(0, t - before), min(steps, t + after + 1)
    return jax.tree.map(lambda x: np.asarray(x)[g, lo:hi], states)


def length_histogram(rows: list, edges=(0.0, 5.0, 10.0, 15.0, np.inf)) -> list[int]:
    """How many passes of `rows` ([x0, y0, x1, y1]) fall in each length bin."""
    if not rows:
        return [0] * (len(edges) - 1)
    a = np.asarray(rows, float)
    length = np.hypot(a[:, 2] - a[:, 0], a[:, 3] - a[:, 1])
    return np.histogram(length, bins=np.asarray(edges, float))[0].astype(int).tolist()
