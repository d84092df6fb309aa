"""The simple yardsticks: `random` (uniform over the legal actions) and `chaser` (everyone runs
at the ball; the one with the ball shoots at once)."""

from __future__ import annotations

import jax.numpy as jnp

from soccer_env.actions import Action
from soccer_env.bots.common import Bot, check_state, legalize, move_action, random_legal, team_view
from soccer_env.config import EnvConfig


def make_random(config: EnvConfig) -> Bot:
    """Uniform over each player's legal actions."""

    def random_bot(key, state, team):
        check_state(config, state)
        return random_legal(key, team_view(config, state, team).mask)

    return random_bot


def make_chaser(config: EnvConfig) -> Bot:
    """Every player runs straight at the ball; the one with the ball shoots."""

    def chaser_bot(key, state, team):
        del key
        check_state(config, state)
        v = team_view(config, state, team)
        actions = jnp.where(v.mask[:, Action.SHOOT], Action.SHOOT,
                            move_action(v.ball_pos - v.own_pos))
        return legalize(jnp.where(v.own_active, actions, Action.IDLE), v.mask)

    return chaser_bot
