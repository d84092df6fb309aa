"""The soccer environment: pure `reset` / `step` functions over stacked [team, player] arrays.

    env = SoccerEnv(EnvConfig(team_size=2))
    obs, state = env.reset(key)                                       # obs [2, T, obs_dim]
    obs, state, reward, done, info = env.step(key, state, actions)    # actions int32 [2, T]

`step` resets finished games automatically (gymnax style: the returned obs and state are those of
the new episode, reward/done/info those of the finished transition); `step_env` does not. Every
method is a pure function of its arguments, so `jax.jit`, `jax.vmap` and `jax.lax.scan` apply.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import jax.scipy.special

from soccer_env import observations, physics, rules
from soccer_env.actions import NUM_MOVES, Action, num_actions, teammate_index
from soccer_env.config import EnvConfig
from soccer_env.constants import TEAM_SIGN
from soccer_env.layouts import initial_state_from_uniforms, num_uniforms
from soccer_env.render.frame import render_frame
from soccer_env.types import Restart, State


class SoccerEnv:
    """A 2D soccer game between two teams of `config.team_size` players.

    Actions (per player, in its team's frame, "forward" = toward the opponent goal; named by
    `soccer_env.actions.Action`):
        0 idle (decelerate); 1..8 move at (index - 1) * 45 degrees (1 forward, 3 left, 5 back,
        7 right); 9 shoot at the opponent goal; 10 .. 10 + T - 2 pass to teammate k (teammates in
        index order, the passer skipped). Kicks act only within `kick_range` of the ball,
        otherwise they are idles. Indices outside [0, num_actions) are clipped: the jitted core
        cannot raise, so validating actions is the caller's job (the PettingZoo adapter does).
    """

    def __init__(self, config: EnvConfig | None = None):
        self.config = config if config is not None else EnvConfig()
        if not isinstance(self.config, EnvConfig):
            raise TypeError(f"config must be an EnvConfig, got {type(self.config).__name__}")

    def __repr__(self) -> str:
        return f"SoccerEnv({self.config!r})"

    # --- sizes -----------------------------------------------------------------------------
    @property
    def team_size(self) -> int:
        return self.config.team_size

    @property
    def num_actions(self) -> int:
        return num_actions(self.config.team_size)

    @property
    def obs_dim(self) -> int:
        return observations.obs_dim(self.config.team_size)

    @property
    def state_dim(self) -> int:
        return observations.state_dim(self.config.team_size)

    # --- core API --------------------------------------------------------------------------
    def reset(self, key: chex.PRNGKey) -> tuple[jax.Array, State]:
        """A new episode drawn from the scenario's initial-state distribution."""
        state = initial_state_from_uniforms(self.config, self._uniforms(key)[:-1])
        return self.observe(state), state

    def _uniforms(self, key):
        """All the randomness of one step: the reset draws, then the kick-noise draw."""
        return jax.random.uniform(key, (num_uniforms(self.config) + 1,))

    def observe(self, state: State) -> jax.Array:
        """float32 [2, T, obs_dim]: every player's observation in its team's frame."""
        return observations.observe(self.config, state)

    def global_state(self, state: State) -> jax.Array:
        """float32 [2, state_dim]: the full state in each team's frame (for critics)."""
        return observations.global_state(self.config, state)

    def action_mask(self, state: State) -> jax.Array:
        """bool [2, T, num_actions]: idle always; moves when on the pitch; kicks in range; a pass
        only to a teammate on the pitch."""
        T = self.config.team_size
        active = state.active
        in_range = physics.in_kick_range(self.config, state.player_pos, state.ball_pos, active)
        moves = jnp.broadcast_to(active[..., None], (2, T, NUM_MOVES))
        mates = active[:, teammate_index(T)]  # [2, T, T-1]
        passes = in_range[..., None] & mates
        return jnp.concatenate(
            [jnp.ones((2, T, 1), bool), moves, in_range[..., None], passes], axis=-1)

    def step(self, key: chex.PRNGKey, state: State, actions: jax.Array):
        """One step; a finished game is replaced by a fresh one (see the module docstring).

        Equal to `step_env` with the same key unless the game ends; the new episode is
        `reset(key)` (the kick noise and the reset use disjoint parts of one random draw).
        """
        u = self._uniforms(key)
        next_state, reward, done, info = self._step(u[-1], state, actions)
        reset_state = initial_state_from_uniforms(self.config, u[:-1])
        next_state = jax.tree.map(lambda r, s: jnp.where(done, r, s), reset_state, next_state)
        return self.observe(next_state), next_state, reward, done, info

    def step_env(self, key: chex.PRNGKey, state: State, actions: jax.Array):
        """One step without auto-reset. Returns (obs, state, reward [2, T], done, info)."""
        next_state, reward, done, info = self._step(self._uniforms(key)[-1], state, actions)
        return self.observe(next_state), next_state, reward, done, info

    def _step(self, kick_uniform, state, actions):
        cfg = self.config
        T = cfg.team_size
        chex.assert_shape(actions, (2, T))
        actions = jnp.clip(jnp.asarray(actions, jnp.int32), 0, self.num_actions - 1)
        active = state.active
        actions = jnp.where(active, actions, Action.IDLE)

        # Kicks are decided on the positions the players see, before anyone moves.
        # A standard normal from the step's uniform draw (inverse CDF), scaling the aim error.
        u = jnp.clip(kick_uniform, 1e-6, 1 - 1e-6)
        noise = jnp.sqrt(2.0) * jax.scipy.special.erfinv(2.0 * u - 1.0)
        kicked, kicker, kick_vel, is_shot = physics.resolve_kick(
            cfg, state.player_pos, state.player_vel, actions, active, state.ball_pos, noise)
        ball_vel = jnp.where(kicked, kick_vel, state.ball_vel)

        pos, vel = physics.move_players(cfg, state.player_pos, state.player_vel, actions, active)
        pos, vel = physics.collide_players(cfg, state.player_pos, pos, vel, active)
        pos, vel = physics.clamp_players(cfg, pos, vel)
        pos = jnp.where(active[..., None], pos, state.player_pos)

        ball_before = state.ball_pos
        ball_pos, ball_vel, bumped = physics.move_ball(
            cfg, state.ball_pos, ball_vel, pos, vel, active, kicked)
        if cfg.boundary == "walls":
            ball_pos, ball_vel = physics.bounce_ball_off_walls(cfg, ball_pos, ball_vel)

        # --- events ------------------------------------------------------------------------
        touch = kicker | bumped
        any_touch = jnp.any(touch)
        attack = TEAM_SIGN[:, None]
        touch_advance = touch & (ball_vel[0] * attack > 0)
        shot = kicker & is_shot
        shot_on_target = shot & _on_target(cfg, state.ball_pos, kick_vel, attack)
        is_pass = kicker & (actions >= Action.FIRST_PASS)
        # A pass in flight is completed when a teammate of the passer touches the ball next.
        receiver = touch & ~state.pass_from
        pass_completed = state.pass_from & jnp.any(receiver, axis=1, keepdims=True)
        pass_from = jnp.where(jnp.any(receiver), jnp.zeros_like(state.pass_from), state.pass_from)
        pass_from = jnp.where(jnp.any(is_pass), is_pass, pass_from)
        last_touch = jnp.where(any_touch, touch, state.last_touch)
        possession = jnp.any(last_touch, axis=1)  # [2], before a goal clears it

        goal = rules.goals(cfg, ball_pos)
        scored = jnp.any(goal)
        goal_scored = last_touch & goal[:, None]
        ball_progress = (ball_pos[0] - ball_before[0]) * (2.0 / cfg.field_length)

        # --- restarts ----------------------------------------------------------------------
        restart = jnp.full((), int(Restart.NO_RESTART), jnp.int32)
        if cfg.boundary == "rules":
            pos, vel, ball_pos, ball_vel, restart = rules.restart_if_out(
                cfg, pos, vel, active, ball_pos, ball_vel, last_touch, scored)
        if not cfg.goal_ends_episode:
            pos, vel, ball_pos, ball_vel, kickoff = rules.kickoff_after_goal(
                cfg, pos, vel, active, ball_pos, ball_vel, goal)
            restart = jnp.maximum(restart, kickoff)
        restarted = restart != Restart.NO_RESTART
        pass_from = jnp.where(restarted, False, pass_from)
        last_touch = jnp.where(scored, False, last_touch)

        score = state.score + goal.astype(jnp.int32)
        step = state.step + 1
        terminated = jnp.asarray(False)
        if cfg.goal_ends_episode:
            terminated = terminated | scored
        if cfg.turnover_ends_episode:
            terminated = terminated | jnp.any(touch[1])
        truncated = (step >= cfg.max_steps) & ~terminated
        done = terminated | truncated

        next_state = State(
            player_pos=pos, player_vel=vel, active=active, ball_pos=ball_pos, ball_vel=ball_vel,
            score=score, step=step, last_touch=last_touch, pass_from=pass_from)

        # --- rewards -----------------------------------------------------------------------
        goal_diff = goal[0].astype(jnp.float32) - goal[1].astype(jnp.float32)
        left = cfg.goal_reward * goal_diff + cfg.ball_progress_weight * ball_progress
        team_reward = jnp.stack([left, -left])
        credit = (cfg.credit_touch * touch_advance + cfg.credit_pass * pass_completed
                  + cfg.credit_shot * shot_on_target + cfg.credit_goal * goal_scored)
        reward = team_reward[:, None] + cfg.credit_weight * credit.astype(jnp.float32)
        reward = jnp.where(active, reward, 0.0).astype(jnp.float32)

        info = {
            "score": score,
            "goal": goal,
            "terminated": terminated,
            "truncated": truncated,
            "restart": restart,
            "touch": touch,
            "pass": is_pass,
            "pass_completed": pass_completed,
            "shot": shot,
            "shot_on_target": shot_on_target,
            "goal_scored": goal_scored,
            "possession": possession,
            "team_reward": team_reward,
        }
        return next_state, reward, done, info

    # --- rendering -------------------------------------------------------------------------
    def render(self, state: State, **kwargs):
        """uint8 [H, W, 3] picture of one game state (see soccer_env.render.render_frame)."""
        return render_frame(self.config, state, **kwargs)


def _on_target(config, ball_pos, ball_vel, attack):
    """[2, 1] bool: whether a ball leaving `ball_pos` along `ball_vel` crosses each team's target
    goal line between the posts."""
    half = config.field_length / 2
    vx = ball_vel[0] * attack  # [2, 1], toward the target goal when > 0
    distance = half - ball_pos[0] * attack
    y_at = ball_pos[1] + ball_vel[1] * distance / jnp.where(vx > 0, vx, 1.0)
    return (vx > 0) & (jnp.abs(y_at) < config.goal_width / 2)


def team_event_counts(info: dict) -> dict:
    """Per-team int32 [2] counts of one step's events, from `step`'s info: goals, shots, shots on
    target, passes, completed passes and touches (the match statistics' building block)."""
    per_team = lambda flags: jnp.sum(flags, axis=-1).astype(jnp.int32)  # noqa: E731
    return {
        "goals": info["goal"].astype(jnp.int32),
        "shots": per_team(info["shot"]),
        "shots_on_target": per_team(info["shot_on_target"]),
        "passes": per_team(info["pass"]),
        "passes_completed": per_team(info["pass_completed"]),
        "touches": per_team(info["touch"]),
    }
