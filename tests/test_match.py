"""soccer_env.match: the one vectorized match runner (counters, sides, params, trajectories,
episode ends, caching, head_to_head in one program), with players from soccer_env.players."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import soccer_env
from soccer_env import bots, match, players

# The keeper never has to release the ball within these 60 steps, so a team that never kicks
# never shoots.
ENV = soccer_env.make("2v2", max_steps=60, keeper_hold_steps=100)
CHASER = players.resolve("bot:chaser", ENV)
RANDOM = players.resolve("bot:random", ENV)


def constant_act(params, key, state, team):
    """Every player plays the action `params` (a traced int): 0 stands still."""
    del key, team
    return jnp.full((state.player_pos.shape[-2],), params, jnp.int32)


def constant(action):
    return players.Player(constant_act, action, f"constant {action}")


def test_counters_and_trajectory_agree():
    counters, trajectory = match.play(ENV, CHASER, RANDOM, jax.random.PRNGKey(0), 4,
                                      record=True)
    assert set(counters) == set(match.COUNTERS)
    for x in counters.values():
        assert x.shape == (4, 2) and x.dtype == np.int32 and (x >= 0).all()
    assert trajectory.player_pos.shape == (4, ENV.config.max_steps, 2, 2, 2)
    np.testing.assert_array_equal(trajectory.score[:, -1], counters["goals"])
    assert (counters["shots"] >= counters["shots_on_target"]).all()
    assert (counters["passes"] >= counters["passes_completed"]).all()
    assert (counters["goals"] >= counters["goals_after_pass"]).all()
    assert (counters["goals"] >= counters["goals_carried"]).all()
    assert (counters["possession_steps"].sum(axis=1) <= ENV.config.max_steps).all()
    # Same key, same games, whichever way the players were made: one compiled match.
    again, _ = match.play(ENV, players.from_bot(bots.get("chaser", ENV.config)),
                          players.resolve("bot:random", ENV), jax.random.PRNGKey(0), 4)
    for k in match.COUNTERS:
        np.testing.assert_array_equal(again[k], counters[k])
    assert players.resolve("bot:chaser", ENV).act is CHASER.act
    assert match.match_fn(ENV.config, CHASER.act, RANDOM.act, 60, True) is match.match_fn(
        ENV.config, CHASER.act, RANDOM.act, 60, True)


def test_sides_and_params():
    """Player a plays team a_side; its params reach it traced (a constant action here)."""
    a_side = np.array([0, 1, 1])
    counters, _ = match.play(ENV, CHASER, constant(0), jax.random.PRNGKey(1), 3, 60,
                             a_side=a_side)
    shots = counters["shots"]  # the constant team never kicks (the chaser tackles it)
    assert (shots[np.arange(3), 1 - a_side] == 0).all() and (shots[np.arange(3), a_side] > 0).all()
    for_a = match.from_a_side(counters, a_side)
    assert (for_a["shots"][:, 1] == 0).all() and (for_a["shots"][:, 0] > 0).all()
    moved, _ = match.play(ENV, CHASER, constant(1), jax.random.PRNGKey(1), 3, 60,
                          a_side=a_side)  # forward: same compilation, other params
    assert not all(np.array_equal(moved[k], counters[k]) for k in counters)


def test_head_to_head_plays_both_sides_in_one_program():
    """The first half of the games with a on the left, the rest on the right, counted from a's
    side: the same games as `play` with that a_side, and the weak side never shoots."""
    key = jax.random.PRNGKey(3)
    from_a = match.head_to_head(ENV, CHASER, constant(0), key, 5, 60)
    a_side = np.array([0, 0, 1, 1, 1])
    world, _ = match.play(ENV, CHASER, constant(0), key, 5, 60, a_side=a_side)
    for k in match.COUNTERS:
        np.testing.assert_array_equal(from_a[k], match.from_a_side(world, a_side)[k])
    assert (from_a["shots"][:, 1] == 0).all() and (from_a["shots"][:, 0] > 0).all()


def test_record_gives_one_game_as_the_left_team():
    trajectory, counters = match.record(ENV, CHASER, RANDOM, jax.random.PRNGKey(4))
    assert trajectory.player_pos.shape == (ENV.config.max_steps, 2, 2, 2)
    world, _ = match.run(ENV, CHASER, RANDOM, jax.random.PRNGKey(4)[None])
    for k in match.COUNTERS:
        np.testing.assert_array_equal(world[k][0], counters[k])
    np.testing.assert_array_equal(trajectory.score[-1], counters["goals"])


def test_counters_and_state_freeze_when_the_episode_ends():
    drill = soccer_env.make("empty_goal")  # a goal (or the defender's touch) ends the episode
    chaser = players.resolve("bot:chaser", drill)
    steps = drill.config.max_steps + 20
    counters, trajectory = match.play(drill, chaser, chaser, jax.random.PRNGKey(2), 4, steps,
                                      record=True)
    assert (counters["goals"].sum(axis=1) <= 1).all()
    assert counters["goals"].sum() >= 1
    # The step counter stops at the episode's end and the last states repeat.
    assert (trajectory.step[:, -1] <= drill.config.max_steps).all()
    np.testing.assert_array_equal(trajectory.ball_pos[:, -1], trajectory.ball_pos[:, -2])


def test_bad_arguments():
    with pytest.raises(ValueError, match="games"):
        match.play(ENV, CHASER, RANDOM, jax.random.PRNGKey(0), 0)
    with pytest.raises(ValueError, match="steps"):
        match.play(ENV, CHASER, RANDOM, jax.random.PRNGKey(0), 2, steps=0)
    with pytest.raises(ValueError, match="SoccerEnv"):
        match.play(ENV.config, CHASER, RANDOM, jax.random.PRNGKey(0), 2)
    with pytest.raises(ValueError, match="Player"):
        match.play(ENV, bots.get("chaser", ENV.config), RANDOM, jax.random.PRNGKey(0), 2)
    for a_side in ([0, 2], [0], [[0, 1]]):
        with pytest.raises(ValueError, match="a_side"):
            match.play(ENV, CHASER, RANDOM, jax.random.PRNGKey(0), 2, a_side=a_side)
