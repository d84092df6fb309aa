"""agents.losses: the shared clipped-ratio loss against a hand computation, and its gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents.losses import grpo_loss, value_loss
from agents.networks import MASKED_LOGIT

# A tiny batch: 4 samples, 4 actions, the last action illegal for samples 0 and 2.
LOGITS = np.array([[0.5, -0.2, 0.1, 3.0],
                   [0.0, 1.0, -1.0, 0.3],
                   [2.0, 0.0, 0.4, -0.5],
                   [-0.3, 0.2, 0.0, 0.1]], np.float32)
MASK = np.array([[1, 1, 1, 0], [1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1]], bool)
ACTIONS = np.array([1, 3, 0, 2], np.int32)
ADV = np.array([1.5, -0.7, 0.4, -2.0], np.float32)
OLD = np.array([-1.57, -1.29, -0.7, -0.9], np.float32)  # ratios 1.10, 0.90, 1.51, 0.60
REF = np.array([-1.3, -1.2, -0.5, -1.6], np.float32)
WEIGHTS = np.array([1.0, 1.0, 1.0, 0.0], np.float32)  # the last sample is padding


def hand_log_softmax(logits, mask):
    out = np.full(logits.shape, -np.inf)
    for n in range(len(logits)):
        legal = [a for a in range(logits.shape[1]) if mask[n, a]]
        z = np.log(sum(np.exp(logits[n, a]) for a in legal))
        for a in legal:
            out[n, a] = logits[n, a] - z
    return out


def hand_loss(clip_eps, kl_coef, ent_coef, weights):
    log_p_all = hand_log_softmax(LOGITS.astype(np.float64), MASK)
    pg, kl, ent, clipped = [], [], [], []
    for n in range(len(ACTIONS)):
        log_p = log_p_all[n, ACTIONS[n]]
        rho = np.exp(log_p - OLD[n])
        unclipped_term = rho * ADV[n]
        clipped_term = min(max(rho, 1 - clip_eps), 1 + clip_eps) * ADV[n]
        pg.append(-min(unclipped_term, clipped_term))
        q = REF[n] - log_p
        kl.append(np.exp(q) - q - 1)
        ent.append(-sum(np.exp(log_p_all[n, a]) * log_p_all[n, a]
                        for a in range(4) if MASK[n, a]))
        clipped.append(abs(rho - 1) > clip_eps)
    w = weights / weights.sum()
    parts = dict(pg=np.dot(w, pg), kl=np.dot(w, kl), ent=np.dot(w, ent), clip=np.dot(w, clipped))
    loss = parts["pg"] + kl_coef * parts["kl"] - ent_coef * parts["ent"]
    return loss, parts


@pytest.mark.parametrize("kl_coef,ent_coef", [(0.0, 0.0), (0.1, 0.0), (0.04, 0.01)])
@pytest.mark.parametrize("padded", [False, True])
def test_loss_equals_hand_computation(kl_coef, ent_coef, padded):
    weights = WEIGHTS if padded else np.ones(4, np.float32)
    loss, diag = grpo_loss(LOGITS, ACTIONS, ADV, OLD, REF, clip_eps=0.2, kl_coef=kl_coef,
                           ent_coef=ent_coef, action_mask=MASK, weights=weights)
    want, parts = hand_loss(0.2, kl_coef, ent_coef, weights)
    np.testing.assert_allclose(loss, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(diag["pg_loss"], parts["pg"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(diag["kl_ref"], parts["kl"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(diag["entropy"], parts["ent"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(diag["clip_frac"], parts["clip"], rtol=1e-6)
    w = weights / weights.sum()
    np.testing.assert_allclose(diag["adv_mean"], np.dot(w, ADV), rtol=1e-5)
    assert 0.0 < float(diag["clip_frac"]) < 1.0  # the batch exercises both branches of the clip


def test_loss_at_the_behaviour_policy():
    log_p = hand_log_softmax(LOGITS.astype(np.float64), MASK)[np.arange(4), ACTIONS]
    loss, diag = grpo_loss(LOGITS, ACTIONS, ADV, log_p.astype(np.float32), log_p, kl_coef=1.0,
                           action_mask=MASK)
    np.testing.assert_allclose(loss, -np.mean(ADV), rtol=1e-5)  # rho = 1, KL to itself = 0
    np.testing.assert_allclose(diag["approx_kl"], 0.0, atol=1e-6)
    np.testing.assert_allclose(diag["kl_ref"], 0.0, atol=1e-6)
    assert float(diag["clip_frac"]) == 0.0


def test_gradient_flows_only_through_the_taken_actions_log_prob():
    clip_eps, beta = 0.2, 0.1

    def loss_of(logits):
        return grpo_loss(logits, ACTIONS, ADV, OLD, REF, clip_eps=clip_eps, kl_coef=beta,
                         action_mask=MASK, weights=WEIGHTS)[0]

    grad = np.asarray(jax.grad(loss_of)(jnp.asarray(LOGITS)))
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[~MASK], 0.0)  # illegal actions: no gradient at all
    np.testing.assert_array_equal(grad[3], 0.0)  # padding sample: no gradient
    # d loss / d logits[n] = c_n * (onehot(a_n) - pi_n): the loss sees the policy only through
    # log pi(a_n), with c_n = d loss / d log pi(a_n) worked out by hand.
    log_p_all = hand_log_softmax(LOGITS.astype(np.float64), MASK)
    probs = np.where(MASK, np.exp(log_p_all), 0.0)
    w = WEIGHTS / WEIGHTS.sum()
    for n in range(3):
        log_p = log_p_all[n, ACTIONS[n]]
        rho = np.exp(log_p - OLD[n])
        # The unclipped term is the active one unless the clip binds in the min.
        unclipped_active = rho * ADV[n] <= np.clip(rho, 1 - clip_eps, 1 + clip_eps) * ADV[n]
        d_pg = -ADV[n] * rho if unclipped_active else 0.0
        d_kl = beta * (1.0 - np.exp(REF[n] - log_p))
        c = w[n] * (d_pg + d_kl)
        want = c * (np.eye(4)[ACTIONS[n]] - probs[n])
        np.testing.assert_allclose(grad[n], want, rtol=1e-4, atol=1e-7)
    # Sample 2 has rho > 1 + eps with A > 0: the clip binds, so only the KL term moves it.
    rho2 = np.exp(log_p_all[2, ACTIONS[2]] - OLD[2])
    assert rho2 > 1 + clip_eps


def test_masked_logits_give_finite_entropy_and_gradients():
    logits = np.where(MASK, LOGITS, MASKED_LOGIT).astype(np.float32)
    loss, diag = grpo_loss(logits, ACTIONS, ADV, OLD, REF, kl_coef=0.1, ent_coef=0.5)
    assert np.isfinite(float(loss)) and np.isfinite(float(diag["entropy"]))
    grad = jax.grad(lambda l: grpo_loss(l, ACTIONS, ADV, OLD, REF, kl_coef=0.1,
                                        ent_coef=0.5)[0])(jnp.asarray(logits))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(np.asarray(grad)[~MASK], 0.0, atol=1e-30)


def test_kl_coef_needs_reference_log_probs():
    with pytest.raises(ValueError, match="ref_log_probs"):
        grpo_loss(LOGITS, ACTIONS, ADV, OLD, None, kl_coef=0.1)
    loss, diag = grpo_loss(LOGITS, ACTIONS, ADV, OLD, None)
    assert float(diag["kl_ref"]) == 0.0 and np.isfinite(float(loss))


def test_loss_is_jittable_over_batched_shapes():
    f = jax.jit(lambda l, a, adv, o, r: grpo_loss(l, a, adv, o, r, kl_coef=0.1,
                                                  action_mask=MASK)[0])
    batched = f(LOGITS[None].repeat(2, 0), ACTIONS[None].repeat(2, 0), ADV[None].repeat(2, 0),
                OLD[None].repeat(2, 0), REF[None].repeat(2, 0))
    single = grpo_loss(LOGITS, ACTIONS, ADV, OLD, REF, kl_coef=0.1, action_mask=MASK)[0]
    np.testing.assert_allclose(batched, single, rtol=1e-5)


def test_value_loss():
    values = np.array([[1.0, 2.0], [0.0, -1.0]], np.float32)
    targets = np.array([[0.0, 2.5], [1.0, -1.0]], np.float32)
    np.testing.assert_allclose(value_loss(values, targets), 0.5 * np.mean((values - targets) ** 2))
    w = np.array([1.0, 0.0], np.float32)[:, None]
    np.testing.assert_allclose(value_loss(values, targets, w), 0.5 * (1.0 + 0.25) / 2)
    grad = jax.grad(lambda t: value_loss(values, t))(jnp.asarray(targets))
    np.testing.assert_array_equal(grad, 0.0)  # targets are constants
