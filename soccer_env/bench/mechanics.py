"""Football mechanics benchmark: what the shot, block, pass and dribble mechanics make of
standard situations, measured over many seeded trials.

    python -m soccer_env.bench.mechanics                          # 3v3, 4096 trials per cell
    python -m soccer_env.bench.mechanics --scenario 2v2 --trials 1024 --json /tmp/m.json

Experiments (each one jitted, vmapped program over all of its trials; games start from
`State`s built here and run with `step_env` until the ball is owned, a restart or a goal
happens, or the step limit):

1. shot quality: the left team's shooter (player T-1) with the ball at D metres from the centre
   of the goal it attacks, at a random angle within +-30 degrees of straight on (less where the
   pitch is too narrow), shoots on the first step against the right keeper (player 0), who
   starts where the positional bot stands and is played by the positional bot; everyone else
   is off the pitch and the shooter idles after the shot. Goal, on-target and save rates.
2. block: the shooter 8 m out, no keeper, a still right outfield player G metres in front of
   the ball on the line to the goal centre (+-0.2 m sideways). Goal / blocked / missed shares.
3. pass vs dribble: seconds until a still teammate 10 m away owns a pass, against seconds for
   the owner pressing FORWARD to move 10 m with the ball. Acceptance: ratio <= 0.6.
4. interception: the same 10-m pass with a still opponent beside the lane at its middle
   (+-0.5 m along it) at lateral distance R. Acceptance: >= 80% intercepted for R <= 0.5 m,
   <= 10% at R = 3 m.

Rates come with 95% Wilson intervals. Progress goes to stderr, one line per experiment; the
tables (markdown) to stdout; `--json PATH` writes every number.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

import soccer_env
from soccer_env import bots
from soccer_env.actions import Action, pass_slot
from soccer_env.bots.positional import PositionalTuning
from soccer_env.constants import PARK_OFFSET, penalty_depth
from soccer_env.env import SoccerEnv
from soccer_env.layouts import empty_state
from soccer_env.types import LOOSE, Restart, State

SHOT_DISTANCES = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0)
BLOCK_GAPS = (0.6, 1.0, 1.5)
LANE_OFFSETS = (0.25, 0.5, 1.0, 2.0, 3.0)
MAX_ANGLE_DEG = 30.0
BLOCK_DISTANCE = 8.0
BLOCK_JITTER = 0.2  # m, sideways offset of the blocker
PASS_LENGTH = 10.0
LANE_JITTER = 0.5  # m, the opponent's offset along the lane from its middle
SHOT_STEPS = 40
PASS_STEPS = 80
# The shooter keeps this far inside the touchline (the angle is narrowed where needed).
TOUCHLINE_MARGIN = 1.0
# Gap between the bodies of the ball's owner and the ball at the start of a trial.
START_GAP = 0.03
Z95 = 1.959963984540054

# Config fields that document the mechanics measured here: exact names and prefixes.
CONFIG_FIELDS = ("dt", "player_radius", "ball_radius", "player_max_speed", "ball_friction",
                 "dribble_speed", "pressure_radius", "kick_noise_at_speed", "kick_cooldown")
CONFIG_PREFIXES = ("control_", "catch_", "shoot_", "shot_", "pass_", "tackle_")


# ---------------------------------------------------------------------------------------------
# Statistics.


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion (0, 1 when n == 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(flags) -> dict:
    """{rate, lo, hi, k, n} of a boolean array."""
    flags = np.asarray(flags, bool)
    k, n = int(flags.sum()), int(flags.size)
    lo, hi = wilson(k, n)
    return dict(rate=k / n if n else float("nan"), lo=lo, hi=hi, k=k, n=n)


def fmt_rate(r: dict) -> str:
    return f"{100 * r['rate']:.1f}% [{100 * r['lo']:.1f}, {100 * r['hi']:.1f}]"


# ---------------------------------------------------------------------------------------------
# Start states and the rollout.


def reach(cfg) -> float:
    return cfg.player_radius + cfg.ball_radius + START_GAP


def unit(v):
    return v / jnp.sqrt(jnp.sum(v * v, axis=-1, keepdims=True) + 1e-12)


def parked(cfg) -> np.ndarray:
    """[2, T, 2] spots off the pitch beside the touchlines (left team at +y, right at -y)."""
    T, half, hw = cfg.team_size, cfg.field_length / 2, cfg.field_width / 2
    pos = np.zeros((2, T, 2), np.float32)
    pos[:, :, 0] = np.linspace(-0.5, 0.5, T)[None] * half
    pos[0, :, 1] = hw + PARK_OFFSET
    pos[1, :, 1] = -(hw + PARK_OFFSET)
    return pos


def start_state(cfg, placed: dict, ball_pos, owner: int) -> State:
    """A state with the players of `placed` {(team, i): [2] world position} on the pitch (the
    rest parked off it, inactive), the ball at `ball_pos` owned by flat index `owner`, at rest,
    no cooldowns."""
    T = cfg.team_size
    pos = jnp.asarray(parked(cfg))
    active = np.zeros((2, T), bool)
    for (team, i), p in placed.items():
        pos = pos.at[team, i].set(p)
        active[team, i] = True
    return empty_state(cfg, pos, jnp.asarray(active), jnp.asarray(ball_pos, jnp.float32),
                       owner)


def actions_for(cfg, first: dict, later: dict | None = None):
    """(first-step actions, later actions) int32 [2, T] from {(team, i): action}; idle
    elsewhere. `later` defaults to all idle."""
    T = cfg.team_size
    out = []
    for table in (first, later or {}):
        a = np.zeros((2, T), np.int32)
        for (team, i), action in table.items():
            a[team, i] = int(action)
        out.append(jnp.asarray(a))
    return tuple(out)


def ended_play(state, info):
    """The ball is owned, a restart or a goal happened."""
    return (state.owner != LOOSE) | (info["restart"] != Restart.NO_RESTART) | jnp.any(info["goal"])


def trial_program(env: SoccerEnv, start, record, stop, max_steps: int, bot=None):
    """jit(fn(keys [B], xs [B])) of B trials: `start(key, x) -> (state, first, later, params)`
    builds each game (first-step and later actions int32 [2, T]); the game runs with
    `step_env` until `stop(params, state, info)` or `max_steps` steps; `bot`, when given,
    plays the right team every step. Returns (steps played [B] int32, stopped [B] bool,
    {name: [B] bool}: `record(params, state, info)` ORed over the steps played)."""

    def one_step(key, state, t, first, later):
        k_bot, k_env = jax.random.split(jax.random.fold_in(key, t))
        actions = jnp.where(t == 0, first, later)
        if bot is not None:
            actions = actions.at[1].set(bot(k_bot, state, 1))
        _, state, _, _, info = env.step_env(k_env, state, actions)
        return state, info

    vstep = jax.vmap(one_step, in_axes=(0, 0, None, 0, 0))

    def run(keys, xs):
        k_start, k_play = jax.vmap(jax.random.split, out_axes=1)(keys)
        states, first, later, params = jax.vmap(start)(k_start, xs)
        B = keys.shape[0]
        # record's outputs (one bool [] per game each), all False before the first step.
        shapes = jax.eval_shape(
            lambda: jax.vmap(record)(params, *vstep(k_play, states, 0, first, later)))
        flags = {k: jnp.zeros(v.shape, bool) for k, v in shapes.items()}

        def cond(carry):
            t, _, ended, _, _ = carry
            return (t < max_steps) & ~jnp.all(ended)

        def body(carry):
            t, states, ended, steps, flags = carry
            states, info = vstep(k_play, states, t, first, later)
            live = ~ended
            new = jax.vmap(record)(params, states, info)
            flags = {k: flags[k] | (live & new[k]) for k in flags}
            steps = steps + live.astype(jnp.int32)
            ended = ended | (live & jax.vmap(stop)(params, states, info))
            return t + 1, states, ended, steps, flags

        init = (jnp.zeros((), jnp.int32), states, jnp.zeros((B,), bool),
                jnp.zeros((B,), jnp.int32), flags)
        _, _, ended, steps, flags = jax.lax.while_loop(cond, body, init)
        return steps, ended, flags

    return jax.jit(run)


def run_program(program, key, xs: np.ndarray):
    """Run a trial program on xs [B]; numpy outputs and (compile s, run s)."""
    keys = jax.random.split(key, len(xs))
    xs = jnp.asarray(xs, jnp.float32)
    t0 = time.perf_counter()
    compiled = program.lower(keys, xs).compile()
    t1 = time.perf_counter()
    out = jax.block_until_ready(compiled(keys, xs))
    t2 = time.perf_counter()
    steps, ended, flags = jax.tree.map(np.asarray, out)
    return steps, ended, flags, (t1 - t0, t2 - t1)


def max_angle(cfg, distance: float) -> float:
    """Radians: the widest angle off straight-on within MAX_ANGLE_DEG at which a ball
    `distance` m from the goal centre keeps TOUCHLINE_MARGIN inside the touchline."""
    room = (cfg.field_width / 2 - TOUCHLINE_MARGIN) / distance
    return min(math.radians(MAX_ANGLE_DEG), math.asin(min(1.0, room)))


def shot_spot(cfg, key, distance, angle_limit):
    """(ball [2], shooter [2]) for a shot `distance` m from the +x goal centre at a uniform
    angle in +-angle_limit: the shooter just behind the ball, facing the goal centre."""
    half = cfg.field_length / 2
    theta = jax.random.uniform(key, (), minval=-1.0, maxval=1.0) * angle_limit
    goal = jnp.array([half, 0.0])
    ball = goal - distance * jnp.stack([jnp.cos(theta), jnp.sin(theta)])
    shooter = ball - unit(goal - ball) * reach(cfg)
    return ball, shooter


# ---------------------------------------------------------------------------------------------
# The experiments.


def shot_quality(env, key, distances, trials):
    cfg = env.config
    T = cfg.team_size
    shooter_i = T - 1
    half = cfg.field_length / 2
    tn = PositionalTuning()
    limits = np.array([max_angle(cfg, d) for d in distances], np.float32)
    first, later = actions_for(cfg, {(0, shooter_i): Action.SHOOT})

    def start(key, x):
        distance, limit = x[0], x[1]
        ball, shooter = shot_spot(cfg, key, distance, limit)
        goal = jnp.array([half, 0.0])
        # Where the positional bot's keeper stands: on the line from its goal centre to the
        # ball, keeper_depth of the ball's distance off the line (at least keeper_min_depth).
        depth = jnp.clip(tn.keeper_depth * distance, tn.keeper_min_depth,
                         penalty_depth(cfg.field_length) * 0.7)
        keeper = goal + unit(ball - goal) * depth
        state = start_state(cfg, {(0, shooter_i): shooter, (1, 0): keeper}, ball, shooter_i)
        return state, first, later, {}

    def record(params, state, info):
        return dict(goal=info["goal"][0], on_target=jnp.any(info["shot_on_target"][0]),
                    shot=jnp.any(info["shot"][0]), save=jnp.any(info["save"][1]),
                    keeper_touch=info["touch"][1, 0])

    program = trial_program(env, start, record,
                            lambda p, s, i: ended_play(s, i), SHOT_STEPS,
                            bot=bots.get("positional", cfg))
    xs = np.repeat(np.stack([np.asarray(distances, np.float32), limits], -1), trials, axis=0)
    steps, ended, flags, timing = run_program(
        program, key, xs.reshape(len(distances) * trials, 2))
    rows = []
    for k, d in enumerate(distances):
        sl = slice(k * trials, (k + 1) * trials)
        rows.append(dict(
            distance_m=float(d), max_angle_deg=round(math.degrees(limits[k]), 2),
            goal=rate(flags["goal"][sl]), on_target=rate(flags["on_target"][sl]),
            save=rate(flags["save"][sl]), shot=rate(flags["shot"][sl]),
            keeper_touch=rate(flags["keeper_touch"][sl]),
            unresolved=rate(~ended[sl]), mean_steps=float(steps[sl].mean())))
    return dict(rows=rows, trials=trials, steps_limit=SHOT_STEPS, shooter=[0, shooter_i],
                keeper=[1, 0], compile_s=timing[0], run_s=timing[1])


def block(env, key, gaps, trials):
    cfg = env.config
    T = cfg.team_size
    shooter_i, blocker_i = T - 1, 1
    half = cfg.field_length / 2
    limit = max_angle(cfg, BLOCK_DISTANCE)
    first, later = actions_for(cfg, {(0, shooter_i): Action.SHOOT})
    blocker_flat = T + blocker_i

    def start(key, gap):
        k_spot, k_side = jax.random.split(key)
        ball, shooter = shot_spot(cfg, k_spot, BLOCK_DISTANCE, limit)
        line = unit(jnp.array([half, 0.0]) - ball)
        across = jnp.stack([-line[1], line[0]])
        side = jax.random.uniform(k_side, (), minval=-BLOCK_JITTER, maxval=BLOCK_JITTER)
        blocker = ball + line * gap + across * side
        state = start_state(cfg, {(0, shooter_i): shooter, (1, blocker_i): blocker}, ball,
                            shooter_i)
        return state, first, later, {}

    def record(params, state, info):
        return dict(goal=info["goal"][0], on_target=jnp.any(info["shot_on_target"][0]),
                    blocker_touch=info["touch"][1, blocker_i],
                    blocker_owns=state.owner == blocker_flat)

    program = trial_program(env, start, record, lambda p, s, i: ended_play(s, i), SHOT_STEPS)
    xs = np.repeat(np.asarray(gaps, np.float32), trials)
    steps, ended, flags, timing = run_program(program, key, xs)
    rows = []
    for k, g in enumerate(gaps):
        sl = slice(k * trials, (k + 1) * trials)
        goal, touched = flags["goal"][sl], flags["blocker_touch"][sl]
        blocked = touched & ~goal
        rows.append(dict(
            gap_m=float(g), goal=rate(goal), blocked=rate(blocked),
            taken=rate(blocked & flags["blocker_owns"][sl]), missed=rate(~goal & ~touched),
            on_target=rate(flags["on_target"][sl]), unresolved=rate(~ended[sl])))
    return dict(rows=rows, trials=trials, distance_m=BLOCK_DISTANCE,
                max_angle_deg=round(math.degrees(limit), 2), shooter=[0, shooter_i],
                blocker=[1, blocker_i], compile_s=timing[0], run_s=timing[1])


def lane_start(cfg, placed_extra: dict):
    """The PASS_LENGTH lane along +x through the centre spot: the ball at its start owned by
    the passer (left T-1) just behind it, the receiver (left T-2) still at the far end; the
    players of `placed_extra` {(team, i): position} on the pitch too, everyone else parked."""
    T = cfg.team_size
    ball = jnp.array([-PASS_LENGTH / 2, 0.0])
    passer = ball - jnp.array([reach(cfg), 0.0])
    receiver = jnp.array([PASS_LENGTH / 2, 0.0])
    placed = {(0, T - 1): passer, (0, T - 2): receiver, **placed_extra}
    return start_state(cfg, placed, ball, T - 1)


def pass_action(T: int) -> int:
    return int(Action.FIRST_PASS) + int(pass_slot(T)[T - 1, T - 2])


def pass_vs_dribble(env, key, trials):
    cfg = env.config
    T = cfg.team_size
    passer, receiver = T - 1, T - 2
    pass_first, pass_later = actions_for(cfg, {(0, passer): pass_action(T)})
    drib_first, drib_later = actions_for(cfg, {(0, passer): Action.FORWARD},
                                         {(0, passer): Action.FORWARD})

    def start(key, kind):
        dribble = kind > 0.5
        state = lane_start(cfg, {})
        # The dribbler runs alone: the receiver is off the pitch.
        active = state.active.at[0, receiver].set(~dribble)
        pos = state.player_pos.at[0, receiver].set(
            jnp.where(dribble, jnp.asarray(parked(cfg))[0, receiver],
                      state.player_pos[0, receiver]))
        state = state.replace(active=active, player_pos=pos)
        first = jnp.where(dribble, drib_first, pass_first)
        later = jnp.where(dribble, drib_later, pass_later)
        return state, first, later, dict(dribble=dribble, origin=state.player_pos[0, passer])

    def moved(params, state):
        d = state.player_pos[0, passer] - params["origin"]
        return (jnp.sum(d * d) >= PASS_LENGTH ** 2) & (state.owner == passer)

    def record(params, state, info):
        return dict(received=state.owner == receiver, completed=jnp.any(info["pass_completed"]),
                    moved=moved(params, state))

    def stop(params, state, info):
        lost = ended_play(state, info) & (state.owner != passer)
        return jnp.where(params["dribble"], moved(params, state) | lost, ended_play(state, info))

    program = trial_program(env, start, record, stop, PASS_STEPS)
    xs = np.repeat(np.array([0.0, 1.0], np.float32), trials)
    steps, ended, flags, timing = run_program(program, key, xs)
    p, d = slice(0, trials), slice(trials, 2 * trials)
    ok_p = ended[p] & flags["received"][p]
    ok_d = ended[d] & flags["moved"][d]
    t_pass = steps[p][ok_p] * cfg.dt
    t_drib = steps[d][ok_d] * cfg.dt
    summary = lambda t: dict(mean_s=float(t.mean()) if t.size else float("nan"),  # noqa: E731
                             median_s=float(np.median(t)) if t.size else float("nan"),
                             p10_s=float(np.percentile(t, 10)) if t.size else float("nan"),
                             p90_s=float(np.percentile(t, 90)) if t.size else float("nan"),
                             n=int(t.size))
    ratio = summary(t_pass)["mean_s"] / summary(t_drib)["mean_s"]
    return dict(length_m=PASS_LENGTH, trials=trials, **{"pass": summary(t_pass)},
                pass_completed=rate(ok_p), dribble=summary(t_drib), dribble_done=rate(ok_d),
                ratio=ratio, accept_ratio_max=0.6, accepted=bool(ratio <= 0.6),
                compile_s=timing[0], run_s=timing[1])


def interception(env, key, offsets, trials):
    cfg = env.config
    T = cfg.team_size
    opp = 1
    first, later = actions_for(cfg, {(0, T - 1): pass_action(T)})

    def start(key, offset):
        k_along, k_side = jax.random.split(key)
        along = jax.random.uniform(k_along, (), minval=-LANE_JITTER, maxval=LANE_JITTER)
        side = jnp.where(jax.random.uniform(k_side, ()) < 0.5, -1.0, 1.0)
        state = lane_start(cfg, {(1, opp): jnp.stack([along, side * offset])})
        return state, first, later, {}

    def record(params, state, info):
        return dict(intercepted=jnp.any(info["interception"][1]),
                    completed=jnp.any(info["pass_completed"][0]),
                    opp_touch=info["touch"][1, opp])

    program = trial_program(env, start, record, lambda p, s, i: ended_play(s, i), PASS_STEPS)
    xs = np.repeat(np.asarray(offsets, np.float32), trials)
    steps, ended, flags, timing = run_program(program, key, xs)
    rows = []
    for k, r in enumerate(offsets):
        sl = slice(k * trials, (k + 1) * trials)
        inter, comp = flags["intercepted"][sl], flags["completed"][sl]
        row = dict(offset_m=float(r), intercepted=rate(inter), completed=rate(comp),
                   deflected=rate(flags["opp_touch"][sl] & ~inter & ~comp),
                   neither=rate(~inter & ~comp), unresolved=rate(~ended[sl]))
        share = row["intercepted"]["rate"]
        if r <= 0.5:
            row["accept"] = dict(rule="intercepted >= 80%", ok=bool(share >= 0.8))
        elif r >= 3.0:
            row["accept"] = dict(rule="intercepted <= 10%", ok=bool(share <= 0.1))
        rows.append(row)
    return dict(rows=rows, trials=trials, length_m=PASS_LENGTH, along_jitter_m=LANE_JITTER,
                opponent=[1, opp], compile_s=timing[0], run_s=timing[1])


# ---------------------------------------------------------------------------------------------
# Output.


def config_fields(cfg) -> dict:
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
            if f.name in CONFIG_FIELDS or f.name.startswith(CONFIG_PREFIXES)}


def tables(results: dict) -> str:
    cfg = results["config"]
    out = [f"# Mechanics benchmark: {results['scenario']} (team_size {cfg['team_size']}, "
           f"{cfg['field_length']:g} x {cfg['field_width']:g} m, goal {cfg['goal_width']:g} m, "
           f"boundary {cfg['boundary']}), {results['trials']} trials per cell, seed "
           f"{results['seed']}",
           "",
           "Parameters: " + ", ".join(f"{k}={v}" for k, v in results["mechanics"].items()),
           ""]
    if "shot_quality" in results:
        s = results["shot_quality"]
        out += [f"## 1. Shot quality (shooter left {s['shooter'][1]}, positional keeper, "
                f"{s['steps_limit']}-step limit)", "",
                "| distance m | max angle deg | goal | on target | save | unresolved | mean steps |",
                "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in s["rows"]:
            out.append(f"| {r['distance_m']:g} | {r['max_angle_deg']:g} | {fmt_rate(r['goal'])} | "
                       f"{fmt_rate(r['on_target'])} | {fmt_rate(r['save'])} | "
                       f"{fmt_rate(r['unresolved'])} | {r['mean_steps']:.1f} |")
    if "block" in results:
        b = results["block"]
        out += ["", f"## 2. Block (shot from {b['distance_m']:g} m, no keeper, still defender on "
                f"the line +-{BLOCK_JITTER:g} m)", "",
                "| defender gap m | goal | blocked | of which taken | missed |",
                "| ---: | ---: | ---: | ---: | ---: |"]
        for r in b["rows"]:
            out.append(f"| {r['gap_m']:g} | {fmt_rate(r['goal'])} | {fmt_rate(r['blocked'])} | "
                       f"{fmt_rate(r['taken'])} | {fmt_rate(r['missed'])} |")
    if "pass_vs_dribble" in results:
        p = results["pass_vs_dribble"]
        out += ["", f"## 3. Pass vs dribble over {p['length_m']:g} m", "",
                "| | done | mean s | median s | p10 s | p90 s |",
                "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for name, t, done in (("pass (teammate owns it)", p["pass"], p["pass_completed"]),
                              ("dribble (owner moved 10 m)", p["dribble"], p["dribble_done"])):
            out.append(f"| {name} | {fmt_rate(done)} | {t['mean_s']:.2f} | {t['median_s']:.2f} | "
                       f"{t['p10_s']:.2f} | {t['p90_s']:.2f} |")
        out += ["", f"Ratio pass / dribble (mean times): {p['ratio']:.3f} (acceptance <= "
                f"{p['accept_ratio_max']}: {'PASS' if p['accepted'] else 'FAIL'})"]
    if "interception" in results:
        i = results["interception"]
        out += ["", f"## 4. Interception of a {i['length_m']:g}-m pass (still opponent at the "
                f"lane's middle +-{i['along_jitter_m']:g} m)", "",
                "| lateral m | intercepted | completed | deflected | acceptance |",
                "| ---: | ---: | ---: | ---: | --- |"]
        for r in i["rows"]:
            acc = r.get("accept")
            acc_s = f"{acc['rule']}: {'PASS' if acc['ok'] else 'FAIL'}" if acc else ""
            out.append(f"| {r['offset_m']:g} | {fmt_rate(r['intercepted'])} | "
                       f"{fmt_rate(r['completed'])} | {fmt_rate(r['deflected'])} | {acc_s} |")
    out += ["", "Rates are shares of trials with 95% Wilson intervals; unresolved: nobody owned "
            "the ball, no restart and no goal within the step limit."]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Command line.


def allowed_scenarios() -> list[str]:
    """Registered scenarios with a keeper and a teammate (team_size >= 2)."""
    return [n for n in soccer_env.scenarios() if soccer_env.scenario_config(n).team_size >= 2]


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m soccer_env.bench.mechanics",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="3v3")
    p.add_argument("--trials", type=int, default=4096, help="trials per table cell")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--distances", type=float, nargs="+", default=list(SHOT_DISTANCES),
                   help="shot distances (m) from the goal centre")
    p.add_argument("--json", default=None, help="also write all numbers to this JSON file")
    p.add_argument("--set", nargs="+", default=[], metavar="FIELD=VALUE",
                   help="EnvConfig fields over the scenario's (for tuning), e.g. catch_prob=0.5")
    p.add_argument("--only", nargs="+", default=None, choices=EXPERIMENTS,
                   help="run only these experiments")
    return p.parse_args(argv)


EXPERIMENTS = ("shot_quality", "block", "pass_vs_dribble", "interception")


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    allowed = allowed_scenarios()
    if args.scenario not in allowed:
        known = soccer_env.scenarios()
        why = ("registered, but it needs team_size >= 2 (a keeper and a teammate)"
               if args.scenario in known else "unknown scenario")
        print(f"error: --scenario {args.scenario!r}: {why}; allowed: {', '.join(allowed)}",
              file=sys.stderr)
        return 2
    if args.trials < 1:
        print(f"error: --trials {args.trials}: must be >= 1", file=sys.stderr)
        return 2
    overrides = {}
    for item in args.set:
        field, _, value = item.partition("=")
        try:
            overrides[field] = json.loads(value)
        except ValueError:
            overrides[field] = value
    try:
        env = soccer_env.make(args.scenario, **overrides)
    except (TypeError, ValueError) as exc:
        print(f"error: --set {' '.join(args.set)}: {exc}", file=sys.stderr)
        return 2
    cfg = env.config
    too_far = [d for d in args.distances if not 0 < d <= cfg.field_length - 2 * TOUCHLINE_MARGIN]
    if too_far:
        print(f"error: --distances {too_far}: must be in (0, "
              f"{cfg.field_length - 2 * TOUCHLINE_MARGIN:g}] m on the {args.scenario} pitch",
              file=sys.stderr)
        return 2
    key = jax.random.PRNGKey(args.seed)
    k1, k2, k3, k4 = jax.random.split(key, 4)
    t_start = time.perf_counter()
    results = dict(scenario=args.scenario, trials=args.trials, seed=args.seed,
                   jax=jax.__version__, platform=jax.devices()[0].platform,
                   config=cfg.to_dict(),
                   mechanics=config_fields(cfg))
    experiments = (
        ("shot_quality", lambda: shot_quality(env, k1, args.distances, args.trials)),
        ("block", lambda: block(env, k2, BLOCK_GAPS, args.trials)),
        ("pass_vs_dribble", lambda: pass_vs_dribble(env, k3, args.trials)),
        ("interception", lambda: interception(env, k4, LANE_OFFSETS, args.trials)),
    )
    experiments = tuple(e for e in experiments if args.only is None or e[0] in args.only)
    for name, fn in experiments:
        res = fn()
        results[name] = res
        print(f"[mechanics] {name}: compile {res['compile_s']:.1f} s, run {res['run_s']:.1f} s",
              file=sys.stderr, flush=True)
    results["total_s"] = time.perf_counter() - t_start
    print(tables(results))
    print(f"\nTotal {results['total_s']:.1f} s on {results['platform']}.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
