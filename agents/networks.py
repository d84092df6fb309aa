"""The shared team policy and the optional centralized critic (flax).

One `PolicyNetwork` maps a single player's observation (which carries the player's index
one-hot and everything in its team's frame) to action logits. The same parameters act for every
teammate and, in self-play, for both teams: batching players is `vmap`/broadcasting, never a
Python loop. Illegal actions get a large negative logit, so they are never sampled and their
probability (and gradient) is exactly zero.

The optional value head (MAPPO's critic) reads a team's `global_state` and predicts one value per
teammate (rewards are per player: `team_reward + credit_weight * credit`).

    network = make_policy(env.num_actions, value_outputs=env.team_size)
    params = network.init(key, obs_dim=env.obs_dim, state_dim=env.state_dim)
    logits = network.logits(params, obs, mask)        # [..., A], masked
    values = network.value(params, global_state)      # [..., T]
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from soccer_env.env import SoccerEnv

# Logit of an illegal action. Finite (not -inf) so that softmax, log-softmax and their gradients
# stay finite; exp(-1e9 - max) underflows to exactly 0 in float32.
MASKED_LOGIT = -1e9

ACTIVATIONS: dict[str, Callable] = {"tanh": nn.tanh, "relu": nn.relu, "gelu": nn.gelu,
                                    "silu": nn.silu}


class MLP(nn.Module):
    """Dense layers with orthogonal init (PureJaxRL's defaults): sqrt(2) gain on hidden layers,
    `out_scale` on the output layer (0.01 for policy logits: a near-uniform initial policy)."""

    hidden_sizes: Sequence[int]
    out_dim: int
    activation: str = "tanh"
    out_scale: float = 1.0

    @nn.compact
    def __call__(self, x):
        act = ACTIVATIONS[self.activation]
        for size in self.hidden_sizes:
            x = nn.Dense(size, kernel_init=nn.initializers.orthogonal(np.sqrt(2.0)),
                         bias_init=nn.initializers.zeros)(x)
            x = act(x)
        return nn.Dense(self.out_dim, kernel_init=nn.initializers.orthogonal(self.out_scale),
                        bias_init=nn.initializers.zeros)(x)


def mask_logits(logits: jax.Array, action_mask: jax.Array | None) -> jax.Array:
    """Illegal actions (mask False) get MASKED_LOGIT; `None` leaves the logits as they are."""
    if action_mask is None:
        return logits
    return jnp.where(action_mask, logits, MASKED_LOGIT)


def log_probs_and_entropy(logits: jax.Array, actions: jax.Array):
    """log pi(a) of the taken `actions` [...] and the entropy [...] of the (masked) `logits`."""
    log_p = jax.nn.log_softmax(logits, axis=-1)
    taken = jnp.take_along_axis(log_p, actions[..., None].astype(jnp.int32), axis=-1)[..., 0]
    p = jnp.exp(log_p)
    # Masked entries have p == 0 exactly; the where keeps 0 * (-1e9) out of the sum.
    entropy = -jnp.sum(jnp.where(p > 0, p * log_p, 0.0), axis=-1)
    return taken, entropy


def sample_actions(key: chex.PRNGKey, logits: jax.Array, greedy: bool = False) -> jax.Array:
    """int32 actions [...] from masked logits [..., A] (argmax when `greedy`)."""
    if greedy:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)


@dataclasses.dataclass(frozen=True)
class PolicyNetwork:
    """Pure functions around the flax modules. Params: {"policy": ..., "value": ...} (no "value"
    entry without a value head). Hashable, so it can be closed over or passed as static."""

    num_actions: int
    hidden_sizes: tuple[int, ...] = (128, 128)
    activation: str = "tanh"
    value_outputs: int = 0  # 0: no value head; else one value per teammate
    value_hidden_sizes: tuple[int, ...] = (128, 128)

    @property
    def policy_module(self) -> MLP:
        return MLP(self.hidden_sizes, self.num_actions, self.activation, out_scale=0.01)

    @property
    def value_module(self) -> MLP:
        return MLP(self.value_hidden_sizes, self.value_outputs, self.activation, out_scale=1.0)

    @property
    def has_value(self) -> bool:
        return self.value_outputs > 0

    def init(self, key: chex.PRNGKey, obs_dim: int, state_dim: int | None = None) -> dict:
        k_pi, k_v = jax.random.split(key)
        params = {"policy": self.policy_module.init(k_pi, jnp.zeros((1, obs_dim)))["params"]}
        if self.has_value:
            if state_dim is None:
                raise ValueError("state_dim is needed to initialise the value head")
            params["value"] = self.value_module.init(k_v, jnp.zeros((1, state_dim)))["params"]
        return params

    def logits(self, params: dict, obs: jax.Array, action_mask: jax.Array | None = None):
        """obs [..., obs_dim] -> masked logits [..., num_actions]."""
        raw = self.policy_module.apply({"params": params["policy"]}, obs)
        return mask_logits(raw, action_mask)

    def value(self, params: dict, global_state: jax.Array) -> jax.Array:
        """global_state [..., state_dim] -> values [..., value_outputs] (one per teammate)."""
        return self.value_module.apply({"params": params["value"]}, global_state)

    def act(self, key, params, obs, action_mask, greedy: bool = False):
        """Sample (or argmax) actions; returns (actions int32 [...], log pi(a) [...])."""
        logits = self.logits(params, obs, action_mask)
        actions = sample_actions(key, logits, greedy)
        log_p, _ = log_probs_and_entropy(logits, actions)
        return actions, log_p


def make_policy(num_actions: int, *, hidden_sizes: Sequence[int] = (128, 128),
                activation: str = "tanh", value_outputs: int = 0,
                value_hidden_sizes: Sequence[int] | None = None) -> PolicyNetwork:
    """The shared team policy: an MLP from one player's observation to `num_actions` logits.

    hidden_sizes: policy layer widths (2 x 128 trains fast on CPU).
    activation: one of ACTIVATIONS.
    value_outputs: 0 for no critic; `team_size` for MAPPO's per-player value of `global_state`.
    value_hidden_sizes: critic layer widths (default: the policy's).
    """
    if not isinstance(num_actions, int) or num_actions < 2:
        raise ValueError(f"num_actions={num_actions!r} is invalid: allowed an integer >= 2")
    hidden_sizes = tuple(int(h) for h in hidden_sizes)
    if not hidden_sizes or any(h < 1 for h in hidden_sizes):
        raise ValueError(f"hidden_sizes={hidden_sizes!r} is invalid: allowed a non-empty "
                         "sequence of positive integers")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is invalid: allowed one of "
                         f"{sorted(ACTIVATIONS)}")
    if not isinstance(value_outputs, int) or value_outputs < 0:
        raise ValueError(f"value_outputs={value_outputs!r} is invalid: allowed an integer >= 0")
    value_hidden = hidden_sizes if value_hidden_sizes is None else tuple(value_hidden_sizes)
    return PolicyNetwork(num_actions, hidden_sizes, activation, value_outputs, value_hidden)


@functools.lru_cache(maxsize=None)
def policy_act(network: PolicyNetwork, config, greedy: bool = True):
    """The policy network as a player's `act(params, key, state, team) -> int32 [T]`
    (`soccer_env.players.Player`): it observes the state in `team`'s frame, masks illegal
    actions and acts greedily (argmax) unless `greedy=False`. The project's one observe ->
    mask -> act (cached per network, game config and mode, so compiled matches are reused)."""
    env = SoccerEnv(config)

    def act(params, key, state, team):
        obs = env.observe(state)[team]  # [T, obs_dim], in `team`'s frame
        mask = env.action_mask(state)[team]
        actions, _ = network.act(key, params, obs, mask, greedy=greedy)
        return actions

    return act
