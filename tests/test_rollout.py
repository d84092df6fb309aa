"""agents.rollout: G branches from the same state, the trunk advance, and both learning setups."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents
import soccer_env

H, B, G = 5, 2, 3


@pytest.fixture(scope="module")
def setup():
    env = soccer_env.make("2v2")
    network = agents.make_policy(env.num_actions, hidden_sizes=(16,), value_outputs=env.team_size)
    params = network.init(jax.random.PRNGKey(0), env.obs_dim, env.state_dim)
    bot = soccer_env.bots.get("random", env)
    play_branch, branch_rollout = agents.make_branch_rollout(env, network, bot, horizon=H,
                                                             with_value=True)
    _, trunk = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(1), B))
    play = jax.jit(play_branch)
    rollout = jax.jit(branch_rollout, static_argnums=3)
    return env, network, params, trunk, play, rollout


def first(tree, b=0):
    return jax.tree.map(lambda x: x[b], tree)


def assert_trees_equal(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)


def assert_trees_close(a, b):
    """Exact for ints and bools; floats up to rounding (vmap batches the matmuls differently)."""
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        if jnp.issubdtype(x.dtype, jnp.floating):
            np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_array_equal(x, y)


def trees_differ(a, b):
    return any(not np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_same_key_same_branch_other_key_other_branch(setup):
    env, network, params, trunk, play, _ = setup
    state = first(trunk)
    out_a = play(jax.random.PRNGKey(7), params, state)
    out_b = play(jax.random.PRNGKey(7), params, state)
    out_c = play(jax.random.PRNGKey(8), params, state)
    assert_trees_equal(out_a, out_b)
    assert trees_differ(out_a[0].actions, out_c[0].actions)
    assert trees_differ(out_a[1], out_c[1])  # the games went different ways


def test_branches_start_from_the_same_state_and_trunk_follows_branch_0(setup):
    env, network, params, trunk, play, rollout = setup
    key = jax.random.PRNGKey(11)
    out, next_trunk = rollout(key, params, trunk, G)
    tr = out.transitions
    assert tr.obs.shape == (B, G, H, 1, env.team_size, env.obs_dim)
    assert tr.rewards.shape == (B, G, H, 1, env.team_size)
    assert tr.done.shape == (B, G, H) and tr.goals.shape == (B, G, H, 2)
    assert tr.global_state.shape == (B, G, H, 1, env.state_dim)
    assert out.last_values.shape == (B, G, 1, env.team_size)
    for b in range(B):
        # Every branch starts from the trunk state of its game ...
        want_obs = jax.jit(env.observe)(first(trunk, b))[:1]
        for g in range(G):
            np.testing.assert_array_equal(tr.obs[b, g, 0], want_obs)
        # ... and the branches then differ (independent keys).
        assert not np.array_equal(tr.actions[b, 0], tr.actions[b, 1])
    # Branch (b, g) is play_branch with key split(key, (B, G))[b, g]; branch 0 is the trunk.
    keys = jax.random.split(key, (B, G))
    for b in range(B):
        transitions, final, last_values = play(keys[b, 0], params, first(trunk, b))
        assert_trees_close(final, first(next_trunk, b))
        assert_trees_close(transitions, jax.tree.map(lambda x: x[b, 0], tr))
        np.testing.assert_allclose(last_values, out.last_values[b, 0], rtol=1e-5, atol=1e-6)
    transitions, _, _ = play(keys[1, 2], params, first(trunk, 1))
    assert_trees_close(transitions, jax.tree.map(lambda x: x[1, 2], tr))
    assert np.all(np.asarray(next_trunk.step) == np.asarray(trunk.step) + H)


def test_recorded_samples_are_legal_and_consistent(setup):
    env, network, params, trunk, _, rollout = setup
    out, _ = rollout(jax.random.PRNGKey(12), params, trunk, G)
    tr = out.transitions
    picked = np.take_along_axis(np.asarray(tr.action_mask), np.asarray(tr.actions)[..., None], -1)
    assert np.all(picked)
    logits = jax.jit(network.logits)(params, tr.obs, tr.action_mask)
    log_p, _ = jax.jit(agents.log_probs_and_entropy)(logits, tr.actions)
    np.testing.assert_allclose(log_p, tr.log_probs, rtol=1e-5, atol=1e-6)
    values = jax.jit(network.value)(params, tr.global_state)
    np.testing.assert_allclose(values, tr.values, rtol=1e-5, atol=1e-6)


def test_self_play_learns_both_teams_in_their_own_frames():
    env = soccer_env.make("1v1", credit_weight=0.0, ball_progress_weight=1.0)
    network = agents.make_policy(env.num_actions, hidden_sizes=(8,))
    params = network.init(jax.random.PRNGKey(0), env.obs_dim)
    play_branch, _ = agents.make_branch_rollout(env, network, None, horizon=3)
    state = jax.jit(env.reset)(jax.random.PRNGKey(2))[1]
    tr, final, _ = jax.jit(play_branch)(jax.random.PRNGKey(3), params, state)
    assert tr.obs.shape == (3, 2, 1, env.obs_dim)  # L = 2 learning teams
    np.testing.assert_array_equal(tr.obs[0], jax.jit(env.observe)(state))
    # Each team's own reward: without credit and goals, only the progress shaping of the team
    # that has the ball (the kicker dribbles off; nobody else is near in 3 steps).
    rewards = np.asarray(tr.rewards)
    assert np.all((rewards[:, 0] == 0) | (rewards[:, 1] == 0)) and np.any(rewards != 0)
    assert tr.values.shape == (3, 2, 1) and np.all(np.asarray(tr.values) == 0)  # no critic
    assert int(final.step) == 3


def test_per_game_opponent_parameters():
    # One opponent per game (as a league gives): game 0's opponent idles, game 1's runs forward.
    env = soccer_env.make("1v1")
    network = agents.make_policy(env.num_actions, hidden_sizes=(8,))
    params = network.init(jax.random.PRNGKey(0), env.obs_dim)

    def opponent(key, state, team, opponent_params):
        return jnp.full((env.team_size,), opponent_params["action"], jnp.int32)

    _, branch_rollout = agents.make_branch_rollout(env, network, opponent, horizon=4)
    _, trunk = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(1), 2))
    out, next_trunk = jax.jit(branch_rollout, static_argnums=3)(
        jax.random.PRNGKey(2), params, trunk, 2, {"action": jnp.array([0, 1])})
    moved = np.asarray(next_trunk.player_pos[:, 1, 0, 0] - trunk.player_pos[:, 1, 0, 0])
    assert abs(moved[0]) < 0.05 and moved[1] < -0.5  # team 1 attacks -x in the world


@functools.lru_cache(maxsize=None)
def _replay_step(env, bot):
    """One jitted step of a replay: the bot's actions for team 1 and the env's step, with the
    same key split as play_branch (compiled once per env and bot)."""

    def step(state, learner_actions, step_key):
        _, k_opp, k_env = jax.random.split(step_key, 3)
        all_actions = jnp.concatenate([learner_actions, bot(k_opp, state, 1)[None]], axis=0)
        _, state, _, _, info = env.step(k_env, state, all_actions)
        return state, info["terminated"], info["truncated"]

    return jax.jit(step)


def replay_flags(env, bot, key, state, actions, horizon):
    """(terminated, truncated) [H] of the env's own info when the branch of `key` is played
    again step by step with the recorded actions (same key split as play_branch)."""
    step = _replay_step(env, bot)
    terminated, truncated = [], []
    for t, step_key in enumerate(jax.random.split(key, horizon)):
        state, term, cut = step(state, actions[t], step_key)
        terminated.append(bool(term))
        truncated.append(bool(cut))
    return np.array(terminated), np.array(truncated)


def test_truncated_flags_follow_the_time_limit():
    # Matches never terminate: with max_steps=5 from kickoff the episode is cut on every 5th
    # step (the env resets and the next episode runs another 5 steps).
    env = soccer_env.make("2v2", max_steps=5)
    network = agents.make_policy(env.num_actions, hidden_sizes=(8,))
    params = network.init(jax.random.PRNGKey(0), env.obs_dim)
    bot = soccer_env.bots.get("random", env)
    _, branch_rollout = agents.make_branch_rollout(env, network, bot, horizon=12)
    _, trunk = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(1), 2))
    out, _ = jax.jit(branch_rollout, static_argnums=3)(jax.random.PRNGKey(2), params, trunk, 2)
    tr = out.transitions
    assert tr.truncated.shape == tr.done.shape == (2, 2, 12) and tr.truncated.dtype == bool
    want = (np.arange(12) + 1) % 5 == 0  # steps 4 and 9
    np.testing.assert_array_equal(tr.truncated, np.broadcast_to(want, (2, 2, 12)))
    np.testing.assert_array_equal(tr.done, tr.truncated)


def test_truncated_is_the_envs_flag_and_done_stays_either_end():
    # A drill ends at a goal or a turnover (termination) or at max_steps (truncation): both
    # happen in these branches, and the rollout records exactly the env's flags.
    env = soccer_env.make("run_to_score_with_keeper", max_steps=6)
    network = agents.make_policy(env.num_actions, hidden_sizes=(8,), value_outputs=env.team_size)
    params = network.init(jax.random.PRNGKey(0), env.obs_dim, env.state_dim)
    bot = soccer_env.bots.get("chaser", env)
    horizon, B, G = 18, 2, 4
    _, branch_rollout = agents.make_branch_rollout(env, network, bot, horizon=horizon,
                                                   with_value=True)
    _, trunk = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(1), B))
    key = jax.random.PRNGKey(2)
    out, _ = jax.jit(branch_rollout, static_argnums=3)(key, params, trunk, G)
    tr = out.transitions
    done, truncated = np.asarray(tr.done), np.asarray(tr.truncated)
    assert truncated.any() and (done & ~truncated).any()  # both kinds of episode end occur
    keys = jax.random.split(key, (B, G))
    for b, g in np.ndindex(B, G):
        terminated, cut = replay_flags(env, bot, keys[b, g], first(trunk, b),
                                       tr.actions[b, g], horizon)
        np.testing.assert_array_equal(truncated[b, g], cut)
        np.testing.assert_array_equal(done[b, g], terminated | cut)
