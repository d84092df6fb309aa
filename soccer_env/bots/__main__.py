"""python -m soccer_env.bots: print the strength table of the scripted bots (docs/bots.md)."""

from __future__ import annotations

import argparse

from soccer_env.bots import format_table, strength_table


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m soccer_env.bots",
                                     description="Strength table of the scripted bots.",
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--scenario", default="2v2", help="a registered scenario")
    parser.add_argument("--games", type=int, default=1000,
                        help="games per pairing (each bot on each side in half of them)")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--steps", type=int, default=None,
                        help="steps per game (None: the scenario's max_steps)")
    args = parser.parse_args(argv)
    rows = strength_table(args.scenario, args.games, args.seed, args.steps)
    print(f"{args.scenario}, {args.games} games per pairing (each bot on each side in half), "
          f"seed {args.seed}, {args.steps or 'max_steps'} steps")
    print(format_table(rows))
    print(f"total {sum(r['seconds'] for r in rows):.0f} s")


if __name__ == "__main__":
    main()
