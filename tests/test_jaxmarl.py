"""The JaxMARL adapter: JaxMARL's own base class, spaces and baseline wrappers on it under
`jit(vmap(...))`; equality with the core game step for step (auto-resets and out-of-range
actions included); the opponent played inside the step; bad input. Games are short (MAX_STEPS)
so that episodes end inside the rollouts, and the rollouts are compiled once per module."""

from __future__ import annotations

import functools
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxmarl.environments.multi_agent_env import MultiAgentEnv
from jaxmarl.environments.spaces import Box, Discrete
from jaxmarl.wrappers.baselines import CTRolloutManager, LogWrapper

import soccer_env
from soccer_env import bots, jaxmarl as soccer_jaxmarl, observations
from soccer_env.bench import jaxmarl as bench
from soccer_env.jaxmarl import EVENTS, OPPONENT_STREAM, SoccerMultiAgentEnv, make

from conftest import QUICK_COMPILE, assert_equal_to_rounding, tree_equal

ROOT = pathlib.Path(__file__).resolve().parents[1]
MAX_STEPS = 12
GAMES, STEPS = 4, 30  # 30 steps of 12-step episodes: two auto-resets per game


def quick_jit(f):
    """jit at XLA's quick optimization level (the tests run each program for a few steps)."""
    return jax.jit(f, compiler_options=QUICK_COMPILE)


@pytest.fixture(scope="module")
def env():
    # Ball-progress shaping, so that short random games earn rewards that the tests can see.
    return make("2v2", max_steps=MAX_STEPS, ball_progress_weight=0.5)


@pytest.fixture(scope="module")
def step(env):
    """env.step on one game, compiled once for the module."""
    return quick_jit(env.step)


@pytest.fixture(scope="module")
def core(env):
    return env.core


def random_core_actions(seed, env, steps=STEPS, games=GAMES, low=-3, high_extra=3):
    """int32 [steps, games, 2, T], out-of-range indices included (below 0 and above A - 1)."""
    rng = np.random.default_rng(seed)
    T, A = env.config.team_size, env.num_actions
    return jnp.asarray(rng.integers(low, A + high_extra, (steps, games, 2, T)), jnp.int32)


def action_dict(env, actions):
    """The adapter's action dict from core actions [B, 2, T]: the left team's as shape [B]
    and the right team's as shape [B, 1] (the two shapes JaxMARL's baselines pass)."""
    out = {}
    for agent in env.agents:
        t, i = env._slots[agent]
        out[agent] = actions[:, t, i] if t == 0 else actions[:, t, i, None]
    return out


def rollout_keys(seed=0):
    """(reset keys [GAMES], step keys [STEPS, GAMES]) of the rollouts."""
    keys = jax.random.split(jax.random.PRNGKey(seed), STEPS * GAMES).reshape(STEPS, GAMES, -1)
    return jax.random.split(jax.random.PRNGKey(seed + 100), GAMES), keys


def scan_games(reset, step, reset_keys, keys, actions):
    """`lax.scan` of `jax.vmap(step)` over games from `jax.vmap(reset)`: the states before
    each step and the step's outputs, stacked over steps."""
    _, state = jax.vmap(reset)(reset_keys)

    def body(state, x):
        out = jax.vmap(step)(*x[:1], state, *x[1:])
        return out[1], (state, out)

    return jax.lax.scan(body, state, (keys, actions))[1]


@pytest.fixture(scope="module")
def rollouts(env, core):
    """One jit(vmap) program: the adapter's rollout with out-of-range actions, and the core's
    on the same keys with those actions clipped to [0, num_actions - 1] (as the core documents
    it treats them)."""
    actions = random_core_actions(0, env)
    reset_keys, keys = rollout_keys()

    @quick_jit
    def run(reset_keys, keys, actions):
        adapter = scan_games(env.reset, env.step, reset_keys, keys,
                             jax.vmap(functools.partial(action_dict, env))(actions))
        clipped = jnp.clip(actions, 0, env.num_actions - 1)
        return adapter, scan_games(core.reset, core.step, reset_keys, keys, clipped)

    adapter, core_out = run(reset_keys, keys, actions)
    return dict(actions=actions, adapter=adapter, core=core_out, reset_keys=reset_keys,
                keys=keys)


# --- the JaxMARL contract ------------------------------------------------------------------


def test_it_is_a_jaxmarl_env_with_jaxmarl_spaces(env, core):
    assert isinstance(env, MultiAgentEnv) and isinstance(env, SoccerMultiAgentEnv)
    assert env.agents == ["left_0", "left_1", "right_0", "right_1"]
    assert env.num_agents == 4
    assert env.agent_classes == {"left": ["left_0", "left_1"], "right": ["right_0", "right_1"]}
    low, high = observations.observation_bounds(core.config)
    for agent in env.agents:
        obs_space, act_space = env.observation_space(agent), env.action_space(agent)
        assert isinstance(obs_space, Box) and obs_space.shape == (core.obs_dim,)
        assert obs_space.dtype == jnp.float32
        np.testing.assert_array_equal(obs_space.low, low)
        np.testing.assert_array_equal(obs_space.high, high)
        assert np.all(np.isfinite(low)) and np.all(low < high)
        assert isinstance(act_space, Discrete) and act_space.n == core.num_actions == 11
        assert act_space.shape == () and act_space.dtype == jnp.int32
    assert set(env.observation_spaces) == set(env.action_spaces) == set(env.agents)
    with pytest.raises(ValueError, match=r"unknown agent 'right_7'.*left_0"):
        env.observation_space("right_7")
    with pytest.raises(ValueError, match="unknown agent"):
        env.action_space("agent_0")


def test_agents_are_the_players_on_the_pitch_of_the_controlled_teams():
    assert make("1v1").agents == ["left_0", "right_0"]
    # Drills: three attackers against a defender and a keeper; right_2 is off the pitch.
    assert make("3v1_with_keeper").agents == ["left_0", "left_1", "left_2", "right_0",
                                              "right_1"]
    assert make("2v2", opponent="bot:random").agents == ["left_0", "left_1"]
    right = make("2v2", opponent="bot:random", controlled_team="right")
    assert right.agents == ["right_0", "right_1"] and right.num_agents == 2
    assert right.agent_classes == {"right": ["right_0", "right_1"]}


@pytest.fixture(scope="module")
def views(env, core, rollouts):
    """The adapter's and the core's views of the rollout's states (game 0, every step), in one
    program: avail actions and the action mask, world state and global state."""
    states = jax.tree.map(lambda x: x[:, 0], rollouts["adapter"][0])

    @quick_jit
    def run(states):
        return tuple(jax.vmap(f)(states) for f in (env.get_avail_actions, core.action_mask,
                                                   env.world_state, core.global_state,
                                                   env.get_obs, core.observe))

    return run(states)


def test_reset_step_and_masks_have_jaxmarl_shapes_under_jit_vmap(env, rollouts, views):
    B, D, A = GAMES, env.obs_dim, env.num_actions
    state, (obs, next_state, rewards, dones, infos) = rollouts["adapter"]
    assert set(obs) == set(rewards) == set(env.agents)
    assert set(dones) == {*env.agents, "__all__"}
    for agent in env.agents:
        assert obs[agent].shape == (STEPS, B, D) and obs[agent].dtype == jnp.float32
        assert rewards[agent].shape == (STEPS, B) and rewards[agent].dtype == jnp.float32
        assert dones[agent].shape == (STEPS, B) and dones[agent].dtype == jnp.bool_
        np.testing.assert_array_equal(dones[agent], dones["__all__"])
    # Infos: arrays [num_agents] per game, as JaxMARL's baselines reshape and average them.
    assert set(infos) == {*EVENTS, "goals_for", "goals_against", "team_reward", "terminated",
                          "truncated"}
    for name, value in infos.items():
        assert value.shape == (STEPS, B, env.num_agents), name
    avail, _, world, _, get_obs, _ = views
    assert set(avail) == set(get_obs) == set(env.agents)
    assert all(m.shape == (STEPS, A) and m.dtype == jnp.bool_ for m in avail.values())
    assert all(o.shape == (STEPS, D) for o in get_obs.values())
    assert world.shape == (STEPS, env.num_agents, env.state_dim)


# --- equality with the core ----------------------------------------------------------------


def test_step_for_step_equal_to_the_core_game_with_actions_clipped_as_it_documents(
        env, rollouts):
    """Every output of the adapter equals the core's on the same keys, through auto-resets,
    with the adapter given out-of-range actions and the core the clipped ones."""
    actions = np.asarray(rollouts["actions"])
    assert (actions < 0).any() and (actions >= env.num_actions).any()  # the test's premise
    a_state, (a_obs, a_next, a_rew, a_done, a_info) = rollouts["adapter"]
    c_state, (c_obs, c_next, c_rew, c_done, c_info) = rollouts["core"]
    assert_equal_to_rounding(a_state, c_state)
    assert_equal_to_rounding(a_next, c_next)
    np.testing.assert_array_equal(a_done["__all__"], c_done)
    for k, agent in enumerate(env.agents):
        t, i = env._slots[agent]
        np.testing.assert_allclose(a_obs[agent], c_obs[:, :, t, i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a_rew[agent], c_rew[:, :, t, i], rtol=1e-5, atol=1e-6)
        for name in EVENTS:
            np.testing.assert_array_equal(a_info[name][..., k], c_info[name][:, :, t, i], name)
        np.testing.assert_array_equal(a_info["goals_for"][..., k], c_info["score"][..., t])
        np.testing.assert_array_equal(a_info["goals_against"][..., k],
                                      c_info["score"][..., 1 - t])
        np.testing.assert_allclose(a_info["team_reward"][..., k], c_info["team_reward"][..., t])
        np.testing.assert_array_equal(a_info["truncated"][..., k], c_info["truncated"])
        np.testing.assert_array_equal(a_info["terminated"][..., k], c_info["terminated"])
    assert np.abs(np.asarray(c_rew)).sum() > 0  # rewards were earned: not a check of zeros


def test_games_auto_reset_with_dones_all_at_the_time_limit(env, rollouts):
    state, (obs, next_state, _, dones, infos) = rollouts["adapter"]
    done = np.asarray(dones["__all__"])
    steps = np.asarray(state.step)
    # Every game ends at MAX_STEPS (a match has no other end) and starts again at step 0.
    np.testing.assert_array_equal(done, steps == MAX_STEPS - 1)
    assert done.sum() == 2 * GAMES
    np.testing.assert_array_equal(np.asarray(next_state.step)[done], 0)
    np.testing.assert_array_equal(np.asarray(next_state.score)[done], 0)
    np.testing.assert_array_equal(np.asarray(infos["truncated"])[..., 0], done)
    # The new episode is reset(key) of the step's key (the core's auto-reset).
    reset_obs, reset_state = quick_jit(jax.vmap(env.reset))(rollouts["keys"][done])
    assert_equal_to_rounding(jax.tree.map(lambda x: x[done], next_state), reset_state)
    for agent in env.agents:
        np.testing.assert_allclose(obs[agent][done], reset_obs[agent], rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def single_steps(env, rollouts):
    """One program of single-game steps from a kickoff of the rollout: the kicker (who has the
    ball) given out-of-range and in-range actions; a finished game and one that goes on, both
    with a `reset_state`; `step_env` at the time limit."""
    state = jax.tree.map(lambda x: x[0, 0], rollouts["adapter"][0])  # a kickoff
    owner = int(state.owner)
    T, A = env.config.team_size, env.num_actions
    kicker = f"{('left', 'right')[owner // T]}_{owner % T}"
    kicks = jnp.array([A + 4, A - 1, -5, 0], jnp.int32)
    idle = {a: jnp.int32(0) for a in env.agents}

    @quick_jit
    def run(key, state, other):
        def kick(action):
            return env.step(key, state, {**idle, kicker: action})[1]

        last = state.replace(step=jnp.int32(MAX_STEPS - 1))
        return dict(kicks=jax.vmap(kick)(kicks),
                    finished=env.step(key, last, idle, reset_state=other),
                    going_on=env.step(key, state, idle, reset_state=other),
                    no_reset=env.step_env(key, last, idle), other_obs=env.get_obs(other))

    other = state.replace(step=jnp.int32(7), score=jnp.array([2, 1], jnp.int32))
    return dict(run(jax.random.PRNGKey(5), state, other), other=other)


def test_reset_state_replaces_the_new_episode_and_step_env_never_resets(single_steps):
    finished, going_on, no_reset = (single_steps[k] for k in ("finished", "going_on",
                                                               "no_reset"))
    assert bool(finished[3]["__all__"]) and tree_equal(finished[1], single_steps["other"])
    assert tree_equal(finished[0], single_steps["other_obs"])
    assert not bool(going_on[3]["__all__"]) and int(going_on[1].step) == 1
    assert bool(no_reset[3]["__all__"]) and int(no_reset[1].step) == MAX_STEPS


def test_out_of_range_actions_act_as_the_nearest_index(single_steps):
    """The core clips (it cannot raise inside jit): above the table is its last action (a
    pass), below it idle. Checked for the player with the ball, for whom a pass acts."""
    above, last, below, idle = (jax.tree.map(lambda x, k=k: x[k], single_steps["kicks"])
                                for k in range(4))
    assert tree_equal(above, last)
    assert tree_equal(below, idle)
    assert not tree_equal(last, idle)  # the pass does act


def test_the_adapter_makes_one_core_call_per_step():
    """Dicts only at the edge: one `step` of the stacked core per adapter step (traced, not
    compiled)."""
    env = make("1v1", max_steps=MAX_STEPS)  # a fresh instance: nothing traced yet
    calls, depth = [], [0]
    for name in ("reset", "step", "step_env", "observe", "action_mask"):
        original = getattr(env.core, name)

        def counted(*args, _name=name, _original=original):
            if depth[0] == 0:  # a call by the adapter, not one the core makes inside
                calls.append(_name)
            depth[0] += 1
            try:
                return _original(*args)
            finally:
                depth[0] -= 1

        setattr(env.core, name, counted)
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    _, state = jax.eval_shape(jax.vmap(env.reset), keys)
    assert calls == ["reset"]
    calls.clear()
    jax.eval_shape(jax.vmap(env.step), keys, state,
                   {a: jnp.zeros((3, 1), jnp.int32) for a in env.agents})
    assert calls == ["step"]


def test_views_are_the_core_mask_global_state_and_observations(env, views):
    avail, mask, world, global_state, get_obs, core_obs = views
    assert np.asarray(mask[..., 9]).any()  # someone could kick at some step
    for k, agent in enumerate(env.agents):
        t, i = env._slots[agent]
        np.testing.assert_array_equal(avail[agent], mask[:, t, i])
        np.testing.assert_array_equal(world[:, k], global_state[:, t])
        np.testing.assert_array_equal(get_obs[agent], core_obs[:, t, i])


# --- JaxMARL's own wrappers ----------------------------------------------------------------


def test_jaxmarl_log_wrapper_runs_under_jit_vmap_and_counts_episodes(env, rollouts):
    """JaxMARL's LogWrapper on the adapter, rolled out under jit(vmap) on the rollout's keys
    and actions: its episode returns are the sums of the adapter's rewards."""
    wrapped = LogWrapper(env)
    run = quick_jit(functools.partial(scan_games, wrapped.reset, wrapped.step))
    actions = jax.vmap(functools.partial(action_dict, env))(rollouts["actions"])
    _, (_, states, _, dones, info) = run(rollouts["reset_keys"], rollouts["keys"], actions)
    adapter = rollouts["adapter"][1]
    done = np.asarray(dones["__all__"])
    np.testing.assert_array_equal(done, adapter[3]["__all__"])
    rewards = np.stack([adapter[2][a] for a in env.agents], axis=-1)  # [STEPS, B, agents]
    # Each episode's return is the sum of its rewards (episodes end at MAX_STEPS - 1, ...).
    for end in (MAX_STEPS, 2 * MAX_STEPS):
        np.testing.assert_allclose(info["returned_episode_returns"][end - 1],
                                   rewards[end - MAX_STEPS:end].sum(axis=0), rtol=1e-5,
                                   atol=1e-6)
    # ... and the running return inside an episode, too (rewards were earned: not zeros).
    running = np.cumsum(rewards[:MAX_STEPS - 1], axis=0)
    assert np.abs(running).max() > 0
    np.testing.assert_allclose(states.episode_returns[:MAX_STEPS - 1], running, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(info["returned_episode_lengths"][done], MAX_STEPS)
    np.testing.assert_array_equal(info["returned_episode"][..., 0], done)


def test_jaxmarl_rollout_manager_batches_the_adapter():
    """CTRolloutManager (the batching wrapper of JaxMARL's Q-learning baselines): batched
    reset and step with its own action sampler, global state and global reward."""
    env = make("1v1", max_steps=MAX_STEPS)
    manager = CTRolloutManager(env, batch_size=GAMES)

    @quick_jit
    def run(key):
        k_reset, k_act, k_step = jax.random.split(key, 3)
        _, state = manager.batch_reset(k_reset)
        actions = {a: manager.batch_sample(jax.random.fold_in(k_act, k), a)
                   for k, a in enumerate(env.agents)}
        return actions, manager.batch_step(k_step, state, actions)

    actions, (obs, state, rewards, dones, _) = run(jax.random.PRNGKey(0))
    assert all(a.shape == (GAMES,) for a in actions.values())
    # Observations padded with the one-hot agent id; "__all__" the concatenated observations.
    assert obs["left_0"].shape == (GAMES, env.obs_dim + env.num_agents)
    np.testing.assert_array_equal(obs["right_0"][:, -2:], [[0, 1]] * GAMES)
    assert obs["__all__"].shape == (GAMES, env.num_agents * env.obs_dim)
    assert rewards["__all__"].shape == dones["__all__"].shape == (GAMES,)
    np.testing.assert_array_equal(state.step, 1)


def test_the_docs_mappo_world_state_wrapper_runs_on_the_adapter(env):
    """The MAPPO wrapper of docs/jaxmarl.md, as written there, under JaxMARL's LogWrapper
    (traced under vmap, not compiled: the values are the core's, tested above)."""
    text = (ROOT / "docs" / "jaxmarl.md").read_text()
    blocks = [b.split("```")[0] for b in text.split("```python\n")[1:]]
    (source,) = [b for b in blocks if "class SoccerWorldStateWrapper" in b]
    namespace = {}
    exec(compile(source, "docs/jaxmarl.md", "exec"), namespace)
    wrapped = LogWrapper(namespace["SoccerWorldStateWrapper"](env))
    assert wrapped.world_state_size() == env.state_dim
    keys = jax.random.split(jax.random.PRNGKey(0), GAMES)
    obs, state = jax.eval_shape(jax.vmap(wrapped.reset), keys)
    assert obs["world_state"].shape == (GAMES, env.num_agents, env.state_dim)
    actions = {a: jax.ShapeDtypeStruct((GAMES, 1), jnp.int32) for a in env.agents}
    obs, _, _, _, info = jax.eval_shape(jax.vmap(wrapped.step), keys, state, actions)
    assert obs["world_state"].shape == (GAMES, env.num_agents, env.state_dim)
    assert info["returned_episode_returns"].shape == (GAMES, env.num_agents)


# --- opponents -----------------------------------------------------------------------------


def test_a_bot_opponent_plays_the_other_team_inside_the_step(core, rollouts):
    """The adapter's step equals the core step with the right team's actions those of the bot
    on `fold_in(key, OPPONENT_STREAM)`, under jit(vmap)."""
    env = make("2v2", opponent="bot:chaser", max_steps=MAX_STEPS, ball_progress_weight=0.5)
    assert env.agents == ["left_0", "left_1"] and env.config == core.config
    bot = bots.get("chaser", env.config)
    state = jax.tree.map(lambda x: x[1], rollouts["adapter"][0])  # [B] games after a step
    keys = rollouts["keys"][1]
    left = rollouts["actions"][1][:, 0]  # [B, T]

    def reference(key, state, left):
        right = bot(jax.random.fold_in(key, OPPONENT_STREAM), state, 1)
        return core.step(key, state, jnp.stack([left, right])), right

    @quick_jit
    def run(keys, state, left):
        actions = {a: left[:, i] for i, a in enumerate(env.agents)}
        return jax.vmap(env.step)(keys, state, actions), jax.vmap(reference)(keys, state, left)

    (obs, next_state, rewards, _, _), ((c_obs, c_state, c_rew, _, _), right) = run(
        keys, state, left)
    assert_equal_to_rounding(next_state, c_state)
    for i, agent in enumerate(env.agents):
        np.testing.assert_allclose(obs[agent], c_obs[:, 0, i], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rewards[agent], c_rew[:, 0, i], rtol=1e-5, atol=1e-6)
    # The chasers ran at the ball (the bot did play): nobody idled.
    assert np.all(np.asarray(right) != 0)


def test_a_function_opponent_can_play_the_left_team():
    """Any `(key, state, team)` function plays the opponent, here the left team."""
    def forward(key, state, team):
        return jnp.full((state.player_pos.shape[-2],), 1, jnp.int32)  # everyone runs forward

    env = make("1v1", opponent=forward, controlled_team="right", max_steps=MAX_STEPS)
    assert env.agents == ["right_0"]

    @quick_jit
    def run(key):
        def body(state, key):
            return env.step(key, state, {"right_0": jnp.int32(0)})[1], None

        return jax.lax.scan(body, env.reset(key)[1], jax.random.split(key, 5))[0]

    state = run(jax.random.PRNGKey(0))
    # The left player ran toward +x (its forward); the right one, idle, barely moved.
    assert float(state.player_vel[0, 0, 0]) > 1.0
    assert abs(float(state.player_vel[1, 0, 0])) < 0.5


# --- bad input -----------------------------------------------------------------------------


def test_bad_actions_raise_naming_the_agent_and_the_allowed_values(env, rollouts):
    state = jax.tree.map(lambda x: x[0, 0], rollouts["adapter"][0])
    key = jax.random.PRNGKey(1)
    good = {a: jnp.int32(0) for a in env.agents}
    cases = [
        ({k: v for k, v in good.items() if k != "left_1"}, r"no action for agents \['left_1'\]"),
        ({**good, "right_9": jnp.int32(0)}, r"actions given for \['right_9'\], which are not"),
        ({**good, "left_0": jnp.zeros(2, jnp.int32)}, r"'left_0' has shape \[2\]: allowed an "
                                                      r"integer array of shape \[\] or \[1\]"),
        ({**good, "right_0": jnp.float32(1.0)}, r"'right_0' has dtype float32: allowed .*"
                                                r"\[0, 10\] \(Discrete\(11\)\)"),
        ({**good, "right_0": jnp.bool_(True)}, "dtype bool"),
    ]
    for actions, message in cases:
        with pytest.raises(ValueError, match=message):
            env.step(key, state, actions)
    with pytest.raises(ValueError, match="actions must be a dict"):
        env.step(key, state, jnp.zeros((2, 2), jnp.int32))
    chaser = make("2v2", opponent="bot:chaser", max_steps=MAX_STEPS)
    with pytest.raises(ValueError, match=r"\['right_0', 'right_1'\], which are not agents"):
        chaser.step(key, state, good)  # the bot plays the right team


def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        make("nope")
    with pytest.raises(ValueError, match="scenario=3 is invalid"):
        make(3)
    with pytest.raises(ValueError, match=r"opponent='bot:nobody' is invalid: allowed 'bot:NAME'"):
        make(opponent="bot:nobody")
    with pytest.raises(ValueError, match="opponent='self' is invalid here"):
        make(opponent="self")  # without an opponent both teams are agents (self-play)
    with pytest.raises(ValueError, match="controlled_team='middle' is invalid"):
        make(opponent="bot:random", controlled_team="middle")
    with pytest.raises(ValueError, match="controlled_team applies only with an opponent"):
        make(controlled_team="right")
    with pytest.raises(ValueError, match="team_size"):
        make("2v2", team_size=0)
    with pytest.raises(ValueError, match="nobody to control"):
        make("empty_goal", opponent="bot:random", controlled_team="right")
    with pytest.raises(TypeError, match="EnvConfig"):
        SoccerMultiAgentEnv("2v2")


def test_make_takes_a_config_and_overrides():
    config = soccer_env.scenario_config("3v3")
    env = soccer_jaxmarl.make(config, max_steps=50, boundary="walls")
    assert env.config == config.replace(max_steps=50, boundary="walls")
    assert env.num_agents == 6 and env.num_actions == 12
    assert "SoccerMultiAgentEnv(agents=['left_0'" in repr(env)


# --- the overhead benchmark ----------------------------------------------------------------


def test_the_overhead_benchmark_runs_and_reports_both_rows_and_the_ratio(capsys):
    rows = bench.main(["--scenarios", "1v1", "--batches", "2", "--steps", "2", "--rounds", "1",
                       "--repeats", "1"])
    assert [r["what"] for r in rows[:2]] == ["core", "adapter"]
    assert all(r["env_steps_per_s"] > 0 and r["batch"] == 2 for r in rows[:2])
    assert rows[2]["ratio"] == pytest.approx(rows[1]["run_s"] / rows[0]["run_s"])
    out = capsys.readouterr().out
    assert "| 1v1 | 2 | overhead: adapter / core time per step = x" in out


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--batches", "0"], ["--rounds", "0"]])
def test_the_overhead_benchmark_rejects_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    assert exit_info.value.code == 2
    assert ">= 1" in capsys.readouterr().err
