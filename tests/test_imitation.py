"""agents.imitation: demonstrations of a teacher against itself, behaviour cloning, and the
warm start that `TrainConfig.imitate` runs inside `make_trainer`'s init."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import soccer_env
from agents import imitation
from agents.networks import make_policy
from agents.trainer import TrainConfig, make_trainer
from soccer_env import players
from soccer_env.actions import Action
from soccer_env.observations import observation_layout

ENV = soccer_env.SoccerEnv(soccer_env.scenario_config("2v2"))
T = ENV.team_size
GAMES, STEPS = 4, 64


def constant_teacher(left: int, right: int) -> players.Player:
    def bot(key, state, team):
        return jnp.full((T,), jnp.where(team == 0, left, right), jnp.int32)
    return players.from_bot(bot, "constant")


def demos(teacher, key=0):
    return jax.jit(lambda k: imitation.demonstrations(ENV, teacher, k, GAMES, STEPS))(
        jax.random.PRNGKey(key))


@pytest.fixture(scope="module")
def positional_demos():
    return demos(players.resolve("bot:positional", ENV))


def accuracy(network, params, data):
    logits = network.logits(params, data["obs"], data["action_mask"])
    return float(jnp.mean(jnp.argmax(logits, -1) == data["actions"]))


def test_demonstrations_record_every_player_of_both_teams_with_the_teachers_actions():
    data = demos(constant_teacher(int(Action.FORWARD), int(Action.BACK)))
    n = STEPS * GAMES * 2 * T
    assert data["obs"].shape == (n, ENV.obs_dim)
    assert data["action_mask"].shape == (n, ENV.num_actions)
    assert data["actions"].dtype == jnp.int32
    team = (np.arange(n) // T) % 2  # rows are [step, game, team, player]
    np.testing.assert_array_equal(np.asarray(data["actions"]),
                                  np.where(team == 0, int(Action.FORWARD), int(Action.BACK)))
    # each row is that player's own observation: its index one-hot is its player slot
    layout = {b.name: b.slice for b in observation_layout(ENV.config)}
    own_index = np.asarray(data["obs"][:, layout["own_index"]]).argmax(-1)
    np.testing.assert_array_equal(own_index, np.arange(n) % T)


def test_a_kick_the_mask_forbids_is_recorded_as_the_idle_the_game_played():
    data = demos(constant_teacher(int(Action.SHOOT), int(Action.SHOOT)))
    actions, may_shoot = np.asarray(data["actions"]), np.asarray(data["action_mask"])[:, Action.SHOOT]
    np.testing.assert_array_equal(actions, np.where(may_shoot, int(Action.SHOOT), int(Action.IDLE)))
    assert 0 < may_shoot.mean() < 0.5  # the owner only, and someone owned the ball


def test_demonstrations_are_deterministic_in_the_key(positional_demos):
    teacher = players.resolve("bot:positional", ENV)
    again, other = demos(teacher, 0), demos(teacher, 1)
    for name in positional_demos:
        np.testing.assert_array_equal(np.asarray(again[name]), np.asarray(positional_demos[name]))
    assert not np.array_equal(np.asarray(other["obs"]), np.asarray(positional_demos["obs"]))
    assert np.asarray(positional_demos["action_mask"])[
        np.arange(len(positional_demos["actions"])), np.asarray(positional_demos["actions"])].all()


def test_bad_arguments_name_the_parameter():
    teacher = constant_teacher(0, 0)
    with pytest.raises(ValueError, match="games=0"):
        imitation.demonstrations(ENV, teacher, jax.random.PRNGKey(0), 0)
    with pytest.raises(ValueError, match="steps=-1"):
        imitation.demonstrations(ENV, teacher, jax.random.PRNGKey(0), 1, steps=-1)
    network = make_policy(ENV.num_actions, hidden_sizes=(8,))
    params = network.init(jax.random.PRNGKey(0), ENV.obs_dim)
    data = {"obs": jnp.zeros((10, ENV.obs_dim)), "action_mask": jnp.ones((10, ENV.num_actions), bool),
            "actions": jnp.zeros((10,), jnp.int32)}
    with pytest.raises(ValueError, match="minibatch_size=16"):
        imitation.clone(network, params, data, jax.random.PRNGKey(0), epochs=1, lr=1e-3,
                        minibatch_size=16)


def test_clone_fits_the_teachers_actions_and_leaves_a_value_head_alone(positional_demos):
    network = make_policy(ENV.num_actions, hidden_sizes=(64, 64), value_outputs=T)
    params = network.init(jax.random.PRNGKey(0), ENV.obs_dim, ENV.state_dim)
    fit = jax.jit(lambda p, k: imitation.clone(network, p, positional_demos, k, epochs=20,
                                               lr=3e-3, minibatch_size=256))
    cloned, metrics = fit(params, jax.random.PRNGKey(1))
    loss, acc = np.asarray(metrics["loss"]), np.asarray(metrics["accuracy"])
    assert loss.shape == acc.shape == (20,)
    assert loss[-1] < 0.8 * loss[0] and acc[-1] > acc[0] + 0.1
    assert accuracy(network, cloned, positional_demos) > accuracy(network, params, positional_demos) + 0.2
    for a, b in zip(jax.tree.leaves(cloned["value"]), jax.tree.leaves(params["value"])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_imitate_warm_starts_init_deterministically_and_trains_on(positional_demos):
    base = TrainConfig(scenario="2v2", opponent="bot:chaser", num_games=4, group_size=2,
                       horizon=8, epochs=1, num_minibatches=2, hidden_sizes=(32, 32))
    warm = dataclasses.replace(base, imitate="bot:positional", imitate_games=1, imitate_epochs=60,
                               imitate_lr=1e-2)
    plain_state = jax.jit(make_trainer(base).init)(jax.random.PRNGKey(0))
    trainer = make_trainer(warm)
    init = jax.jit(trainer.init)
    state, again = init(jax.random.PRNGKey(0)), init(jax.random.PRNGKey(0))
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(again)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the clone plays like the teacher on games it never saw; the plain init does not
    network = trainer.network
    assert (accuracy(network, state.params, positional_demos)
            > accuracy(network, plain_state.params, positional_demos) + 0.2)
    for a, b in zip(jax.tree.leaves(state.ref_params), jax.tree.leaves(state.params)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # everything but the parameters is what a plain init gives (the trunk, the keys)
    np.testing.assert_array_equal(np.asarray(state.key), np.asarray(plain_state.key))
    new_state, metrics = jax.jit(trainer.update)(state)
    assert int(new_state.update) == 1 and np.isfinite(float(metrics["loss"]))
