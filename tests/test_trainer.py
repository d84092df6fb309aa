"""agents.trainer: the config, the advantage switch, and the pure jitted/vmapped update."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import agents
import soccer_env
from soccer_env import players
from agents.rollout import Rollout, Transition
from agents.trainer import TrainConfig, compute_advantages, make_trainer, next_difficulty

# The learning check's config, shared by every test that needs a compiled update: 1v1
# empty_goal (one attacker, nobody defending), a group of G = 4 branches per state. Episodes are
# cut at `horizon` steps so that the trunk games keep coming back to the drill's start, where the
# scoring rate measures the policy rather than where the trunk games wandered off to; no credit
# term (touch credit can be farmed by dribbling instead of shooting).
LEARN = TrainConfig(scenario="empty_goal", opponent="bot:random", num_games=16, group_size=4,
                    horizon=16, env_overrides=(("max_steps", 16),), credit_weight=0.0,
                    hidden_sizes=(64, 64), lr=1e-3, epochs=4, num_minibatches=4,
                    ref_update_every=5, kl_coef=0.01)
LEARN_UPDATES = 30


# --- config ---------------------------------------------------------------------------------


@pytest.mark.parametrize("changes,field", [
    (dict(advantage="ppo"), "advantage"),
    (dict(opponent="bot:nobody"), "opponent"),
    (dict(opponent="bot:league"), "opponent"),
    (dict(league_bots=("bot:nobody",)), "league_bots"),
    (dict(league_bots="bot:chaser"), "league_bots"),
    (dict(league_bot_frac=1.5), "league_bot_frac"),
    (dict(league_bots=(), league_bot_frac=0.5), "league_bot_frac"),
    (dict(league_size=0), "league_size"),
    (dict(league_refresh_every=0), "league_refresh_every"),
    (dict(opponent="bot:chaser:0.5"), "opponent"),
    (dict(opponent="bot:positional:1.5"), "opponent"),
    (dict(num_games=0), "num_games"),
    (dict(group_size=2.5), "group_size"),
    (dict(horizon=-1), "horizon"),
    (dict(num_minibatches=3), "num_minibatches"),
    (dict(gamma=1.5), "gamma"),
    (dict(clip_eps=-0.1), "clip_eps"),
    (dict(lr=0.0), "lr"),
    (dict(imitate="bot:nobody"), "imitate"),
    (dict(imitate="self"), "imitate"),
    (dict(imitate_games=0), "imitate_games"),
    (dict(imitate_epochs=1.5), "imitate_epochs"),
    (dict(imitate_lr=0.0), "imitate_lr"),
    (dict(imitate_lr=float("inf")), "imitate_lr"),
    (dict(kl_coef=-1.0), "kl_coef"),
    (dict(ent_coef=float("nan")), "ent_coef"),
    (dict(hidden_sizes=(64, 0)), "hidden_sizes"),
    (dict(hidden_sizes=[64]), "hidden_sizes"),
    (dict(activation="softsign"), "activation"),
    (dict(scenario="4v4"), "scenario"),
    (dict(ref_update_every=-1), "ref_update_every"),
    (dict(lr_anneal_updates=-1), "lr_anneal_updates"),
    (dict(credit_weight=float("inf")), "credit_weight"),
    (dict(env_overrides=(("team_size", 0),)), "team_size"),
    (dict(scenario="empty_goal", group_size=1), "group_size"),
    (dict(group_size=1, credit_weight=0.0), "per-player reward terms"),
    (dict(difficulty_step=-0.1), "difficulty_step"),
    (dict(difficulty_step=True), "difficulty_step"),
    (dict(opponent="bot:chaser", difficulty_step=0.01), "difficulty_step"),
    (dict(opponent="self", difficulty_step=0.01), "difficulty_step"),
    (dict(branch_noise="shared"), "branch_noise"),
    (dict(advantage="grpo-cf", group_size=1), "group_size"),
    (dict(advantage="grpo-branch", group_size=1), "group_size"),
    (dict(advantage="grpo-cf", opponent="self"), "opponent"),
])
def test_config_rejects_bad_values_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(TrainConfig(), **changes)


def test_config_defaults_and_env_overrides():
    config = TrainConfig()
    assert config.scenario == "2v2" and config.opponent == "bot:positional"
    assert config.advantage == "grpo" and not config.self_play
    env_config = TrainConfig(credit_weight=0.0, ball_progress_weight=0.3, ball_reach_weight=0.7,
                             support_weight=0.2, env_overrides=(("max_steps", 50),)).env_config()
    assert (env_config.credit_weight, env_config.ball_progress_weight,
            env_config.ball_reach_weight, env_config.support_weight) == (0.0, 0.3, 0.7, 0.2)
    assert env_config.max_steps == 50 and env_config.team_size == 2
    assert TrainConfig(opponent="self").self_play
    hash(config)  # static under jit


def _round_trip_values(field, config):
    """A non-default value of every TrainConfig field (so the round trip is not vacuous)."""
    special = {"scenario": "3v3", "opponent": "league", "credit_weight": 0.25,
               "ball_reach_weight": 0.25, "support_weight": 0.25,
               "ball_progress_weight": None, "env_overrides": (("max_steps", 50),
                                                               ("boundary", "rules")),
               "league_bots": ("bot:random", "bot:positional:0.5"), "advantage": "critic",
               "activation": "relu", "hidden_sizes": (16, 8, 4), "lr_anneal_updates": 7,
               "gamma": 0.9, "gae_lambda": 0.9, "clip_eps": 0.1, "league_bot_frac": 0.25,
               "imitate": "bot:positional:0.5", "branch_noise": "common"}
    if field.name in special:
        return special[field.name]
    default = getattr(config, field.name)
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default * 2
    if isinstance(default, float):
        return default / 2
    raise AssertionError(f"no test value for TrainConfig.{field.name}: add one")


def test_config_round_trips_through_json_for_every_field():
    """TrainConfig.from_dict(to_dict()) through JSON is the identity, field by field: each field
    is set to a non-default value on its own (tuples, nested tuples, None and floats included),
    and all together."""
    base = TrainConfig()
    changes = {f.name: _round_trip_values(f, base) for f in dataclasses.fields(TrainConfig)}
    configs = [base.replace(**changes)]
    for name, value in changes.items():
        try:
            configs.append(base.replace(**{name: value}))
        except ValueError:  # a combination the validation refuses alone (e.g. critic extras)
            continue
    assert len(configs) > len(changes) // 2
    for config in configs:
        back = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
        assert back == config and hash(back) == hash(config)
        for f in dataclasses.fields(TrainConfig):
            assert type(getattr(back, f.name)) is type(getattr(config, f.name)), f.name


def test_config_from_dict_fills_missing_fields_and_names_unknown_ones():
    old = TrainConfig().to_dict()
    del old["league_bots"], old["stagger_start"]  # a run written before these fields existed
    assert TrainConfig.from_dict(old) == TrainConfig()
    with pytest.raises(ValueError, match=r"runs/x/config.json.*unknown TrainConfig fields "
                                         r"\['warp_speed'\]"):
        TrainConfig.from_dict(dict(old, warp_speed=9), source="runs/x/config.json")
    with pytest.raises(ValueError, match="TrainConfig.lr"):
        TrainConfig.from_dict(dict(old, lr=-1.0))


# --- the advantage switch, on a hand-made rollout ---------------------------------------------

B, G, H, L, T = 2, 3, 4, 2, 2


@pytest.fixture(scope="module")
def fake_rollout():
    rng = np.random.default_rng(0)
    done = np.zeros((B, G, H), bool)
    done[0, 1, 1] = True  # branch (0, 1) ends on step 1: steps 2, 3 are another episode
    done[1, 2, 3] = True
    active = np.ones((B, L, T), bool)
    active[1, 1, 0] = False  # a player off the pitch
    f32 = lambda *shape: jnp.asarray(rng.normal(size=shape), jnp.float32)
    transitions = Transition(
        obs=f32(B, G, H, L, T, 3), action_mask=jnp.ones((B, G, H, L, T, 5), bool),
        actions=jnp.zeros((B, G, H, L, T), jnp.int32), log_probs=f32(B, G, H, L, T),
        rewards=f32(B, G, H, L, T), done=jnp.asarray(done),
        goals=jnp.zeros((B, G, H, 2), bool), passes=jnp.zeros((B, G, H, L), jnp.int32),
        global_state=f32(B, G, H, L, 4), values=f32(B, G, H, L, T))
    return Rollout(transitions, f32(B, G, L, T), jnp.asarray(active))


def reference_returns(rollout, gamma):
    tr = rollout.transitions
    R = np.zeros((B, G, L, T))
    for b, g in np.ndindex(B, G):
        for t in range(H):
            R[b, g] += gamma ** t * np.asarray(tr.rewards[b, g, t])
            if tr.done[b, g, t]:
                break
    return R


@pytest.mark.parametrize("leave_one_out", [False, True])
def test_grpo_groups_branches_and_teammates_of_one_team(fake_rollout, leave_one_out):
    config = TrainConfig(advantage="grpo", leave_one_out=leave_one_out, gamma=0.9)
    out = jax.jit(compute_advantages, static_argnums=0)(config, fake_rollout)
    R = reference_returns(fake_rollout, 0.9)
    np.testing.assert_allclose(out.returns, R, rtol=1e-5, atol=1e-6)
    active = np.asarray(fake_rollout.active)
    for b, l in np.ndindex(B, L):
        members = [(g, i) for g in range(G) for i in range(T) if active[b, l, i]]
        vals = np.array([R[b, g, l, i] for g, i in members])
        for g, i in members:
            base = ((vals.sum() - R[b, g, l, i]) / (len(vals) - 1) if leave_one_out
                    else vals.mean())
            want = (R[b, g, l, i] - base) / (vals.std() + 1e-8)
            for t in range(H):
                alive = not np.any(np.asarray(fake_rollout.transitions.done[b, g, :t]))
                np.testing.assert_allclose(out.advantages[b, g, t, l, i], want if alive else 0.0,
                                           rtol=1e-4, atol=1e-5)
                assert out.weights[b, g, t, l, i] == float(alive)
    assert np.all(np.asarray(out.weights[1, :, :, 1, 0]) == 0)  # off the pitch
    assert out.targets is None


def reference_rewards_to_go(rollout, gamma):
    tr = rollout.transitions
    rtg = np.zeros((B, G, H, L, T))
    for b, g in np.ndindex(B, G):
        end = next((t for t in range(H) if tr.done[b, g, t]), H - 1)
        for t in range(end + 1):
            rtg[b, g, t] = sum(gamma ** (k - t) * np.asarray(tr.rewards[b, g, k])
                               for k in range(t, end + 1))
    return rtg


@pytest.mark.parametrize("advantage", ["grpo", "absolute"])
def test_reward_to_go_groups_each_step(fake_rollout, advantage):
    config = TrainConfig(advantage=advantage, reward_to_go=True, gamma=0.9)
    out = compute_advantages(config, fake_rollout)
    rtg = reference_rewards_to_go(fake_rollout, 0.9)
    active = np.asarray(fake_rollout.active)
    done = np.asarray(fake_rollout.transitions.done)
    alive = np.array([[[not done[b, g, :t].any() for t in range(H)] for g in range(G)]
                      for b in range(B)])
    for b, g, t, l, i in np.ndindex(B, G, H, L, T):
        if not (alive[b, g, t] and active[b, l, i]):
            assert out.weights[b, g, t, l, i] == 0 and out.advantages[b, g, t, l, i] == 0
            continue
        if advantage == "absolute":
            want = rtg[b, g, t, l, i]
        else:
            vals = np.array([rtg[b, h, t, l, j] for h in range(G) for j in range(T)
                             if alive[b, h, t] and active[b, l, j]])
            want = (rtg[b, g, t, l, i] - vals.mean()) / (vals.std() + 1e-8)
        np.testing.assert_allclose(out.advantages[b, g, t, l, i], want, rtol=1e-4, atol=1e-5)


def test_absolute_uses_the_players_own_return(fake_rollout):
    out = compute_advantages(TrainConfig(advantage="absolute", gamma=0.9), fake_rollout)
    R = reference_returns(fake_rollout, 0.9) * np.asarray(fake_rollout.active)[:, None]
    want = np.broadcast_to(R[:, :, None], (B, G, H, L, T)) * np.asarray(out.weights)
    np.testing.assert_allclose(out.advantages, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out.weights[0, 1, 2:], 0.0)  # after the episode end


def test_critic_uses_gae_on_every_step(fake_rollout):
    config = TrainConfig(advantage="critic", gamma=0.9, gae_lambda=0.8, normalize_std=False)
    out = compute_advantages(config, fake_rollout)
    tr = fake_rollout.transitions
    want = np.zeros((B, G, H, L, T))
    for b, g, l, i in np.ndindex(B, G, L, T):
        adv, next_v = 0.0, float(fake_rollout.last_values[b, g, l, i])
        for t in reversed(range(H)):
            nd = 0.0 if tr.done[b, g, t] else 1.0
            v = float(tr.values[b, g, t, l, i])
            delta = float(tr.rewards[b, g, t, l, i]) + 0.9 * next_v * nd - v
            adv = delta + 0.9 * 0.8 * nd * adv
            want[b, g, t, l, i] = adv
            next_v = v
    active = np.asarray(fake_rollout.active)[:, None, None]
    np.testing.assert_allclose(out.advantages, want * active, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out.targets, want + np.asarray(tr.values), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(out.weights, np.broadcast_to(active, want.shape))
    normalized = compute_advantages(config.replace(normalize_std=True), fake_rollout)
    w = np.asarray(normalized.weights) > 0
    np.testing.assert_allclose(np.mean(np.asarray(normalized.advantages)[w]), 0.0, atol=1e-5)
    np.testing.assert_allclose(np.std(np.asarray(normalized.advantages)[w]), 1.0, rtol=1e-4)


def test_critic_masks_a_time_limit_step(fake_rollout):
    """A truncated step (the time limit, not a terminal state) gets advantage 0 and weight 0,
    its value target is its own value, and the steps before it do not bootstrap through it."""
    config = TrainConfig(advantage="critic", gamma=0.9, gae_lambda=0.8, normalize_std=False)
    tr = fake_rollout.transitions
    t_cut = H // 2
    truncated = np.zeros(tr.done.shape, bool)
    truncated[:, :, t_cut] = True
    cut = fake_rollout.replace(transitions=tr.replace(done=tr.done | truncated,
                                                      truncated=jnp.asarray(truncated)))
    out = compute_advantages(config, cut)
    np.testing.assert_array_equal(np.asarray(out.advantages)[:, :, t_cut], 0.0)
    np.testing.assert_array_equal(np.asarray(out.weights)[:, :, t_cut], 0.0)
    np.testing.assert_allclose(np.asarray(out.targets)[:, :, t_cut],
                               np.asarray(tr.values)[:, :, t_cut], rtol=1e-6)
    # The step before the cut: its TD error alone (no trace through the cut, no bootstrap).
    before = t_cut - 1
    if before >= 0:
        nd = 1.0 - np.asarray(cut.transitions.done)[:, :, before, None, None]
        delta = (np.asarray(tr.rewards)[:, :, before] + 0.9 * nd * np.asarray(tr.values)[:, :, t_cut]
                 - np.asarray(tr.values)[:, :, before])
        active = np.asarray(fake_rollout.active)[:, None]
        np.testing.assert_allclose(np.asarray(out.advantages)[:, :, before], delta * active,
                                   rtol=1e-4, atol=1e-5)


# --- the compiled trainer ---------------------------------------------------------------------


# Every estimator, and branches with common random numbers, against a bot and in self-play
# (grpo-cf refuses self-play: test_config_rejects_bad_values_naming_the_field).
TRACED = [(advantage, noise, opponent)
          for advantage, noise in (("grpo", None), ("absolute", None), ("critic", None),
                                   ("grpo-branch", None), ("grpo-cf", None), ("grpo", "common"),
                                   ("absolute", "focal"))
          for opponent in ("bot:chaser", "self")
          if not (advantage == "grpo-cf" and opponent == "self")]


@pytest.mark.parametrize("advantage,noise,opponent", TRACED)
def test_every_estimator_and_opponent_traces(advantage, noise, opponent):
    config = TrainConfig(scenario="1v1", opponent=opponent, advantage=advantage,
                         branch_noise=noise, num_games=2, group_size=2, horizon=3,
                         num_minibatches=2, epochs=1, hidden_sizes=(8,))
    trainer = make_trainer(config)
    state = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    new_state, metrics = jax.eval_shape(trainer.update, state)
    assert jax.tree.structure(new_state) == jax.tree.structure(state)
    assert all(m.shape == () for m in metrics.values())
    assert ("value_loss" in metrics) == (advantage == "critic")
    assert ("value" in state.params) == (advantage == "critic")


def test_an_opponent_player_overrides_the_configured_opponent():
    config = TrainConfig(scenario="1v1", num_games=2, group_size=2, horizon=3,
                         num_minibatches=2, hidden_sizes=(8,))
    calls = []

    def idle(key, state, team):
        calls.append(team)
        return jnp.zeros((1,), jnp.int32)

    trainer = make_trainer(config, players.from_bot(idle))
    jax.eval_shape(trainer.update, jax.eval_shape(trainer.init, jax.random.PRNGKey(0)))
    assert calls == [1]  # traced once, for team 1
    with pytest.raises(ValueError, match="self"):
        make_trainer(config.replace(opponent="self"), players.from_bot(idle))
    with pytest.raises(ValueError, match="Player"):
        make_trainer(config, idle)


def test_league_style_opponent_parameters_live_in_the_state():
    config = TrainConfig(scenario="1v1", num_games=2, group_size=2, horizon=3,
                         num_minibatches=2, hidden_sizes=(8,))
    env = config.env_config()
    network = agents.make_policy(env.team_size + 9, hidden_sizes=(8,))
    snapshot = network.init(jax.random.PRNGKey(3), soccer_env.SoccerEnv(env).obs_dim)
    per_game = jax.tree.map(lambda x: jnp.stack([x, 2 * x]), snapshot)  # [num_games, ...]
    opponent = agents.policy_player(network, per_game, env, greedy=False)
    trainer = make_trainer(config, opponent, per_game=True)
    state = jax.eval_shape(trainer.init, jax.random.PRNGKey(0))
    new_state, _ = jax.eval_shape(trainer.update, state)
    assert jax.tree.structure(new_state.opponent_params) == jax.tree.structure(per_game)
    with pytest.raises(ValueError, match="num_games"):
        make_trainer(config, opponent.replace(params=snapshot), per_game=True)
    with pytest.raises(ValueError, match="per_game"):
        make_trainer(config, players.resolve("bot:chaser", soccer_env.SoccerEnv(env)),
                     per_game=True)


@pytest.mark.parametrize("goals,expected", [
    ([[1, 0], [0, 0]], 0.6),  # more scored than conceded: up a step
    ([[0, 1], [1, 1]], 0.4),  # fewer: down
    ([[1, 1], [0, 0]], 0.5),  # level: unchanged
    ([[0, 0], [0, 0]], 0.5),  # no goals: unchanged
])
def test_next_difficulty_follows_the_goal_difference(goals, expected):
    got = next_difficulty(jnp.full((3,), 0.5), jnp.asarray(goals, jnp.float32), 0.1)
    np.testing.assert_allclose(np.asarray(got), expected, atol=1e-6)
    # Clipped to [0, 1].
    assert float(next_difficulty(jnp.float32(0.95), jnp.asarray(goals, jnp.float32),
                                 0.1)) <= 1.0
    assert float(next_difficulty(jnp.float32(0.05), jnp.asarray(goals, jnp.float32),
                                 0.1)) >= 0.0


def test_curriculum_moves_the_opponents_difficulty_after_each_update():
    """difficulty_step > 0: the opponent is bot:positional at the spec's difficulty, kept in
    `TrainState.opponent_params`, and every update moves it by the goal difference of that
    update's branches (metrics["difficulty"] reports it)."""
    config = TrainConfig(scenario="3v3", opponent="bot:positional:0.3", difficulty_step=0.25,
                         num_games=4, group_size=2, horizon=24, num_minibatches=2, epochs=1,
                         hidden_sizes=(8,), env_overrides=(("max_steps", 60),))
    trainer = make_trainer(config)
    state = jax.jit(trainer.init)(jax.random.PRNGKey(0))
    np.testing.assert_allclose(np.asarray(state.opponent_params["difficulty"]), 0.3)
    update = jax.jit(trainer.update)
    moves = []
    for _ in range(6):
        before = float(state.opponent_params["difficulty"][0])
        state, metrics = update(state)
        after = np.asarray(state.opponent_params["difficulty"])
        assert np.all(after == after[0])  # one difficulty for every game
        lead = np.sign(float(metrics["goals_for"]) - float(metrics["goals_against"]))
        expected = min(max(before + 0.25 * lead, 0.0), 1.0)
        assert after[0] == pytest.approx(expected, abs=1e-6)
        assert float(metrics["difficulty"]) == pytest.approx(expected, abs=1e-6)
        moves.append(after[0] != before)
    assert any(moves), "no goal in six updates: the test no longer exercises the rule"
    with pytest.raises(ValueError, match="difficulty_step"):
        make_trainer(config, players.resolve("bot:chaser", trainer.env))


TINY_LEAGUE = TrainConfig(scenario="1v1", opponent="league", num_games=4, group_size=2,
                          horizon=3, num_minibatches=2, epochs=1, hidden_sizes=(8,),
                          league_size=2, league_refresh_every=2,
                          league_bots=("bot:random", "bot:chaser"), league_bot_frac=0.5)


def test_league_pool_is_a_ring_buffer_refreshed_on_schedule():
    trainer = make_trainer(TINY_LEAGUE)
    state = jax.jit(trainer.init)(jax.random.PRNGKey(0))
    update = jax.jit(trainer.update)
    first = jax.tree.leaves(state.params)[0]
    pool = lambda s: jax.tree.leaves(s.league["pool"])[0]
    np.testing.assert_array_equal(pool(state)[0], first)
    snapshots = []
    for u in range(1, 6):
        state, metrics = update(state)
        assert int(state.league["count"]) == 1 + u // 2  # a snapshot every 2 updates
        assert int(metrics["league_snapshots"]) == int(state.league["count"])
        if u % 2 == 0:
            snapshots.append(np.asarray(jax.tree.leaves(state.params)[0]))
    # Slots: 0 <- initial, 1 <- update 2, then 0 <- update 4 (the oldest is replaced).
    np.testing.assert_array_equal(pool(state)[0], snapshots[1])
    np.testing.assert_array_equal(pool(state)[1], snapshots[0])
    assert not np.array_equal(snapshots[0], first)


@pytest.mark.parametrize("frac", [0.0, 1.0])
def test_league_assignment_mixes_bots_and_filled_snapshot_slots(frac):
    from agents.trainer import _league_assignment

    config = TINY_LEAGUE.replace(num_games=256, league_size=4, league_bot_frac=frac)
    pool = {"w": jnp.arange(4.0)}  # slot i holds the value i
    out = _league_assignment(config, {"pool": pool, "count": jnp.asarray(3)},
                             jax.random.PRNGKey(1))
    kind, slot = np.asarray(out["kind"]), np.asarray(out["snapshot"]["w"])
    if frac == 0.0:
        assert np.all(kind == 0)
    else:
        assert set(kind.tolist()) == {1, 2}  # both bots, never a snapshot
    assert set(slot.tolist()) == {0.0, 1.0, 2.0}  # only the 3 filled slots


def test_league_opponent_plays_the_assigned_kind():
    from agents.trainer import _league_opponent

    trainer = make_trainer(TINY_LEAGUE)
    env = trainer.env
    _, state = env.reset(jax.random.PRNGKey(2))
    params = trainer.network.init(jax.random.PRNGKey(3), env.obs_dim)
    act = jax.jit(_league_opponent(TINY_LEAGUE, env, trainer.network), static_argnums=2)
    key = jax.random.PRNGKey(4)
    chaser = soccer_env.bots.get("chaser", env.config)
    random_bot = soccer_env.bots.get("random", env.config)
    as_random = act(key, state, 1, {"snapshot": params, "kind": jnp.asarray(1)})
    np.testing.assert_array_equal(as_random, random_bot(jax.random.split(key, 3)[1], state, 1))
    as_chaser = act(key, state, 1, {"snapshot": params, "kind": jnp.asarray(2)})
    np.testing.assert_array_equal(as_chaser, chaser(jax.random.split(key, 3)[2], state, 1))
    as_policy = act(key, state, 1, {"snapshot": params, "kind": jnp.asarray(0)})
    expected = agents.policy_act(trainer.network, env.config, greedy=False)(
        params, jax.random.split(key, 3)[0], state, 1)
    np.testing.assert_array_equal(as_policy, expected)


def test_annealed_learning_rate_reaches_zero_after_the_anneal_updates():
    config = TrainConfig(scenario="1v1", opponent="bot:chaser", num_games=4, group_size=2,
                         horizon=4, num_minibatches=2, hidden_sizes=(8,), lr_anneal_updates=2)
    trainer = make_trainer(config)
    update = jax.jit(trainer.update)
    states = [jax.jit(trainer.init)(jax.random.PRNGKey(0))]
    for _ in range(3):
        states.append(update(states[-1])[0])
    leaf = lambda s: np.asarray(jax.tree.leaves(s.params)[0])
    # Learning while lr > 0, for 2 whole updates: the schedule spans 2 x 4 epochs x 2 minibatch
    # steps (one counted in updates would already be 0 during update 2).
    assert not np.array_equal(leaf(states[0]), leaf(states[1]))
    assert not np.array_equal(leaf(states[1]), leaf(states[2]))
    np.testing.assert_array_equal(leaf(states[2]), leaf(states[3]))  # lr is 0 from now on


def test_gradient_is_deterministic_keeps_parameters_and_differs_between_batches():
    config = TrainConfig(scenario="1v1", opponent="bot:chaser", num_games=4, group_size=2,
                         horizon=4, num_minibatches=2, hidden_sizes=(8,))
    trainer = make_trainer(config)
    state = jax.jit(trainer.init)(jax.random.PRNGKey(0))
    gradient = jax.jit(trainer.gradient)
    g1, after = gradient(state)
    g1_again, _ = gradient(state)
    g2, _ = gradient(after)
    flat = lambda g: np.concatenate([np.ravel(x) for x in jax.tree.leaves(g)])
    assert jax.tree.structure(g1) == jax.tree.structure(state.params)
    np.testing.assert_array_equal(flat(g1), flat(g1_again))
    assert np.all(np.isfinite(flat(g1))) and np.linalg.norm(flat(g1)) > 0
    assert not np.allclose(flat(g1), flat(g2))  # a new batch: the next trunk and key
    np.testing.assert_array_equal(flat(after.params), flat(state.params))
    assert int(after.update) == int(state.update)


@pytest.fixture(scope="module")
def learn():
    """LEARN_UPDATES updates of the learning config for 2 seeds at once (one compiled, vmapped
    update shared by the tests below), with the states along the way."""
    trainer = make_trainer(LEARN)
    init = jax.jit(jax.vmap(trainer.init))
    update = jax.jit(jax.vmap(trainer.update))
    states = [init(jax.random.split(jax.random.PRNGKey(0), 2))]
    history = []
    for _ in range(LEARN_UPDATES):
        state, metrics = update(states[-1])
        states.append(state)
        history.append(metrics)
    history = {k: np.stack([np.asarray(m[k]) for m in history]) for k in history[0]}  # [N, 2]
    return trainer, init, update, states, history


def seed(tree, i):
    return jax.tree.map(lambda x: x[i], tree)


def stack(*trees):
    return jax.tree.map(lambda *x: jnp.stack(x), *trees)


def assert_same(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(x, y)


def test_update_is_pure_and_reports_scalar_metrics(learn):
    trainer, _, update, states, history = learn
    expected = {"team_return", "goals_for", "goals_against", "loss", "approx_kl", "clip_frac",
                "entropy", "grad_norm", "adv_std", "skipped", "kl_ref", "pg_loss"}
    assert expected <= set(history)
    for name, values in history.items():
        assert values.shape == (LEARN_UPDATES, 2), name  # scalars per seed
        assert np.all(np.isfinite(values)), name
    assert np.all(np.asarray(states[-1].update) == LEARN_UPDATES)
    assert np.all(np.asarray(states[-1].skipped) == 0)
    assert states[-1].trunk.step.shape == (2, LEARN.num_games)
    # Pure: the same state gives the same result.
    again, _ = update(states[3])
    assert_same(again, states[4])
    # The seeds are independent runs: changing seed 1 leaves seed 0's update as it was.
    other = stack(seed(states[3], 0), seed(states[7], 1))
    mixed, _ = update(other)
    assert_same(seed(mixed, 0), seed(states[4], 0))
    assert not np.allclose(states[-1].params["policy"]["Dense_0"]["kernel"][0],
                           states[-1].params["policy"]["Dense_0"]["kernel"][1])
    # The update moves the parameters by a bounded step (clip + KL): approx KL stays small.
    assert 0.0 < np.mean(history["approx_kl"]) < 0.1
    assert 0.0 < np.mean(history["clip_frac"]) < 0.5


def test_reference_policy_is_refreshed_every_n_updates(learn):
    states = learn[3]
    R = LEARN.ref_update_every
    same = lambda a, b: all(np.array_equal(x, y) for x, y in
                            zip(jax.tree.leaves(a), jax.tree.leaves(b)))
    assert same(states[1].ref_params, states[0].params)
    assert same(states[R].ref_params, states[0].params)  # not refreshed in between
    assert same(states[R + 1].ref_params, states[R].params)  # refreshed at update R
    assert not same(states[R + 1].ref_params, states[0].params)


def test_non_finite_update_is_skipped_per_seed(learn):
    _, _, update, states, _ = learn
    state = states[2]
    params = jax.tree.map(lambda x: x, state.params)
    bias = params["policy"]["Dense_0"]["bias"]
    params["policy"]["Dense_0"]["bias"] = bias.at[0, 0].set(jnp.nan)  # poison seed 0 only
    state = state.replace(params=params)
    new_state, metrics = update(state)
    steps = LEARN.epochs * LEARN.num_minibatches
    np.testing.assert_array_equal(metrics["skipped"], [steps, 0])
    np.testing.assert_array_equal(new_state.skipped, np.asarray(state.skipped) + [steps, 0])
    # Seed 0 kept its parameters and optimizer state (NaN included); seed 1 learned on.
    assert_same(seed((state.params, state.opt_state), 0),
                seed((new_state.params, new_state.opt_state), 0))
    assert not np.array_equal(seed(new_state.params, 1)["policy"]["Dense_0"]["kernel"],
                              seed(state.params, 1)["policy"]["Dense_0"]["kernel"])
    np.testing.assert_array_equal(new_state.update, np.asarray(state.update) + 1)


def test_scoring_rate_rises_in_empty_goal(learn):
    """Tiny end-to-end check: in 1v1 empty_goal the goals scored per branch rise clearly, for
    both seeds. Update 0's metrics come from rollouts of the initial (near-uniform) policy."""
    goals = learn[4]["goals_for"]  # [updates, seeds]
    before, after = goals[0], goals[-10:].mean(0)
    assert np.all(after > before + 0.2), (before, after)
    entropy = learn[4]["entropy"]
    assert np.all(entropy[-10:].mean(0) < entropy[0])
