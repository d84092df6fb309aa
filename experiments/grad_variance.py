"""How noisy is the policy gradient? Its spread over independent batches at fixed parameters.

For K gradients g_1..g_K of the same loss at the same parameters, each from its own batch:

    relative variance  r = trace(Cov[g]) / |E[g]|^2

the inverse of the gradient's signal-to-noise ratio (McCandlish et al. 2018 call the
per-example version the "simple gradient noise scale"). It does not depend on the scale of the
advantages, so estimators that normalize (GRPO) and ones that do not (absolute returns) compare
directly: r = 1 means the noise of one batch is as large as the signal.

Estimators (`relative_variance`): trace(Cov) is the unbiased sample covariance's trace (K - 1).
The plug-in |mean|^2 is biased upward by trace(Cov) / K (the mean of K noisy gradients still
carries noise), which caps the plug-in ratio near K when the noise dominates, so the headline
`relative_variance` uses the unbiased |E g|^2 = |mean|^2 - trace / K; it is +inf when that is
not positive (the signal is not resolved with K batches: r is of order K or more).
`relative_variance_plugin` is the literal trace / |mean|^2.

Independent batches (`make_probe`): a batch is B trunk games each played from its current state
for G branches of H steps. The K batches are K consecutive calls of `Trainer.gradient` in a
`lax.scan`, each continuing the trunk games where the previous one left them (a stationary chain
of on-policy states), with fresh keys; the parameters stay fixed. K calls from the *same* trunk
states (a vmap over keys) would share the states' contribution to the gradient and so measure
only the within-state part of the variance. Consecutive batches of the chain are H steps apart,
so their states are still slightly correlated; that biases the variance estimate by O(tau / K)
only (tau the chain's correlation time in batches), and `lag1_autocorr` reports the measured
correlation of consecutive batches' deviations (about -1/K for independent batches).
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from agents.trainer import make_trainer


def flatten_batches(grads) -> jax.Array:
    """A pytree whose leaves have a leading batch axis K -> float32 [K, D]."""
    leaves = jax.tree.leaves(grads)
    if not leaves:
        raise ValueError("grads has no leaves")
    K = leaves[0].shape[0]
    if any(x.ndim < 1 or x.shape[0] != K for x in leaves):
        raise ValueError("every leaf of grads must have the same leading batch axis K")
    return jnp.concatenate([jnp.reshape(x, (K, -1)).astype(jnp.float32) for x in leaves], axis=1)


def relative_variance(grads) -> dict[str, jax.Array]:
    """Spread of K gradients (an array [K, D] or a pytree with leading K), all scalars:

    relative_variance: trace(Cov) / |E g|^2 with the unbiased |E g|^2 (+inf when unresolved);
    relative_variance_plugin: trace(Cov) / |mean|^2 (biased low; below about K);
    trace: trace of the unbiased sample covariance; mean_sq_norm: |mean|^2;
    signal_sq_norm: |mean|^2 - trace / K, unbiased for |E g|^2 (may be <= 0);
    lag1_autocorr: sum_k <d_k, d_k+1> / sum_k |d_k|^2 of the deviations d_k = g_k - mean.
    Pure and jittable (vmap it over seeds).
    """
    g = flatten_batches(grads)
    K = g.shape[0]
    if K < 2:
        raise ValueError(f"need at least 2 gradients, got K={K}")
    mean = jnp.mean(g, axis=0)
    dev = g - mean
    sq = jnp.sum(dev * dev, axis=1)  # [K]
    trace = jnp.sum(sq) / (K - 1)
    mean_sq = jnp.sum(mean * mean)
    signal = mean_sq - trace / K
    rel = jnp.where(signal > 0, trace / jnp.where(signal > 0, signal, 1.0), jnp.inf)
    lag1 = jnp.sum(dev[1:] * dev[:-1]) / jnp.maximum(jnp.sum(sq), 1e-30)
    return {"relative_variance": rel, "relative_variance_plugin": trace / mean_sq,
            "trace": trace, "mean_sq_norm": mean_sq, "signal_sq_norm": signal,
            "lag1_autocorr": lag1}


def policy_gradient_config(config):
    """The config whose `Trainer.gradient` is the pure policy gradient: no entropy bonus and
    no KL penalty (same network, game and batch; the critic's value loss only reaches the
    value network, which `make_probe` leaves out)."""
    return config.replace(ent_coef=0.0, kl_coef=0.0)


def make_probe(config, num_batches: int, paired_advantage: str | None = None) -> Callable:
    """probe(state, key) -> {"own": relative_variance(...), ["paired": ..., "paired_gap": ...]}
    of the policy-network gradient of `config`'s loss over `num_batches` chained batches from
    `state` (a TrainState of `config`'s trainer; its parameters are not changed, and the state
    is not returned: training goes on from the state as it was).

    paired_advantage: also the gradient of the same batches scored by this other advantage
    estimator (e.g. "absolute"): same parameters, trunk, keys and branch noise, and so the same
    games; only A changes, and for grpo-cf the samples scored too (grpo-cf scores its focal
    players only, the paired estimator every learner). "paired_gap" is the largest trunk
    difference between the two (0: same batches).
    Pure; vmap it over a leading seed axis of `state` and `key`.
    """

    if num_batches < 2:
        raise ValueError(f"num_batches={num_batches} is invalid: allowed an integer >= 2")
    own = make_trainer(policy_gradient_config(config))
    paired = None
    if paired_advantage is not None:
        # The same games: the paired estimator keeps the method's branch noise (grpo-cf's
        # common random numbers and focal players).
        paired = make_trainer(policy_gradient_config(config).replace(
            advantage=paired_advantage, branch_noise=config.noise))

    def policy_grad(trainer, state):
        grads, next_state = trainer.gradient(state)
        return flatten_batches(jax.tree.map(lambda x: x[None], grads["policy"]))[0], next_state

    def body(state, _):
        g, next_state = policy_grad(own, state)
        out = {"own": g}
        if paired is not None:
            out["paired"], paired_next = policy_grad(paired, state)
            a, b = next_state.trunk, paired_next.trunk
            out["gap"] = jnp.maximum(jnp.max(jnp.abs(a.player_pos - b.player_pos)),
                                     jnp.max(jnp.abs(a.ball_pos - b.ball_pos)))
        return next_state, out

    def probe(state, key):
        _, out = jax.lax.scan(body, state.replace(key=key), None, length=num_batches)
        result = {"own": relative_variance(out["own"])}
        if paired is not None:
            result["paired"] = relative_variance(out["paired"])
            result["paired_gap"] = jnp.max(out["gap"])
        return result

    return probe
