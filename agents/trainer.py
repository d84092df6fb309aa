"""A pure, PureJaxRL-style trainer: `make_trainer(config)` -> `Trainer(init, update, gradient)`.

    trainer = make_trainer(TrainConfig(scenario="2v2", opponent="bot:positional"))
    state = jax.jit(trainer.init)(key)
    update = jax.jit(trainer.update)
    for _ in range(n):
        state, metrics = update(state)           # one iteration, end to end
    # many seeds at once: jax.vmap(trainer.init)(keys), jax.jit(jax.vmap(trainer.update))

One `update` = branch rollouts from the trunk games (`lax.scan` over H inside a vmap over games
and branches, agents/rollout.py), advantages (one switch: "grpo", "absolute", "critic",
"grpo-branch", "grpo-cf"), then
`epochs` passes of `num_minibatches` minibatch steps of the shared loss (agents/losses.py).
All three functions are pure (no Python side effects, no host callbacks), so they jit and vmap
over a leading seed axis of `TrainState`. `gradient(state)` is the loss gradient on one fresh
batch at the current parameters (for gradient-variance studies, experiments/).

Warm start: with `imitate="bot:NAME"` `init` first clones that bot (agents.imitation: its games
against itself, cross-entropy on its actions), so the policy and its reference start from
the clone; without it they start from the network's random initialization.

Opponents: a scripted bot ("bot:NAME"), the current policy ("self"), or a league ("league"): a
ring buffer of past snapshots in `TrainState.league`, refreshed every `league_refresh_every`
updates, and every update each trunk game plays a snapshot or one of `league_bots`.

How a sample gets its advantage (GRPO and absolute): the unit of comparison is the branch. Player
i of branch g has the discounted return R[g, i] of the branch's first H steps (rewards after an
episode ends inside the branch belong to another episode and are not counted, and those later
steps get weight 0). Every step of that branch's first episode carries the same advantage
A[g, i], as every token of a completion does in GRPO. The group is the G x T (branch, teammate)
pairs of one team from one trunk state; in self-play each team is its own group.
Branch noise (`branch_noise`): "independent" keys per branch; or common random numbers, the
game's noise and the opponent's draws shared by the branches of a trunk state, with every
learner's action draws the branch's own ("common") or only one focal learner's ("focal").
"grpo-branch": the group is the G branches of a trunk state, each scored by the team's return
(the mean over its players on the pitch), given to every player's samples: the branch group
alone, exact whatever per-player reward terms (credit, ball reach) the game adds.
"grpo-cf" (per-player counterfactual groups): the branches of a trunk state share common random
numbers (`branch_noise="focal"`, its default) and differ only in the action draws of one focal
learner per game (`agents.advantages.rotating_focal`, rotating over the games from a random
start each batch). The group is the G branches: A[g] is the team's return in branch g (the mean
over its players on the pitch) against the group's mean, and it is given to the focal player's
samples only (the others get weight 0): that player's own contribution, measured in the same
situation. It is normalized by its std over the batch, not per group (with common random
numbers many groups differ by almost nothing, which a per-group std would amplify).
"critic" (MAPPO) uses GAE per player with the value of the team's global state, on every step
(episode ends are handled by GAE), and normalizes advantages over the batch when
`normalize_std`.

The minibatch unit is one team at one step (its T players together), shuffled over
games x branches x steps x learning teams.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from flax import struct

import soccer_env
from agents import imitation
from agents.advantages import (ADVANTAGES, alive_mask, discounted_returns, gae, group_advantages,
                               rewards_to_go, rotating_focal)
from agents.losses import grpo_loss, value_loss
from agents.networks import (ACTIVATIONS, PolicyNetwork, log_probs_and_entropy, make_policy,
                             policy_act)
from agents.rollout import Rollout, make_branch_rollout
from soccer_env.jsonio import JsonConfig
from soccer_env.bots import positional_act
from soccer_env.players import Player, bot_player, describe, parse_spec

BRANCH_NOISE = (None, "independent", "common", "focal")


@dataclasses.dataclass(frozen=True)
class TrainConfig(JsonConfig):
    """Every hyperparameter of one training run (static under jit; validated on construction).

    Samples per update: num_games * group_size * horizon steps of T players per learning team
    (2 learning teams in self-play).
    """

    # --- game ----------------------------------------------------------------------------
    scenario: str = "2v2"  # a registered scenario (soccer_env.scenarios())
    opponent: str = "bot:positional"  # "bot:NAME", "bot:positional:DIFFICULTY", "self", "league"
    credit_weight: float | None = None  # None: the scenario's value
    ball_progress_weight: float | None = 0.5  # potential-based shaping toward the goal
    ball_reach_weight: float | None = None  # per-player potential: reach the ball (None: scenario's)
    support_weight: float | None = None  # per-player potential: support the carrier (None: scenario's)
    env_overrides: tuple[tuple[str, object], ...] = ()  # any other EnvConfig fields
    stagger_start: bool = True  # trunk matches start at random clocks (no synchronized ends)
    # A curriculum: the opponent bot:positional[:D] starts at difficulty D and, after every
    # update, moves by this step up when the learners outscored it in the update's branches,
    # down when they were outscored (within [0, 1]), so the games stay even.
    difficulty_step: float = 0.0  # > 0: a curriculum on bot:positional's difficulty (0: off)

    # --- warm start: behaviour cloning (agents.imitation), inside `init` -------------------
    imitate: str = ""  # "bot:NAME[:DIFFICULTY]": start from a clone of this bot ("": off)
    imitate_games: int = 512  # full games of that bot against itself recorded for the clone
    imitate_epochs: int = 15  # passes of the cloning over those games' samples
    imitate_lr: float = 2e-3  # the cloning's Adam learning rate, cosine-decayed to 0

    # --- league (opponent="league") ------------------------------------------------------
    league_size: int = 8  # past snapshots kept on device
    league_refresh_every: int = 20  # updates between copies of the current policy into the pool
    league_bots: tuple[str, ...] = ("bot:positional",)  # bots mixed into the league
    league_bot_frac: float = 0.5  # share of games (resampled every update) against a bot

    # --- rollouts ------------------------------------------------------------------------
    num_games: int = 64  # trunk games
    group_size: int = 4  # G branches per trunk state
    horizon: int = 32  # H steps per branch
    gamma: float = 0.99  # discount

    # --- advantage estimator -------------------------------------------------------------
    advantage: str = "grpo"  # one of ADVANTAGES: "grpo", "absolute" (no baseline), "critic"
    # (MAPPO), "grpo-branch" (team return over branches), "grpo-cf" (counterfactual groups)
    branch_noise: str | None = None  # "independent", "common", "focal" (None: focal for grpo-cf)
    reward_to_go: bool = False  # all but critic: score step t by the return from t on
    leave_one_out: bool = False  # GRPO family: baseline = the mean of the other group members
    normalize_std: bool = True  # divide advantages by the group (critic: batch) std
    adv_eps: float = 1e-8  # added to that std
    gae_lambda: float = 0.95  # critic only
    vf_coef: float = 0.5  # critic only

    # --- optimization --------------------------------------------------------------------
    lr: float = 3e-4  # Adam learning rate
    lr_anneal_updates: int = 0  # > 0: decay lr linearly to 0 over this many updates
    clip_eps: float = 0.2  # PPO ratio clipping
    kl_coef: float = 0.0  # beta: KL(pi || pi_ref) penalty
    ref_update_every: int = 10  # refresh pi_ref every N updates (0: keep the initial policy)
    ent_coef: float = 0.01  # entropy bonus
    epochs: int = 4  # passes over each update's batch
    num_minibatches: int = 4  # minibatch steps per epoch
    max_grad_norm: float = 0.5  # 0: no clipping

    # --- network -------------------------------------------------------------------------
    hidden_sizes: tuple[int, ...] = (128, 128)  # MLP layer widths
    activation: str = "tanh"  # one of agents.networks.ACTIVATIONS

    def __post_init__(self):
        def fail(name, allowed):
            raise ValueError(f"TrainConfig.{name}={getattr(self, name)!r} is invalid: "
                             f"allowed {allowed}")

        def pos_int(name):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                fail(name, "an integer >= 1")

        for name in ("num_games", "group_size", "horizon", "epochs", "num_minibatches",
                     "league_size", "league_refresh_every", "imitate_games", "imitate_epochs"):
            pos_int(name)
        for name in ("ref_update_every", "lr_anneal_updates"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                fail(name, "an integer >= 0")
        if self.advantage not in ADVANTAGES:
            fail("advantage", f"one of {ADVANTAGES}")
        if self.branch_noise not in BRANCH_NOISE:
            fail("branch_noise", f"one of {BRANCH_NOISE}")
        if self.advantage in ("grpo-branch", "grpo-cf") and self.group_size < 2:
            fail("group_size", f">= 2 for {self.advantage!r} (its group is the branches of one "
                 "state)")
        if self.advantage == "grpo-cf" and self.opponent == "self":
            fail("opponent", "a bot, a league or a given player for 'grpo-cf' (in self-play "
                 "the other team's focal player would vary with the branches too)")
        if self.activation not in ACTIVATIONS:
            fail("activation", f"one of {sorted(ACTIVATIONS)}")
        if self.scenario not in soccer_env.scenarios():
            fail("scenario", f"one of {soccer_env.scenarios()}")
        for name, lo, hi in (("gamma", 0.0, 1.0), ("gae_lambda", 0.0, 1.0),
                             ("clip_eps", 0.0, 1.0)):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                fail(name, f"a number in [{lo}, {hi}]")
        for name in ("lr", "imitate_lr"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf"):
                fail(name, "a finite number > 0")
        if self.imitate != "":
            parse_spec(self.imitate, ("bot",), "TrainConfig.imitate")
        for name in ("kl_coef", "ent_coef", "vf_coef", "max_grad_norm", "adv_eps"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v >= 0 or v == float("inf"):
                fail(name, "a finite number >= 0")
        hs = self.hidden_sizes
        if (not isinstance(hs, tuple) or not hs
                or any(not isinstance(h, int) or h < 1 for h in hs)):
            fail("hidden_sizes", "a non-empty tuple of positive integers")
        parse_spec(self.opponent, ("bot", "self", "league"), "TrainConfig.opponent")
        if not isinstance(self.league_bots, tuple):
            fail("league_bots", f"a tuple of {describe(('bot',))} specs")
        for spec in self.league_bots:
            parse_spec(spec, ("bot",), "TrainConfig.league_bots item")
        if not isinstance(self.league_bot_frac, (int, float)) or not 0 <= self.league_bot_frac <= 1:
            fail("league_bot_frac", "a number in [0, 1]")
        if self.league_bot_frac > 0 and not self.league_bots:
            fail("league_bot_frac", "0 when league_bots is empty")
        step = self.difficulty_step
        if (isinstance(step, bool) or not isinstance(step, (int, float))
                or not 0 <= step <= 1):
            fail("difficulty_step", "a number in [0, 1]")
        if step and not self.opponent.startswith("bot:positional"):
            fail("difficulty_step", "0 unless opponent is 'bot:positional' or "
                 "'bot:positional:DIFFICULTY' (the difficulty that the curriculum moves)")
        if (self.num_games * self.group_size * self.horizon) % self.num_minibatches:
            fail("num_minibatches", "a divisor of num_games * group_size * horizon = "
                 f"{self.num_games * self.group_size * self.horizon}")
        env_config = self.env_config()  # validates the overrides (EnvConfig names the field)
        if self.advantage == "grpo" and self.group_size == 1 and env_config.team_size == 1:
            fail("group_size", ">= 2 for 'grpo' with one player a side (a group of one "
                 "gives all-zero advantages)")
        per_player = (env_config.credit_weight, env_config.ball_reach_weight,
                      env_config.support_weight)
        if self.advantage == "grpo" and self.group_size == 1 and not any(per_player):
            fail("group_size", ">= 2 for 'grpo' without per-player reward terms "
                 "(credit_weight, ball_reach_weight and support_weight all 0: teammates share "
                 "one reward, so a group of teammates alone gives all-zero advantages)")

    @property
    def noise(self) -> str:
        """`branch_noise` resolved: "independent", "common" or "focal"."""
        if self.branch_noise is not None:
            return self.branch_noise
        return "focal" if self.advantage == "grpo-cf" else "independent"

    @property
    def self_play(self) -> bool:
        return self.opponent == "self"

    @property
    def league(self) -> bool:
        return self.opponent == "league"

    def env_config(self) -> soccer_env.EnvConfig:
        """The game's EnvConfig: the scenario with the overrides (validated by EnvConfig)."""
        overrides = dict(self.env_overrides)
        if self.credit_weight is not None:
            overrides["credit_weight"] = self.credit_weight
        if self.ball_progress_weight is not None:
            overrides["ball_progress_weight"] = self.ball_progress_weight
        for name in ("ball_reach_weight", "support_weight"):
            if getattr(self, name) is not None:
                overrides[name] = getattr(self, name)
        return soccer_env.scenario_config(self.scenario, **overrides)


@struct.dataclass
class TrainState:
    """Everything that changes during training (a pytree; add a leading axis to vmap seeds).

    trunk: the running games, State with leading axis [num_games]. update: iterations done.
    skipped: minibatch steps whose loss or gradient was not finite (parameters kept).
    opponent_params: the per-game opponent parameters given to `make_trainer` (None without);
    replace them between updates (same shapes) to change opponents. With
    `difficulty_step > 0` they are {"difficulty": float32 [num_games]}, the curriculum's
    current difficulty (the same for every game), which `update` moves.
    league: with opponent="league", {"pool": past parameters stacked [league_size, ...],
    "count": snapshots added so far}; None otherwise.
    """

    params: dict
    opt_state: optax.OptState
    ref_params: dict
    trunk: soccer_env.State
    key: jax.Array
    update: jax.Array
    skipped: jax.Array
    opponent_params: object = None
    league: dict | None = None


class Trainer(NamedTuple):
    """What `make_trainer` builds. env_steps_per_update: game steps simulated per update
    (num_games * group_size * horizon; times 2 T for agent-steps); samples_per_update: player
    samples of the learning team(s) per update."""

    config: TrainConfig
    env: soccer_env.SoccerEnv
    network: PolicyNetwork
    init: Callable[[jax.Array], TrainState]
    update: Callable[[TrainState], tuple[TrainState, dict]]
    gradient: Callable[[TrainState], tuple[dict, TrainState]]
    env_steps_per_update: int
    samples_per_update: int


def _weighted_std(x, weights):
    total = jnp.maximum(jnp.sum(weights), 1.0)
    mean = jnp.sum(x * weights) / total
    return jnp.sqrt(jnp.sum(weights * (x - mean) ** 2) / total)


class Advantages(NamedTuple):
    """advantages and weights [B, G, H, L, T] (weight 0: a sample outside its branch's first
    episode for grpo/absolute, or a player off the pitch); targets: the critic's value targets
    [B, G, H, L, T] (None unless "critic"); returns: discounted returns R [B, G, L, T] of each
    branch's first episode."""

    advantages: jax.Array
    weights: jax.Array
    targets: jax.Array | None
    returns: jax.Array


def compute_advantages(config: TrainConfig, rollout: Rollout) -> Advantages:
    """The advantage of every sample of a rollout, per `config.advantage` (the one switch).

    grpo: group_advantages over each learning team's G x T (branch, teammate) returns from one
        trunk state; every step of a branch's first episode carries its player's A[g, i].
        With `reward_to_go`, step t is scored by the return from t on instead, grouped over the
        (branch, teammate) pairs still in their first episode at t (a baseline that depends on
        the trunk state and t only, so actions are not credited with earlier rewards).
    absolute: A = R[g, i], the player's own branch return (or return from t on with
        `reward_to_go`), no baseline; same samples and weights as grpo.
    grpo-branch: the team's return of each branch (the mean over its players on the pitch; with
        `reward_to_go` its return from t on) grouped over the G branches of a trunk state, given
        to every player's samples: teammates share it, whatever per-player reward terms hold.
    grpo-cf: the same team advantages, centred per group, given to the focal players' samples
        (`rollout.focal`) only, and (`normalize_std`) divided by their std over the whole
        batch: a group whose focal choice changed nothing keeps advantages of about 0.
    critic: per-player GAE(gamma, gae_lambda) with the value of the team's global state on every
        step (episode ends inside a branch handled by GAE, so all steps count; a time-limit
        truncation is not a termination: its step's TD error is masked and the trace cut, as in
        Brax), normalized over the batch when `normalize_std`.
    """
    tr = rollout.transitions
    B, G, H = tr.done.shape
    L, T = tr.rewards.shape[-2:]
    dones_tm = jnp.moveaxis(tr.done, 2, 0)  # [H, B, G]
    rewards_tm = jnp.moveaxis(tr.rewards, 2, 0)  # [H, B, G, L, T]
    active = jnp.broadcast_to(rollout.active[:, None], (B, G, L, T))
    returns = discounted_returns(rewards_tm, dones_tm, config.gamma)  # [B, G, L, T]
    if config.advantage == "critic":
        values_tm = jnp.moveaxis(tr.values, 2, 0)
        # A time-limit end is not a terminal state: its TD error is masked (Brax's compute_gae).
        truncated = (jnp.zeros_like(tr.done) if tr.truncated is None else tr.truncated)
        adv_tm, targets_tm = gae(rewards_tm, values_tm, dones_tm, rollout.last_values,
                                 config.gamma, config.gae_lambda,
                                 truncated=jnp.moveaxis(truncated, 2, 0))
        adv = jnp.moveaxis(adv_tm, 0, 2)
        targets = jnp.moveaxis(targets_tm, 0, 2)
        # Truncated steps carry no signal (advantage 0): out of the loss and the normalization.
        weights = (active[:, :, None] & ~truncated[..., None, None]).astype(jnp.float32)
        if config.normalize_std:
            mean = jnp.sum(adv * weights) / jnp.maximum(jnp.sum(weights), 1.0)
            adv = (adv - mean) / (_weighted_std(adv, weights) + config.adv_eps)
        return Advantages(adv * weights, weights, targets, returns)
    alive = jnp.moveaxis(alive_mask(dones_tm), 0, 2)  # [B, G, H]
    weights = (alive[..., None, None] & active[:, :, None]).astype(jnp.float32)
    if config.reward_to_go:
        # Step t is scored by the return from t on; its group is the (branch, teammate) pairs
        # still in their first episode at t (ended branches are not comparable states).
        scores = jnp.moveaxis(rewards_to_go(rewards_tm, dones_tm, config.gamma), 0, 2)
        member = weights > 0
    else:
        # Every step of a branch carries its player's branch advantage; the group is all
        # G x T pairs, whatever happened later in each branch.
        scores = returns[:, :, None]  # [B, G, 1, L, T]
        member = active[:, :, None]

    def to_groups(x):  # [B, G, H', L, T] -> [B, H', L, G, T]
        return jnp.moveaxis(x, 1, 3)

    if config.advantage in ("grpo-branch", "grpo-cf"):
        if config.advantage == "grpo-cf" and rollout.focal is None:
            raise ValueError("grpo-cf needs a rollout with its focal players (Rollout.focal)")
        # The team's outcome per branch (and step): the mean over its players on the pitch.
        on = active[:, :, None].astype(jnp.float32)
        team = (jnp.sum(scores * on, -1, keepdims=True)
                / jnp.maximum(jnp.sum(on, -1, keepdims=True), 1.0))  # [B, G, H', L, 1]
        cf = config.advantage == "grpo-cf"
        a = group_advantages(to_groups(team), leave_one_out=config.leave_one_out,
                             normalize_std=config.normalize_std and not cf, eps=config.adv_eps,
                             where=to_groups(jnp.any(member, -1, keepdims=True)))
        if cf:
            weights = weights * rollout.focal[:, None, None]
        adv = jnp.broadcast_to(jnp.moveaxis(a, 3, 1), weights.shape)
        if cf and config.normalize_std:
            # Over the batch's scored samples, not per group: with common random numbers a
            # focal player's choice often changes (almost) nothing, and a per-group std would
            # blow the branches' rounding-level differences up to unit advantages.
            adv = adv / (_weighted_std(adv, weights) + config.adv_eps)
        return Advantages(adv * weights, weights, None, returns)
    if config.advantage == "grpo":
        a = group_advantages(to_groups(scores), leave_one_out=config.leave_one_out,
                             normalize_std=config.normalize_std, eps=config.adv_eps,
                             where=to_groups(member))
        adv = jnp.moveaxis(a, 3, 1)
    else:  # absolute: the player's own return, no baseline
        adv = scores
    adv = jnp.broadcast_to(adv, weights.shape)
    return Advantages(adv * weights, weights, None, returns)


def make_trainer(config: TrainConfig, opponent: Player | None = None, *,
                 per_game: bool = False) -> Trainer:
    """Builds the pure `init(key) -> TrainState` and `update(state) -> (state, metrics)`.

    opponent: a `soccer_env.players.Player` for team 1 (a bot, a frozen policy); it overrides
        `config.opponent` (which must then not be "self" or "league").
    per_game: the opponent's `params` have a leading [num_games] axis, one opponent per trunk
        game (e.g. snapshots of a policy, `agents.players.policy_player(network, snapshots,
        env.config, greedy=False)`); `init` stores them in `TrainState.opponent_params`, and
        `update` uses whatever is there (replace them between updates, same shapes).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    env = soccer_env.SoccerEnv(config.env_config())
    T = env.team_size
    if opponent is not None and not isinstance(opponent, Player):
        raise ValueError(f"opponent must be a soccer_env.players.Player, got "
                         f"{type(opponent).__name__} (soccer_env.players.resolve makes one)")
    if opponent is not None and (config.self_play or config.league):
        raise ValueError(f"an opponent player was given but TrainConfig.opponent="
                         f"{config.opponent!r} chooses its own")
    if per_game and (opponent is None or opponent.params is None):
        raise ValueError("per_game=True needs an opponent player with per-game params")
    critic = config.advantage == "critic"
    network = make_policy(env.num_actions, hidden_sizes=config.hidden_sizes,
                          activation=config.activation, value_outputs=T if critic else 0)
    opponent_params = None
    if config.league:
        opponent_fn = _league_opponent(config, env, network)
    elif config.self_play:
        opponent_fn = None
    elif config.difficulty_step:
        if opponent is not None:
            raise ValueError("TrainConfig.difficulty_step > 0 moves the difficulty of "
                             "TrainConfig.opponent (bot:positional): do not pass an opponent")
        start = parse_spec(config.opponent, ("bot",), "TrainConfig.opponent").params.get(
            "difficulty", 1.0)
        positional = positional_act(env.config)
        opponent_fn = lambda key, state, team, params: positional(params, key, state, team)  # noqa: E731
        opponent_params = {"difficulty": jnp.full((config.num_games,), start, jnp.float32)}
    else:
        if opponent is None:
            opponent = bot_player(parse_spec(config.opponent, ("bot",), "TrainConfig.opponent"),
                                  env)
        if per_game:
            act, opponent_params = opponent.act, opponent.params
            leading = {x.shape[0] if x.ndim else None for x in jax.tree.leaves(opponent_params)}
            if leading != {config.num_games}:
                raise ValueError(f"the opponent's params leaves must have a leading num_games="
                                 f"{config.num_games} axis, got leading sizes {leading}")
            opponent_fn = lambda key, state, team, params: act(params, key, state, team)  # noqa: E731
        else:
            opponent_fn = opponent
    L = 2 if opponent_fn is None else 1
    _, branch_rollout = make_branch_rollout(env, network, opponent_fn, horizon=config.horizon,
                                            with_value=critic)
    tx_parts = [optax.clip_by_global_norm(config.max_grad_norm)] if config.max_grad_norm else []
    lr = config.lr
    if config.lr_anneal_updates:  # counted in minibatch steps (the optimizer's own counter)
        lr = optax.linear_schedule(config.lr, 0.0, config.lr_anneal_updates * config.epochs
                                   * config.num_minibatches)
    optimizer = optax.chain(*tx_parts, optax.adam(lr, eps=1e-5))
    B, G, H = config.num_games, config.group_size, config.horizon
    num_units = B * G * H * L  # minibatch unit: one team at one step
    mb_size = num_units // config.num_minibatches

    teacher = (bot_player(parse_spec(config.imitate, ("bot",), "TrainConfig.imitate"), env)
               if config.imitate else None)

    def init(key) -> TrainState:
        k_params, k_games, k_clock, k_next = jax.random.split(key, 4)
        params = network.init(k_params, env.obs_dim, env.state_dim if critic else None)
        if teacher is not None:  # its own key: runs without a warm start keep their streams
            k_demo, k_clone = jax.random.split(jax.random.fold_in(k_params, 1))
            data = imitation.demonstrations(env, teacher, k_demo, config.imitate_games)
            params, _ = imitation.clone(
                network, params, data, k_clone, epochs=config.imitate_epochs,
                lr=config.imitate_lr, minibatch_size=min(4096, data["actions"].shape[0]))
        _, trunk = jax.vmap(env.reset)(jax.random.split(k_games, B))
        if config.stagger_start and not env.config.goal_ends_episode:
            # Start the trunk matches at random clocks so that they do not all end (and
            # restart from kickoff) on the same update.
            clock = jax.random.randint(k_clock, (B,), 0, env.config.max_steps)
            trunk = trunk.replace(step=clock.astype(trunk.step.dtype))
        league = None
        if config.league:  # every slot starts as the initial policy
            league = {"pool": jax.tree.map(
                lambda p: jnp.broadcast_to(p, (config.league_size,) + p.shape), params),
                "count": jnp.ones((), jnp.int32)}
        return TrainState(params=params, opt_state=optimizer.init(params), ref_params=params,
                          trunk=trunk, key=k_next, update=jnp.zeros((), jnp.int32),
                          skipped=jnp.zeros((), jnp.int32), opponent_params=opponent_params,
                          league=league)

    def loss_fn(params, batch):
        logits = network.logits(params, batch["obs"], batch["action_mask"])
        loss, diag = grpo_loss(
            logits, batch["actions"], batch["advantages"], batch["log_probs"],
            batch.get("ref_log_probs"), clip_eps=config.clip_eps, kl_coef=config.kl_coef,
            ent_coef=config.ent_coef, weights=batch["weights"])
        if critic:
            values = network.value(params, batch["global_state"])  # [n, T]
            v_loss = value_loss(values, batch["targets"], batch["weights"])
            loss = loss + config.vf_coef * v_loss
            diag["value_loss"] = v_loss
        return loss, diag

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def minibatch_step(carry, batch):
        params, opt_state = carry
        (loss, diag), grads = grad_fn(params, batch)
        grad_norm = optax.tree.norm(grads)
        ok = jnp.isfinite(loss) & jnp.isfinite(grad_norm)
        updates, new_opt_state = optimizer.update(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
        keep = lambda new, old: jax.tree.map(lambda n, o: jnp.where(ok, n, o), new, old)
        params, opt_state = keep(new_params, params), keep(new_opt_state, opt_state)
        diag = dict(diag, loss=loss, grad_norm=grad_norm, skipped=(~ok).astype(jnp.int32))
        return (params, opt_state), diag

    def collect(state: TrainState, key, ref_params):
        """Branch rollouts from the trunk with the current parameters -> (the training batch
        of num_units samples, the rollout, its Advantages, the next trunk)."""
        k_opp, k_roll = jax.random.split(key)
        opponent = state.opponent_params
        if config.league:
            opponent = _league_assignment(config, state.league, k_opp)
        focal = None
        if config.advantage == "grpo-cf" or config.noise == "focal":
            # One a game, rotating over the games from a start drawn for this batch (its own
            # key: the other estimators' streams are unchanged).
            start = jax.random.randint(jax.random.fold_in(key, 7), (), 0, T)
            focal = rotating_focal(state.trunk.active[:, :L], start)
        free = {"independent": None, "common": jnp.ones_like(state.trunk.active[:, :L]),
                "focal": focal}[config.noise]
        rollout, trunk = branch_rollout(k_roll, state.params, state.trunk, G, opponent, free)
        rollout = rollout.replace(focal=focal)
        advantages = compute_advantages(config, rollout)
        tr = rollout.transitions

        def units(x):  # [B, G, H, L, ...] -> [num_units, ...]
            return x.reshape((num_units,) + x.shape[4:])

        batch = {"obs": units(tr.obs), "action_mask": units(tr.action_mask),
                 "actions": units(tr.actions), "log_probs": units(tr.log_probs),
                 "advantages": units(advantages.advantages),
                 "weights": units(advantages.weights)}
        if config.kl_coef:
            ref_logits = network.logits(ref_params, batch["obs"], batch["action_mask"])
            batch["ref_log_probs"], _ = log_probs_and_entropy(ref_logits, batch["actions"])
        if critic:
            batch["global_state"] = units(tr.global_state)
            batch["targets"] = units(advantages.targets)
        return batch, rollout, advantages, trunk

    def gradient(state: TrainState):
        """The gradient of the loss on one fresh batch at `state.params` (before any update,
        so the PPO ratio is 1 and the clipped surrogate's gradient is the policy gradient).
        Returns (gradient pytree, state with the trunk and key advanced, parameters kept)."""
        key, k_collect = jax.random.split(state.key)
        batch, _, _, trunk = collect(state, k_collect, state.ref_params)
        grads, _ = jax.grad(loss_fn, has_aux=True)(state.params, batch)
        return grads, state.replace(trunk=trunk, key=key)

    def update(state: TrainState):
        key, k_collect, k_perm = jax.random.split(state.key, 3)
        refresh = (state.update % config.ref_update_every == 0) if config.ref_update_every \
            else jnp.asarray(False)
        ref_params = jax.tree.map(lambda p, r: jnp.where(refresh, p, r),
                                  state.params, state.ref_params)
        batch, rollout, (adv, weights, _, returns), trunk = collect(state, k_collect,
                                                                    ref_params)
        tr = rollout.transitions

        def epoch(carry, epoch_key):
            perm = jax.random.permutation(epoch_key, num_units)
            shuffled = jax.tree.map(
                lambda x: x[perm].reshape((config.num_minibatches, mb_size) + x.shape[1:]), batch)
            return jax.lax.scan(minibatch_step, carry, shuffled)

        (params, opt_state), diags = jax.lax.scan(
            epoch, (state.params, state.opt_state), jax.random.split(k_perm, config.epochs))
        skipped = jnp.sum(diags.pop("skipped"))
        metrics = {k: jnp.mean(v) for k, v in diags.items()}

        alive = alive_mask(jnp.moveaxis(tr.done, 2, 0))  # [H, B, G]
        goals = jnp.moveaxis(tr.goals, 2, 0) & alive[..., None]  # [H, B, G, 2]
        goals_per_branch = jnp.sum(goals, axis=0).astype(jnp.float32)  # [B, G, 2]
        active = rollout.active[:, None]  # [B, 1, L, T]
        team_return = jnp.sum(returns * active, -1) / jnp.maximum(jnp.sum(active, -1), 1)
        metrics.update(
            team_return=jnp.mean(team_return),
            return_std=jnp.std(returns),
            goals_for=jnp.mean(goals_per_branch[..., 0]),
            goals_against=jnp.mean(goals_per_branch[..., 1]),
            passes=jnp.mean(jnp.sum(tr.passes[..., 0], axis=2)),
            episode_end_frac=jnp.mean(jnp.any(tr.done, axis=2)),
            adv_std=_weighted_std(adv, weights),
            skipped=skipped,
        )
        new_state = state.replace(params=params, opt_state=opt_state, ref_params=ref_params,
                                  trunk=trunk, key=key, update=state.update + 1,
                                  skipped=state.skipped + skipped)
        if config.league:
            new_state = new_state.replace(league=_league_refresh(config, new_state))
            metrics["league_snapshots"] = new_state.league["count"]
        if config.difficulty_step:
            difficulty = next_difficulty(state.opponent_params["difficulty"],
                                         goals_per_branch, config.difficulty_step)
            new_state = new_state.replace(opponent_params={"difficulty": difficulty})
            metrics["difficulty"] = jnp.mean(difficulty)
        return new_state, metrics

    return Trainer(config, env, network, init, update, gradient,
                   env_steps_per_update=B * G * H, samples_per_update=B * G * H * L * T)


def next_difficulty(difficulty: jax.Array, goals: jax.Array, step: float) -> jax.Array:
    """The curriculum's rule (`TrainConfig.difficulty_step`): the opponent's difficulty moves
    `step` up when the learners scored more goals than they conceded (goals [..., 2]: for,
    against, e.g. per branch of one update), down when fewer, and stays when level; within
    [0, 1]. Its fixed point is an even match."""
    lead = jnp.sign(jnp.sum(goals[..., 0]) - jnp.sum(goals[..., 1]))
    return jnp.clip(difficulty + step * lead, 0.0, 1.0)


# --- league: past snapshots and bots, mixed per game ------------------------------------------

def _league_opponent(config: TrainConfig, env, network):
    """The league's opponent function `(key, state, team, {"snapshot", "kind"}) -> [T]`: kind 0
    plays the game's snapshot (sampling its policy), kind j >= 1 plays `league_bots[j - 1]`.
    Every candidate acts and the game's kind selects (branch-free under vmap)."""
    snapshot_act = policy_act(network, env.config, greedy=False)
    bots = [bot_player(parse_spec(spec, ("bot",)), env) for spec in config.league_bots]

    def act(key, state, team, assignment):
        keys = jax.random.split(key, 1 + len(bots))
        choices = [snapshot_act(assignment["snapshot"], keys[0], state, team)]
        choices += [bot(k, state, team) for bot, k in zip(bots, keys[1:])]
        return jnp.stack(choices)[assignment["kind"]]

    return act


def _league_assignment(config: TrainConfig, league: dict, key) -> dict:
    """Draws every trunk game's opponent for one update: a bot with probability
    `league_bot_frac` (uniform over `league_bots`), else a snapshot uniform over the pool's
    filled slots. Returns {"snapshot": parameters [B, ...], "kind": int32 [B]}."""
    B = config.num_games
    k_slot, k_bot, k_which = jax.random.split(key, 3)
    filled = jnp.minimum(league["count"], config.league_size)
    slot = jax.random.randint(k_slot, (B,), 0, filled)
    kind = jnp.zeros((B,), jnp.int32)
    if config.league_bots:
        use_bot = jax.random.uniform(k_bot, (B,)) < config.league_bot_frac
        which = jax.random.randint(k_which, (B,), 1, len(config.league_bots) + 1)
        kind = jnp.where(use_bot, which, 0)
    return {"snapshot": jax.tree.map(lambda p: p[slot], league["pool"]), "kind": kind}


def _league_refresh(config: TrainConfig, state: TrainState) -> dict:
    """Every `league_refresh_every` updates the current policy enters the pool, replacing the
    oldest snapshot (a ring buffer of `league_size` slots)."""
    league = state.league
    due = state.update % config.league_refresh_every == 0
    slot = league["count"] % config.league_size
    pool = jax.tree.map(lambda pool, p: pool.at[slot].set(jnp.where(due, p, pool[slot])),
                        league["pool"], state.params)
    return {"pool": pool, "count": league["count"] + due.astype(jnp.int32)}
