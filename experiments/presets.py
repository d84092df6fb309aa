"""The six methods of the study, with one shared loss, network, budget and seeds.

Every method trains the same policy network with the same loss (agents/losses.py), optimizer,
hyperparameters, reward and warm start as the `default` preset (agents.presets.DEFAULT_TRAIN:
256 x 256 relu policy cloned from bot:positional, team reward plus each player's reach-the-ball
potential, no event credit, 2 epochs a batch, learning rate annealed to 0 over the run); only
the advantage estimator and the shape of the batch it needs differ:

| method | advantage | branches G | trunk games B |
| --- | --- | ---: | ---: |
| absolute | A = R, the player's own return (the traditional update, no baseline) | 1 | G0 * B0 |
| grpo-team | team group only: each player against its teammates at the same moment | 1 | G0 * B0 |
| grpo-branch | branch group only: the team's return in each of G branches of one state | G0 | B0 |
| grpo | both: (branch, teammate) pairs (the `default` preset's estimator) | G0 | B0 |
| critic | MAPPO: learned value of the global state, GAE | 1 | G0 * B0 |
| grpo-cf | one focal player's draws differ between G branches (common random numbers) | G0 | B0 |

Per-player signal: teammates share the team reward, and each player's reach-the-ball
potential is its own, so `grpo-team` compares teammates on that shaping (the default's
per-player term) and `grpo-branch` removes it by scoring every player with the team's mean
return.

Equal budget: every update simulates B * G * H game steps (branch steps included) and learns
from as many samples, so methods without branches play G0 times more trunk games. The critic
has a value network besides the shared policy network (the price of its baseline); its policy
network is the same.

`register()` adds one train.py preset per method to `agents.presets` (through the
`soccer_grpo.presets` entry point in pyproject.toml, so train.py does not import this package):
`python train.py --preset exp-grpo` trains one method of the study's match setting alone (same
config, budget and seeds).
"""

from __future__ import annotations

from agents import presets
from agents.trainer import TrainConfig

# The `default` preset's game, reward, network and warm start (train.py's main job).
BASE_TRAIN: dict = dict(presets.DEFAULT_TRAIN)
# TrainConfig's defaults for the branching methods (B0, G0) and the horizon H: 8,192 simulated
# steps per update (tests/test_experiments.py checks them against TrainConfig).
DEFAULT_GAMES, DEFAULT_GROUP, DEFAULT_HORIZON = 64, 4, 32

METHODS: tuple[str, ...] = ("absolute", "grpo-team", "grpo-branch", "grpo", "critic",
                            "grpo-cf")

DESCRIPTIONS: dict[str, str] = {
    "absolute": "absolute return, no baseline (the traditional update)",
    "grpo-team": "GRPO, team group only (G = 1: each player vs its teammates' average)",
    "grpo-branch": "GRPO, branch group only (the team's return in G branches of one state)",
    "grpo": "GRPO, team and branch groups (the design's default estimator)",
    "critic": "MAPPO: learned critic of the global state, GAE",
    "grpo-cf": "GRPO, per-player counterfactual groups (common random numbers, one focal "
               "player's draws differ between the branches)",
}

# The full study's budget per seed: FULL_UPDATES updates of 8,192 simulated steps in the match
# setting (6.6M steps), DRILL_UPDATES in each drill.
FULL_UPDATES = 800
DRILL_UPDATES = 160
FULL_SEEDS = 5


def method_overrides(method: str, num_games: int, group_size: int) -> dict:
    """TrainConfig fields of `method` given the branching methods' (B0, G0): the methods
    without branches play B0 * G0 trunk games, so every method simulates the same steps."""
    flat = dict(group_size=1, num_games=num_games * group_size)
    table = {
        "absolute": dict(advantage="absolute", **flat),
        "grpo-team": dict(advantage="grpo", **flat),
        "grpo-branch": dict(advantage="grpo-branch", group_size=group_size,
                            num_games=num_games),
        "grpo": dict(advantage="grpo", group_size=group_size, num_games=num_games),
        "critic": dict(advantage="critic", **flat),
        "grpo-cf": dict(advantage="grpo-cf", group_size=group_size, num_games=num_games),
    }
    if method not in table:
        raise ValueError(f"unknown method {method!r}; known methods: {list(METHODS)}")
    return table[method]


def method_config(method: str, base=None):
    """The TrainConfig of `method` built on `base` (default: the `default` preset's game with
    TrainConfig's defaults); base's num_games and group_size are the branching methods' B0, G0."""
    base = TrainConfig(**BASE_TRAIN) if base is None else base
    return base.replace(**method_overrides(method, base.num_games, base.group_size))


def experiment_presets() -> dict[str, dict]:
    """{"exp-METHOD": {"train": TrainConfig fields, "run": RunOptions fields}} of the study."""
    steps = FULL_UPDATES * DEFAULT_GAMES * DEFAULT_GROUP * DEFAULT_HORIZON
    run = dict(total_steps=steps, seeds=FULL_SEEDS, log_every=20, checkpoint_every=80,
               eval_every=40, eval_games_quick=128, anneal_lr=True)
    return {f"exp-{m}": dict(train=dict(BASE_TRAIN, **method_overrides(
        m, DEFAULT_GAMES, DEFAULT_GROUP)), run=dict(run)) for m in METHODS}


def register() -> None:
    """Add the study's presets to `agents.presets` (the entry point train.py's registry loads)."""
    for name, preset in experiment_presets().items():
        presets.register(name, f"one method of the reproduction study: "
                         f"{DESCRIPTIONS[name[4:]]}", **preset)
