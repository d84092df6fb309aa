"""The vectorized match runner: many games between two players in one jitted program.

Players are `soccer_env.players.Player`s: `act(params, key, state, team) -> int32 [T]` with
their parameters (scripted bots have none; a trained policy's parameters are a traced argument,
so a new checkpoint reuses the compiled match).

    a, b = players.resolve("bot:positional", env), players.resolve("bot:chaser", env)
    counters, _ = soccer_env.match.play(env, a, b, key, games=100)
    counters["goals"]                                   # int32 [100, 2], index 0 = left team
    from_a = soccer_env.match.head_to_head(env, a, b, key, games=100)   # index 0 = player a

Every game starts from `env.reset` (no auto-reset) and lasts `steps` steps (default
`env.config.max_steps`), or less when its episode ends first (drills): from then on the state
and the counters stay frozen. In a match, a goal restarts play from a kickoff as usual.
Player a plays team `a_side[g]` of game g (default 0, the left), so both sides of a
head-to-head share one compilation. The keys of a step go to player a, player b and the game,
in that order, whichever side a plays.

This is the one runner: evaluation (`agents.evaluation`), the bots' strength table, training's
quick checks, eval.py, leagues and the study all play their matches here.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env import devices
from soccer_env.config import EnvConfig
from soccer_env.env import PASS_LENGTHS, SoccerEnv, team_event_counts
from soccer_env.players import Act, Player

# Per-game, per-team counters of a match: the events of `team_event_counts`, then the steps
# each team's keeper (player 0, T >= 2) spent in its own third of the pitch, and the steps
# played (the same for both teams).
COUNTERS = ("goals", "shots", "shots_on_target", "saves", "passes", "passes_completed",
            *(f"passes_over_{m}m" for m in PASS_LENGTHS), "interceptions", "tackles", "touches",
            "possession_steps", "goals_after_pass", "goals_carried", "keeper_home_steps",
            "steps")


# The per-step events `recorded` returns beside the states (int32 [2] per team and step).
RECORDED_EVENTS = ("goals", "passes_completed", "interceptions", "goals_after_pass")


@functools.lru_cache(maxsize=128)
def match_fn(config: EnvConfig, act_a: Act, act_b: Act, steps: int, record: bool = False):
    """jit(vmap(game)) for games of `config`, `act_a` against `act_b`, `steps` steps:
    fn(params_a, params_b, keys [G], a_side int32 [G]) -> (counters, trajectory): counters
    {name: int32 [G, 2]} of COUNTERS in world order (index 0 = left team); trajectory, when
    `record`, (the states after each step, a State [G, steps, ...]; that step's events
    {RECORDED_EVENTS: int32 [G, steps, 2], "pass_origin": float32 [G, steps, 2]}), else None. The games are
    split over the local devices (`soccer_env.devices.shard_games`). Cached per arguments:
    pass the same player functions to reuse a compilation."""
    env = SoccerEnv(config)

    def one_game(params_a, params_b, key, a_side):
        key_reset, key_play = jax.random.split(key)
        _, state = env.reset(key_reset)
        b_side = 1 - a_side

        def body(carry, key_step):
            state, totals, ended = carry
            k_a, k_b, k_env = jax.random.split(key_step, 3)
            actions_a = act_a(params_a, k_a, state, a_side)
            actions_b = act_b(params_b, k_b, state, b_side)
            actions = jnp.where(a_side == 0, jnp.stack([actions_a, actions_b]),
                                jnp.stack([actions_b, actions_a]))
            _, next_state, _, done, info = env.step_env(k_env, state, actions)
            live = ~ended
            counts = dict(team_event_counts(info), keeper_home_steps=keeper_home(next_state),
                          steps=jnp.ones((2,), jnp.int32))
            totals = {k: totals[k] + jnp.where(live, counts[k], 0) for k in totals}
            events = None
            if record:
                events = {k: jnp.where(live, counts[k], 0) for k in RECORDED_EVENTS}
                events["pass_origin"] = state.pass_origin  # where a pass completed now began
            state = jax.tree.map(lambda new, old: jnp.where(live, new, old), next_state, state)
            ended = ended | done
            return (state, totals, ended), ((state, events) if record else None)

        def keeper_home(state):
            if config.team_size < 2:
                return jnp.zeros((2,), jnp.int32)
            x = state.player_pos[:, 0, 0] * jnp.array([1.0, -1.0])  # in each team's frame
            return (x < -config.field_length / 6).astype(jnp.int32)

        zeros = {k: jnp.zeros((2,), jnp.int32) for k in COUNTERS}
        init = (state, zeros, jnp.zeros((), bool))
        (_, totals, _), trajectory = jax.lax.scan(
            body, init, jax.random.split(key_play, steps))
        return totals, trajectory

    # Games are independent: split over every local device (one per core with use_all_cores).
    return devices.shard_games(jax.jit(jax.vmap(one_game, in_axes=(None, None, 0, 0))),
                               batched=(False, False, True, True))


def check_args(env: SoccerEnv, games, steps, games_name: str = "games") -> tuple[int, int]:
    """(games, steps) validated, steps defaulting to `env.config.max_steps`; ValueError naming
    the bad argument (`games_name` for the number of games) otherwise."""
    if not isinstance(env, SoccerEnv):
        raise ValueError(f"env must be a SoccerEnv, got {type(env).__name__}")
    steps = env.config.max_steps if steps is None else steps
    if not isinstance(games, (int, np.integer)) or games < 1:
        raise ValueError(f"{games_name}={games!r} is invalid: allowed an integer >= 1")
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps={steps!r} is invalid: allowed an integer >= 1 (or None)")
    return int(games), int(steps)


def _check_player(player, name: str) -> Player:
    if not isinstance(player, Player):
        raise ValueError(f"{name} must be a soccer_env.players.Player, got "
                         f"{type(player).__name__} (players.resolve(spec, env) makes one)")
    return player


def run(env: SoccerEnv, a: Player, b: Player, keys: jax.Array, steps: int | None = None,
        a_side=None, record: bool = False):
    """One game per key of `keys` [G] (see `match_fn`), player `a` as team `a_side` [G]
    (default all 0: the left team). Returns numpy (counters [G, 2] in world order, trajectory
    or None)."""
    _, steps = check_args(env, len(keys), steps)
    return _run(env, a, b, keys, steps, a_side, record)[:2]


def recorded(env: SoccerEnv, a: Player, b: Player, key: jax.Array, games: int,
             steps: int | None = None):
    """`games` games, a as the left team, recorded: (counters {name: [G, 2]}, states after
    each step [G, steps, ...], events of each step {name: [G, steps, 2]}: the per-team
    RECORDED_EVENTS, and "pass_origin", where the pass in flight before the step was struck,
    so a pass completed on a step went from there to the ball's position after it)."""
    games, steps = check_args(env, games, steps)
    return _run(env, a, b, jax.random.split(key, games), steps, None, True)


def _run(env, a, b, keys, steps, a_side, record):
    a, b = _check_player(a, "a"), _check_player(b, "b")
    a_side = np.zeros(len(keys), np.int32) if a_side is None else np.asarray(a_side)
    if a_side.shape != (len(keys),) or not np.all((a_side == 0) | (a_side == 1)):
        raise ValueError(f"a_side={a_side!r} is invalid: allowed 0 (left) or 1 (right) per game, "
                         f"shape [{len(keys)}]")
    fn = match_fn(env.config, a.act, b.act, steps, bool(record))
    totals, trajectory = fn(a.params, b.params, keys, a_side.astype(np.int32))
    states, events = (None, None) if trajectory is None else jax.tree.map(np.asarray,
                                                                          trajectory)
    return {k: np.asarray(v) for k, v in totals.items()}, states, events


def play(env: SoccerEnv, a: Player, b: Player, key: jax.Array, games: int,
         steps: int | None = None, a_side=None, record: bool = False,
         games_name: str = "games"):
    """`games` games with keys `jax.random.split(key, games)`; otherwise as `run`."""
    games, steps = check_args(env, games, steps, games_name)
    return _run(env, a, b, jax.random.split(key, games), steps, a_side, record)[:2]


def head_to_head(env: SoccerEnv, a: Player, b: Player, key: jax.Array, games: int,
                 steps: int | None = None, games_name: str = "games",
                 both_sides: bool = True) -> dict[str, np.ndarray]:
    """Counters [games, 2] from a's side (index 0 = a) of `games` games, a on the left in the
    first half of them and on the right in the rest (with `both_sides=False`, on the left in
    all of them: a drill's attacking side): one compiled program for both sides."""
    games, steps = check_args(env, games, steps, games_name)
    a_side = ((np.arange(games) >= games // 2) & both_sides).astype(np.int32)
    counters = _run(env, a, b, jax.random.split(key, games), steps, a_side, False)[0]
    return from_a_side(counters, a_side)


def record(env: SoccerEnv, a: Player, b: Player, key: jax.Array, steps: int | None = None):
    """One game, `a` as the left team: (trajectory of the states after each step, a State with
    a leading time axis, frozen once the episode has ended; counters [2])."""
    counters, trajectory = run(env, a, b, key[None], steps, record=True)
    return (jax.tree.map(lambda x: x[0], trajectory), {k: v[0] for k, v in counters.items()})


def from_a_side(counters: dict[str, np.ndarray], a_side) -> dict[str, np.ndarray]:
    """Counters [G, 2] in world order -> from player a's side (index 0 = a)."""
    flip = np.asarray(a_side)[:, None] == 1
    return {k: np.where(flip, v[:, ::-1], v) for k, v in counters.items()}
