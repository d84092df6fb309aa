"""Demo: play one game between two bots and save it as a GIF.

    python -m soccer_env.render --scenario 2v2 --left bot:positional --right bot:chaser \
        --out match.gif

Bad arguments (an unknown scenario, a bad bot spec) print one `error: ...` line and exit with
status 2.
"""

from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
import numpy as np

from soccer_env import players
from soccer_env.env import SoccerEnv
from soccer_env.render.gif import save_gif
from soccer_env.scenarios import scenario_config


def play(env: SoccerEnv, left, right, key: jax.Array, steps: int):
    """[steps + 1]-long trajectory (a State with a leading time axis) of one game, from
    `env.reset`, `left` and `right` bots `(key, state, team) -> [T]`."""

    def body(state, key):
        k_left, k_right, k_step = jax.random.split(key, 3)
        actions = jnp.stack([left(k_left, state, 0), right(k_right, state, 1)]).astype(jnp.int32)
        _, state, _, _, _ = env.step(k_step, state, actions)
        return state, state

    k_reset, k_run = jax.random.split(key)
    _, state = env.reset(k_reset)
    _, trajectory = jax.jit(lambda s, k: jax.lax.scan(body, s, jax.random.split(k, steps)))(
        state, k_run)
    return jax.tree.map(lambda first, rest: jnp.concatenate([first[None], rest]), state,
                        trajectory)


def _steps(text: str) -> int | None:
    """--steps: a number of steps, or "max_steps" (the scenario's full match)."""
    return None if text == "max_steps" else int(text)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m soccer_env.render",
        description="Play one game between two bots, save a GIF.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--scenario", default="2v2", help="a registered scenario")
    parser.add_argument("--left", default="bot:random",
                        help="the left team: bot:NAME or bot:positional:DIFFICULTY")
    parser.add_argument("--right", default="bot:random", help="the right team, as --left")
    parser.add_argument("--steps", type=_steps, default="max_steps",
                        help="steps to play; max_steps: the scenario's full match")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the game")
    parser.add_argument("--fps", type=float, default=10, help="frames per second of the GIF")
    parser.add_argument("--out", default="match.gif", help="the GIF to write")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        env = SoccerEnv(scenario_config(args.scenario))
        left = players.resolve(args.left, env, what="--left")
        right = players.resolve(args.right, env, what="--right")
        steps = env.config.max_steps if args.steps is None else args.steps
        if steps < 1:
            raise ValueError(f"--steps={steps} is invalid: allowed an integer >= 1")
        if not (args.fps > 0 and np.isfinite(args.fps)):
            raise ValueError(f"--fps={args.fps} is invalid: allowed a finite number > 0")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    trajectory = play(env, left, right, jax.random.PRNGKey(args.seed), steps)
    path = save_gif(trajectory, args.out, env.config, fps=args.fps)
    final = jax.tree.map(lambda a: np.asarray(a[-1]), trajectory)
    print(f"wrote {path}: {steps + 1} frames, {args.scenario}, {args.left} vs {args.right}, "
          f"last score {final.score[0]}:{final.score[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
