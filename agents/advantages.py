"""Advantage estimators: the team-relative group baseline (GRPO), absolute returns, and GAE.

The group of a team in a state `s` is every (branch g, teammate i) pair of the `G` branches played
from `s` (DESIGN.md section 3):

    A[g, i] = (R[g, i] - mean_{g', j} R[g', j]) / (std_{g', j} R[g', j] + eps)

`G = 1` compares teammates at the same moment (pure credit assignment: the advantages sum to zero
over the team); `credit_weight = 0` makes teammates share the branch's team return, so the group
is the `G` outcomes from the same state (GRPO's several samples per prompt).

Per-player counterfactual groups (`grpo-cf`): the `G` branches of a trunk state share common
random numbers and differ only in one focal player's action draws (agents/rollout.py), so the
group's mean team return is the team's average outcome in that situation given its teammates'
behaviour, and a branch's deviation from it is the focal player's own contribution (COMA's
counterfactual baseline, computed by simulation instead of a critic). `rotating_focal` picks
the focal players.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

ADVANTAGES = ("grpo", "absolute", "critic", "grpo-branch", "grpo-cf")


def group_advantages(returns: jax.Array, *, leave_one_out: bool = False,
                     normalize_std: bool = True, eps: float = 1e-8,
                     where: jax.Array | None = None) -> jax.Array:
    """Team-relative advantages of `returns [..., G, T]`, normalized over the last two axes.

    leave_one_out: the baseline of member k is the mean of the *other* members,
        (sum - R_k) / (n - 1), so it does not depend on R_k's own sample (with n = 1 there are no
        others and the plain mean is used: the advantage is 0).
    normalize_std: divide by the group's standard deviation (population std, over the same
        members as the mean) plus `eps`; False is Dr. GRPO's variant (centring only).
    where: optional bool [..., G, T], the members that count (e.g. players on the pitch). Others
        are left out of the mean and std and get advantage 0.

    Identical returns give exactly 0 (never NaN): R - mean == 0 and the denominator is >= eps.
    """
    returns = jnp.asarray(returns, jnp.float32)
    if returns.ndim < 2:
        raise ValueError(f"returns must have shape [..., G, T], got {returns.shape}")
    if where is None:
        member = jnp.ones(returns.shape, jnp.float32)
    else:
        member = jnp.broadcast_to(where, returns.shape).astype(jnp.float32)
    axes = (-2, -1)
    n = jnp.sum(member, axis=axes, keepdims=True)
    # Shift by one member's return (the advantages are shift-invariant) so that identical
    # returns become exact zeros: a rounding residue of the mean, divided by a std of ~0 + eps,
    # would otherwise turn into a large advantage.
    shift = jnp.max(jnp.where(member > 0, returns, -jnp.inf), axis=axes, keepdims=True)
    returns = returns - jax.lax.stop_gradient(jnp.where(n > 0, shift, 0.0))
    total = jnp.sum(returns * member, axis=axes, keepdims=True)
    mean = total / jnp.maximum(n, 1.0)
    if leave_one_out:
        others = (total - returns) / jnp.maximum(n - 1.0, 1.0)
        baseline = jnp.where(n > 1.0, others, mean)
    else:
        baseline = mean
    centred = returns - baseline
    if normalize_std:
        var = jnp.sum(member * (returns - mean) ** 2, axis=axes, keepdims=True) / jnp.maximum(
            n, 1.0)
        # Double where: the gradient of sqrt at var == 0 (identical returns) would be inf * 0.
        positive = var > 0
        std = jnp.where(positive, jnp.sqrt(jnp.where(positive, var, 1.0)), 0.0)
        centred = centred / (std + eps)
    return centred * member


def rotating_focal(active: jax.Array, offset: jax.Array) -> jax.Array:
    """bool [B, L, T]: one focal player per game and learning team, the
    `(offset + game) mod n`-th of the n players on the pitch (`active` [B, L, T]), so the focal
    player rotates over the trunk games (the trainer draws `offset` for each batch); none where
    a team has no player on the pitch."""
    B = active.shape[0]
    n = jnp.sum(active, axis=-1, keepdims=True)  # [B, L, 1]
    rank = jnp.cumsum(active, axis=-1) - 1  # position among the players on the pitch
    target = (offset + jnp.arange(B))[:, None, None] % jnp.maximum(n, 1)
    return active & (rank == target)


def alive_mask(dones: jax.Array) -> jax.Array:
    """alive [H, ...] bool: step t belongs to the first episode of the rollout, i.e. no episode
    ended at a step before t (the step where it ends is still alive: its reward counts)."""
    ended_before = jnp.cumsum(dones.astype(jnp.int32), axis=0) - dones.astype(jnp.int32)
    return ended_before == 0


def discounted_returns(rewards: jax.Array, dones: jax.Array, gamma: float) -> jax.Array:
    """R = sum_t gamma^t reward[t] over the first episode of each rollout.

    rewards [H, ...]; dones [H, ...] broadcastable to rewards (True where the episode ended on
    that step). Rewards after the first done belong to a new episode and are not counted.
    """
    H = rewards.shape[0]
    alive = alive_mask(dones)
    alive = jnp.reshape(alive, alive.shape + (1,) * (rewards.ndim - alive.ndim))
    discount = (gamma ** jnp.arange(H, dtype=jnp.float32)).reshape((H,) + (1,) * (rewards.ndim - 1))
    return jnp.sum(discount * rewards * alive, axis=0)


def rewards_to_go(rewards: jax.Array, dones: jax.Array, gamma: float) -> jax.Array:
    """RTG[t] = sum_{k >= t} gamma^(k - t) reward[k] over the first episode of each rollout
    (zero from the step after the first done on). rewards [H, ...]; dones [H, ...] broadcastable.
    RTG[0] equals `discounted_returns`."""
    alive = alive_mask(dones)
    alive = jnp.reshape(alive, alive.shape + (1,) * (rewards.ndim - alive.ndim))

    def back(carry, r):
        carry = r + gamma * carry
        return carry, carry

    _, rtg = jax.lax.scan(back, jnp.zeros_like(rewards[0]), rewards * alive, reverse=True)
    return rtg


def gae(rewards: jax.Array, values: jax.Array, dones: jax.Array, last_value: jax.Array,
        gamma: float, lam: float, *, truncated: jax.Array | None = None
        ) -> tuple[jax.Array, jax.Array]:
    """Generalized advantage estimation over time-major arrays.

    rewards, values [H, ...]; dones [H, ...] broadcastable to them (True: the episode ended on
    that step, by termination or by the time limit; the next state is a fresh episode);
    last_value [...]: value of the state after the last step.
    truncated (keyword only) [H, ...] broadcastable like `dones`, True where the episode was cut
    by the time limit (a subset of `dones`). The state after a truncated step is not a terminal
    state, but its successor in the arrays is the next episode's first state, so there is nothing
    to bootstrap from: as Brax's `compute_gae` does, the TD error of a truncated step is masked
    out (advantage 0, value target = the value itself, so neither the policy nor the critic
    learns from that step) and the trace is cut there. Only a terminated step
    (`dones & ~truncated`) bootstraps with value 0 after it. `truncated=None` (the default)
    treats every `done` as a termination: the behaviour of earlier versions (up to float
    rounding).
    Returns (advantages [H, ...], value targets = advantages + values).
    """
    def full(flags):
        flags = jnp.asarray(flags)
        flags = jnp.reshape(flags, flags.shape + (1,) * (rewards.ndim - flags.ndim))
        return jnp.broadcast_to(flags, rewards.shape)

    dones = full(dones)
    next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)
    # Without flags every end is a termination: with no truncation the masks below are exact
    # ones and the recursion is the classic one (tested against it, to float rounding).
    truncated = full(jnp.zeros((), bool) if truncated is None else truncated).astype(bool)
    not_terminated = 1.0 - (dones.astype(bool) & ~truncated).astype(jnp.float32)
    not_truncated = 1.0 - truncated.astype(jnp.float32)
    # The trace continues only inside an episode: not after a termination, not after a cut.
    continues = not_terminated * not_truncated

    def back_cut(carry, x):
        r, v, v_next, nt, ntr, c = x
        delta = (r + gamma * v_next * nt - v) * ntr
        carry = delta + gamma * lam * c * carry
        return carry, carry

    _, adv = jax.lax.scan(back_cut, jnp.zeros_like(last_value),
                          (rewards, values, next_values, not_terminated, not_truncated,
                           continues), reverse=True)
    return adv, adv + values
