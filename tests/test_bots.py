"""Scripted bots: API, legality, jit/vmap, behaviour and the strength ordering."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import soccer_env
from soccer_env import bots, match, players, stats
from soccer_env.actions import Action, move_table
from soccer_env.bots.positional import PositionalTuning, make_positional
from soccer_env.constants import penalty_depth
from soccer_env.types import mirror
from conftest import place

NAMES = ("random", "chaser", "positional")
# Team sizes 1, 2 and 11 (full matches) and drills with players off the pitch.
SCENARIOS = ("1v1", "2v2", "11v11", "3v1_with_keeper", "empty_goal")


def _random_states(env, key, num_states=32):
    """Random states of `env`: players on the pitch scattered anywhere with random velocities
    (players off it stay parked), the ball next to a random player on the pitch in half of
    them (so that kicks are legal for someone) and anywhere in the rest. Batched leaves."""
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**31 - 1)))
    cfg, T = env.config, env.config.team_size
    base = jax.tree.map(np.asarray, jax.jit(env.reset)(key)[1])
    half = np.array([cfg.field_length / 2, cfg.field_width / 2]) - cfg.player_radius
    active = np.broadcast_to(base.active, (num_states, 2, T))
    pos = rng.uniform(-half, half, (num_states, 2, T, 2))
    pos = np.where(active[..., None], pos, base.player_pos).astype(np.float32)
    vel = np.where(active[..., None], rng.uniform(-5, 5, (num_states, 2, T, 2)), 0.0)
    ball = rng.uniform(-half, half, (num_states, 2))
    flat = active.reshape(num_states, 2 * T)
    pick = np.array([rng.choice(np.flatnonzero(row)) for row in flat])
    near = pos.reshape(num_states, 2 * T, 2)[np.arange(num_states), pick]
    near = near + rng.uniform(-0.55, 0.55, (num_states, 2))
    ball = np.where((np.arange(num_states) % 2 == 0)[:, None], near, ball)
    batch = jax.tree.map(lambda x: np.broadcast_to(x, (num_states,) + x.shape).copy(), base)
    return batch.replace(
        player_pos=jnp.asarray(pos), player_vel=jnp.asarray(vel, jnp.float32),
        ball_pos=jnp.asarray(ball, jnp.float32),
        ball_vel=jnp.asarray(rng.uniform(-8, 8, (num_states, 2)), jnp.float32))


def _rollout(env, left, right, num_games, steps, seed=0):
    """States [num_games, steps, ...] of vectorized games (no auto-reset)."""

    def game(key):
        k0, k1 = jax.random.split(key)
        _, state = env.reset(k0)

        def body(state, k):
            ka, kb, ke = jax.random.split(k, 3)
            actions = jnp.stack([left(ka, state, 0), right(kb, state, 1)])
            state = env.step_env(ke, state, actions)[1]
            return state, state

        return jax.lax.scan(body, state, jax.random.split(k1, steps))[1]

    return jax.jit(jax.vmap(game))(_keys(num_games, seed))


@pytest.fixture(scope="module")
def env2():
    return soccer_env.make("2v2")


@pytest.fixture(scope="module")
def rollout2(env2):
    """2v2 games of chaser (left) against positional (right): states [8, 100, ...]."""
    cfg = env2.config
    return _rollout(env2, bots.get("chaser", cfg), bots.get("positional", cfg), 8, 100)


@pytest.fixture(scope="module")
def cases(rollout2):
    """Per scenario: env, a batch of states, and the jitted, vmapped bots (traced team). For
    2v2 the states come from a rollout (every 25th step of each game), for the rest they are
    random."""
    out = {}
    for i, name in enumerate(SCENARIOS):
        env = soccer_env.make(name)
        if name == "2v2":
            states = jax.tree.map(lambda x: x[:, ::25].reshape((-1,) + x.shape[2:]), rollout2)
            random_states = _random_states(env, jax.random.PRNGKey(i))
            states = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), states, random_states)
        else:
            states = _random_states(env, jax.random.PRNGKey(i))
        fns = {
            bot: jax.jit(jax.vmap(bots.get(bot, env.config), in_axes=(0, 0, None)))
            for bot in NAMES
        }
        out[name] = (env, states, fns)
    return out


def _keys(n, seed=0):
    return jax.random.split(jax.random.PRNGKey(seed), n)


# --- registry and parameters ---------------------------------------------------------------


def test_names_and_registry():
    assert set(NAMES) <= set(bots.names())
    assert bots.names() == list(bots.BOTS)


def test_get_unknown_name_lists_known_bots():
    with pytest.raises(ValueError, match="unknown bot 'striker'.*positional"):
        bots.get("striker")


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, "hard", True, None])
def test_difficulty_validated(bad):
    with pytest.raises(ValueError, match="difficulty"):
        bots.get("positional", difficulty=bad)


def test_difficulty_bounds_accepted():
    for d in (0, 0.0, 0.5, 1, 1.0):
        assert callable(bots.get("positional", difficulty=d))


@pytest.mark.parametrize("name", ["random", "chaser"])
def test_parameterless_bots_reject_params(name):
    with pytest.raises(ValueError, match="speed"):
        bots.get(name, speed=2)


def test_positional_rejects_unknown_params():
    with pytest.raises(ValueError, match="aggression.*difficulty"):
        bots.get("positional", aggression=1.0)


def test_get_config_argument(env2):
    with pytest.raises(ValueError, match="config"):
        bots.get("chaser", config="2v2")
    # An env and its config give the same (cached) function; defaults are EnvConfig().
    assert bots.get("positional", env2) is bots.get("positional", env2.config)
    assert bots.get("positional", difficulty=1.0) is bots.get("positional", soccer_env.EnvConfig())
    assert bots.get("positional", difficulty=0.5) is not bots.get("positional")


def test_team_size_mismatch_raises(cases):
    _, states, _ = cases["1v1"]  # one player a side, the bot configured for two
    state = jax.tree.map(lambda x: x[0], states)
    for name in NAMES:
        with pytest.raises(ValueError, match="team size 1.*team_size=2"):
            bots.get(name)(jax.random.PRNGKey(0), state, 0)


# --- outputs: shape, dtype, legality ---------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_actions_are_legal(cases, scenario):
    env, states, fns = cases[scenario]
    T = env.config.team_size
    n = states.step.shape[0]
    mask = np.asarray(jax.vmap(env.action_mask)(states))  # [n, 2, T, A]
    kicks_seen = 0
    for name, fn in fns.items():
        for team in (0, 1):
            actions = np.asarray(fn(_keys(n, team), states, team))
            assert actions.shape == (n, T) and actions.dtype == np.int32, name
            assert actions.min() >= 0 and actions.max() < env.num_actions, name
            legal = np.take_along_axis(mask[:, team], actions[..., None], axis=-1)[..., 0]
            assert legal.all(), f"{name} (team {team}) chose illegal actions in {scenario}"
            kicks_seen += int((actions >= Action.SHOOT).sum())
    assert kicks_seen > 0  # the sampled states do exercise kicks


def test_inactive_players_idle(cases):
    env, states, fns = cases["3v1_with_keeper"]
    active = np.asarray(states.active)
    assert not active.all()
    for fn in fns.values():
        for team in (0, 1):
            actions = np.asarray(fn(_keys(states.step.shape[0]), states, team))
            assert (actions[~active[:, team]] == 0).all()


# --- jit, vmap, determinism, frames -----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_jit_vmap_and_determinism(cases, name):
    """vmap over games equals one game at a time; the same key gives the same actions."""
    env, states, fns = cases["2v2"]
    single = jax.jit(bots.get(name, env.config))
    n = states.step.shape[0]
    keys = _keys(n, seed=3)
    batched = np.asarray(fns[name](keys, states, 1))
    np.testing.assert_array_equal(batched, np.asarray(fns[name](keys, states, 1)))
    for i in (0, n // 2, n - 1):
        state = jax.tree.map(lambda x: x[i], states)
        np.testing.assert_array_equal(np.asarray(single(keys[i], state, 1)), batched[i])


@pytest.mark.parametrize("name", ["chaser", "positional"])
def test_mirror_symmetry(cases, name):
    """Bots see the game in their team's frame: team 1 in a state acts as team 0 does in the
    mirrored state."""
    env, states, fns = cases["2v2"]
    n = states.step.shape[0]
    right = np.asarray(fns[name](_keys(n), states, 1))
    left_mirrored = np.asarray(fns[name](_keys(n), jax.vmap(mirror)(states), 0))
    np.testing.assert_array_equal(right, left_mirrored)


def test_random_uses_key_and_covers_legal_actions(cases):
    env, states, fns = cases["2v2"]
    n = states.step.shape[0]
    one = jax.tree.map(lambda x: jnp.broadcast_to(x[0], x.shape), states)  # one state, n times
    actions = np.concatenate([np.asarray(fns["random"](_keys(n, seed), one, 0))
                              for seed in range(12)])
    legal = np.asarray(env.action_mask(jax.tree.map(lambda x: x[0], states)))[0]
    for i in range(env.team_size):
        seen = np.bincount(actions[:, i], minlength=env.num_actions) > 0
        np.testing.assert_array_equal(seen, legal[i])  # every legal action, nothing else


def test_difficulty_mixes_in_random_actions(cases):
    env, states, fns = cases["2v2"]
    n = states.step.shape[0]
    one = jax.tree.map(lambda x: jnp.broadcast_to(x[0], x.shape), states)
    distinct = {}
    for d in (1.0, 0.5, 0.0):
        fn = fns["positional"] if d == 1.0 else jax.jit(jax.vmap(
            bots.get("positional", env.config, difficulty=d), in_axes=(0, 0, None)))
        actions = np.asarray(fn(_keys(n, 5), one, 0))
        distinct[d] = [len(np.unique(actions[:, i])) for i in range(env.team_size)]
    assert distinct[1.0] == [1, 1]  # deterministic at full strength
    assert all(a > 3 for a in distinct[0.0])
    assert all(1 < a <= b for a, b in zip(distinct[0.5], distinct[0.0]))


def test_positional_difficulty_as_data_plays_as_the_fixed_difficulty(cases):
    """`positional_act` (the curriculum's bot: difficulty as a traced value, one per game)
    gives exactly the actions of `bots.get("positional", difficulty=d)`, same key, same draws."""
    env, states, fns = cases["2v2"]
    n = states.step.shape[0]
    act = jax.jit(jax.vmap(bots.positional_act(env.config), in_axes=(0, 0, 0, None)))
    for d in (1.0, 0.7, 0.0):
        fixed = fns["positional"] if d == 1.0 else jax.jit(jax.vmap(
            bots.get("positional", env.config, difficulty=d), in_axes=(0, 0, None)))
        expected = np.asarray(fixed(_keys(n, 3), states, 1))
        got = np.asarray(act({"difficulty": jnp.full((n,), d, jnp.float32)}, _keys(n, 3),
                             states, 1))
        np.testing.assert_array_equal(got, expected)
    # One difficulty per game: game i plays as the fixed bot of its own difficulty.
    mixed = jnp.where(jnp.arange(n) % 2 == 0, 1.0, 0.0)
    got = np.asarray(act({"difficulty": mixed}, _keys(n, 4), states, 0))
    full = np.asarray(fns["positional"](_keys(n, 4), states, 0))
    rand = np.asarray(jax.jit(jax.vmap(bots.get("positional", env.config, difficulty=0.0),
                                       in_axes=(0, 0, None)))(_keys(n, 4), states, 0))
    np.testing.assert_array_equal(got[::2], full[::2])
    np.testing.assert_array_equal(got[1::2], rand[1::2])


# --- behaviour --------------------------------------------------------------------------------


@pytest.mark.parametrize("team", [0, 1])
def test_chaser_runs_at_the_ball_and_shoots_with_it(cases, team):
    env, states, fns = cases["2v2"]
    n = states.step.shape[0]
    rng = np.random.default_rng(team)
    half = np.array([env.config.field_length, env.config.field_width]) / 2
    ball = rng.uniform(-half, half, (n, 2)).astype(np.float32)
    far = states.replace(ball_pos=jnp.asarray(ball), owner=jnp.full((n,), -1, jnp.int32))
    actions = np.asarray(fns["chaser"](_keys(n), far, team))
    sign = 1.0 - 2.0 * team
    to_ball = sign * (ball[:, None] - np.asarray(far.player_pos[:, team]))  # team frame
    dist = np.linalg.norm(to_ball, axis=-1)
    cosine = np.sum(move_table(env.team_size)[actions] * to_ball, axis=-1) / dist
    # A loose ball: everyone runs at it (nobody may kick).
    assert (cosine > math.cos(math.radians(22.5)) - 1e-5).all()
    # Player 1 has the ball: it shoots, its teammate runs at the ball.
    T = env.team_size
    owned = far.replace(owner=jnp.full((n,), team * T + 1, jnp.int32))
    acts = np.asarray(fns["chaser"](_keys(n), owned, team))
    assert (acts[:, 1] == Action.SHOOT).all() and (acts[:, 0] != Action.SHOOT).all()


def test_keeper_stays_near_its_goal(env2, rollout2):
    """Positional's player 0 (playing right, against chasers) guards its goal, on the line
    between the ball and the goal centre, while its field player follows the ball."""
    cfg = env2.config
    pos, ball = np.asarray(rollout2.player_pos[:, :, 1]), np.asarray(rollout2.ball_pos)
    own_goal = np.array([cfg.field_length / 2, 0.0])  # the right team's goal
    keeper = np.linalg.norm(pos[:, :, 0] - own_goal, axis=-1)
    field = np.linalg.norm(pos[:, :, 1] - own_goal, axis=-1)
    assert np.mean(keeper) < 0.25 * cfg.field_length
    assert np.quantile(keeper, 0.95) < 0.35 * cfg.field_length
    assert np.mean(field) > 2 * np.mean(keeper)
    to_ball = ball - own_goal
    along = np.sum((pos[:, :, 0] - own_goal) * to_ball, -1) / np.linalg.norm(to_ball, axis=-1)
    off_line = np.sqrt(np.maximum(keeper ** 2 - along ** 2, 0.0))
    assert np.median(off_line) < 0.5


OVERSHOOT = 0.15  # m: a keeper running at 5 m/s stops 0.6 m later (20 m/s^2)


def test_positional_keeper_meets_long_shots_inside_its_area():
    """Long shots (16 and 18 m, at angles up to 24 degrees): the positional keeper moves onto
    each shot's path but stays in its penalty area (where it may catch) while the ball is
    loose, give or take the 0.1 m it overshoots when it stops at full speed (keeper_box_margin
    is its aim). It used to step up to 0.5-0.7 m out, to the point of the path nearest to it."""
    env = soccer_env.make("3v3")
    cfg = env.config
    half, T = cfg.field_length / 2, cfg.team_size
    keeper_bot = bots.get("positional", cfg)
    box_x = half - penalty_depth(cfg.field_length)
    angles = np.tile(np.radians(np.linspace(-24.0, 24.0, 64)), 2)
    distances = np.repeat([16.0, 18.0], 64)
    shoot = jnp.zeros((2, T), jnp.int32).at[0, T - 1].set(int(Action.SHOOT))
    active = np.array([[False] * (T - 1) + [True], [True] + [False] * (T - 1)])

    def game(key, angle, distance):
        ball = jnp.array([half, 0.0]) - distance * jnp.stack([jnp.cos(angle), jnp.sin(angle)])
        shooter = ball - 0.53 * jnp.stack([jnp.cos(angle), jnp.sin(angle)])
        keeper = jnp.array([half, 0.0]) + 3.0 * (ball - jnp.array([half, 0.0])) / distance
        state = place(cfg, ball=(0.0, 0.0), owner=(0, T - 1), active=active)
        state = state.replace(
            player_pos=state.player_pos.at[0, T - 1].set(shooter).at[1, 0].set(keeper),
            ball_pos=ball)

        def step(state, t):
            k_bot, k_env = jax.random.split(jax.random.fold_in(key, t))
            actions = jnp.where(t == 0, shoot, 0).at[1].set(keeper_bot(k_bot, state, 1))
            _, state, _, _, _ = env.step_env(k_env, state, actions)
            beyond = box_x - state.player_pos[1, 0, 0]  # > 0: upfield of the area's line
            return state, (jnp.where(state.owner == -1, beyond, 0.0), state.player_pos[1, 0])

        _, (out, path) = jax.lax.scan(step, state, jnp.arange(12))
        return out, path

    keys = jax.random.split(jax.random.PRNGKey(0), len(angles))
    out, path = jax.jit(jax.vmap(game))(keys, jnp.asarray(angles, jnp.float32),
                                        jnp.asarray(distances, jnp.float32))
    out, path = np.asarray(out), np.asarray(path)
    assert out.max() <= OVERSHOOT, (out.max(), int((out > OVERSHOOT).any(axis=1).sum()))
    assert np.linalg.norm(path[:, -1] - path[:, 0], axis=-1).mean() > 0.5, "the keeper moved"


def test_positional_keeper_closes_down_a_carrier_near_goal():
    """A carrier standing with the ball in (or just outside) the positional keeper's penalty
    area, nobody else on the pitch: the keeper leaves its line, closes the carrier down and wins
    the ball by tackling. With closing down switched off it stays on its line, out of tackle
    range (the keeper that carriers used to walk past)."""
    env = soccer_env.make("3v3")
    cfg = env.config
    half, T = cfg.field_length / 2, cfg.team_size
    box_x = half - penalty_depth(cfg.field_length)
    active = np.array([[False] * (T - 1) + [True], [True] + [False] * (T - 1)])
    spots = jnp.asarray([[box_x + 0.8, 0.0], [box_x + 0.5, 2.0], [box_x - 0.5, -1.5],
                         [half - 2.0, 2.5]], jnp.float32)

    def run(keeper_bot):
        def game(key, spot):
            state = place(cfg, ball=(0.0, 0.0), owner=(0, T - 1), active=active,
                          right={0: (half - 0.6, 0.0)})
            ball = spot + jnp.array([0.55, 0.0])
            state = state.replace(player_pos=state.player_pos.at[0, T - 1].set(spot),
                                  ball_pos=ball)

            def step(state, t):
                k_bot, k_env = jax.random.split(jax.random.fold_in(key, t))
                actions = jnp.zeros((2, T), jnp.int32).at[1].set(keeper_bot(k_bot, state, 1))
                _, state, _, _, _ = env.step_env(k_env, state, actions)
                gap = jnp.linalg.norm(state.player_pos[1, 0] - state.player_pos[0, T - 1])
                return state, (gap, state.owner == T)

            _, (gap, keeper_owns) = jax.lax.scan(step, state, jnp.arange(30))
            return gap.min(), keeper_owns.any()

        keys = jax.random.split(jax.random.PRNGKey(0), 64)
        gap, won = jax.jit(jax.vmap(jax.vmap(game, (None, 0)), (0, None)))(keys, spots)
        return np.asarray(gap), np.asarray(won)

    gap, won = run(bots.get("positional", cfg))
    assert gap.max() <= cfg.tackle_range, gap.max(axis=0)
    assert won.mean(axis=0).min() >= 0.9, won.mean(axis=0)
    gap, won = run(make_positional(cfg, tuning=PositionalTuning(keeper_close_margin=-1e3)))
    assert gap.min() > cfg.tackle_range and not won.any(), gap.min(axis=0)


# --- matches and strength ---------------------------------------------------------------------

STRENGTH_GAMES, STRENGTH_STEPS = 64, 200


@pytest.fixture(scope="module")
def strength(env2):
    return {
        (a, b): stats.head_to_head(env2, players.resolve(f"bot:{a}", env2),
                                   players.resolve(f"bot:{b}", env2), jax.random.PRNGKey(i),
                                   STRENGTH_GAMES, STRENGTH_STEPS)
        for i, (a, b) in enumerate([("positional", "chaser"), ("chaser", "random")])
    }


def test_bot_matches_through_the_runner(env2, strength):
    chaser, rand = players.resolve("bot:chaser", env2), players.resolve("bot:random", env2)
    args = (env2, chaser, rand, jax.random.PRNGKey(0), STRENGTH_GAMES, STRENGTH_STEPS)
    out, _ = match.play(*args)
    assert set(out) == set(match.COUNTERS)
    for x in out.values():
        assert x.shape == (STRENGTH_GAMES, 2) and x.dtype == np.int32 and (x >= 0).all()
    assert out["goals"][:, 0].mean() > out["goals"][:, 1].mean()  # chaser (left) wins
    assert (out["shots"] >= out["shots_on_target"]).all()
    again, _ = match.play(*args)
    for k in out:
        np.testing.assert_array_equal(out[k], again[k])


def test_stats_cli_prints_a_pairing_and_rejects_bad_specs(capsys):
    assert stats.main(["1v1", "bot:chaser", "bot:random", "--games", "4", "--steps", "20"]) == 0
    out = capsys.readouterr().out
    assert "| bot:chaser | bot:random |" in out
    assert stats.main(["1v1", "bot:chaser", "bot:nobody"]) == 2
    assert "B='bot:nobody' is invalid" in capsys.readouterr().err
    assert stats.main(["4v4"]) == 2
    assert "scenario='4v4' is invalid" in capsys.readouterr().err


def test_head_to_head_summary(strength):
    r = strength[("chaser", "random")]
    diff = r["goal_diff"]
    assert diff.shape == (STRENGTH_GAMES,)
    assert r["mean"] == pytest.approx(diff.mean())
    assert r["goals_for"] - r["goals_against"] == pytest.approx(r["mean"])
    assert r["win"] + r["draw"] + r["loss"] == pytest.approx(1.0)


def test_strength_ordering(strength):
    """positional beats chaser and chaser beats random (2v2, each bot on both sides)."""
    pc, cr = strength[("positional", "chaser")], strength[("chaser", "random")]
    assert pc["mean"] - pc["ci95"] > 0.5, pc
    assert pc["win"] > 0.6, pc
    assert cr["mean"] - cr["ci95"] > 2.0, cr
    assert cr["win"] > 0.8, cr


def test_passing_pays_in_3v3():
    """The pass ablation of docs/game.md on a small sample (128 full 3v3 games, a seed of its
    own): the positional bot beats the same bot without passes, its interval above 0."""
    r = stats.ablation("3v3", games=128, seed=2)
    assert r["passes_b"] == 0 and r["passes_completed_a"] >= 3, r
    assert r["mean"] - r["ci95"] > 0.0, (r["mean"], r["ci95"])
