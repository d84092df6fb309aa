"""grpo-cf: per-player counterfactual groups from branches with common random numbers.

The branches of a trunk state share the game's noise, the opponent's draws and every learner's
action draws but one focal player's (agents/rollout.py); the group is the G branches of that
state, and the focal player's samples carry the team return's deviation from the group mean
(agents/trainer.py `compute_advantages`).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from agents.advantages import rotating_focal
from agents.rollout import Rollout, Transition, make_branch_rollout
from agents.trainer import TrainConfig, compute_advantages, make_trainer
from soccer_env.actions import Action
from soccer_env.players import bot_player, parse_spec

B, G, H = 3, 8, 3
OPPONENT = "bot:random"  # its draws are the opponent's noise


def _config(advantage, branch_noise=None):
    return TrainConfig(scenario="2v2", opponent=OPPONENT, advantage=advantage,
                       branch_noise=branch_noise, num_games=B, group_size=G, horizon=H,
                       num_minibatches=1, hidden_sizes=(8,))


@pytest.fixture(scope="module")
def game():
    """(env, network, jitted branch_rollout) shared by the tests: one compile per branch count
    and noise mode."""
    trainer = make_trainer(_config("grpo-cf"))
    env, network = trainer.env, trainer.network
    bot = bot_player(parse_spec(OPPONENT, ("bot",)), env)
    _, branch_rollout = make_branch_rollout(env, network, bot, horizon=H)
    return env, network, jax.jit(branch_rollout, static_argnums=3)


def _start(game, seed):
    """B trunk games and a zero-initialized parameter tree of the policy."""
    env, network, _ = game
    _, trunk = jax.vmap(env.reset)(jax.random.split(jax.random.PRNGKey(seed), B))
    params = network.init(jax.random.PRNGKey(seed), env.obs_dim)
    return trunk, jax.tree.map(jnp.zeros_like, params)


def _always_idle(params):
    """A policy whose draw never matters: every logit 0 but IDLE's, which is 100 (a Gumbel
    draw in float32 is below 17)."""
    out = params["policy"]["Dense_1"]
    out["bias"] = out["bias"].at[int(Action.IDLE)].set(100.0)
    return params


def _free(config, trunk, update=0):
    """The players whose draws are each branch's own (as the trainer chooses them)."""
    return {"independent": None, "common": jnp.ones_like(trunk.active[:, :1]),
            "focal": rotating_focal(trunk.active[:, :1], update)}[config.noise]


# --- the focal players --------------------------------------------------------------------------


def test_rotating_focal_picks_one_player_on_the_pitch_and_rotates_over_all_of_them():
    active = jnp.array([[[True, True, True]], [[True, False, True]], [[False, False, False]],
                        [[False, True, False]]])
    seen = [set() for _ in range(4)]
    for offset in range(6):
        focal = np.asarray(rotating_focal(active, offset))
        assert not np.any(focal & ~np.asarray(active))
        np.testing.assert_array_equal(focal.sum(-1)[:, 0], [1, 1, 0, 1])
        for b in range(4):
            seen[b] |= set(np.flatnonzero(focal[b, 0]))
        # The next offset gives a game with several players on the pitch another player.
        assert np.flatnonzero(focal[0, 0])[0] != np.flatnonzero(
            np.asarray(rotating_focal(active, offset + 1))[0, 0])[0]
    assert seen == [{0, 1, 2}, {0, 2}, set(), {1}]


# --- common random numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("advantage,noise,identical", [
    ("grpo-cf", None, True),  # grpo-cf's default: common random numbers, one focal player
    ("grpo-cf", "independent", False),  # the focal players scored, every draw independent
    ("grpo", "common", True),
    ("grpo", "independent", False),  # the test can fail: the opponent's and game's noise differ
])
def test_branches_differ_only_through_the_free_players_draws(game, advantage, noise, identical):
    """With a policy whose draws never matter, common random numbers make every branch of a
    trunk state the same game, bit for bit, and grpo-cf's advantages exactly 0."""
    config = _config(advantage, noise)
    trunk, params = _start(game, 0)
    rollout, _ = game[2](jax.random.PRNGKey(1), _always_idle(params), trunk, G, None,
                         _free(config, trunk))
    rollout = rollout.replace(focal=rotating_focal(trunk.active[:, :1], 0))
    tr = rollout.transitions
    np.testing.assert_array_equal(tr.actions, int(Action.IDLE))
    spread = float(jnp.max(jnp.abs(tr.obs - tr.obs[:, :1])))
    assert (spread == 0.0) == identical, spread
    if advantage == "grpo-cf" and identical:
        out = compute_advantages(config, rollout)
        assert np.all(np.asarray(out.advantages) == 0.0)
        assert float(jnp.sum(out.weights)) > 0  # the focal players' samples are in the batch


@pytest.mark.parametrize("noise", ["focal", "common"])
def test_common_random_numbers_share_the_draws_of_every_learner_but_the_free_ones(game, noise):
    """A uniform policy's first actions: with focal noise the non-focal learner plays the same
    one in every branch of a game and the focal player's differ; with common noise every
    learner's differ."""
    trunk, params = _start(game, 2)  # zero parameters: uniform over legal actions
    free = _free(_config("grpo", noise), trunk)
    rollout, _ = game[2](jax.random.PRNGKey(3), params, trunk, G, None, free)
    first = np.asarray(rollout.transitions.actions[:, :, 0, 0])  # [B, G, T]
    focal = np.asarray(free[:, 0])  # [B, T]
    assert focal.all() == (noise == "common")
    for b in range(B):
        for i in range(2):
            distinct = len(set(first[b, :, i]))
            assert (distinct > 1) if focal[b, i] else (distinct == 1), (b, i, first[b, :, i])


# --- the estimator ------------------------------------------------------------------------------


def _fake_rollout(team_returns, free, active=None):
    """A one-step rollout whose team of 2 gets `team_returns` [B, G] (each player the same) or
    [B, G, 2] (each player its own)."""
    team_returns = jnp.asarray(team_returns, jnp.float32)
    b, g = team_returns.shape[:2]
    f32 = lambda *shape: jnp.zeros(shape, jnp.float32)  # noqa: E731
    if team_returns.ndim == 2:
        team_returns = jnp.stack([team_returns] * 2, -1)
    rewards = team_returns[:, :, None, None, :]
    transitions = Transition(
        obs=f32(b, g, 1, 1, 2, 3), action_mask=jnp.ones((b, g, 1, 1, 2, 5), bool),
        actions=jnp.zeros((b, g, 1, 1, 2), jnp.int32), log_probs=f32(b, g, 1, 1, 2),
        rewards=rewards, done=jnp.zeros((b, g, 1), bool), goals=jnp.zeros((b, g, 1, 2), bool),
        passes=jnp.zeros((b, g, 1, 1), jnp.int32), global_state=f32(b, g, 1, 1, 4),
        values=f32(b, g, 1, 1, 2))
    active = jnp.ones((b, 1, 2), bool) if active is None else active
    return Rollout(transitions, f32(b, g, 1, 2), active, jnp.asarray(free))  # focal = free


CF = TrainConfig(scenario="2v2", advantage="grpo-cf", num_games=2, group_size=4, horizon=1,
                 num_minibatches=1)


def test_the_focal_players_better_branches_get_the_positive_advantage():
    returns = np.array([[1.0, 0.0, 0.0, 0.5], [0.2, 0.2, -1.0, 0.2]])
    free = jnp.array([[[False, True]], [[True, False]]])
    out = compute_advantages(CF, _fake_rollout(returns, free))
    adv = np.asarray(out.advantages[:, :, 0, 0])  # [B, G, T]
    w = np.asarray(out.weights[:, :, 0, 0])
    centred = returns - returns.mean(1, keepdims=True)
    for b in range(2):
        focal = int(np.flatnonzero(np.asarray(free[b, 0]))[0])
        want = centred[b] / (centred.std() + 1e-8)  # the std over the batch's scored samples
        np.testing.assert_allclose(adv[b, :, focal], want, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(w[b, :, focal], 1.0)
        np.testing.assert_array_equal(w[b, :, 1 - focal], 0.0)  # teammates are not scored
        np.testing.assert_array_equal(adv[b, :, 1 - focal], 0.0)
    assert adv[0, 0, 1] > 0 and adv[0, 3, 1] > 0 and adv[0, 1, 1] < 0
    assert adv[1, 2, 0] < 0 < adv[1, 0, 0]


def test_grpo_branch_scores_every_player_by_the_teams_return_over_the_branches():
    """Players with their own returns (per-player shaping): grpo-branch gives both teammates
    the same advantage, the team mean's deviation over the branches, on every sample; grpo's
    (branch, teammate) group does not."""
    returns = np.array([[[1.0, 0.0], [0.0, 0.4], [2.0, 1.0], [0.5, 0.5]],
                        [[0.2, 0.1], [0.2, 0.3], [-1.0, 0.0], [0.2, 0.2]]])
    free = jnp.array([[[False, True]], [[True, False]]])
    branch = CF.replace(advantage="grpo-branch")
    out = compute_advantages(branch, _fake_rollout(returns, free))
    adv = np.asarray(out.advantages[:, :, 0, 0])  # [B, G, T]
    np.testing.assert_array_equal(np.asarray(out.weights), 1.0)
    team = returns.mean(-1)
    want = (team - team.mean(1, keepdims=True)) / (team.std(1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(adv, np.stack([want] * 2, -1), rtol=1e-5, atol=1e-6)
    # grpo-cf: the same groups, on the focal players, normalized over the batch.
    cf = compute_advantages(CF.replace(normalize_std=False), _fake_rollout(returns, free))
    centred = np.stack([team - team.mean(1, keepdims=True)] * 2, -1)
    np.testing.assert_allclose(np.asarray(cf.advantages[:, :, 0, 0]),
                               centred * np.asarray(cf.weights[:, :, 0, 0]), atol=1e-6)
    grpo = np.asarray(compute_advantages(CF.replace(advantage="grpo"),
                                         _fake_rollout(returns, free)).advantages[:, :, 0, 0])
    assert not np.allclose(grpo[..., 0], grpo[..., 1])


def test_a_focal_choice_that_changes_almost_nothing_gets_almost_no_advantage():
    """With common random numbers a group can differ by rounding-level amounts only: scaled by
    the batch's std its advantages stay about 0, while a per-group std (grpo-branch) would
    make them as large as a real difference's."""
    returns = np.array([[1.0, 0.0, 0.0, 0.5], [0.2, 0.2 + 1e-6, 0.2 - 1e-6, 0.2]])
    free = jnp.array([[[True, False]], [[True, False]]])
    cf = np.asarray(compute_advantages(CF, _fake_rollout(returns, free)).advantages)
    assert np.abs(cf[1]).max() < 1e-4 and np.abs(cf[0]).max() > 0.5
    branch = np.asarray(compute_advantages(CF.replace(advantage="grpo-branch"),
                                           _fake_rollout(returns, free)).advantages)
    assert np.abs(branch[1]).max() > 0.5


def test_the_group_is_the_branches_of_one_trunk_state():
    """Changing one game's returns changes no other game's baseline (its advantages keep
    their values up to the batch's common scale), and each game's advantages are centred over
    its own branches."""
    free = jnp.array([[[True, False]], [[True, False]]])
    returns = np.array([[1.0, 0.0, 0.0, 0.5], [0.2, 0.2, -1.0, 0.2]])
    centred = CF.replace(normalize_std=False)
    a = np.asarray(compute_advantages(centred, _fake_rollout(returns, free)).advantages)
    scaled = np.asarray(compute_advantages(CF, _fake_rollout(returns, free)).advantages)
    returns[1] = [5.0, -3.0, 2.0, 7.0]
    b = np.asarray(compute_advantages(centred, _fake_rollout(returns, free)).advantages)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[1], b[1])
    np.testing.assert_allclose(b[:, :, 0, 0, 0].sum(axis=1), 0.0, atol=1e-5)
    ratio = scaled[0, :, 0, 0, 0] / np.where(a[0, :, 0, 0, 0] == 0, np.inf, a[0, :, 0, 0, 0])
    np.testing.assert_allclose(ratio[a[0, :, 0, 0, 0] != 0], ratio[0], rtol=1e-5)


def test_a_focal_players_shot_at_an_open_goal_is_credited_in_a_real_rollout(game):
    """Team 0's player 1 has the ball 3 m from the goal, the defenders far away; a uniform
    policy, 32 branches of 3 steps with it as the focal player: the branches where it scored
    get positive advantages, above every other branch's (those differ by the progress
    shaping), and a goal needs its shot."""
    env, _, branch_rollout = game
    _, state = env.reset(jax.random.PRNGKey(4))
    half = env.config.field_length / 2
    pos = jnp.array([[[-half + 1.0, 0.0], [half - 3.0, 0.0]], [[-10.0, 6.0], [-10.0, -6.0]]])
    state = state.replace(player_pos=pos, player_vel=jnp.zeros_like(pos),
                          ball_pos=jnp.array([half - 2.7, 0.0]), ball_vel=jnp.zeros(2),
                          owner=jnp.asarray(1, state.owner.dtype),
                          last_touch=jnp.array([[False, True], [False, False]]),
                          cooldown=jnp.zeros_like(state.cooldown), hold=jnp.zeros_like(state.hold))
    trunk = jax.tree.map(lambda x: jnp.stack([x] * B), state)
    free = rotating_focal(trunk.active[:, :1], 1)  # game 0: player 1
    assert bool(free[0, 0, 1]) and not bool(free[0, 0, 0])
    _, params = _start(game, 5)
    rollout, _ = branch_rollout(jax.random.PRNGKey(6), params, trunk, 32, None, free)
    rollout = rollout.replace(focal=free)
    out = compute_advantages(_config("grpo-cf"), rollout)
    tr = rollout.transitions
    scored = np.asarray(jnp.any(tr.goals[0, :, :, 0], axis=-1))  # [G]: team 0 scored
    shot = np.asarray(jnp.any(tr.actions[0, :, :, 0, 1] == int(Action.SHOOT), axis=-1))
    adv = np.asarray(out.advantages[0, :, 0, 0, 1])
    assert 0 < scored.sum() < 32, scored
    assert np.all(shot[scored])
    assert np.all(adv[scored] > 0) and adv[scored].min() > adv[~scored].max()
    assert np.mean(adv[~scored]) < 0
    np.testing.assert_array_equal(out.weights[0, :, :, 0, 0], 0.0)  # the keeper is not scored
