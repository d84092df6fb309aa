"""Throughput benchmark of VMAS's "football" scenario on CPU (for comparison only).

This script is standalone and is NOT a project dependency. It needs `torch` and
`vmas==1.5.2` installed in their own virtualenv, e.g.:

    python3 -m venv /work/vmas-venv
    /work/vmas-venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    /work/vmas-venv/bin/pip install vmas==1.5.2
    /work/vmas-venv/bin/python benchmarks/vmas_football.py --players 2 --batch 4096
    /work/vmas-venv/bin/python benchmarks/vmas_football.py --players 11 --batch 1024

What is timed: S calls of `env.step(actions)` on B vectorised games (each call
also computes VMAS's observations, rewards, dones and infos for all agents).
Both teams are agent-controlled (ai_blue_agents=False, ai_red_agents=False), so
the scenario's heuristic AI is not run; the ball keeps its built-in scripted
action (wall un-sticking). Actions are uniform in [-1, 1) (torch.rand * 2 - 1),
shape (B, 2) per agent, all pre-generated before timing so RNG is not timed.
Games are not reset when a goal ends them (VMAS has no auto-reset); the number
of finished games is printed for information. One untimed warm-up run of S
steps precedes the R timed repeats. Process CPU time is printed next to wall
time: CPU/wall well below the thread count hints at contention from other
processes on the machine. env-steps/s = B * S / seconds, where one
env-step is one step of one game.
"""

import argparse
import time

import torch
import vmas


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--players", type=int, default=2, help="players per team")
    p.add_argument("--batch", type=int, default=4096, help="number of parallel games")
    p.add_argument("--steps", type=int, default=100, help="env.step calls per repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=None,
                   help="torch intra-op threads (default: torch's default)")
    a = p.parse_args()

    if a.threads is not None:
        torch.set_num_threads(a.threads)

    env = vmas.make_env(
        scenario="football",
        num_envs=a.batch,
        device="cpu",
        continuous_actions=True,
        seed=0,
        n_blue_agents=a.players,
        n_red_agents=a.players,
        ai_blue_agents=False,
        ai_red_agents=False,
    )
    n_agents = len(env.agents)
    sizes = [ag.action_size for ag in env.agents]
    print(f"torch {torch.__version__}, vmas {vmas.__version__}, "
          f"torch.get_num_threads()={torch.get_num_threads()}")
    print(f"players/team={a.players} batch={a.batch} steps={a.steps} "
          f"repeats={a.repeats} controlled agents={n_agents} action sizes={set(sizes)}")

    gen = torch.Generator().manual_seed(0)
    actions = [
        [torch.rand(a.batch, s, generator=gen) * 2 - 1 for s in sizes]
        for _ in range(a.steps)
    ]

    def run():
        done = None
        c0, t0 = time.process_time(), time.perf_counter()
        for acts in actions:
            _, _, done, _ = env.step(acts)
        t1 = time.perf_counter()
        cpu = time.process_time() - c0
        return t1 - t0, cpu, done

    env.reset()
    secs, cpu, _ = run()
    print(f"warm-up: {secs:.2f} s (process CPU {cpu:.2f} s)")

    rates = []
    for r in range(a.repeats):
        env.reset()
        secs, cpu, done = run()
        rate = a.batch * a.steps / secs
        rates.append(rate)
        print(f"repeat {r}: {secs:.2f} s, {rate:,.0f} env-steps/s "
              f"(process CPU {cpu:.2f} s; done flags set at last step: {int(done.sum())}/{a.batch})")
    print(f"best: {max(rates):,.0f} env-steps/s")


if __name__ == "__main__":
    main()
