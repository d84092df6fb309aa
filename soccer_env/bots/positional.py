"""Scripted bots: the fixed yardsticks of evaluation, and a vectorized match runner.

A bot is a jittable function `bot(key, state, team) -> int32 [T]`: the actions of one team's T
players (in that team's frame, see `SoccerEnv`) for one unbatched game `state`; `team` is 0 (left)
or 1 (right) and may be traced. Bots work under `jax.vmap` (over games) and inside `lax.scan`,
for any team size 1..11, with inactive players (drills), and output only actions legal under
`SoccerEnv.action_mask` (idle for players off the pitch).

Bots need the pitch (sizes, kick range, ...), which a state's shapes do not tell, so they close
over an `EnvConfig`:

    bot = soccer_env.bots.get("positional", env.config, difficulty=0.5)
    actions = jnp.stack([bot(k0, state, 0), other_bot(k1, state, 1)])   # int32 [2, T]

`config` may be an `EnvConfig` or a `SoccerEnv`; when omitted it is `EnvConfig()` (the 2v2
pitch), and a state of another team size raises a ValueError when the bot is traced.

Registered bots (`names()`; defaults are the strongest settings):
    random      uniform over the legal actions.
    chaser      everyone runs at the ball and shoots when in kick range.
    positional  a keeper (player 0 when T >= 2) on the line between the ball and its goal
                centre; the outfield player nearest the ball plays it (from behind, so that
                touches push it toward goal; on the shot line when the opponent is first to it);
                the others hold a formation shifted with the ball, goal-side of it, forwards
                pushing up in possession. A player in kick range always kicks: shoots when the
                lane is open, passes to an open teammate upfield when pressed (or to one with an
                open shot), and otherwise shoots anyway. `difficulty` in [0, 1] (default 1.0):
                each player's action is replaced, each step, with probability 1 - difficulty by
                a uniformly random legal action (0.0 plays like `random`).

`play_match` / `head_to_head` run many vectorized games between any two bots (wrappers over
the match runner `soccer_env.match`); `python -m soccer_env.bots` prints the strength table
recorded in docs/bots.md.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env import match, physics
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.match import MATCH_STATS
from soccer_env.physics import FIRST_PASS, SHOOT
from soccer_env.scenarios import formation, scenario_config
from soccer_env.types import State

Bot = Callable[[jax.Array, State, jax.Array], jax.Array]

IDLE = 0
FORWARD = 1


# ---------------------------------------------------------------------------------------------
# The game seen from one team: everything in that team's frame (attacking +x).


class TeamView(NamedTuple):
    own_pos: jax.Array  # [T, 2]
    own_vel: jax.Array  # [T, 2]
    own_active: jax.Array  # [T] bool
    opp_pos: jax.Array  # [T, 2]
    opp_vel: jax.Array  # [T, 2]
    opp_active: jax.Array  # [T] bool
    ball_pos: jax.Array  # [2]
    ball_vel: jax.Array  # [2]
    mask: jax.Array  # [T, num_actions] bool, legal actions of the team's players


def team_view(config: EnvConfig, state: State, team) -> TeamView:
    """The game in `team`'s frame (the right team's frame is the world rotated by 180 degrees)."""
    team = jnp.asarray(team, jnp.int32)
    sign = 1.0 - 2.0 * team.astype(jnp.float32)
    other = 1 - team
    mask = SoccerEnv(config).action_mask(state)[team]
    return TeamView(
        own_pos=sign * state.player_pos[team], own_vel=sign * state.player_vel[team],
        own_active=state.active[team],
        opp_pos=sign * state.player_pos[other], opp_vel=sign * state.player_vel[other],
        opp_active=state.active[other],
        ball_pos=sign * state.ball_pos, ball_vel=sign * state.ball_vel, mask=mask)


def move_action(direction: jax.Array) -> jax.Array:
    """int32 [...] the move action (1..8) whose direction is closest to `direction` [..., 2]."""
    angle = jnp.arctan2(direction[..., 1], direction[..., 0])
    sector = jnp.round(angle / (jnp.pi / 4)).astype(jnp.int32) % 8
    return FORWARD + sector


def move_to(pos: jax.Array, target: jax.Array, stop_radius: float = 0.0) -> jax.Array:
    """int32 [...] move toward `target`, idle (decelerate) once within `stop_radius`."""
    d = target - pos
    dist = jnp.sqrt(jnp.sum(d * d, axis=-1))
    return jnp.where(dist <= stop_radius, IDLE, move_action(d))


def legalize(actions: jax.Array, mask: jax.Array) -> jax.Array:
    """Replace actions illegal under `mask` [T, A] by idle (always legal)."""
    legal = jnp.take_along_axis(mask, actions[:, None], axis=-1)[:, 0]
    return jnp.where(legal, actions, IDLE).astype(jnp.int32)


def random_legal(key: jax.Array, mask: jax.Array) -> jax.Array:
    """int32 [T] uniform over each player's legal actions."""
    logits = jnp.where(mask, 0.0, -jnp.inf)
    return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)


def _norm(x):
    return jnp.sqrt(jnp.sum(x * x, axis=-1) + 1e-12)


def _unit(x):
    return x / _norm(x)[..., None]


def _segment_distance(start, end, points):
    """Distance of `points` [..., N, 2] to segments start [..., 2] -> end [..., 2], and the
    fraction along the segment of their projection (clipped to [0, 1])."""
    seg = end - start
    rel = points - start[..., None, :]
    along = jnp.clip(jnp.sum(rel * seg[..., None, :], axis=-1)
                     / (jnp.sum(seg * seg, axis=-1)[..., None] + 1e-12), 0.0, 1.0)
    closest = start[..., None, :] + along[..., None] * seg[..., None, :]
    return _norm(points - closest), along


def _check_state(config: EnvConfig, state: State):
    if state.player_pos.shape[-2] != config.team_size:
        raise ValueError(
            f"state has team size {state.player_pos.shape[-2]} but the bot's config has "
            f"team_size={config.team_size}; pass the game's config: get(name, env.config)")


# ---------------------------------------------------------------------------------------------
# Bots.


def make_random(config: EnvConfig) -> Bot:
    """Uniform over each player's legal actions."""

    def random_bot(key, state, team):
        _check_state(config, state)
        return random_legal(key, team_view(config, state, team).mask)

    return random_bot


def make_chaser(config: EnvConfig) -> Bot:
    """Every player runs straight at the ball and shoots when within kick range."""

    def chaser_bot(key, state, team):
        del key
        _check_state(config, state)
        v = team_view(config, state, team)
        actions = jnp.where(v.mask[:, SHOOT], SHOOT, move_action(v.ball_pos - v.own_pos))
        return legalize(jnp.where(v.own_active, actions, IDLE), v.mask)

    return chaser_bot


@dataclasses.dataclass(frozen=True)
class PositionalTuning:
    """Knobs of the positional bot (lengths in metres unless noted)."""

    lane_margin: float = 0.2  # a shot is open when no opponent can reach the ball's path:
    lane_reaction: float = 0.4  # none within reach + margin + this many m per m along it
    press_radius: float = 2.0  # an opponent this close presses the ball carrier
    open_radius: float = 2.0  # a teammate with no opponent this close is open
    pass_reaction: float = 0.6  # like lane_reaction, for (slower) passes
    pass_when_covered: bool = True  # also pass (unpressed) to a teammate with an open shot
    keeper_zone: float = 0.3  # fraction of L: the keeper comes out for balls this close ...
    keeper_margin: float = 0.5  # ... that it reaches this much before any opponent ...
    keeper_rush_speed: float = 5.0  # ... and that roll slower than this (m/s)
    keeper_depth: float = 0.35  # keeper stands this fraction of the ball's distance off goal,
    keeper_min_depth: float = 0.8  # at least this far
    keeper_max_depth: float = 0.2  # and at most this fraction of L
    shift_x: float = 0.5  # the formation follows the ball: x shift per metre of ball x
    shift_y: float = 0.3  # y shift per metre of ball y
    attack_push: float = 0.35  # fraction of L: slots move up this far in possession
    line_pull: float = 1.0  # slots goal-side of the ball move this far toward its goal line
    direct_range: float = 1.5  # run straight at the ball when this close to it
    circle: bool = True  # the ball player runs round the ball to push it toward goal
    block: bool = True  # a defending ball player on the wrong side blocks the shot line ...
    block_margin: float = 0.3  # ... when an opponent is this much nearer the ball ...
    block_distance: float = 1.2  # ... this far from the ball toward our goal centre
    outlet_gain: float = 3.0  # the keeper passes only to teammates this much further upfield
    chase_fraction: float = 0.0  # this fraction of the outfield players (at least 1) chase
    lookahead: float = 0.0  # s: the ball player aims at the ball's position this far ahead


def make_positional(config: EnvConfig, difficulty: float = 1.0,
                    tuning: PositionalTuning = PositionalTuning()) -> Bot:
    """The positional bot (see the module docstring) for games of `config`.

    Stateless and branch-free: roles are recomputed every step from the state. `tuning` holds
    the knobs used to tune it (docs/bots.md); only `difficulty` is a registered parameter.
    """
    cfg, tn = config, tuning
    T = cfg.team_size
    L, W = cfg.field_length, cfg.field_width
    half_l, half_w = L / 2, W / 2
    reach = cfg.player_radius + cfg.ball_radius
    has_keeper = T >= 2
    is_keeper = jnp.asarray(np.arange(T) == 0) & has_keeper
    home = jnp.asarray(formation(cfg))  # [T, 2] team frame
    mates = jnp.asarray(physics.teammate_index(T))  # [T, T-1]
    own_goal = jnp.array([-half_l, 0.0])
    opp_goal = jnp.array([half_l, 0.0])
    bound = jnp.array([half_l - cfg.player_radius, half_w - cfg.player_radius])
    decay = 1.0 - cfg.ball_friction
    swap_prob = 1.0 - difficulty
    num_chasers = max(1, int(round(tn.chase_fraction * (T - 1))))
    # Forwards: outfield players whose formation spot is at least as far up as the average.
    home_x = formation(cfg)[:, 0]
    outfield_x = home_x[1:] if has_keeper else home_x
    forwards = jnp.asarray((home_x >= outfield_x.mean() - 1e-6) & ~np.asarray(is_keeper))

    def predict_ball(ball_pos, ball_vel, seconds):
        """Where the rolling ball will be after `seconds` [...] (friction, no bounces)."""
        n = seconds / cfg.dt
        travel = cfg.dt * decay * (1.0 - decay ** n) / max(cfg.ball_friction, 1e-6)
        return jnp.clip(ball_pos + ball_vel * travel[..., None], -bound, bound)

    def lane_blocked(start, end, opp_pos, opp_active, reaction):
        """[...] whether an opponent can reach the ball's path start -> end [..., 2] in time:
        within reach + lane_margin + `reaction` metres per metre it stands along the path."""
        dist, along = _segment_distance(start, end, opp_pos)  # [..., N]
        ahead = along * _norm(end - start)[..., None]
        near = dist < reach + tn.lane_margin + reaction * ahead
        return jnp.any(opp_active & near & (along > 0.0), axis=-1)

    def positional_bot(key, state, team):
        _check_state(cfg, state)
        v = team_view(cfg, state, team)
        P, A, Q, QA, b, bv = (v.own_pos, v.own_active, v.opp_pos, v.opp_active,
                              v.ball_pos, v.ball_vel)
        in_range = v.mask[:, SHOOT]
        ball_speed = _norm(bv)

        # --- who plays the ball ------------------------------------------------------------
        dist_ball = _norm(P - b)  # [T]
        reach_time = jnp.clip(dist_ball / cfg.player_max_speed, 0.0, tn.lookahead)
        ball_at = predict_ball(b, bv, reach_time)  # [T, 2] where each player meets the ball
        meet_dist = _norm(P - ball_at)
        outfield = A & ~is_keeper
        rank = jnp.argsort(jnp.argsort(jnp.where(outfield, meet_dist, jnp.inf)))
        chaser = (rank < num_chasers) & outfield
        opp_dist_ball = jnp.min(jnp.where(QA, _norm(Q - b), jnp.inf))
        ball_near_goal = _norm(b - own_goal) < tn.keeper_zone * L
        keeper_first = dist_ball < opp_dist_ball - tn.keeper_margin
        keeper_out = (is_keeper & A & ball_near_goal & keeper_first
                      & (ball_speed < tn.keeper_rush_speed))
        lone_keeper = is_keeper & A & ~jnp.any(outfield)  # drills: nobody else to chase
        on_ball = (chaser | lone_keeper) & A

        # --- kicks (within range) ----------------------------------------------------------
        open_shot = ~lane_blocked(b, opp_goal, Q, QA, tn.lane_reaction)

        # In range, the ball player always kicks: the nearest kicker wins a contested ball, so
        # holding it only hands the kick to the opponent. Shoot when the lane is open, else pass
        # when pressed (or to a teammate with an open shot), else shoot anyway (rebounds).
        my_opp_dist = jnp.min(jnp.where(QA[None], _norm(P[:, None] - Q[None]), jnp.inf), axis=-1)
        pressed = my_opp_dist < tn.press_radius
        kick = jnp.full((T,), SHOOT, jnp.int32)
        if T >= 2:
            # Passing: each player's teammates, lanes and openness.
            mate_pos = P[mates] + 0.3 * v.own_vel[mates]  # [T, T-1, 2] where the pass is aimed
            pass_blocked = lane_blocked(jnp.broadcast_to(b, mate_pos.shape), mate_pos,
                                        Q[None, None], QA, tn.pass_reaction)  # [T, T-1]
            mate_opp_dist = jnp.min(jnp.where(QA, _norm(mate_pos[:, :, None] - Q[None, None]),
                                              jnp.inf), axis=-1)  # [T, T-1]
            pass_len = _norm(mate_pos - b)
            pass_ok = (A[mates] & ~pass_blocked & (mate_opp_dist > tn.open_radius)
                       & (pass_len > 1.5) & (pass_len < 0.7 * L))
            pass_value = mate_pos[..., 0] + 0.5 * jnp.minimum(mate_opp_dist, 2 * tn.open_radius)
            forward_ok = pass_ok & (mate_pos[..., 0] > b[0] - 1.0)
            best_slot = jnp.argmax(jnp.where(forward_ok, pass_value, -jnp.inf), axis=-1)  # [T]
            can_pass = jnp.any(forward_ok, axis=-1)
            # The keeper only passes upfield, well clear of its goal.
            outlet_ok = pass_ok & (mate_pos[..., 0] > b[0] + tn.outlet_gain)
            outlet_slot = jnp.argmax(jnp.where(outlet_ok, pass_value, -jnp.inf), axis=-1)
            can_outlet = jnp.any(outlet_ok, axis=-1)

            mate_shot_open = ~lane_blocked(mate_pos, jnp.broadcast_to(opp_goal, mate_pos.shape),
                                           Q[None, None], QA, tn.lane_reaction)  # [T, T-1]
            mate_better = forward_ok & mate_shot_open & (mate_pos[..., 0] > b[0] + 2.0)
            better_slot = jnp.argmax(jnp.where(mate_better, pass_value, -jnp.inf), axis=-1)
            can_pass_better = jnp.any(mate_better, axis=-1) & tn.pass_when_covered
            field_kick = jnp.where(
                open_shot, SHOOT,
                jnp.where(pressed & can_pass, FIRST_PASS + best_slot,
                          jnp.where(can_pass_better, FIRST_PASS + better_slot, SHOOT)))
            # The keeper: to an open teammate upfield, else clear it (a shot at the far goal).
            keeper_kick = jnp.where(can_outlet, FIRST_PASS + outlet_slot, SHOOT)
            kick = jnp.where(is_keeper, keeper_kick, field_kick)

        # --- movement of the ball player: get behind the ball, push it toward goal ---------
        aim = _unit(opp_goal - ball_at)  # [T, 2]
        rel = P - ball_at
        along = jnp.sum(rel * aim, axis=-1)  # < 0: behind the ball
        perp = rel - along[:, None] * aim
        lateral = _norm(perp)
        behind = (along < -0.1) & (lateral < 0.7 * (-along) + 0.15)
        side = jnp.where(lateral[:, None] > 1e-3, perp / lateral[:, None],
                         jnp.stack([-aim[:, 1], aim[:, 0]], axis=-1))
        push = ball_at + aim
        circle = ball_at - 0.9 * aim + jnp.where(along[:, None] > -0.3, 0.9 * side, 0.0)
        # Defending (an opponent nearer the ball) from the wrong side: block the shot line.
        opp_first = opp_dist_ball < dist_ball - tn.block_margin
        block = b + _unit(own_goal - b) * tn.block_distance
        chase_target = jnp.where((behind | (not tn.circle))[:, None], push,
                                 jnp.where((opp_first & tn.block)[:, None], block, circle))
        chase_target = jnp.where((dist_ball < tn.direct_range)[:, None], ball_at, chase_target)
        ball_move = move_to(P, chase_target)

        # --- keeper: on the line from the goal centre to the ball, or on a shot's path ------
        to_ball = b - own_goal
        depth = jnp.clip(tn.keeper_depth * _norm(to_ball), tn.keeper_min_depth,
                         tn.keeper_max_depth * L)
        guard = own_goal + _unit(to_ball) * depth  # [2]
        incoming = bv[0] < -2.0
        y_line = b[1] + bv[1] * (-half_l - b[0]) / jnp.where(incoming, bv[0], -1.0)
        on_target = incoming & (jnp.abs(y_line) < cfg.goal_width / 2 + reach)
        # The nearest point of the ball's path to each player (the keeper's interception).
        path_along = jnp.maximum(jnp.sum((P - b) * bv, axis=-1) / (ball_speed ** 2 + 1e-6), 0.0)
        intercept = b + path_along[:, None] * bv  # [T, 2]
        guard = jnp.where(on_target, intercept, guard[None])
        guard = jnp.clip(guard, -bound, bound)
        keeper_move = jnp.where(keeper_out, move_to(P, ball_at), move_to(P, guard, 0.15))

        # --- everyone else: home position shifted with the ball ---------------------------
        shift = jnp.array([tn.shift_x * b[0], tn.shift_y * b[1]])
        ours = jnp.any(state.last_touch[team])  # we touched the ball last: push up
        push_up = jnp.where(ours & forwards, tn.attack_push * L, 0.0)
        slot = home + shift + jnp.stack([push_up, jnp.zeros_like(push_up)], axis=-1)
        # Pull each slot toward the ball's line to our goal centre (shots aim at the centre),
        # at the slot's own depth.
        frac = jnp.clip((slot[:, 0] - own_goal[0]) / jnp.maximum(b[0] - own_goal[0], 1e-3),
                        0.0, 1.0)
        on_line = own_goal + frac[:, None] * (b - own_goal)
        pull = jnp.where(slot[:, 0] < b[0], tn.line_pull, 0.0)[:, None]
        slot = jnp.clip(slot + pull * (on_line - slot), -bound, bound)
        slot_move = move_to(P, slot, 0.3)

        move = jnp.where(on_ball, ball_move, jnp.where(is_keeper, keeper_move, slot_move))
        # Anyone in kick range kicks (the keeper included); the others move.
        actions = jnp.where(in_range, kick, move)
        actions = legalize(jnp.where(A, actions, IDLE), v.mask)

        if swap_prob > 0.0:
            k_swap, k_random = jax.random.split(key)
            swap = jax.random.uniform(k_swap, (T,)) < swap_prob
            actions = jnp.where(swap, random_legal(k_random, v.mask), actions)
        return actions

    return positional_bot


# ---------------------------------------------------------------------------------------------
# Registry.


def _no_params(**params):
    if params:
        raise ValueError(f"unexpected parameters {sorted(params)}: this bot takes none")
    return {}


def _positional_params(difficulty: float = 1.0, **rest):
    if rest:
        raise ValueError(f"unexpected parameters {sorted(rest)}: positional takes 'difficulty'")
    if (isinstance(difficulty, bool) or not isinstance(difficulty, (int, float))
            or not math.isfinite(difficulty) or not 0.0 <= difficulty <= 1.0):
        raise ValueError(f"difficulty={difficulty!r} is invalid: allowed a number in [0, 1]")
    return {"difficulty": float(difficulty)}


class _Entry(NamedTuple):
    make: Callable[..., Bot]
    params: Callable[..., dict]
    description: str


BOTS: dict[str, _Entry] = {
    "random": _Entry(make_random, _no_params, "uniform over the legal actions"),
    "chaser": _Entry(make_chaser, _no_params, "everyone runs at the ball and shoots in range"),
    "positional": _Entry(make_positional, _positional_params,
                         "keeper, formation, ball player shooting/passing/dribbling; "
                         "difficulty in [0, 1]"),
}


def names() -> list[str]:
    """Names of the registered bots."""
    return list(BOTS)


def get(name: str, config: EnvConfig | SoccerEnv | None = None, **params) -> Bot:
    """The bot `name` for games of `config`: a jittable `bot(key, state, team) -> int32 [T]`.

    `config`: the game's `EnvConfig` (or its `SoccerEnv`); `EnvConfig()` when omitted.
    `params`: the bot's parameters (`positional`: `difficulty` in [0, 1], default 1.0).
    The same (name, config, params) returns the same function object, so jitted code that
    closes over it is compiled once. Unknown names or bad parameters raise ValueError.
    """
    if name not in BOTS:
        raise ValueError(f"unknown bot {name!r}; known bots: {names()}")
    if isinstance(config, SoccerEnv):
        config = config.config
    if config is None:
        config = EnvConfig()
    if not isinstance(config, EnvConfig):
        raise ValueError(f"config must be an EnvConfig or a SoccerEnv, got "
                         f"{type(config).__name__}")
    checked = BOTS[name].params(**params)
    return _cached_bot(name, config, tuple(sorted(checked.items())))


@functools.lru_cache(maxsize=None)
def _cached_bot(name, config, params):
    bot = BOTS[name].make(config, **dict(params))
    bot.__name__ = bot.__qualname__ = name
    return bot


# ---------------------------------------------------------------------------------------------
# Matches (thin wrappers over soccer_env.match).


def play_match(env: SoccerEnv, bot_left: Bot, bot_right: Bot, key: jax.Array, num_games: int,
               steps: int | None = None) -> dict[str, np.ndarray]:
    """Play `num_games` vectorized games of `env` (no auto-reset), `bot_left` as team 0.

    Each game starts from `env.reset` and lasts `steps` steps (default `env.config.max_steps`),
    or until its episode ends (drills); after a goal a match restarts from a kickoff as usual.
    Returns numpy int32 arrays [num_games, 2] (index 0 = the left team) of MATCH_STATS: "goals",
    "shots", "shots_on_target", "passes", "passes_completed" and "touches". The compiled match
    is cached per (config, bots, steps): reuse the same bot objects (`get` caches them) to avoid
    recompiling.
    """
    counters, _ = match.play(env, match.bot_act(bot_left), None, match.bot_act(bot_right), None,
                             key, num_games, steps, games_name="num_games")
    return {k: counters[k] for k in MATCH_STATS}


def head_to_head(env: SoccerEnv, bot_a: Bot, bot_b: Bot, key: jax.Array, num_games: int,
                 steps: int | None = None) -> dict:
    """`bot_a` against `bot_b` over `num_games` vectorized games, `bot_a` on the left in the
    first half of them and on the right in the rest (one compilation for both).

    Returns, from `bot_a`'s side: "goal_diff" [num_games] (numpy), "mean", "ci95" (half-width
    of the normal-approximation 95% interval of the mean), "win", "draw", "loss" (fractions),
    "goals_for", "goals_against" (means), and "<stat>_a" / "<stat>_b", the per-team means of
    the other MATCH_STATS.
    """
    num_games, steps = match.check_args(env, num_games, steps, "num_games")
    a_side = (np.arange(num_games) >= num_games // 2).astype(np.int32)
    counters, _ = match.play(env, match.bot_act(bot_a), None, match.bot_act(bot_b), None, key,
                             num_games, steps, a_side=a_side)
    stats = match.from_a_side(counters, a_side)
    diff = (stats["goals"][:, 0] - stats["goals"][:, 1]).astype(np.float64)
    ci95 = 1.96 * diff.std(ddof=1) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    out = {
        "goal_diff": diff,
        "mean": float(diff.mean()),
        "ci95": float(ci95),
        "win": float(np.mean(diff > 0)),
        "draw": float(np.mean(diff == 0)),
        "loss": float(np.mean(diff < 0)),
        "goals_for": float(stats["goals"][:, 0].mean()),
        "goals_against": float(stats["goals"][:, 1].mean()),
    }
    for k in MATCH_STATS[1:]:
        out[f"{k}_a"] = float(stats[k][:, 0].mean())
        out[f"{k}_b"] = float(stats[k][:, 1].mean())
    return out


# Pairings of the strength table (docs/bots.md): (bot a, params a, bot b, params b).
TABLE = (
    ("positional", {}, "chaser", {}),
    ("chaser", {}, "random", {}),
    ("positional", {}, "random", {}),
    ("positional", {}, "positional", {}),
    ("chaser", {}, "chaser", {}),
    ("positional", {"difficulty": 0.75}, "positional", {}),
    ("positional", {"difficulty": 0.5}, "positional", {}),
    ("positional", {"difficulty": 0.5}, "chaser", {}),
    ("positional", {"difficulty": 0.25}, "chaser", {}),
    ("positional", {"difficulty": 0.25}, "random", {}),
)


def _label(name, params):
    return name + "".join(f"({k}={v})" for k, v in params.items())


def strength_table(scenario: str = "2v2", num_games: int = 1000, seed: int = 0,
                   steps: int | None = None, pairs=TABLE) -> list[dict]:
    """Head-to-head results of `pairs` in `scenario` (see docs/bots.md)."""
    env = SoccerEnv(scenario_config(scenario))
    rows = []
    for i, (a, pa, b, pb) in enumerate(pairs):
        start = time.time()
        r = head_to_head(env, get(a, env.config, **pa), get(b, env.config, **pb),
                         jax.random.fold_in(jax.random.PRNGKey(seed), i), num_games, steps)
        r.update(a=_label(a, pa), b=_label(b, pb), seconds=time.time() - start)
        rows.append(r)
    return rows


def format_table(rows: list[dict]) -> str:
    lines = ["| A | B | goal diff (A - B), 95% CI | A win / draw / loss | goals A : B "
             "| shots A : B | passes A : B |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(
            f"| {r['a']} | {r['b']} | {r['mean']:+.2f} ± {r['ci95']:.2f} | "
            f"{r['win']:.1%} / {r['draw']:.1%} / {r['loss']:.1%} | "
            f"{r['goals_for']:.2f} : {r['goals_against']:.2f} | "
            f"{r['shots_a']:.1f} : {r['shots_b']:.1f} | "
            f"{r['passes_a']:.1f} : {r['passes_b']:.1f} |")
    return "\n".join(lines)


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description="Strength table of the scripted bots.")
    parser.add_argument("--scenario", default="2v2")
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args(argv)
    rows = strength_table(args.scenario, args.games, args.seed, args.steps)
    print(f"{args.scenario}, {args.games} games per pairing (each bot on each side in half), "
          f"seed {args.seed}, {args.steps or 'max_steps'} steps")
    print(format_table(rows))
    print(f"total {sum(r['seconds'] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
