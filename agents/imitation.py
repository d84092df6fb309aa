"""Behaviour cloning: warm-start the shared policy by imitating a scripted player.

    data = demonstrations(env, teacher, key, games=512)        # the teacher against itself
    params, metrics = clone(network, params, data, key, epochs=15, lr=2e-3)

`demonstrations` plays `games` full games of `teacher` against itself (each game starting at a
random clock, as the training trunk does) and records, for every player of both teams, its
observation in its own team's frame, its action mask and the teacher's action: one policy then
learns to play either side. A teacher action that the mask forbids (a kick by a player without
the ball, which the game treats as an idle) is recorded as IDLE, the action the game played.

`clone` fits the network's masked logits to those actions by cross-entropy (Adam, learning rate
cosine-decayed to 0, shuffled minibatches), and returns the final parameters with the loss and
the accuracy (argmax equals the teacher's action) of each epoch. Both are pure and jittable;
`TrainConfig.imitate` runs them inside `make_trainer`'s `init`, so every run and every seed
starts from its own clone (the RL that follows starts from it; docs/game.md has what it does).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from agents.networks import PolicyNetwork, log_probs_and_entropy
from soccer_env.actions import Action
from soccer_env.env import SoccerEnv
from soccer_env.players import Player


def num_samples(env: SoccerEnv, games: int, steps: int | None = None) -> int:
    """Samples `demonstrations` records: every player of both teams at every step."""
    return (env.config.max_steps if steps is None else steps) * games * 2 * env.team_size


def sample_bytes(env: SoccerEnv) -> int:
    """Bytes one recorded sample holds (float32 observation, bool mask, int32 action)."""
    return 4 * env.obs_dim + env.num_actions + 4


def demonstrations(env: SoccerEnv, teacher: Player, key: jax.Array, games: int,
                   steps: int | None = None) -> dict[str, jax.Array]:
    """The teacher against itself, `games` games of `steps` steps (default: max_steps) ->
    {"obs": [n, obs_dim], "action_mask": [n, A] bool, "actions": [n] int32} with
    n = steps * games * 2 * T (every player of both teams at every step)."""
    if not isinstance(games, int) or isinstance(games, bool) or games < 1:
        raise ValueError(f"games={games!r} is invalid: allowed an integer >= 1")
    steps = env.config.max_steps if steps is None else steps
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps={steps!r} is invalid: allowed an integer >= 1")
    k_reset, k_clock, k_play = jax.random.split(key, 3)
    _, states = jax.vmap(env.reset)(jax.random.split(k_reset, games))
    if not env.config.goal_ends_episode:  # games at random clocks, as the training trunk
        clock = jax.random.randint(k_clock, (games,), 0, env.config.max_steps)
        states = states.replace(step=clock.astype(states.step.dtype))

    def one_step(state, key):
        k_left, k_right, k_env = jax.random.split(key, 3)
        actions = jnp.stack([teacher(k_left, state, 0), teacher(k_right, state, 1)])
        obs, mask = env.observe(state), env.action_mask(state)
        legal = jnp.take_along_axis(mask, actions[..., None], axis=-1)[..., 0]
        actions = jnp.where(legal, actions, int(Action.IDLE)).astype(jnp.int32)
        _, next_state, _, _, _ = env.step(k_env, state, actions)
        return next_state, (obs, mask, actions)

    def body(states, key):
        return jax.vmap(one_step)(states, jax.random.split(key, games))

    _, (obs, mask, actions) = jax.lax.scan(body, states, jax.random.split(k_play, steps))
    n = num_samples(env, games, steps)
    return {"obs": obs.reshape(n, -1), "action_mask": mask.reshape(n, -1),
            "actions": actions.reshape(n)}


def clone(network: PolicyNetwork, params: dict, data: dict[str, jax.Array], key: jax.Array, *,
          epochs: int, lr: float, minibatch_size: int = 4096):
    """Fit `params` (the policy head; a value head is left as it is) to the actions in `data`
    (from `demonstrations`) -> (params, {"loss": [epochs], "accuracy": [epochs]}), each the
    mean over that epoch's minibatches (a remainder of fewer than `minibatch_size` samples is
    left out of each epoch, a different one each epoch)."""
    n = data["actions"].shape[0]
    num_minibatches = n // minibatch_size
    if num_minibatches < 1:
        raise ValueError(f"minibatch_size={minibatch_size} is invalid: allowed at most the "
                         f"{n} samples of the demonstrations")
    optimizer = optax.adam(optax.cosine_decay_schedule(lr, epochs * num_minibatches))

    def loss_fn(p, batch):
        logits = network.logits(p, batch["obs"], batch["action_mask"])
        log_p, _ = log_probs_and_entropy(logits, batch["actions"])
        accuracy = jnp.mean(jnp.argmax(logits, axis=-1) == batch["actions"])
        return -jnp.mean(log_p), accuracy

    def minibatch(carry, idx):
        p, opt_state = carry
        batch = jax.tree.map(lambda x: x[idx], data)
        (loss, accuracy), grads = jax.value_and_grad(loss_fn, has_aux=True)(p, batch)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        return (optax.apply_updates(p, updates), opt_state), (loss, accuracy)

    def epoch(carry, key):
        order = jax.random.permutation(key, n)[:num_minibatches * minibatch_size]
        carry, (loss, accuracy) = jax.lax.scan(
            minibatch, carry, order.reshape(num_minibatches, minibatch_size))
        return carry, (jnp.mean(loss), jnp.mean(accuracy))

    (params, _), (loss, accuracy) = jax.lax.scan(
        epoch, (params, optimizer.init(params)), jax.random.split(key, epochs))
    return params, {"loss": loss, "accuracy": accuracy}
