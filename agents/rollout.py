"""Branch rollouts: `G` continuations of each trunk game from the same state.

Every update starts from `B` trunk games (the running games of training). Each trunk state is
copied into `G` branches that differ only in their PRNG keys (the policy's samples, the
opponent's and the game's noise); each branch plays `H` steps with the current policy for the
learning team(s) and the opponent's policy for the other team. The `G x T` returns of a team from
one state form its comparison group (agents.advantages.group_advantages).

Trunk advance: branch 0 *is* the trunk's continuation. Its `H` steps are training samples like
every other branch's and its final state becomes the trunk state of the next update, so no
simulated step is spent only to move the games forward, and the trunk is an ordinary on-policy
trajectory (branch 0 is as random as any other: the branch keys are independent). The other
`G - 1` branches are the counterfactuals that make the group; they are dropped after the update.

Everything is a pure function: `play_branch` plays one branch of one game; `branch_rollout` is
`vmap` over games of `vmap` over branch keys of it (the state is broadcast over branches, not
copied in Python), so the same key from the same state reproduces a branch bit for bit.

Common random numbers (`branch_rollout(..., free=...)`): the `G` branches of a trunk state
share one key stream for the game's noise, the opponent's draws and the action draws of every
learning player except the `free` ones, whose draws come from the branch's own key. The
branches then differ only through the free players' choices (and what follows from them):
with one free (focal) player per trunk state, a branch's deviation from the group's mean is
that player's own contribution (the `grpo-cf` estimator, agents/trainer.py); with every
learner free, only the game's and the opponent's noise is shared.

Learning teams: against an opponent function (a scripted bot or a frozen policy) only team 0
learns (L = 1); in self-play (`opponent_fn=None`) both teams play the current policy, each in
its own frame, and both teams' samples are training data (L = 2, each team its own group).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from flax import struct

from agents.networks import PolicyNetwork, log_probs_and_entropy, sample_actions


@struct.dataclass
class Transition:
    """One step of one branch for the L learning teams of T players (leading axes are added by
    scan and vmap: [B, G, H, ...] from `branch_rollout`).

    obs [L, T, obs_dim], action_mask [L, T, A] bool, actions [L, T] int32, log_probs [L, T]
    (behaviour policy), rewards [L, T], done [] (the episode ended on this step, terminated or
    truncated; the next state is a fresh episode), truncated [] bool (the episode was cut by the
    time limit on this step, `info["truncated"]`: a subset of `done`, so `done & ~truncated` is a
    real termination; GAE bootstraps through neither, see agents.advantages.gae; keyword only,
    None in hand-made transitions that do not record it), goals [2] bool (world team order:
    left, right scored on this step), passes [L] int32 completed passes, global_state
    [L, state_dim] and values [L, T] (critic only, else empty arrays).
    """

    obs: jax.Array
    action_mask: jax.Array
    actions: jax.Array
    log_probs: jax.Array
    rewards: jax.Array
    done: jax.Array
    truncated: jax.Array | None = struct.field(default=None, kw_only=True)
    goals: jax.Array
    passes: jax.Array
    global_state: jax.Array
    values: jax.Array


@struct.dataclass
class Rollout:
    """The samples of one update. transitions: [B, G, H, ...]; last_values [B, G, L, T] (value
    of the state after the last step, for GAE; zeros without a critic); active [B, L, T] bool
    (learning players on the pitch at the trunk state: drills park some players off it);
    focal [B, L, T] bool: the one player per game and learning team that grpo-cf scores (set
    by the trainer; None otherwise)."""

    transitions: Transition
    last_values: jax.Array
    active: jax.Array
    focal: jax.Array | None = None


def make_branch_rollout(env, network: PolicyNetwork, opponent_fn: Callable | None, *,
                        horizon: int, with_value: bool = False):
    """Returns (play_branch, branch_rollout).

    play_branch(key, params, state, opponent_params=None, common_key=None, free=None)
            -> (Transition [H, ...], final_state, last_values [L, T])
        plays one branch of one game for `horizon` steps. With `common_key` the game's noise,
        the opponent's draws and the action draws of the learners not in `free` ([L, T] bool)
        come from `common_key`, the free learners' draws from `key`.
    branch_rollout(key, params, trunk, group_size, opponent_params=None, free=None)
            -> (Rollout, next_trunk)
        trunk: State with a leading game axis [B]; next_trunk is branch 0's final state.
        free: None (independent branches), or [B, L, T] bool: common random numbers within
        each game's branches, the free players' draws their own (module docstring).

    `opponent_fn=None` is self-play. Otherwise it is a player (`soccer_env.players.Player`, or
    any `(key, state, team) -> int32 [T]` bot), or, with per-game `opponent_params`, a function
    of them too (see below). `with_value` also records the critic's values.
    `opponent_params`: None, and the opponent is called `opponent_fn(key, state, 1)`; or a pytree
    (in `branch_rollout`, with a leading game axis [B]: one opponent per game, e.g. snapshots of
    a league), and it is called `opponent_fn(key, state, 1, opponent_params)`.
    """
    self_play = opponent_fn is None
    L = 2 if self_play else 1
    T = env.team_size

    def values_of(params, state):
        if not with_value:
            return jnp.zeros((L, T), jnp.float32), jnp.zeros((L, 0), jnp.float32)
        gs = env.global_state(state)[:L]
        return network.value(params, gs), gs

    def play_branch(key, params, state, opponent_params=None, common_key=None, free=None):
        common = common_key is not None
        if common and free is None:
            raise ValueError("play_branch: common_key needs free, the [L, T] players whose "
                             "draws are the branch's own")

        def step(carry, keys):
            state, all_obs = carry  # env.step already observed the state: carry its obs
            step_key, common_step_key = keys
            k_pi, k_opp, k_env = jax.random.split(common_step_key if common else step_key, 3)
            obs = all_obs[:L]  # [L, T, D], each team in its own frame
            mask = env.action_mask(state)[:L]
            logits = network.logits(params, obs, mask)
            if common:  # Gumbel-max sampling, the free players' noise from the branch key
                noise = jnp.where(free[..., None], jax.random.gumbel(step_key, logits.shape),
                                  jax.random.gumbel(k_pi, logits.shape))
                actions = jnp.argmax(logits + noise, axis=-1).astype(jnp.int32)
            else:
                actions = sample_actions(k_pi, logits)
            log_p, _ = log_probs_and_entropy(logits, actions)
            values, gs = values_of(params, state)
            if self_play:
                all_actions = actions
            else:
                if opponent_params is None:
                    opp = opponent_fn(k_opp, state, 1)
                else:
                    opp = opponent_fn(k_opp, state, 1, opponent_params)
                opp = opp.astype(jnp.int32)
                all_actions = jnp.concatenate([actions, opp[None]], axis=0)
            next_obs, next_state, reward, done, info = env.step(k_env, state, all_actions)
            transition = Transition(
                obs=obs, action_mask=mask, actions=actions, log_probs=log_p,
                rewards=reward[:L], done=done, truncated=info["truncated"], goals=info["goal"],
                passes=jnp.sum(info["pass_completed"][:L], axis=-1).astype(jnp.int32),
                global_state=gs, values=values)
            return (next_state, next_obs), transition

        step_keys = jax.random.split(key, horizon)
        common_keys = jax.random.split(common_key, horizon) if common else step_keys
        (final_state, _), transitions = jax.lax.scan(
            step, (state, env.observe(state)), (step_keys, common_keys))
        last_values, _ = values_of(params, final_state)
        return transitions, final_state, last_values

    def branch_rollout(key, params, trunk, group_size: int, opponent_params=None, free=None):
        B = trunk.step.shape[0]
        keys = jax.random.split(key, (B, group_size))
        active = trunk.active[:, :L]
        if free is None:
            # Same state (and opponent) for the G branches of a game, G keys.
            over_branches = jax.vmap(play_branch, in_axes=(0, None, None, None))
            over_games = jax.vmap(over_branches, in_axes=(0, None, 0, 0))
            transitions, finals, last_values = over_games(keys, params, trunk, opponent_params)
        else:  # one common key per game, shared by its G branches
            common_keys = jax.random.split(jax.random.fold_in(key, 1), B)
            over_branches = jax.vmap(play_branch, in_axes=(0, None, None, None, None, None))
            over_games = jax.vmap(over_branches, in_axes=(0, None, 0, 0, 0, 0))
            transitions, finals, last_values = over_games(keys, params, trunk, opponent_params,
                                                          common_keys, free)
        next_trunk = jax.tree.map(lambda x: x[:, 0], finals)
        return Rollout(transitions, last_values, active), next_trunk

    return play_branch, branch_rollout
