"""agents.networks: the shared team policy, action masking and the value head."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents
import soccer_env
from agents.networks import MASKED_LOGIT, log_probs_and_entropy, sample_actions


@pytest.fixture(scope="module")
def env():
    return soccer_env.make("2v2")


@pytest.fixture(scope="module")
def network(env):
    return agents.make_policy(env.num_actions, hidden_sizes=(32, 32),
                              value_outputs=env.team_size)


@pytest.fixture(scope="module")
def params(env, network):
    return network.init(jax.random.PRNGKey(0), env.obs_dim, env.state_dim)


@pytest.fixture(scope="module")
def game(env):
    obs, state = jax.jit(env.reset)(jax.random.PRNGKey(1))
    return obs, state, jax.jit(env.action_mask)(state), jax.jit(env.global_state)(state)


def test_shapes_and_value_head(env, network, params, game):
    obs, _, mask, global_state = game
    logits = jax.jit(network.logits)(params, obs, mask)
    assert logits.shape == (2, env.team_size, env.num_actions)
    values = jax.jit(network.value)(params, global_state)
    assert values.shape == (2, env.team_size)
    assert set(params) == {"policy", "value"}
    no_critic = agents.make_policy(env.num_actions)
    assert set(no_critic.init(jax.random.PRNGKey(0), env.obs_dim)) == {"policy"}


def test_initial_policy_is_near_uniform_over_legal_actions(env, network, params, game):
    # Orthogonal init with a 0.01 output gain: logits start near zero.
    obs, _, mask, _ = game
    logits = jax.jit(network.logits)(params, obs, mask)
    _, entropy = log_probs_and_entropy(logits, jnp.zeros(mask.shape[:-1], jnp.int32))
    np.testing.assert_allclose(entropy, np.log(mask.sum(-1)), rtol=1e-3)
    kernel = params["policy"]["Dense_0"]["kernel"]  # [obs_dim, 32], orthogonal, gain sqrt(2)
    np.testing.assert_allclose(kernel.T @ kernel, 2.0 * np.eye(32), atol=1e-4)


def test_one_set_of_parameters_for_every_player(env, network, params, game):
    # The policy sees one player at a time: permuting the players permutes the logits.
    obs = game[0]
    flat = obs.reshape(-1, env.obs_dim)
    perm = np.array([3, 0, 2, 1])
    logits = jax.jit(network.logits)
    np.testing.assert_allclose(logits(params, flat[perm]), logits(params, flat)[perm],
                               rtol=1e-6)


def test_masked_actions_are_never_sampled(env, network, params):
    # Even when the raw logits of illegal actions are huge, they are never sampled.
    rng = np.random.default_rng(0)
    n = 4096
    mask = rng.random((n, env.num_actions)) < 0.4
    mask[:, 0] = True  # idle is always legal
    raw = jnp.asarray(rng.normal(size=(n, env.num_actions)) * 3 + np.where(mask, 0.0, 50.0),
                      jnp.float32)
    logits = agents.mask_logits(raw, mask)
    actions = sample_actions(jax.random.PRNGKey(3), logits)
    assert np.all(mask[np.arange(n), np.asarray(actions)])
    assert len(np.unique(np.asarray(actions))) == env.num_actions  # all legal ones do occur
    greedy = sample_actions(jax.random.PRNGKey(3), logits, greedy=True)
    assert np.all(mask[np.arange(n), np.asarray(greedy)])
    np.testing.assert_array_equal(np.asarray(logits)[~mask], MASKED_LOGIT)
    log_p, entropy = log_probs_and_entropy(logits, actions)
    assert np.all(np.isfinite(log_p)) and np.all(np.isfinite(entropy))
    np.testing.assert_allclose(jnp.sum(jax.nn.softmax(logits)[~mask]), 0.0, atol=0)


def test_masking_in_real_games(env, network, params):
    # A kick out of range is masked: a player far from the ball never shoots.
    keys = jax.random.split(jax.random.PRNGKey(4), 64)
    obs, states = jax.jit(jax.vmap(env.reset))(keys)
    masks = jax.jit(jax.vmap(env.action_mask))(states)
    assert not np.all(masks)  # some kicks are illegal at kickoff
    act = jax.jit(jax.vmap(lambda k, o, m: network.act(k, params, o, m)[0]))
    for i in range(4):
        actions = act(jax.random.split(jax.random.PRNGKey(10 + i), 64), obs, masks)
        picked = np.take_along_axis(np.asarray(masks), np.asarray(actions)[..., None], -1)
        assert np.all(picked)
    assert np.any(np.asarray(actions) >= 9)  # kicks are sampled where they are legal


def test_policy_player_plays_either_side(env, network, params, game):
    state = jax.jit(env.reset)(jax.random.PRNGKey(1))[1]
    bot = jax.jit(agents.policy_player(network, params, env.config))
    a0 = bot(jax.random.PRNGKey(0), state, 0)
    a1 = bot(jax.random.PRNGKey(0), state, jnp.int32(1))  # traced team
    assert a0.shape == a1.shape == (env.team_size,) and a0.dtype == jnp.int32
    # Greedy play in the mirrored world from the other side gives the same actions.
    mirrored = jax.jit(soccer_env.mirror)(state)
    np.testing.assert_array_equal(bot(jax.random.PRNGKey(5), mirrored, 1), a0)
    batched = jax.jit(jax.vmap(bot, in_axes=(0, 0, None)))(
        jax.random.split(jax.random.PRNGKey(6), 3),
        jax.tree.map(lambda x: jnp.stack([x] * 3), state), 1)
    assert batched.shape == (3, env.team_size)


@pytest.mark.parametrize("kwargs,field", [
    (dict(num_actions=1), "num_actions"),
    (dict(num_actions=11, hidden_sizes=()), "hidden_sizes"),
    (dict(num_actions=11, hidden_sizes=(0, 8)), "hidden_sizes"),
    (dict(num_actions=11, activation="sigmoidish"), "activation"),
    (dict(num_actions=11, value_outputs=-1), "value_outputs"),
])
def test_make_policy_rejects_bad_arguments(kwargs, field):
    num_actions = kwargs.pop("num_actions")
    with pytest.raises(ValueError, match=field):
        agents.make_policy(num_actions, **kwargs)


def test_value_head_needs_state_dim(env, network):
    with pytest.raises(ValueError, match="state_dim"):
        network.init(jax.random.PRNGKey(0), env.obs_dim)
