"""JaxMARL adapter: the soccer game as a `jaxmarl.environments.MultiAgentEnv`.

    from soccer_env.jaxmarl import make
    env = make("2v2")                     # or make("2v2", opponent="bot:positional")
    obs, state = env.reset(key)           # obs: {agent: float32 [obs_dim]}
    actions = {a: env.action_space(a).sample(k) for a, k in zip(env.agents, keys)}
    obs, state, rewards, dones, infos = env.step(key, state, actions)   # auto-resets
    env.get_avail_actions(state)          # {agent: bool [num_actions]}

Everything is a pure jittable function of (key, state, actions), so `jax.jit`, `jax.vmap` over
games and `jax.lax.scan` over steps apply, as JaxMARL's baselines use them. Inside, the game is
the core `SoccerEnv` on stacked `[2, T]` arrays: one core `step` per step (and, with an opponent,
one call of the opponent's act function); the per-agent dicts exist only at this edge. The state
is the core `soccer_env.State` itself.

Agents are named as in the PettingZoo adapter, `"{team}_{index}"` (`left_0`, `right_1`), and only
players on the pitch are agents (drills leave some off). With `opponent=...` the other team is
played inside the step by a bot spec "bot:NAME[:DIFFICULTY]", a `soccer_env.players.Player`
(e.g. `agents.load_policy(RUN_DIR)`) or a function `(key, state, team) -> int32 [T]`, and only
the controlled team's players are agents. Observations are in each agent's own team frame (it
attacks +x), so one shared policy plays either side. See docs/jaxmarl.md.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
from typing import Any, Callable

import chex
import jax
import jax.numpy as jnp
import numpy as np

from soccer_env import observations, players
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.layouts import initial_state_from_uniforms, num_uniforms
from soccer_env.players import Player
from soccer_env.scenarios import scenario_config
from soccer_env.types import State


@contextlib.contextmanager
def _quiet_import():
    """Keep JaxMARL's import chatter out of our output. Its environments package prints two
    lines about optional submodules when first imported, and its MABrax module resets
    `sys.stdout` / `sys.stderr` to `sys.__stdout__` / `sys.__stderr__` (which would undo any
    redirection, pytest's capture included), so both pairs are saved and restored."""
    saved = sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__
    sys.stdout = sys.__stdout__ = io.StringIO()
    try:
        yield
    finally:
        sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__ = saved


with _quiet_import():
    from jaxmarl.environments.multi_agent_env import MultiAgentEnv
    from jaxmarl.environments.spaces import Box, Discrete

TEAM_NAMES = ("left", "right")
# Per-player event flags (and the pass length) of the core step's info, copied per agent into
# `infos` as arrays [num_agents] in `env.agents` order.
EVENTS = ("touch", "pass", "pass_completed", "pass_length", "shot", "shot_on_target",
          "goal_scored", "assist", "tackle", "interception", "won_ball", "save")
# The opponent's randomness: `fold_in(key, OPPONENT_STREAM)` of the step's key (the game itself
# uses the key unchanged, so the adapter's step is the core step with the same key).
OPPONENT_STREAM = 1


class SoccerMultiAgentEnv(MultiAgentEnv):
    """A soccer game as a JaxMARL `MultiAgentEnv` (construct it with `make`).

    agents: `left_i` / `right_i` for the players on the pitch of the controlled team(s), left
        team first (`num_agents` of them); `agent_classes` groups them by team.
    observation_space(agent): JaxMARL `Box(low, high, (obs_dim,), float32)`, finite bounds from
        the pitch geometry and speed caps (`soccer_env.observations.observation_bounds`).
    action_space(agent): JaxMARL `Discrete(num_actions)`, the core action table. An action is
        an integer array of shape `[]` or `[1]` (as JaxMARL's baselines pass them); indices
        outside `[0, num_actions)` are clipped, exactly as the core documents (a jitted step
        cannot raise).
    reset(key) -> (obs, state); step(key, state, actions) -> (obs, state, rewards, dones,
        infos), auto-resetting a finished game (the returned obs and state are the new
        episode's; rewards, dones and infos those of the finished transition);
        `dones[agent]` and `dones["__all__"]` are the same bool (all agents finish together).
    rewards: the core's per-player rewards, float32 `[]` per agent.
    infos: arrays `[num_agents]` in `agents` order (what JaxMARL's baselines reshape and
        average): the per-player events `EVENTS`, `goals_for` / `goals_against` (int32, the
        score from the agent's team's side after the step), `team_reward`, `terminated` and
        `truncated`.
    world_state(state): float32 [num_agents, state_dim], the global state
        (`SoccerEnv.global_state`) in each agent's team frame, for centralised critics (MAPPO).
    """

    def __init__(self, config: EnvConfig, *, opponent: str | Callable | Player | None = None,
                 controlled_team: str = "left"):
        if not isinstance(config, EnvConfig):
            raise TypeError(f"config must be an EnvConfig, got {type(config).__name__}")
        if controlled_team not in TEAM_NAMES:
            raise ValueError(f"controlled_team={controlled_team!r} is invalid: allowed one of "
                             f"{TEAM_NAMES}")
        self.core = core = SoccerEnv(config)
        self.config = config
        self.opponent = opponent
        player = None if opponent is None else players.resolve(opponent, core)
        if player is None and controlled_team != "left":
            raise ValueError("controlled_team applies only with an opponent: without one, both "
                             "teams are agents")
        self._player = player
        if player is None:
            teams, self._opponent_team = (0, 1), None
        else:
            teams = (TEAM_NAMES.index(controlled_team),)
            self._opponent_team = 1 - teams[0]
        self.controlled_teams = teams

        # Every registered layout puts the same players on the pitch whatever the key, so one
        # initial state tells which players are agents.
        with jax.ensure_compile_time_eval():
            active = np.asarray(initial_state_from_uniforms(
                config, jnp.full((num_uniforms(config),), 0.5)).active)
        slots = [(t, i) for t in teams for i in range(config.team_size) if active[t, i]]
        if not slots:
            raise ValueError(f"no player of team {controlled_team!r} is on the pitch in this "
                             f"scenario (layout {config.layout!r}): nobody to control")
        super().__init__(num_agents=len(slots))
        self.agents = [f"{TEAM_NAMES[t]}_{i}" for t, i in slots]
        self._slots = dict(zip(self.agents, slots))
        # Every player of the controlled teams is an agent (matches): rows are a reshape.
        self._whole_teams = len(slots) == len(teams) * config.team_size
        self._team_index = np.array([t for t, _ in slots], np.int32)  # each agent's team

        low, high = observations.observation_bounds(config)
        self.obs_dim, self.num_actions = core.obs_dim, core.num_actions
        self.state_dim = core.state_dim
        self.observation_spaces = {
            a: Box(low, high, (self.obs_dim,), jnp.float32) for a in self.agents}
        self.action_spaces = {a: Discrete(self.num_actions) for a in self.agents}

    # --- spaces and names -----------------------------------------------------------------
    def observation_space(self, agent: str) -> Box:
        return self._space(self.observation_spaces, agent)

    def action_space(self, agent: str) -> Discrete:
        return self._space(self.action_spaces, agent)

    def _space(self, spaces: dict, agent: str):
        if agent not in spaces:
            raise ValueError(f"unknown agent {agent!r}; agents: {self.agents}")
        return spaces[agent]

    @property
    def name(self) -> str:
        return "soccer"

    @property
    def agent_classes(self) -> dict:
        """{team name: its agents} for the controlled team(s)."""
        return {TEAM_NAMES[t]: [a for a in self.agents if self._slots[a][0] == t]
                for t in self.controlled_teams}

    # --- the edge: dicts <-> stacked arrays ------------------------------------------------
    def _rows(self, x: jax.Array) -> dict:
        """{agent: x[t, i]}: each agent's row of a core [2, T, ...] array (static slices)."""
        return {a: x[t, i] for a, (t, i) in self._slots.items()}

    def _per_agent(self, x: jax.Array) -> jax.Array:
        """[num_agents, ...]: the agents' rows of a core [2, T, ...] array, in `agents` order
        (a reshape when the agents are whole teams, as in matches)."""
        if self._whole_teams:
            x = x if len(self.controlled_teams) == 2 else x[self.controlled_teams[0]][None]
            return x.reshape(-1, *x.shape[2:])
        return jnp.stack([x[t, i] for t, i in self._slots.values()])

    def _stack_actions(self, actions: dict) -> jax.Array:
        """int32 [2, T] core actions from the action dict (checked at trace time: the keys,
        the shapes and the dtypes are static); players that are not agents idle."""
        if not isinstance(actions, dict):
            raise ValueError(f"actions must be a dict agent -> action, got "
                             f"{type(actions).__name__}")
        n = self.num_actions
        allowed = (f"an integer array of shape [] or [1] with values in [0, {n - 1}] "
                   f"(Discrete({n}))")
        unknown = [a for a in actions if a not in self._slots]
        if unknown:
            raise ValueError(f"actions given for {unknown}, which are not agents; agents: "
                             f"{self.agents}, each taking {allowed}")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"no action for agents {missing}: step() needs an action for "
                             f"every agent in {self.agents}, each {allowed}")
        stacked = []
        for agent in self.agents:
            action = jnp.asarray(actions[agent])
            if action.shape not in ((), (1,)):
                raise ValueError(f"action for agent {agent!r} has shape {list(action.shape)}: "
                                 f"allowed {allowed}")
            if not jnp.issubdtype(action.dtype, jnp.integer):
                raise ValueError(f"action for agent {agent!r} has dtype {action.dtype}: "
                                 f"allowed {allowed}")
            stacked.append(action.reshape(()).astype(jnp.int32))
        T = self.config.team_size
        if self._whole_teams and len(self.controlled_teams) == 2:
            return jnp.stack(stacked).reshape(2, T)
        core_actions = jnp.zeros((2, T), jnp.int32)
        for (t, i), action in zip(self._slots.values(), stacked):
            core_actions = core_actions.at[t, i].set(action)
        return core_actions

    def _with_opponent(self, key: chex.PRNGKey, state: State, actions: jax.Array) -> jax.Array:
        """The core actions with the opponent's team filled in by its player."""
        if self._player is None:
            return actions
        team = self._opponent_team
        bot_key = jax.random.fold_in(key, OPPONENT_STREAM)
        bot_actions = jnp.asarray(
            self._player.act(self._player.params, bot_key, state, team), jnp.int32)
        return actions.at[team].set(bot_actions)

    def _outputs(self, reward, done, info):
        """(rewards, dones, infos): the per-agent dicts of one core step's outputs."""
        dones = {a: done for a in self.agents}
        dones["__all__"] = done
        team = self._team_index
        infos = {name: self._per_agent(info[name]) for name in EVENTS}
        infos["goals_for"] = info["score"][team]
        infos["goals_against"] = info["score"][1 - team]
        infos["team_reward"] = info["team_reward"][team]
        for name in ("terminated", "truncated"):
            infos[name] = jnp.broadcast_to(info[name], (self.num_agents,))
        return self._rows(reward), dones, infos

    # --- the JaxMARL API ------------------------------------------------------------------
    @functools.partial(jax.jit, static_argnums=(0,))
    def reset(self, key: chex.PRNGKey) -> tuple[dict, State]:
        """A new episode: ({agent: float32 [obs_dim]}, the core State)."""
        obs, state = self.core.reset(key)
        return self._rows(obs), state

    @functools.partial(jax.jit, static_argnums=(0,))
    def step(self, key: chex.PRNGKey, state: State, actions: dict,
             reset_state: State | None = None):
        """One step of every agent, auto-resetting a finished game (JaxMARL's semantics).

        Without `reset_state` this is the core `SoccerEnv.step(key, ...)`, whose new episode
        is `reset(key)`; with one, a finished game continues from `reset_state` instead. The
        opponent (if any) draws from `fold_in(key, OPPONENT_STREAM)`."""
        core_actions = self._with_opponent(key, state, self._stack_actions(actions))
        if reset_state is None:
            obs, state, reward, done, info = self.core.step(key, state, core_actions)
        else:
            _, state, reward, done, info = self.core.step_env(key, state, core_actions)
            state = jax.tree.map(lambda r, s: jnp.where(done, r, s), reset_state, state)
            obs = self.core.observe(state)
        return (self._rows(obs), state, *self._outputs(reward, done, info))

    @functools.partial(jax.jit, static_argnums=(0,))
    def step_env(self, key: chex.PRNGKey, state: State, actions: dict):
        """One step without auto-reset (the core `SoccerEnv.step_env`)."""
        core_actions = self._with_opponent(key, state, self._stack_actions(actions))
        obs, state, reward, done, info = self.core.step_env(key, state, core_actions)
        return (self._rows(obs), state, *self._outputs(reward, done, info))

    @functools.partial(jax.jit, static_argnums=(0,))
    def get_obs(self, state: State) -> dict:
        """{agent: float32 [obs_dim]}, each in its own team's frame."""
        return self._rows(self.core.observe(state))

    @functools.partial(jax.jit, static_argnums=(0,))
    def get_avail_actions(self, state: State) -> dict:
        """{agent: bool [num_actions]}: the core action mask (kicks only for the player with
        the ball, passes only to teammates on the pitch). A masked action is legal and acts as
        an idle."""
        return self._rows(self.core.action_mask(state))

    @functools.partial(jax.jit, static_argnums=(0,))
    def world_state(self, state: State) -> jax.Array:
        """float32 [num_agents, state_dim]: the global state in each agent's team frame."""
        return self.core.global_state(state)[self._team_index]

    def __repr__(self) -> str:
        return (f"SoccerMultiAgentEnv(agents={self.agents}, opponent={self.opponent!r}, "
                f"config={self.config!r})")


def make(scenario: str | EnvConfig = "2v2", opponent: str | Callable | Player | None = None, *,
         controlled_team: str = "left", **config_overrides: Any) -> SoccerMultiAgentEnv:
    """A soccer game as a JaxMARL `MultiAgentEnv`.

    scenario: a registered scenario name (`soccer_env.scenarios()`) or an `EnvConfig`.
    opponent: None (both teams are agents), a bot spec "bot:NAME[:DIFFICULTY]" (e.g.
        "bot:positional:0.5"), a `soccer_env.players.Player` (e.g. `agents.load_policy(RUN)`),
        or a function `(key, state, team) -> int32 [T]`. It plays the team other than
        `controlled_team` ("left" or "right"), inside the jitted step.
    config_overrides: `EnvConfig` fields to change, e.g. `max_steps=200`.
    """
    if isinstance(scenario, EnvConfig):
        config = scenario.replace(**config_overrides) if config_overrides else scenario
    elif isinstance(scenario, str):
        config = scenario_config(scenario, **config_overrides)
    else:
        raise ValueError(f"scenario={scenario!r} is invalid: allowed a registered scenario "
                         f"name (soccer_env.scenarios()) or an EnvConfig")
    return SoccerMultiAgentEnv(config, opponent=opponent, controlled_team=controlled_team)


__all__ = ["EVENTS", "SoccerMultiAgentEnv", "make"]
