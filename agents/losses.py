"""The policy loss shared by every advantage estimator, and the critic's value loss.

Per sample (branch, player, step), averaged over the batch (DESIGN.md section 3):

    rho  = pi(a|o) / pi_old(a|o)
    pg   = -min(rho A, clip(rho, 1 - clip_eps, 1 + clip_eps) A)
    kl   = exp(q) - q - 1,  q = log pi_ref(a|o) - log pi(a|o)     (unbiased, >= 0)
    loss = pg + kl_coef * kl - ent_coef * entropy(pi(.|o))

Only the estimator of `A` differs between GRPO, the absolute-return baseline and MAPPO, so the
experiments compare like with like.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from agents.networks import log_probs_and_entropy, mask_logits


def _weighted_mean(x, weights, total):
    return jnp.sum(x * weights) / total


def grpo_loss(logits: jax.Array, actions: jax.Array, advantages: jax.Array,
              old_log_probs: jax.Array, ref_log_probs: jax.Array | None = None, *,
              clip_eps: float = 0.2, kl_coef: float = 0.0, ent_coef: float = 0.0,
              action_mask: jax.Array | None = None, weights: jax.Array | None = None):
    """Clipped-ratio policy loss with a KL penalty to a reference policy and an entropy bonus.

    logits [..., A] (of the policy being optimized; masked here again if `action_mask` is given),
    actions [...] int, advantages [...], old_log_probs [...] (log pi_old(a), the behaviour policy),
    ref_log_probs [...] (log pi_ref(a); needed when kl_coef != 0), weights [...] (optional, 0 for
    padding or samples outside a rollout's first episode; the mean is over the weighted samples).

    Returns (loss scalar, diagnostics dict of scalars: pg_loss, kl_ref, entropy, approx_kl (to
    pi_old, the k3 estimator), clip_frac, ratio_mean, adv_mean, adv_std, adv_abs_max).
    The loss depends on the policy only through log pi(a) of the taken actions (and, with an
    entropy bonus, the entropy); masked actions get zero gradient.
    """
    logits = mask_logits(logits, action_mask)
    log_p, entropy = log_probs_and_entropy(logits, actions)
    advantages = jax.lax.stop_gradient(advantages)
    old_log_probs = jax.lax.stop_gradient(old_log_probs)
    if weights is None:
        weights = jnp.ones_like(log_p)
    weights = jnp.broadcast_to(weights, log_p.shape).astype(jnp.float32)
    total = jnp.maximum(jnp.sum(weights), 1.0)

    log_ratio = log_p - old_log_probs
    ratio = jnp.exp(log_ratio)
    clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    pg = -jnp.minimum(ratio * advantages, clipped * advantages)
    pg_loss = _weighted_mean(pg, weights, total)
    loss = pg_loss

    if ref_log_probs is not None:
        q = jax.lax.stop_gradient(ref_log_probs) - log_p
        kl_ref = _weighted_mean(jnp.exp(q) - q - 1.0, weights, total)
    else:
        if kl_coef != 0.0:
            raise ValueError("ref_log_probs is required when kl_coef != 0")
        kl_ref = jnp.zeros(())
    if kl_coef != 0.0:
        loss = loss + kl_coef * kl_ref
    entropy_mean = _weighted_mean(entropy, weights, total)
    if ent_coef != 0.0:
        loss = loss - ent_coef * entropy_mean

    sg = jax.lax.stop_gradient
    adv_mean = _weighted_mean(advantages, weights, total)
    adv_var = _weighted_mean((advantages - adv_mean) ** 2, weights, total)
    diagnostics = {
        "pg_loss": pg_loss,
        "kl_ref": sg(kl_ref),
        "entropy": sg(entropy_mean),
        "approx_kl": sg(_weighted_mean((ratio - 1.0) - log_ratio, weights, total)),
        "clip_frac": sg(_weighted_mean((jnp.abs(ratio - 1.0) > clip_eps).astype(jnp.float32),
                                       weights, total)),
        "ratio_mean": sg(_weighted_mean(ratio, weights, total)),
        "adv_mean": adv_mean,
        "adv_std": jnp.sqrt(adv_var),
        "adv_abs_max": jnp.max(jnp.abs(advantages) * (weights > 0)),
    }
    return loss, diagnostics


def value_loss(values: jax.Array, targets: jax.Array, weights: jax.Array | None = None):
    """0.5 * mean squared error of the critic against its (GAE) targets."""
    err = 0.5 * (values - jax.lax.stop_gradient(targets)) ** 2
    if weights is None:
        return jnp.mean(err)
    weights = jnp.broadcast_to(weights, err.shape).astype(jnp.float32)
    return jnp.sum(err * weights) / jnp.maximum(jnp.sum(weights), 1.0)
