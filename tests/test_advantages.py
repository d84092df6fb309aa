"""agents.advantages: the team-relative group baseline, returns and GAE against references."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents
from agents.advantages import (alive_mask, discounted_returns, gae, group_advantages,
                               rewards_to_go)

OPTIONS = list(itertools.product([False, True], [False, True]))  # (leave_one_out, normalize_std)


def reference_group_advantages(returns, leave_one_out, normalize_std, eps):
    """Loops over groups and members, straight from DESIGN.md section 3."""
    returns = np.asarray(returns, np.float64)
    *batch, G, T = returns.shape
    out = np.zeros_like(returns)
    for idx in np.ndindex(*batch):
        group = returns[idx]
        members = [(g, i) for g in range(G) for i in range(T)]
        n = len(members)
        mean = sum(group[m] for m in members) / n
        std = np.sqrt(sum((group[m] - mean) ** 2 for m in members) / n)
        for m in members:
            if leave_one_out and n > 1:
                baseline = sum(group[o] for o in members if o != m) / (n - 1)
            else:
                baseline = mean
            a = group[m] - baseline
            out[idx + m] = a / (std + eps) if normalize_std else a
    return out


@pytest.mark.parametrize("leave_one_out,normalize_std", OPTIONS)
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 4, 2), (3, 1, 4), (1, 1)])
def test_group_advantages_match_reference(shape, leave_one_out, normalize_std):
    returns = np.random.default_rng(sum(shape)).normal(size=shape).astype(np.float32)
    got = group_advantages(returns, leave_one_out=leave_one_out, normalize_std=normalize_std,
                           eps=1e-8)
    want = reference_group_advantages(returns, leave_one_out, normalize_std, 1e-8)
    assert got.shape == returns.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("leave_one_out,normalize_std", OPTIONS)
def test_group_of_one_branch_sums_to_zero_over_the_team(leave_one_out, normalize_std):
    returns = np.random.default_rng(1).normal(size=(6, 1, 4)).astype(np.float32)  # G = 1
    adv = group_advantages(returns, leave_one_out=leave_one_out, normalize_std=normalize_std)
    np.testing.assert_allclose(np.sum(adv, axis=(-2, -1)), 0.0, atol=1e-5)
    assert np.all(np.abs(adv) > 0)  # distinct returns: every player gets a signal


@pytest.mark.parametrize("leave_one_out,normalize_std", OPTIONS)
def test_identical_returns_give_zeros_not_nan(leave_one_out, normalize_std):
    returns = jnp.full((3, 4, 2), 0.7)
    adv = group_advantages(returns, leave_one_out=leave_one_out, normalize_std=normalize_std)
    assert np.all(np.isfinite(adv))
    np.testing.assert_array_equal(adv, 0.0)
    # ... and so do their gradients (a zero std must not poison backprop).
    grad = jax.grad(lambda r: jnp.sum(group_advantages(r, leave_one_out=leave_one_out,
                                                       normalize_std=normalize_std) ** 2))(returns)
    assert np.all(np.isfinite(grad))


def test_shared_team_return_makes_the_group_the_branches():
    # credit_weight = 0: teammates share the branch's return; the group is the G outcomes.
    branch = np.array([1.0, 0.0, 0.0, -1.0], np.float32)
    returns = np.repeat(branch[:, None], 3, axis=1)  # [G=4, T=3]
    adv = group_advantages(returns)
    want = (branch - branch.mean()) / (branch.std() + 1e-8)
    np.testing.assert_allclose(adv, np.repeat(want[:, None], 3, axis=1), rtol=1e-6)
    # G = 1 and a shared return: no signal, by design.
    np.testing.assert_array_equal(group_advantages(returns[:1]), 0.0)


def test_leave_one_out_is_the_mean_baseline_scaled():
    returns = np.random.default_rng(2).normal(size=(5, 3, 2)).astype(np.float32)
    n = 3 * 2
    plain = group_advantages(returns, normalize_std=False)
    loo = group_advantages(returns, leave_one_out=True, normalize_std=False)
    np.testing.assert_allclose(plain, (n - 1) / n * loo, rtol=1e-5, atol=1e-6)


def test_where_leaves_members_out():
    rng = np.random.default_rng(3)
    returns = rng.normal(size=(4, 3)).astype(np.float32)
    where = np.array([True, False, True])
    adv = group_advantages(returns, where=np.broadcast_to(where, (4, 3)))
    np.testing.assert_array_equal(adv[:, 1], 0.0)
    sub = group_advantages(returns[:, where])
    np.testing.assert_allclose(adv[:, where], sub, rtol=1e-5, atol=1e-6)


def test_group_advantages_are_jittable_and_vmappable():
    returns = jax.random.normal(jax.random.PRNGKey(0), (3, 2, 4, 2))
    f = jax.jit(jax.vmap(lambda r: group_advantages(r, leave_one_out=True)))
    np.testing.assert_allclose(f(returns), group_advantages(returns, leave_one_out=True),
                               rtol=1e-5, atol=1e-6)


def test_group_advantages_reject_a_vector():
    with pytest.raises(ValueError, match="G, T"):
        group_advantages(jnp.ones(3))


def test_discounted_returns_stop_at_the_first_episode_end():
    gamma = 0.9
    rewards = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [5.0, 1.0]], np.float32)  # [H=4, 2]
    dones = np.array([[False, False], [False, True], [True, False], [False, False]])
    want = np.zeros(2)
    for b in range(2):
        for t in range(4):
            want[b] += gamma ** t * rewards[t, b]
            if dones[t, b]:
                break
    np.testing.assert_allclose(discounted_returns(rewards, dones, gamma), want, rtol=1e-6)
    np.testing.assert_array_equal(
        alive_mask(dones), [[True, True], [True, True], [True, False], [False, False]])


def test_rewards_to_go_stop_at_the_first_episode_end():
    gamma = 0.9
    rewards = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [5.0, 1.0]], np.float32)
    dones = np.array([[False, False], [False, True], [True, False], [False, False]])
    want = np.zeros((4, 2))
    for b in range(2):
        end = next(t for t in range(4) if dones[t, b] or t == 3)
        for t in range(end + 1):
            want[t, b] = sum(gamma ** (k - t) * rewards[k, b] for k in range(t, end + 1))
    rtg = rewards_to_go(rewards, dones, gamma)
    np.testing.assert_allclose(rtg, want, rtol=1e-6)
    np.testing.assert_allclose(rtg[0], discounted_returns(rewards, dones, gamma), rtol=1e-6)


def reference_gae(rewards, values, dones, last_value, gamma, lam, truncated=None):
    """Loop version: termination bootstraps with 0, truncation masks the step and cuts."""
    H = len(rewards)
    truncated = np.zeros(H, bool) if truncated is None else truncated
    adv = np.zeros(H)
    next_adv, next_value = 0.0, last_value
    for t in reversed(range(H)):
        if truncated[t]:
            next_adv = 0.0
        else:
            nd = 0.0 if dones[t] else 1.0
            delta = rewards[t] + gamma * next_value * nd - values[t]
            next_adv = delta + gamma * lam * nd * next_adv
        adv[t] = next_adv
        next_value = values[t]
    return adv


def test_gae_matches_reference_on_a_short_trajectory():
    rng = np.random.default_rng(4)
    H = 7
    rewards = rng.normal(size=(H, 3)).astype(np.float32)
    values = rng.normal(size=(H, 3)).astype(np.float32)
    last = rng.normal(size=(3,)).astype(np.float32)
    dones = np.zeros((H, 3), bool)
    dones[2, 0] = dones[6, 1] = dones[0, 2] = dones[3, 2] = True
    adv, targets = gae(rewards, values, dones, last, 0.97, 0.9)
    want = np.stack([reference_gae(rewards[:, b], values[:, b], dones[:, b], last[b], 0.97, 0.9)
                     for b in range(3)], axis=1)
    np.testing.assert_allclose(adv, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(targets, want + values, rtol=1e-5, atol=1e-5)
    # lambda = 1 and no episode end: GAE is the bootstrapped discounted return minus the value.
    adv1, _ = gae(rewards[:, :1], values[:, :1], np.zeros((H, 1), bool), last[:1], 0.97, 1.0)
    ret = sum(0.97 ** t * rewards[t, 0] for t in range(H)) + 0.97 ** H * last[0]
    np.testing.assert_allclose(adv1[0, 0], ret - values[0, 0], rtol=1e-5)


def test_gae_broadcasts_dones_over_players():
    rng = np.random.default_rng(5)
    rewards = rng.normal(size=(5, 2, 3)).astype(np.float32)  # [H, B, T]
    values = rng.normal(size=(5, 2, 3)).astype(np.float32)
    last = rng.normal(size=(2, 3)).astype(np.float32)
    dones = np.zeros((5, 2), bool)
    dones[1, 0] = True
    adv, _ = gae(rewards, values, dones, last, 0.99, 0.95)
    full, _ = gae(rewards, values, np.broadcast_to(dones[..., None], (5, 2, 3)), last, 0.99, 0.95)
    np.testing.assert_allclose(adv, full, rtol=1e-6)


# Rewards, values and the value after the last step of one 5-step trajectory, gamma, lambda.
R5 = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32)
V5 = np.array([0.5, 1.0, 1.5, 2.0, 2.5], np.float32)
LAST5 = np.float32(3.0)
GAMMA, LAM = 0.9, 0.8  # gamma * lambda = 0.72


def gae_of(rewards, values, dones, last, truncated=None):
    adv, targets = gae(jnp.asarray(rewards), jnp.asarray(values), jnp.asarray(dones),
                       jnp.asarray(last), GAMMA, LAM,
                       truncated=None if truncated is None else jnp.asarray(truncated))
    return np.asarray(adv), np.asarray(targets)


def test_gae_truncation_masks_the_step_and_cuts_the_trace():
    # The time limit cuts the episode on step 2: step 3's state starts the next episode.
    dones = np.array([False, False, True, False, False])
    truncated = dones.copy()
    adv, targets = gae_of(R5, V5, dones, LAST5, truncated)
    # By hand, from the end: step 4 bootstraps from the last value, step 3 from step 4 ...
    a4 = 5.0 + 0.9 * 3.0 - 2.5  # 5.2
    a3 = (4.0 + 0.9 * 2.5 - 2.0) + 0.72 * a4  # 7.994
    a2 = 0.0  # truncated: TD error masked, nothing to bootstrap from
    a1 = (2.0 + 0.9 * 1.5 - 1.0) + 0.72 * a2  # 2.35: bootstraps from step 2's value, trace cut
    a0 = (1.0 + 0.9 * 1.0 - 0.5) + 0.72 * a1  # 3.092
    np.testing.assert_allclose(adv, [a0, a1, a2, a3, a4], rtol=1e-6)
    np.testing.assert_allclose(targets, np.array([a0, a1, a2, a3, a4]) + V5, rtol=1e-6)
    assert adv[2] == 0.0 and targets[2] == V5[2]  # exactly: the value is its own target
    # Nothing crosses the cut: the later episode does not move the earlier one's advantages,
    # nor the reward of the truncated step itself, and the earlier one does not move the later.
    r, v = R5.copy(), V5.copy()
    r[3:] += 100.0
    v[3:] -= 50.0
    r[2] += 7.0
    moved, _ = gae_of(r, v, dones, LAST5, truncated)
    np.testing.assert_array_equal(moved[:3], adv[:3])
    r, v = R5.copy(), V5.copy()
    r[:2] += 100.0
    v[:2] -= 50.0
    moved, _ = gae_of(r, v, dones, LAST5, truncated)
    np.testing.assert_array_equal(moved[2:], adv[2:])


def gae_before_truncation(rewards, values, dones, last_value, gamma, lam):
    """gae as it was before the `truncated` argument (the default must stay this, up to float
    rounding: the one recursion multiplies by exact ones, which XLA may fuse differently)."""
    dones = jnp.broadcast_to(
        jnp.reshape(dones, dones.shape + (1,) * (rewards.ndim - dones.ndim)), rewards.shape)
    not_done = 1.0 - dones.astype(jnp.float32)
    next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)

    def back(carry, x):
        r, v, v_next, nd = x
        delta = r + gamma * v_next * nd - v
        carry = delta + gamma * lam * nd * carry
        return carry, carry

    _, adv = jax.lax.scan(back, jnp.zeros_like(last_value),
                          (rewards, values, next_values, not_done), reverse=True)
    return adv, adv + values


def test_gae_default_is_the_old_gae():
    rng = np.random.default_rng(7)
    rewards = jnp.asarray(rng.normal(size=(6, 2, 3)), jnp.float32)
    values = jnp.asarray(rng.normal(size=(6, 2, 3)), jnp.float32)
    last = jnp.asarray(rng.normal(size=(2, 3)), jnp.float32)
    dones = jnp.asarray(rng.random((6, 2)) < 0.3)
    for fn in (lambda f: f, jax.jit):  # eager and compiled
        new = fn(lambda *a: gae(*a, 0.97, 0.9))(rewards, values, dones, last)
        old = fn(lambda *a: gae_before_truncation(*a, 0.97, 0.9))(rewards, values, dones, last)
        np.testing.assert_allclose(new[0], old[0], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(new[1], old[1], rtol=1e-6, atol=1e-6)


def test_gae_termination_is_unchanged():
    # The episode terminates on step 2 (value 0 after it), with or without the truncated flags.
    dones = np.array([False, False, True, False, False])
    old, old_targets = gae_of(R5, V5, dones, LAST5)
    new, new_targets = gae_of(R5, V5, dones, LAST5, np.zeros(5, bool))
    a4 = 5.0 + 0.9 * 3.0 - 2.5
    a3 = (4.0 + 0.9 * 2.5 - 2.0) + 0.72 * a4
    a2 = 3.0 - 1.5  # terminal: r - v
    a1 = (2.0 + 0.9 * 1.5 - 1.0) + 0.72 * a2
    a0 = (1.0 + 0.9 * 1.0 - 0.5) + 0.72 * a1
    np.testing.assert_allclose(old, [a0, a1, a2, a3, a4], rtol=1e-6)
    np.testing.assert_allclose(old_targets, np.array([a0, a1, a2, a3, a4]) + V5, rtol=1e-6)
    # Same numbers (up to float rounding: the masked path multiplies in another order).
    np.testing.assert_allclose(new, old, rtol=1e-6)
    np.testing.assert_allclose(new_targets, old_targets, rtol=1e-6)
    # A truncation at the last step masks only that step: the rollout's last value belongs to
    # the next episode.
    last_cut = np.array([False, False, True, False, True])
    adv, _ = gae_of(R5, V5, last_cut, LAST5, np.array([False] * 4 + [True]))
    assert adv[4] == 0.0
    np.testing.assert_allclose(adv[3], 4.0 + 0.9 * 2.5 - 2.0, rtol=1e-6)
    np.testing.assert_allclose(adv[:3], old[:3], rtol=1e-6)


def test_gae_with_truncations_matches_reference_and_broadcasts_over_players():
    rng = np.random.default_rng(6)
    H, B, T = 9, 4, 3
    rewards = rng.normal(size=(H, B, T)).astype(np.float32)
    values = rng.normal(size=(H, B, T)).astype(np.float32)
    last = rng.normal(size=(B, T)).astype(np.float32)
    dones = rng.random((H, B)) < 0.3
    truncated = dones & (rng.random((H, B)) < 0.5)
    adv, targets = gae_of(rewards, values, dones, last, truncated)
    for b, i in np.ndindex(B, T):
        want = reference_gae(rewards[:, b, i], values[:, b, i], dones[:, b], last[b, i],
                             GAMMA, LAM, truncated[:, b])
        np.testing.assert_allclose(adv[:, b, i], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(targets, adv + values, rtol=1e-6)
    full = lambda x: np.broadcast_to(x[..., None], (H, B, T))
    adv_full, _ = gae_of(rewards, values, full(dones), last, full(truncated))
    np.testing.assert_array_equal(adv_full, adv)
    assert np.all(adv[truncated] == 0.0)


def test_public_names():
    assert agents.group_advantages is group_advantages
    assert set(agents.ADVANTAGES) == {"grpo", "absolute", "critic", "grpo-branch", "grpo-cf"}
