"""The six methods of the study, with one shared loss, network, budget and seeds.

Every method trains the same policy network with the same loss (agents/losses.py), optimizer
and hyperparameters (learning rate annealed to 0 over the run, as the `default` preset does) on
the `default` preset's game (2v2 against `bot:positional`); only the advantage estimator, the
shape of the batch that it needs, and (for the branch-only group) the credit weight differ:

| method | advantage | branches G | trunk games B | credit weight |
| --- | --- | ---: | ---: | --- |
| absolute | A = R (the traditional update, no baseline) | 1 | G0 * B0 | scenario's |
| grpo-team | team group only: teammates at the same moment | 1 | G0 * B0 | scenario's |
| grpo-branch | branch group only: G outcomes of one state, shared team return | G0 | B0 | 0 |
| grpo | both (the design's default) | G0 | B0 | scenario's |
| critic | MAPPO: learned value of the global state, GAE | 1 | G0 * B0 | scenario's |
| grpo-cf | one focal player's draws differ between G branches (common random numbers) | G0 | B0 | scenario's |

Credit weight: scoring a player against its teammates needs per-player rewards (with credit
weight 0 teammates share one return, and G = 1 gives all-zero advantages), so every method but
`grpo-branch` keeps the scenario's credit weight (0.1 x touches, passes, shots, goals on top of
the team reward). `grpo-branch` is the design's "credit_weight = 0" variant; it is also what
train.py's `default` preset trains today (team reward only), there with 30M steps.

Equal budget: every update simulates B * G * H game steps (branch steps included) and learns
from as many samples, so methods without branches play G0 times more trunk games. The critic
has a value network besides the shared policy network (the price of its baseline); its policy
network is the same.

`register()` adds one train.py preset per method to `agents.presets` (through the
`soccer_grpo.presets` entry point in pyproject.toml, so train.py does not import this package):
`python train.py --preset exp-grpo` trains one method of the full study alone (same config,
budget and seeds).
"""

from __future__ import annotations

from agents import presets
from agents.trainer import TrainConfig

# The `default` preset's game (train.py); the rest of TrainConfig keeps its defaults.
BASE_TRAIN: dict = dict(scenario="3v3", opponent="bot:positional")
# TrainConfig's defaults for the branching methods (B0, G0) and the horizon H: 8,192 simulated
# steps per update (tests/test_experiments.py checks them against TrainConfig).
DEFAULT_GAMES, DEFAULT_GROUP, DEFAULT_HORIZON = 64, 4, 32

METHODS: tuple[str, ...] = ("absolute", "grpo-team", "grpo-branch", "grpo", "critic",
                            "grpo-cf")

DESCRIPTIONS: dict[str, str] = {
    "absolute": "absolute return, no baseline (the traditional update)",
    "grpo-team": "GRPO, team group only (G = 1: each player vs its teammates' average)",
    "grpo-branch": "GRPO, branch group only (credit weight 0: G outcomes of one state)",
    "grpo": "GRPO, team and branch groups (the design's default estimator)",
    "critic": "MAPPO: learned critic of the global state, GAE",
    "grpo-cf": "GRPO, per-player counterfactual groups (common random numbers, one focal "
               "player's draws differ between the branches)",
}

# The full study's budget per seed: FULL_UPDATES updates of 8,192 simulated steps.
FULL_UPDATES = 320
FULL_SEEDS = 5


def method_overrides(method: str, num_games: int, group_size: int) -> dict:
    """TrainConfig fields of `method` given the branching methods' (B0, G0): the methods
    without branches play B0 * G0 trunk games, so every method simulates the same steps."""
    flat = dict(group_size=1, num_games=num_games * group_size)
    table = {
        "absolute": dict(advantage="absolute", **flat),
        "grpo-team": dict(advantage="grpo", **flat),
        "grpo-branch": dict(advantage="grpo", group_size=group_size, num_games=num_games,
                            credit_weight=0.0),
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
