"""PettingZoo adapter: the soccer game for the rest of the MARL ecosystem.

    from soccer_env.pettingzoo import parallel_env
    env = parallel_env("2v2")           # or parallel_env("2v2", opponent="bot:positional")
    observations, infos = env.reset(seed=0)
    while env.agents:
        actions = {a: env.action_space(a).sample(infos[a]["action_mask"]) for a in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)
    env.close()

`parallel_env(...)` is a PettingZoo `ParallelEnv`; `env(...)` the AEC version, made by PettingZoo's
own `parallel_to_aec`. The game itself runs in one jitted function per step (the core
`SoccerEnv.step_env`, the scripted opponent, the next action masks); this module converts at the
boundary only: it checks the action dict, stacks it into `int32 [2, T]`, and splits the outputs
into per-agent dicts. The compiled functions are cached per (config, opponent, controlled team),
so every instance with the same settings shares one compilation.

Agents are named `"{team}_{index}"` (`left_0`, `right_1`; the left team defends x = -L/2). Only
players on the pitch are agents: in academy drills the players a layout leaves off the pitch
(`state.active` False) are not. With `opponent=...` the other team is played by a bot (or any
`soccer_env.players.Player`, e.g. `agents.load_policy(RUN_DIR)`, or a function with the bot
signature `(key, state, team) -> int32 [T]`) and
only the controlled team's players are agents. Every agent's observation is written in its own
team's frame (it attacks +x); see `docs/pettingzoo.md`.
"""

from __future__ import annotations

import functools
import operator
import os
import sys
import warnings
from typing import Any, Callable

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from soccer_env import observations, players
from soccer_env.config import EnvConfig
from soccer_env.env import SoccerEnv
from soccer_env.players import Player
from soccer_env.scenarios import scenario_config

TEAM_NAMES = ("left", "right")
# Per-player event flags of `SoccerEnv.step_env`'s info, copied into each agent's step info.
EVENTS = ("touch", "pass_completed", "shot", "goal_scored")


# ---------------------------------------------------------------------------------------------
# Bounds of observations and global states: the blocks of `soccer_env.observations`.


def observation_bounds(config: EnvConfig) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float32 [obs_dim] bounds of one player's observation, block by block
    (`soccer_env.observations.observation_layout`): positions follow from the pitch geometry,
    velocities from the speed caps, flags and one-hots are in [0, 1]."""
    return observations.observation_bounds(config)


def state_bounds(config: EnvConfig) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) float32 [state_dim] bounds of one team's global state
    (`soccer_env.observations.state_layout`)."""
    return observations.state_bounds(config)


# ---------------------------------------------------------------------------------------------
# Compiled core, shared by every instance with the same settings.


class _Core:
    """The jitted functions of one (config, opponent, controlled team) combination.

    reset(key) -> (key, state, packed)
    step(key, state, actions int32 [2, T], opponent_params) -> (key, state, packed)
    global_state(state) -> float32 [2, state_dim]

    `packed` is float32 [2, T, obs_dim + num_actions + 7], one row per player: observation,
    action mask, reward, the EVENTS flags, terminated, truncated (zeros after a reset). One
    array, so that the host gets everything with a single device-to-host copy. Observations
    are clipped to `observation_bounds` (a no-op in practice: tests check that long rollouts
    stay inside), so they always lie in the declared space.
    """

    def __init__(self, config: EnvConfig, opponent_act: Callable | None,
                 opponent_team: int | None):
        self.env = env = SoccerEnv(config)
        T = config.team_size
        low, high = observation_bounds(config)
        self.obs_low, self.obs_high = low, high
        self.obs_dim, self.num_actions = env.obs_dim, env.num_actions

        def pack(obs, state, reward, events, terminated, truncated):
            obs = jnp.clip(obs, low, high)
            flags = jnp.broadcast_to(jnp.stack([terminated, truncated]), (2, T, 2))
            return jnp.concatenate(
                [obs, env.action_mask(state), reward[..., None], jnp.moveaxis(events, 0, -1),
                 flags], axis=-1).astype(jnp.float32)

        def reset(key):
            key, k_reset = jax.random.split(key)
            obs, state = env.reset(k_reset)
            no = jnp.zeros((), bool)
            nothing = jnp.zeros((4, 2, T), bool)
            return key, state, pack(obs, state, jnp.zeros((2, T)), nothing, no, no)

        def step(key, state, actions, opponent_params):
            key, k_step, k_bot = jax.random.split(key, 3)
            if opponent_act is not None:
                bot_actions = jnp.asarray(
                    opponent_act(opponent_params, k_bot, state, opponent_team), jnp.int32)
                actions = actions.at[opponent_team].set(bot_actions)
            obs, state, reward, _, info = env.step_env(k_step, state, actions)
            events = jnp.stack([info[name] for name in EVENTS])
            done = (info["terminated"], info["truncated"])
            return key, state, pack(obs, state, reward, events, *done)

        self.reset = jax.jit(reset)
        self.step = jax.jit(step)
        self.global_state = jax.jit(env.global_state)

    def unpack(self, packed):
        """Host side: (obs [2, T, D] float32, mask [2, T, A] int8, reward [2, T], events
        [2, T, 4] bool, terminated, truncated) from a packed array, in fresh writable arrays."""
        packed = np.array(packed)
        D, A = self.obs_dim, self.num_actions
        return (packed[..., :D], packed[..., D:D + A].astype(np.int8), packed[..., D + A],
                packed[..., D + A + 1:D + A + 5] > 0.5, bool(packed[0, 0, -2] > 0.5),
                bool(packed[0, 0, -1] > 0.5))


@functools.lru_cache(maxsize=64)
def _core(config: EnvConfig, opponent_act: Callable | None, opponent_team: int | None) -> _Core:
    """The compiled functions, shared by every instance with the same config, opponent rule
    and controlled team (the opponent's parameters are an argument of `step`)."""
    return _Core(config, opponent_act, opponent_team)


# ---------------------------------------------------------------------------------------------
# The ParallelEnv.


def _display_available() -> bool:
    """Whether a matplotlib window can be opened (a display and an interactive backend)."""
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        import matplotlib  # lazy: matplotlib (a GUI backend) only for render_mode="human"
        import matplotlib.pyplot as plt  # noqa: F401  # lazy: selects the backend

        backend = matplotlib.get_backend().lower()
    except Exception:  # noqa: BLE001  (no usable GUI toolkit)
        return False
    return backend not in {"agg", "pdf", "ps", "svg", "cairo", "template", "pgf"} and \
        "inline" not in backend


class SoccerParallelEnv(ParallelEnv):
    """A soccer game as a PettingZoo `ParallelEnv` (construct it with `parallel_env`).

    Agents: `left_i` / `right_i` for the players on the pitch of the controlled team(s).
    Spaces: `observation_space(agent)` is `Box(low, high, (obs_dim,), float32)` with finite bounds
    from the pitch geometry and speed caps; `action_space(agent)` is `Discrete(num_actions)`
    (the action table of `SoccerEnv`). The action mask (int8, 1 = usable) is in
    `infos[agent]["action_mask"]`; a masked action is legal and acts as an idle.
    Dones: a drill ends at a goal or a turnover (termination), every game at `max_steps`
    (truncation); all agents finish together and `agents` is then empty. `state()` is the global
    state (`SoccerEnv.global_state`) in the left team's frame, or in the controlled team's frame
    when an opponent plays the other team.
    """

    metadata = {
        "name": "soccer_v0",
        "render_modes": ["rgb_array", "human"],
        "is_parallelizable": True,
    }

    def __init__(self, config: EnvConfig, *, render_mode: str | None = None,
                 opponent: str | Callable | Player | None = None,
                 controlled_team: str = "left"):
        if not isinstance(config, EnvConfig):
            raise TypeError(f"config must be an EnvConfig, got {type(config).__name__}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode={render_mode!r} is invalid: allowed None or one of "
                             f"{self.metadata['render_modes']}")
        if controlled_team not in TEAM_NAMES:
            raise ValueError(f"controlled_team={controlled_team!r} is invalid: allowed one of "
                             f"{TEAM_NAMES}")
        player = None if opponent is None else players.resolve(opponent, SoccerEnv(config))
        if player is None and controlled_team != "left":
            raise ValueError("controlled_team applies only with an opponent: without one, both "
                             "teams are agents")
        self.config = config
        self.render_mode = render_mode
        self.opponent = opponent
        self._opponent_params = None if player is None else player.params
        self.metadata = {**self.metadata, "render_fps": round(1.0 / config.dt)}
        if player is None:
            self._teams = (0, 1)
            opponent_team = None
        else:
            self._teams = (TEAM_NAMES.index(controlled_team),)
            opponent_team = 1 - self._teams[0]
        self._core = _core(config, None if player is None else player.act, opponent_team)
        self.core_env = self._core.env
        T = config.team_size
        self.num_actions = self.core_env.num_actions

        # The agents are the players on the pitch at reset; every registered layout puts the
        # same players on the pitch whatever the key, so one reset tells which they are.
        _, probe, _ = self._core.reset(jax.random.PRNGKey(0))
        self._active_at_reset = np.asarray(probe.active)
        self.possible_agents = [f"{TEAM_NAMES[t]}_{i}" for t in self._teams for i in range(T)
                                if self._active_at_reset[t, i]]
        if not self.possible_agents:
            raise ValueError(f"no player of team {controlled_team!r} is on the pitch in this "
                             f"scenario (layout {config.layout!r}): nobody to control")
        self._slot = {a: (TEAM_NAMES.index(a.split("_")[0]), int(a.split("_")[1]))
                      for a in self.possible_agents}
        low, high = self._core.obs_low, self._core.obs_high
        self.observation_spaces = {
            a: gymnasium.spaces.Box(low, high, dtype=np.float32) for a in self.possible_agents}
        self.action_spaces = {
            a: gymnasium.spaces.Discrete(self.num_actions) for a in self.possible_agents}
        s_low, s_high = state_bounds(config)
        self.state_space = gymnasium.spaces.Box(s_low, s_high, dtype=np.float32)
        self._state_row = self._teams[0] if len(self._teams) == 1 else 0

        self.agents: list[str] = []
        self._key = None
        self._game = None  # the core State of the current episode
        self._figure = None
        self._warned_no_display = False

    # --- spaces ---------------------------------------------------------------------------
    def observation_space(self, agent: str) -> gymnasium.spaces.Box:
        return self._space(self.observation_spaces, agent)

    def action_space(self, agent: str) -> gymnasium.spaces.Discrete:
        return self._space(self.action_spaces, agent)

    def _space(self, spaces: dict, agent: str):
        if agent not in spaces:
            raise ValueError(f"unknown agent {agent!r}; possible agents: "
                             f"{self.possible_agents}")
        return spaces[agent]

    # --- episode --------------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode. The same `seed` gives the same episode (with the same actions);
        `seed=None` continues this instance's random stream (seeded from OS entropy the first
        time). `options` is accepted for API compatibility and ignored."""
        if seed is not None:
            if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) \
                    or seed < 0:
                raise ValueError(f"seed={seed!r} is invalid: allowed None or an integer >= 0")
            self._key = jax.random.PRNGKey(int(seed))
        elif self._key is None:
            entropy = np.random.SeedSequence().generate_state(1)[0]
            self._key = jax.random.PRNGKey(int(entropy))
        self._key, self._game, packed = self._core.reset(self._key)
        obs, mask, *_ = self._core.unpack(packed)
        active = np.asarray(self._game.active)
        self.agents = [a for a in self.possible_agents if active[self._slot[a]]]
        observations = {a: obs[self._slot[a]] for a in self.agents}
        infos = {a: {"action_mask": mask[self._slot[a]]} for a in self.agents}
        if self.render_mode == "human":
            self._render_human()
        return observations, infos

    def _actions_array(self, actions: dict) -> np.ndarray:
        """int32 [2, T] from the action dict, after checking it (ValueError on bad input)."""
        if not self.agents:
            raise RuntimeError("step() called with no live agents: call reset() first (the "
                               "episode is over or has not started)")
        if not isinstance(actions, dict):
            raise ValueError(f"actions must be a dict agent -> action, got "
                             f"{type(actions).__name__}")
        n = self.num_actions
        allowed = f"an integer in [0, {n - 1}] (Discrete({n}))"
        live = self._live
        for agent in actions:
            if agent not in live:
                raise ValueError(
                    f"action given for agent {agent!r}, which is not live; live agents: "
                    f"{self.agents}, each taking {allowed}")
        out = np.zeros((2, self.config.team_size), np.int32)
        for agent in self.agents:
            if agent not in actions:
                raise ValueError(f"no action for live agent {agent!r}: step() needs an action "
                                 f"for every agent in {self.agents}, each {allowed}")
            action = actions[agent]
            try:
                if isinstance(action, (bool, np.bool_)):
                    raise TypeError
                value = operator.index(action)
            except TypeError:
                raise ValueError(f"action {action!r} for agent {agent!r} is invalid: allowed "
                                 f"{allowed}") from None
            if not 0 <= value < n:
                raise ValueError(f"action {value} for agent {agent!r} is out of range: allowed "
                                 f"{allowed}")
            out[self._slot[agent]] = value
        return out

    def step(self, actions: dict):
        """One step of every live agent. Returns (observations, rewards, terminations,
        truncations, infos), dicts keyed by agent. Bad input raises ValueError and changes
        nothing."""
        actions_array = self._actions_array(actions)
        self._key, self._game, packed = self._core.step(self._key, self._game, actions_array,
                                                          self._opponent_params)
        outputs, done = self._step_outputs(packed)
        if done:  # every agent finishes together
            self.agents = []
        if self.render_mode == "human":
            self._render_human()
        return outputs

    def _step_outputs(self, packed):
        """((observations, rewards, terminations, truncations, infos), done) from the
        compiled step's packed output."""
        obs, mask, reward, events, terminated, truncated = self._core.unpack(packed)
        agents = self.agents
        slots = [self._slot[a] for a in agents]
        observations = {a: obs[s] for a, s in zip(agents, slots)}
        rewards = {a: float(reward[s]) for a, s in zip(agents, slots)}
        terminations = dict.fromkeys(agents, terminated)
        truncations = dict.fromkeys(agents, truncated)
        events = events.tolist()
        infos = {}
        for a, (t, i) in zip(agents, slots):
            touch, passed, shot, scored = events[t][i]
            infos[a] = {"action_mask": mask[t, i], "touch": touch, "pass_completed": passed,
                        "shot": shot, "goal_scored": scored}
        outputs = (observations, rewards, terminations, truncations, infos)
        return outputs, terminated or truncated

    @property
    def agents(self) -> list[str]:
        return self._agents

    @agents.setter
    def agents(self, value: list[str]):
        self._agents = value
        self._live = frozenset(value)

    def state(self) -> np.ndarray:
        """float32 [state_dim]: the global state of the game (see the class docstring)."""
        if self._game is None:
            raise RuntimeError("state() called before reset()")
        return np.asarray(self._core.global_state(self._game)[self._state_row])

    @property
    def game_state(self):
        """The core `soccer_env.State` of the current episode (None before reset)."""
        return self._game

    # --- rendering ------------------------------------------------------------------------
    def render(self):
        """`rgb_array`: uint8 [H, W, 3] picture of the game; `human`: draw it in a matplotlib
        window (when a display exists; otherwise warn once) and return None."""
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; pass "
                                  "render_mode='rgb_array' or 'human' to parallel_env()")
            return None
        if self._game is None:
            raise RuntimeError("render() called before reset()")
        if self.render_mode == "rgb_array":
            return np.asarray(self.core_env.render(self._game))
        self._render_human()
        return None

    def _render_human(self):
        if self._figure is None:
            if not _display_available():
                if not self._warned_no_display:
                    warnings.warn("render_mode='human' needs a display and an interactive "
                                  "matplotlib backend; none found, so no window is opened "
                                  "(use render_mode='rgb_array' for frames)", stacklevel=3)
                    self._warned_no_display = True
                return
            import matplotlib.pyplot as plt  # lazy: only for render_mode="human"

            frame = np.asarray(self.core_env.render(self._game))
            plt.ion()
            figure, axes = plt.subplots(figsize=(frame.shape[1] / 100, frame.shape[0] / 100))
            axes.set_axis_off()
            figure.subplots_adjust(0, 0, 1, 1)
            self._image = axes.imshow(frame)
            self._figure = figure
        else:
            self._image.set_data(np.asarray(self.core_env.render(self._game)))
        import matplotlib.pyplot as plt  # lazy: only for render_mode="human"

        self._figure.canvas.draw_idle()
        plt.pause(1.0 / self.metadata["render_fps"])

    def close(self):
        if self._figure is not None:
            import matplotlib.pyplot as plt  # lazy: only for render_mode="human"

            plt.close(self._figure)
            self._figure = None

    def __repr__(self) -> str:
        return (f"SoccerParallelEnv(agents={self.possible_agents}, opponent={self.opponent!r}, "
                f"config={self.config!r})")


# ---------------------------------------------------------------------------------------------
# Constructors.


def _config(scenario: str | EnvConfig, overrides: dict) -> EnvConfig:
    if isinstance(scenario, EnvConfig):
        return scenario.replace(**overrides) if overrides else scenario
    return scenario_config(scenario, **overrides)


def parallel_env(scenario: str | EnvConfig = "2v2", render_mode: str | None = None, *,
                 opponent: str | Callable | Player | None = None, controlled_team: str = "left",
                 **config_overrides: Any) -> SoccerParallelEnv:
    """A soccer game as a PettingZoo `ParallelEnv`.

    scenario: a registered scenario name (`soccer_env.scenarios()`) or an `EnvConfig`.
    render_mode: None, "rgb_array" or "human".
    opponent: None (both teams are agents), a bot spec "bot:NAME[:DIFFICULTY]" (e.g.
        "bot:positional:0.5"; `soccer_env.players`), a `Player` (e.g.
        `agents.load_policy(RUN_DIR)`), or a function `(key, state, team) -> int32 [T]`. It
        plays the team other than `controlled_team`.
    config_overrides: `EnvConfig` fields to change, e.g. `max_steps=200`.
    """
    return SoccerParallelEnv(_config(scenario, config_overrides), render_mode=render_mode,
                             opponent=opponent, controlled_team=controlled_team)


def env(scenario: str | EnvConfig = "2v2", render_mode: str | None = None, **kwargs: Any):
    """The AEC version of `parallel_env` (same arguments), through PettingZoo's
    `parallel_to_aec`: agents act one after another, the game steps when the last has acted."""
    return parallel_to_aec(parallel_env(scenario, render_mode, **kwargs))


raw_env = SoccerParallelEnv

__all__ = ["SoccerParallelEnv", "env", "observation_bounds", "parallel_env", "raw_env",
           "state_bounds"]
