"""The PettingZoo adapter: PettingZoo's own API and seed tests, spaces, seeding, bad input,
opponents, rendering. Every env here uses a short `max_steps` so that episodes end inside the
API tests, and the compiled functions are shared by all instances with the same settings."""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.spaces import Box, Discrete
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

import soccer_env
from soccer_env import bots, players
from soccer_env.pettingzoo import (
    SoccerParallelEnv,
    env as aec_env,
    observation_bounds,
    parallel_env,
    state_bounds,
)

MAX_STEPS = 40
SCENARIOS = ["1v1", "2v2", "5v5", "3v1_with_keeper"]


def make(scenario="2v2", **kwargs):
    return parallel_env(scenario, max_steps=MAX_STEPS, **kwargs)


def pettingzoo_warnings(caught):
    """The warnings PettingZoo's test utilities raised (API problems they tolerate)."""
    return [str(w.message) for w in caught if "pettingzoo" in (w.filename or "")]


def random_actions(env, infos, rng):
    return {a: int(rng.choice(np.flatnonzero(infos[a]["action_mask"]))) for a in env.agents}


# --- PettingZoo's own tests ----------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_parallel_api_test_passes(scenario):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parallel_api_test(make(scenario), num_cycles=MAX_STEPS + 5)
    assert pettingzoo_warnings(caught) == []


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_parallel_seed_test_passes(scenario):
    parallel_seed_test(functools.partial(make, scenario), num_cycles=MAX_STEPS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_aec_api_test_passes(scenario):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api_test(aec_env(scenario, max_steps=MAX_STEPS), num_cycles=MAX_STEPS + 5)
    assert pettingzoo_warnings(caught) == []


def test_aec_seed_test_passes():
    seed_test(functools.partial(aec_env, "2v2", max_steps=MAX_STEPS), num_cycles=MAX_STEPS)


def test_api_tests_pass_with_a_bot_opponent():
    parallel_api_test(make(opponent="bot:positional"), num_cycles=MAX_STEPS + 5)
    api_test(aec_env("2v2", max_steps=MAX_STEPS, opponent="bot:positional"),
             num_cycles=MAX_STEPS + 5)


# --- agents, spaces, observations ----------------------------------------------------------


def test_agent_names_say_team_and_index():
    assert make("2v2").possible_agents == ["left_0", "left_1", "right_0", "right_1"]
    assert make("1v1").possible_agents == ["left_0", "right_0"]
    # Drills: only the players on the pitch are agents (3 attackers, a defender and a keeper).
    assert make("3v1_with_keeper").possible_agents == [
        "left_0", "left_1", "left_2", "right_0", "right_1"]
    env = make("3v1_with_keeper")
    env.reset(seed=0)
    assert env.agents == env.possible_agents


def test_spaces_are_boxes_with_finite_bounds_and_discrete_actions():
    env = make("5v5")
    core = soccer_env.make("5v5")
    for agent in env.possible_agents:
        obs_space, act_space = env.observation_space(agent), env.action_space(agent)
        assert isinstance(obs_space, Box) and obs_space.dtype == np.float32
        assert obs_space.shape == (core.obs_dim,)
        assert np.all(np.isfinite(obs_space.low)) and np.all(np.isfinite(obs_space.high))
        assert np.all(obs_space.low < obs_space.high)
        assert isinstance(act_space, Discrete) and act_space.n == core.num_actions
        assert env.observation_space(agent) is obs_space  # the same object every time
    assert env.state_space.shape == (core.state_dim,)
    with pytest.raises(ValueError, match="right_7"):
        env.observation_space("right_7")


def test_observations_masks_and_state_match_the_core():
    env = make("2v2")
    core = soccer_env.make("2v2", max_steps=MAX_STEPS)
    observe, action_mask, global_state = (
        jax.jit(f) for f in (core.observe, core.action_mask, core.global_state))
    obs, infos = env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(5):
        game = env.game_state
        expected_obs = np.asarray(observe(game))
        expected_mask = np.asarray(action_mask(game))
        for agent in env.agents:
            team, index = (0 if agent.startswith("left") else 1), int(agent[-1])
            np.testing.assert_array_equal(obs[agent], expected_obs[team, index])
            np.testing.assert_array_equal(infos[agent]["action_mask"],
                                          expected_mask[team, index].astype(np.int8))
            assert infos[agent]["action_mask"].dtype == np.int8
            assert env.observation_space(agent).contains(obs[agent])
        state = env.state()
        np.testing.assert_array_equal(state, np.asarray(global_state(game))[0])
        assert env.state_space.contains(state)
        obs, _, _, _, infos = env.step(random_actions(env, infos, rng))
    assert set(infos["left_0"]) == {"action_mask", "touch", "pass_completed", "shot",
                                    "goal_scored"}


@pytest.mark.parametrize("scenario,bot,overrides", [
    ("5v5", "chaser", {"boundary": "rules"}),
    ("11v11", "chaser", {}),  # pile-ups of 22 chasers: the fastest players
    ("3v1_with_keeper", "random", {}),
])
def test_core_observations_stay_inside_the_declared_bounds(scenario, bot, overrides):
    """Long rollouts of the unclipped core stay inside the adapter's bounds (so the adapter's
    clip to them never changes an observation)."""
    core = soccer_env.make(scenario, **overrides)
    policy = bots.get(bot, core.config)
    low, high = observation_bounds(core.config)
    s_low, s_high = state_bounds(core.config)

    def episode(key):
        _, state = core.reset(key)

        def body(state, key):
            k_left, k_right, k_step = jax.random.split(key, 3)
            actions = jnp.stack([policy(k_left, state, 0), policy(k_right, state, 1)])
            obs, state, _, _, _ = core.step(k_step, state, actions)
            # Only players on the pitch are agents.
            obs_in = jnp.all((obs >= low) & (obs <= high), axis=-1) | ~state.active
            gs = core.global_state(state)
            gs_in = jnp.all((gs >= s_low) & (gs <= s_high))
            return state, jnp.all(obs_in) & gs_in

        _, inside = jax.lax.scan(body, state, jax.random.split(key, 600))
        return jnp.all(inside)

    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    assert bool(jnp.all(jax.jit(jax.vmap(episode))(keys)))


# --- seeding -------------------------------------------------------------------------------


def _trajectory(env, seed, steps=15):
    obs, infos = env.reset(seed=seed)
    out = [obs]
    rng = np.random.default_rng(1)
    for _ in range(steps):
        obs, rewards, _, _, infos = env.step(random_actions(env, infos, rng))
        out += [obs, rewards]
    return out


def _same(a, b):
    return all(
        x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x) for x, y in zip(a, b))


@pytest.mark.parametrize("opponent", [None, "bot:positional"])
def test_same_seed_gives_the_same_episode(opponent):
    first = _trajectory(make(opponent=opponent), seed=7)
    second = _trajectory(make(opponent=opponent), seed=7)
    assert _same(first, second)
    assert not _same(first, _trajectory(make(opponent=opponent), seed=8))


def test_reset_without_seed_continues_the_random_stream():
    env = make("2v2")
    first, _ = env.reset(seed=0)
    second, _ = env.reset()
    assert not np.array_equal(first["left_0"], second["left_0"])
    again = make("2v2")
    again.reset(seed=0)
    np.testing.assert_array_equal(again.reset()[0]["left_0"], second["left_0"])


def test_instances_with_the_same_settings_share_the_compiled_game():
    assert make("2v2")._core is make("2v2")._core
    assert make("2v2")._core is not make("2v2", opponent="bot:positional")._core


# --- bad input -----------------------------------------------------------------------------


def _snapshot(env):
    return [np.asarray(x) for x in jax.tree.leaves((env._key, env.game_state))]


@pytest.mark.parametrize("bad", [-1, 11, 2.5, "1", None, True, np.array([1, 2])])
def test_an_action_outside_the_space_raises_and_changes_nothing(bad):
    env = make("2v2")  # Discrete(11)
    env.reset(seed=0)
    before = _snapshot(env)
    with pytest.raises(ValueError, match=r"left_1.*\[0, 10\]"):
        env.step({"left_0": 0, "left_1": bad, "right_0": 0, "right_1": 0})
    assert all(np.array_equal(x, y) for x, y in zip(before, _snapshot(env)))
    assert env.agents == env.possible_agents
    # The next valid step is the one a fresh env takes: the random stream did not move either.
    fresh = make("2v2")
    fresh.reset(seed=0)
    actions = dict.fromkeys(env.agents, 1)
    assert _same([env.step(actions)[0]], [fresh.step(actions)[0]])


def test_a_missing_agent_raises_naming_it():
    env = make("2v2")
    env.reset(seed=0)
    before = _snapshot(env)
    with pytest.raises(ValueError, match=r"right_1.*\[0, 10\]"):
        env.step({"left_0": 0, "left_1": 0, "right_0": 0})
    assert all(np.array_equal(x, y) for x, y in zip(before, _snapshot(env)))


@pytest.mark.parametrize("scenario,kwargs,dead", [
    ("2v2", {}, "left_9"),  # no such player
    ("3v1_with_keeper", {}, "right_2"),  # off the pitch in this drill
    ("2v2", {"opponent": "bot:positional"}, "right_0"),  # played by the bot
])
def test_an_action_for_an_agent_that_is_not_live_raises(scenario, kwargs, dead):
    env = make(scenario, **kwargs)
    env.reset(seed=0)
    actions = dict.fromkeys(env.agents, 0)
    actions[dead] = 0
    before = _snapshot(env)
    with pytest.raises(ValueError, match=rf"{dead}.*not live.*\[0, {env.num_actions - 1}\]"):
        env.step(actions)
    assert all(np.array_equal(x, y) for x, y in zip(before, _snapshot(env)))


def test_step_before_reset_or_after_the_end_raises():
    env = make("2v2")
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
    env.reset(seed=0)
    while env.agents:
        env.step(dict.fromkeys(env.agents, 0))
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"left_0": 0})


def test_bad_constructor_arguments_raise():
    with pytest.raises(ValueError, match="opponent"):
        make(opponent="positional")
    # The same spec syntax and message as train.py's and eval.py's --opponent.
    with pytest.raises(ValueError, match=r"opponent='bot:nobody' is invalid: allowed 'bot:NAME'"):
        make(opponent="bot:nobody")
    with pytest.raises(ValueError, match="agents.load_policy"):
        make(opponent=".")  # a directory: load the run with agents.load_policy first
    with pytest.raises(ValueError, match="render_mode"):
        make(render_mode="ansi")
    with pytest.raises(ValueError, match="controlled_team"):
        make(opponent="bot:random", controlled_team="middle")
    with pytest.raises(ValueError, match="controlled_team"):
        make(controlled_team="right")  # without an opponent both teams are agents
    with pytest.raises(ValueError, match="team_size"):
        parallel_env("2v2", team_size=0)
    with pytest.raises(ValueError, match="nobody to control"):
        parallel_env("empty_goal", opponent="bot:random", controlled_team="right")


# --- episodes ------------------------------------------------------------------------------


def test_a_random_match_runs_to_truncation():
    env = make("2v2")
    obs, infos = env.reset(seed=1)
    rng = np.random.default_rng(0)
    steps = 0
    while env.agents:
        live = list(env.agents)
        obs, rewards, terminations, truncations, infos = env.step(
            random_actions(env, infos, rng))
        steps += 1
        assert set(obs) == set(rewards) == set(terminations) == set(infos) == set(live)
        assert all(np.isfinite(r) for r in rewards.values())
    assert steps == MAX_STEPS
    assert all(truncations.values()) and not any(terminations.values())
    assert env.agents == []


def test_a_random_drill_runs_to_its_end():
    env = parallel_env("3v1_with_keeper")  # ends at a goal, a turnover, or max_steps
    obs, infos = env.reset(seed=2)
    rng = np.random.default_rng(0)
    steps = 0
    while env.agents:
        obs, rewards, terminations, truncations, infos = env.step(
            random_actions(env, infos, rng))
        steps += 1
    done = [terminations[a] or truncations[a] for a in terminations]
    assert all(done) and steps <= env.config.max_steps
    assert all(terminations.values()) or all(truncations.values())


def test_a_bot_opponent_plays_the_other_team():
    env = make(opponent="bot:chaser")
    assert env.possible_agents == ["left_0", "left_1"]
    env.reset(seed=0)
    start = np.asarray(env.game_state.player_pos)
    for _ in range(5):
        env.step(dict.fromkeys(env.agents, 0))  # the learners stand still
    moved = np.linalg.norm(np.asarray(env.game_state.player_pos) - start, axis=-1)
    assert np.all(moved[1] > 0.5) and np.all(moved[0] < 0.1)


def _constant_act(params, key, state, team):
    return jnp.full((state.player_pos.shape[-2],), params, jnp.int32)


def test_player_opponents_with_other_params_share_one_compilation():
    """A Player's params are an argument of the compiled step (a new checkpoint of the same
    network does not compile again), and they decide what it plays."""
    still = make(opponent=players.Player(_constant_act, jnp.int32(0), "still"))
    forward = make(opponent=players.Player(_constant_act, jnp.int32(1), "forward"))
    assert still._core is forward._core
    moved = {}
    for name, env in (("still", still), ("forward", forward)):
        env.reset(seed=0)
        start = np.asarray(env.game_state.player_pos)
        for _ in range(5):
            env.step(dict.fromkeys(env.agents, 0))
        moved[name] = np.linalg.norm(np.asarray(env.game_state.player_pos) - start, axis=-1)[1]
    assert np.all(moved["still"] < 0.1) and np.all(moved["forward"] > 0.5)


def test_the_controlled_team_can_be_the_right_team():
    policy = bots.get("random", soccer_env.scenario_config("2v2", max_steps=MAX_STEPS))
    env = make(opponent=policy, controlled_team="right")  # any bot-signature function
    assert env.possible_agents == ["right_0", "right_1"]
    obs, _ = env.reset(seed=0)
    core = soccer_env.make("2v2", max_steps=MAX_STEPS)
    np.testing.assert_array_equal(obs["right_1"], np.asarray(core.observe(env.game_state))[1, 1])
    np.testing.assert_array_equal(env.state(), np.asarray(core.global_state(env.game_state))[1])


# --- rendering -----------------------------------------------------------------------------


def test_render_rgb_array_returns_a_frame():
    env = make(render_mode="rgb_array")
    env.reset(seed=0)
    env.step(dict.fromkeys(env.agents, 1))
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.shape[0] > 50
    aec = aec_env("2v2", max_steps=MAX_STEPS, render_mode="rgb_array")
    aec.reset(seed=0)
    assert aec.render().shape == frame.shape
    env.close()


def test_render_human_without_a_display_warns_and_carries_on(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    env = make(render_mode="human")
    with pytest.warns(UserWarning, match="display"):
        env.reset(seed=0)
    env.step(dict.fromkeys(env.agents, 0))
    assert env.render() is None
    env.close()


def test_render_human_draws_into_a_matplotlib_figure(monkeypatch):
    import matplotlib

    matplotlib.use("agg")  # the drawing path, without a screen
    monkeypatch.setattr("soccer_env.pettingzoo._display_available", lambda: True)
    env = make("1v1", render_mode="human")
    env.reset(seed=0)
    first = env._image.get_array().copy()
    for _ in range(3):
        env.step(dict.fromkeys(env.agents, 1))
    assert env._image.get_array().shape == first.shape
    assert not np.array_equal(env._image.get_array(), first)  # the picture follows the game
    env.close()
    assert env._figure is None


def test_render_without_a_mode_returns_none():
    env = make()
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def test_repr_and_class():
    env = make()
    assert isinstance(env, SoccerParallelEnv)
    assert str(env) == "soccer_v0" and "left_0" in repr(env)
