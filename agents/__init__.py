"""agents: one flax policy shared by every teammate and the team-relative GRPO update.

    network = agents.make_policy(env.num_actions)
    adv = agents.group_advantages(returns)          # returns [..., G, T]
    loss, diag = agents.grpo_loss(logits, actions, adv, old_log_probs, ref_log_probs, ...)
    trainer = agents.make_trainer(agents.TrainConfig(scenario="3v3"))
    player = agents.load_policy("runs/a")           # a trained run as a soccer_env Player
"""

from agents.advantages import (ADVANTAGES, alive_mask, discounted_returns, gae, group_advantages,
                               rewards_to_go)
from agents.losses import grpo_loss, value_loss
from agents.networks import (MASKED_LOGIT, PolicyNetwork, log_probs_and_entropy, make_policy,
                             mask_logits, policy_act, sample_actions)
from agents.rollout import Rollout, Transition, make_branch_rollout
from agents.trainer import (Advantages, TrainConfig, Trainer, TrainState, compute_advantages,
                            make_trainer)
from agents.policy import SavedRun, load_policy, load_policy_params, read_run
from agents.players import policy_player, resolve

__all__ = [
    "ADVANTAGES", "Advantages", "MASKED_LOGIT", "PolicyNetwork", "Rollout", "SavedRun",
    "TrainConfig", "TrainState", "Trainer", "Transition", "alive_mask", "compute_advantages",
    "discounted_returns", "gae", "grpo_loss", "group_advantages", "load_policy",
    "load_policy_params", "log_probs_and_entropy", "make_branch_rollout", "make_policy",
    "make_trainer", "mask_logits", "policy_act", "policy_player", "read_run", "resolve",
    "rewards_to_go", "sample_actions", "value_loss",
]
