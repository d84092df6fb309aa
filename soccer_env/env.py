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
from soccer_env.types import LOOSE, Restart, State, owner_onehot, owner_team

# U(0, 1) draws of one step: kick noise, tie-break, tackle, and each team's keeper catch.
STEP_UNIFORMS = 5


class SoccerEnv:
    """A 2D soccer game between two teams of `config.team_size` players.

    Actions (per player, in its team's frame, "forward" = toward the opponent goal; named by
    `soccer_env.actions.Action`):
        0 idle (decelerate); 1..8 move at (index - 1) * 45 degrees (1 forward, 3 left, 5 back,
        7 right); 9 shoot at the opponent goal; 10 .. 10 + T - 2 pass to teammate k (teammates in
        index order, the passer skipped). Kicks act only for the player who has the ball
        (`State.owner`), otherwise they are idles. Indices outside [0, num_actions) are
        clipped: the jitted core cannot raise, so validating actions is the caller's job (the
        PettingZoo adapter does).
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
        state = initial_state_from_uniforms(
            self.config, self._uniforms(key)[:num_uniforms(self.config)])
        return self.observe(state), state

    def _uniforms(self, key):
        """All the randomness of one step in one draw: the reset's, then the step's."""
        return jax.random.uniform(key, (num_uniforms(self.config) + STEP_UNIFORMS,))

    def observe(self, state: State) -> jax.Array:
        """float32 [2, T, obs_dim]: every player's observation in its team's frame."""
        return observations.observe(self.config, state)

    def global_state(self, state: State) -> jax.Array:
        """float32 [2, state_dim]: the full state in each team's frame (for critics)."""
        return observations.global_state(self.config, state)

    def action_mask(self, state: State) -> jax.Array:
        """bool [2, T, num_actions]: idle always; moves when on the pitch; shoot and pass only
        for the player who has the ball (`state.owner`), a pass only to a teammate on the
        pitch."""
        T = self.config.team_size
        active = state.active
        has_ball = owner_onehot(state.owner, T) & active
        moves = jnp.broadcast_to(active[..., None], (2, T, NUM_MOVES))
        mates = active[:, teammate_index(T)]  # [2, T, T-1]
        passes = has_ball[..., None] & mates
        return jnp.concatenate(
            [jnp.ones((2, T, 1), bool), moves, has_ball[..., None], passes], axis=-1)

    def step(self, key: chex.PRNGKey, state: State, actions: jax.Array):
        """One step; a finished game is replaced by a fresh one (see the module docstring).

        Equal to `step_env` with the same key unless the game ends; the new episode is
        `reset(key)` (the step's draws and the reset use disjoint parts of one random draw).
        """
        u = self._uniforms(key)
        n = num_uniforms(self.config)
        next_state, reward, done, info = self._step(u[n:], state, actions)
        reset_state = initial_state_from_uniforms(self.config, u[:n])
        next_state = jax.tree.map(lambda r, s: jnp.where(done, r, s), reset_state, next_state)
        return self.observe(next_state), next_state, reward, done, info

    def step_env(self, key: chex.PRNGKey, state: State, actions: jax.Array):
        """One step without auto-reset. Returns (obs, state, reward [2, T], done, info)."""
        u = self._uniforms(key)[num_uniforms(self.config):]
        next_state, reward, done, info = self._step(u, state, actions)
        return self.observe(next_state), next_state, reward, done, info

    def _step(self, u, state, actions):
        """One step from the step's STEP_UNIFORMS U(0, 1) draws `u`: kick noise, tie-break,
        tackle, and each team's keeper catch."""
        cfg = self.config
        T = cfg.team_size
        chex.assert_shape(actions, (2, T))
        actions = jnp.clip(jnp.asarray(actions, jnp.int32), 0, self.num_actions - 1)
        active = state.active
        actions = jnp.where(active, actions, Action.IDLE)
        keeper = physics.keepers(cfg)

        # --- the player with the ball kicks, or may lose it to a tackle ----------------------
        # Decided on the positions the players see, before anyone moves.
        has_ball = owner_onehot(state.owner, T) & active
        # A keeper must release the ball within keeper_hold_steps: then it clears it (shoots).
        forced = has_ball & keeper & (state.hold >= cfg.keeper_hold_steps)
        actions = jnp.where(forced & (actions < Action.SHOOT), int(Action.SHOOT), actions)
        kicker = has_ball & (actions >= Action.SHOOT)
        kicked = jnp.any(kicker)
        # A standard normal from the step's uniform draw (inverse CDF), scaling the aim error.
        noise = jnp.sqrt(2.0) * jax.scipy.special.erfinv(2.0 * jnp.clip(u[0], 1e-6, 1 - 1e-6) - 1.0)
        kick_vel, is_shot = physics.kick(
            cfg, state.player_pos, state.player_vel, active, actions, kicker, state.ball_pos, noise)
        cooldown = jnp.maximum(state.cooldown - 1, 0)
        cooldown = jnp.where(kicker, cfg.kick_cooldown, cooldown)
        kept = has_ball & ~kicker
        protected = keeper & physics.in_penalty_area(cfg, state.player_pos)
        tackler = physics.tackles(cfg, state.player_pos, active, cooldown, kept, protected,
                                  state.ball_pos, u[2], u[1])
        tackled = jnp.any(tackler)
        cooldown = jnp.where(kept & tackled, cfg.tackle_cooldown, cooldown)
        has_ball = jnp.where(tackled, tackler, kept)
        owned = jnp.any(has_ball)

        # --- players move ------------------------------------------------------------------
        pos, vel = physics.move_players(cfg, state.player_pos, state.player_vel, actions, active,
                                        has_ball)
        pos, vel = physics.collide_players(cfg, state.player_pos, pos, vel, active)
        pos, vel = physics.clamp_players(cfg, pos, vel)
        pos = jnp.where(active[..., None], pos, state.player_pos)

        # --- the ball: at its owner's feet, or rolling until someone controls it -----------
        ball_vel = jnp.where(kicked, kick_vel, state.ball_vel)
        # The kicker never takes its own kick on the step it strikes it (kick_cooldown may be 0).
        can_control = active & (cooldown == 0) & ~kicker
        in_area = keeper & physics.in_penalty_area(cfg, pos)
        can_catch = in_area & (u[3:5, None] < cfg.catch_prob)
        loose_pos, loose_vel, ctrl_score, bumped = physics.move_loose_ball(
            cfg, state.ball_pos, ball_vel, pos, vel, active, can_control, can_catch, kicker,
            in_area)
        controller = physics.pick_nearest(ctrl_score, jnp.isfinite(ctrl_score), u[1]) & ~owned
        bumped = bumped & ~owned
        has_ball = has_ball | controller
        owned = jnp.any(has_ball)
        feet_pos, feet_vel = physics.dribble(
            cfg, pos, vel, has_ball, jnp.where(jnp.any(controller), loose_pos, state.ball_pos))
        # A goal is the ball's path crossing the goal line between the posts this step (a shot
        # travels more than a metre a step, so where it stops says too little).
        goal = rules.goals(cfg, state.ball_pos, jnp.where(owned, feet_pos, loose_pos))
        scored = jnp.any(goal)
        if cfg.boundary == "walls":
            bounced_pos, bounced_vel = physics.bounce_ball_off_walls(cfg, loose_pos, loose_vel)
            loose_pos = jnp.where(scored, loose_pos, bounced_pos)
            loose_vel = jnp.where(scored, loose_vel, bounced_vel)
            feet_pos = jnp.where(scored, feet_pos, physics.keep_owned_ball_in(cfg, feet_pos))
        ball_pos = jnp.where(owned, feet_pos, loose_pos)
        ball_vel = jnp.where(owned, feet_vel, loose_vel)

        # --- events ------------------------------------------------------------------------
        touch = kicker | controller | bumped | tackler
        took = controller | tackler
        attack = TEAM_SIGN[:, None]
        last_team = jnp.any(state.last_touch, axis=1)  # [2]
        won_ball = took & last_team[::-1][:, None]
        shot = kicker & is_shot
        shot_on_target = shot & _on_target(cfg, state.ball_pos, kick_vel, attack)
        shot_on = jnp.where(kicked, jnp.any(shot_on_target), state.shot_on)
        save = keeper & (controller | bumped) & shot_on
        is_pass = kicker & (actions >= Action.FIRST_PASS)
        new_pass = jnp.any(is_pass)
        pass_from = jnp.where(new_pass, is_pass, state.pass_from)
        pass_origin = jnp.where(new_pass, state.ball_pos, state.pass_origin)
        # A pass in flight ends when someone controls the ball: completed when a teammate of
        # the passer does, intercepted when an opponent does.
        passing_team = jnp.any(pass_from, axis=1)  # [2]
        receiver = controller & passing_team[:, None] & ~pass_from
        completed = jnp.any(receiver)
        pass_completed = pass_from & completed
        interception = controller & passing_team[::-1][:, None]
        reception = jnp.sum(jnp.where(receiver[..., None], pos, 0.0), axis=(0, 1))
        pass_length = jnp.where(pass_completed,
                                jnp.sqrt(jnp.sum((reception - pass_origin) ** 2)), 0.0)
        pass_from = jnp.where(jnp.any(controller), False, pass_from)
        # The passer of a completed pass assists a goal until someone else touches the ball.
        assist_from = jnp.where(completed, pass_completed,
                                jnp.where(jnp.any(touch & ~state.last_touch), False,
                                          state.assist_from))
        # The last touch is one player: one who takes or deflects a kick touches it after the
        # kicker.
        latest = controller | bumped | tackler
        last_touch = jnp.where(jnp.any(latest), latest,
                               jnp.where(kicked, kicker, state.last_touch))
        shot_on = shot_on & ~jnp.any(controller | bumped)

        goal_scored = last_touch & goal[:, None]
        assist = assist_from & goal[:, None]

        # --- restarts: the taker (kickoff: the kicker) has the ball ------------------------
        restart = jnp.full((), int(Restart.NO_RESTART), jnp.int32)
        taker = jnp.zeros((2, T), bool)
        if cfg.boundary == "rules":
            pos, vel, ball_pos, ball_vel, restart, taker = rules.restart_if_out(
                cfg, pos, vel, active, ball_pos, ball_vel, last_touch, scored)
        if not cfg.goal_ends_episode:
            pos, vel, ball_pos, ball_vel, kickoff, kicker_off = rules.kickoff_after_goal(
                cfg, pos, vel, active, ball_pos, ball_vel, goal)
            restart = jnp.maximum(restart, kickoff)
            taker = jnp.where(scored, kicker_off, taker)
        restarted = restart != Restart.NO_RESTART
        has_ball = jnp.where(restarted, taker, has_ball)
        # A restart's taker stands just behind the ball, facing the opponent goal.
        cooldown = jnp.where(restarted, 0, cooldown)
        pass_from = jnp.where(restarted, False, pass_from)
        assist_from = jnp.where(restarted, False, assist_from)
        shot_on = shot_on & ~restarted & ~scored
        last_touch = jnp.where(scored, False, last_touch)
        # The player with the ball is its last toucher (a restart's taker, too): it decides who
        # restarts when the ball goes out and who won the ball when it is taken.
        last_touch = jnp.where(jnp.any(has_ball), has_ball, last_touch)
        owner = jnp.where(jnp.any(has_ball), jnp.argmax(has_ball.reshape(-1)), LOOSE)
        owner = owner.astype(jnp.int32)
        hold = jnp.where((owner == state.owner) & (owner != LOOSE) & ~restarted,
                         state.hold + 1, 0).astype(jnp.int32)

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
            score=score, step=step, owner=owner, cooldown=cooldown.astype(jnp.int32), hold=hold,
            last_touch=last_touch, pass_from=pass_from, pass_origin=pass_origin,
            assist_from=assist_from, shot_on=shot_on)

        # --- rewards -----------------------------------------------------------------------
        def shaping(potential):
            """The change of a potential over this step; a goal ends the stretch of play it
            scores in, so the potential after it counts as 0 (the kickoff starts afresh)."""
            return jnp.where(scored, 0.0, potential(cfg, next_state)) - potential(cfg, state)

        goal_diff = goal[0].astype(jnp.float32) - goal[1].astype(jnp.float32)
        team_reward = cfg.goal_reward * jnp.stack([goal_diff, -goal_diff])
        if cfg.ball_progress_weight:
            team_reward = team_reward + cfg.ball_progress_weight * shaping(_progress_potential)
        credit = (cfg.credit_won_ball * won_ball + cfg.credit_pass * pass_completed
                  + cfg.credit_assist * assist + cfg.credit_goal * goal_scored)
        reward = team_reward[:, None] + cfg.credit_weight * credit.astype(jnp.float32)
        if cfg.ball_reach_weight:
            reward = reward + cfg.ball_reach_weight * shaping(_reach_potential)
        if cfg.support_weight:
            reward = reward + cfg.support_weight * shaping(_support_potential)
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
            "pass_length": pass_length.astype(jnp.float32),
            "interception": interception,
            "tackle": tackler,
            "won_ball": won_ball,
            "shot": shot,
            "shot_on_target": shot_on_target,
            "save": save,
            "goal_scored": goal_scored,
            "goal_carried": goal & owned,
            "assist": assist,
            "possession": owner_team(owner, T),
            "team_reward": team_reward.astype(jnp.float32),
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


def possession_team(state):
    """int32 []: the team in possession, 0 or 1: the owner's team, or while the ball is loose
    the team that touched it last (a pass or a shot in flight is still its team's); -1 when
    nobody has touched it since the last goal."""
    touched = jnp.any(state.last_touch, axis=1)  # [2]
    return jnp.where(jnp.any(touched), jnp.argmax(touched), -1).astype(jnp.int32)


def _progress_potential(config, state):
    """[2] each team's shaping potential: the ball's progress toward the opponent goal
    (x in the team frame, scaled to [-1, 1] on the pitch) while the team is in possession
    (`possession_team`), else 0."""
    progress = TEAM_SIGN * state.ball_pos[0] * (2.0 / config.field_length)
    return jnp.where(jnp.arange(2) == possession_team(state), progress, 0.0)


def _reach_potential(config, state):
    """[2, T] each player's own shaping potential, in pitch lengths: minus its distance to the
    ball while its team is not in possession (`possession_team`; 0 while it is), for a keeper
    (player 0 when T >= 2) minus its distance to where it guards its goal
    (`physics.keeper_guard`), whoever has the ball; 0 for players off the pitch."""
    team = possession_team(state)
    dist_ball = jnp.linalg.norm(state.player_pos - state.ball_pos, axis=-1)  # [2, T]
    dist_ball = jnp.where((jnp.arange(2) == team)[:, None], 0.0, dist_ball)
    own_goal = jnp.stack([-TEAM_SIGN * config.field_length / 2, jnp.zeros(2)], axis=-1)
    guard = physics.keeper_guard(config, own_goal, state.ball_pos)  # [2, 2]
    dist_guard = jnp.linalg.norm(state.player_pos - guard[:, None], axis=-1)  # [2, T]
    dist = jnp.where(physics.keepers(config), dist_guard, dist_ball)
    return jnp.where(state.active, -dist / config.field_length, 0.0)


# The support spot of a teammate of the ball's carrier (EnvConfig.support_weight): this many
# metres ahead of the ball (toward the opponent goal) and to the side of it the player is on.
SUPPORT_AHEAD = 3.5
SUPPORT_WIDE = 3.5


def _support_potential(config, state):
    """[2, T] each player's support potential, in pitch lengths: for an outfield player of the
    team in possession (`possession_team`), its last toucher (the carrier) excepted, minus
    its distance to its support spot (SUPPORT_AHEAD ahead of the ball, SUPPORT_WIDE to the
    player's side of it, kept 1 m inside the lines); 0 for everyone else."""
    team = possession_team(state)
    side = jnp.where(state.player_pos[..., 1] >= state.ball_pos[1], 1.0, -1.0)  # [2, T]
    ahead = TEAM_SIGN[:, None] * SUPPORT_AHEAD  # [2, 1], world x toward each team's target
    spot = jnp.stack([jnp.broadcast_to(state.ball_pos[0] + ahead, side.shape),
                      state.ball_pos[1] + side * SUPPORT_WIDE], axis=-1)  # [2, T, 2]
    bound = jnp.array([config.field_length / 2 - 1.0, config.field_width / 2 - 1.0])
    spot = jnp.clip(spot, -bound, bound)
    dist = jnp.linalg.norm(state.player_pos - spot, axis=-1)
    supporter = ((jnp.arange(2) == team)[:, None] & ~state.last_touch
                 & ~physics.keepers(config) & state.active)
    return jnp.where(supporter, -dist / config.field_length, 0.0)


# Completed passes are also counted by length: over each of these many metres.
PASS_LENGTHS = (5, 10, 15)


def team_event_counts(info: dict) -> dict:
    """Per-team int32 [2] counts of one step's events, from `step`'s info (the match
    statistics' building block): goals, shots, shots on target, saves (by the team's keeper),
    passes attempted and completed, completed passes over 5, 10 and 15 m, interceptions and
    tackles (the team won the ball), touches, steps in possession, goals right after a
    completed pass (assisted goals) and goals carried over the line at a player's feet."""
    per_team = lambda flags: jnp.sum(flags, axis=-1).astype(jnp.int32)  # noqa: E731
    counts = {
        "goals": info["goal"].astype(jnp.int32),
        "shots": per_team(info["shot"]),
        "shots_on_target": per_team(info["shot_on_target"]),
        "saves": per_team(info["save"]),
        "passes": per_team(info["pass"]),
        "passes_completed": per_team(info["pass_completed"]),
        **{f"passes_over_{m}m": per_team(info["pass_completed"] & (info["pass_length"] > m))
           for m in PASS_LENGTHS},
        "interceptions": per_team(info["interception"]),
        "tackles": per_team(info["tackle"]),
        "touches": per_team(info["touch"]),
        "possession_steps": (info["possession"] == jnp.arange(2)).astype(jnp.int32),
        "goals_after_pass": (jnp.any(info["assist"], axis=-1) & info["goal"]).astype(jnp.int32),
        "goals_carried": info["goal_carried"].astype(jnp.int32),
    }
    return counts
