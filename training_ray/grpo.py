"""GRPO for the sequential UI tool policy: the reward, group advantages and the clipped, KL-regularised loss.

Per state, G rollouts of the current policy; each rollout's reward is
``0.6·r_task + 0.3·sigmoid(Δconfidence/0.1) + 0.1·r_gate − λ·seconds`` (the seed's weights), its
advantage ``(r − mean_group)/(std_group + 1e-4)`` is shared by every step of the rollout, and the
policy maximises ``min(ρ·A, clip(ρ, 1−ε, 1+ε)·A) − β·KL`` per step (ρ = π/π_old from the log-probs
stored at sampling time, KL the k3 estimator against the frozen reference policy), averaged over a
rollout's steps, then over rollouts, for μ inner epochs. torch only (never in the agent).

An addition to the spec, off by default: ``entropy`` > 0 adds that weight times the policy's entropy
per step (same weights) to the objective, so a policy that found one safe action keeps trying the
others long enough for their group advantages to show (an action sampled rarely is never compared).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Sequence

import torch
from torch import nn

W_TASK, W_CONF, W_GATE = 0.6, 0.3, 0.1
GATE_ABOVE_THRESHOLD = -0.1  # a tool used while the confidence was already at/above the threshold
GATE_NO_GAIN = -0.05         # a tool that did not raise the confidence
ADV_EPS = 1e-4


@dataclass
class Rollout:
    """One episode: the states and actions of its steps, their log-probs at sampling time, its reward."""

    states: List[List[float]] = field(default_factory=list)
    actions: List[int] = field(default_factory=list)
    old_logp: List[float] = field(default_factory=list)
    reward: float = 0.0


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, x))))


def gate_penalty(tool_steps: Sequence[tuple], threshold: float) -> float:
    """r_gate over the tools of an episode: ``tool_steps`` = (confidence before, confidence after)."""
    r = 0.0
    for before, after in tool_steps:
        if before >= threshold:
            r += GATE_ABOVE_THRESHOLD
        if after <= before:
            r += GATE_NO_GAIN
    return r


def reward(success: bool, conf_before: float, conf_after: float, r_gate: float, seconds: float,
           lam: float) -> float:
    return (W_TASK * (1.0 if success else 0.0) + W_CONF * sigmoid((conf_after - conf_before) / 0.1)
            + W_GATE * r_gate - lam * seconds)


def group_advantages(rewards: Sequence[float]) -> torch.Tensor:
    r = torch.as_tensor(list(rewards), dtype=torch.float64)  # float64: a uniform group gives exactly 0
    return ((r - r.mean()) / (r.std(unbiased=False) + ADV_EPS)).float()


def build_policy(n_in: int, n_out: int, hidden: int = 32, seed: int = 0) -> nn.Module:
    """A small MLP over the step state giving action logits; the last layer starts near zero
    (a near-uniform first policy)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                        nn.Linear(hidden, n_out))
    with torch.no_grad():
        net[-1].weight.mul_(0.01)
        net[-1].bias.zero_()
    return net


def k3(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Unbiased, non-negative KL(π‖π_ref) estimate per sample: e^(ref−logp) − (ref−logp) − 1."""
    d = ref_logp - logp
    return torch.exp(d) - d - 1.0


def flatten(groups: Sequence[Sequence[Rollout]]):
    """(states, actions, old log-probs, per-step advantage, per-step weight) over every step of every
    rollout; a rollout's steps share its group advantage and weigh 1/steps (then 1/rollouts)."""
    states, actions, old, adv, weight = [], [], [], [], []
    rollouts = [r for g in groups for r in g if r.actions]
    for group in groups:
        a = group_advantages([r.reward for r in group])
        for r, ai in zip(group, a.tolist()):
            n = len(r.actions)
            for s, act, lp in zip(r.states, r.actions, r.old_logp):
                states.append(s)
                actions.append(act)
                old.append(lp)
                adv.append(ai)
                weight.append(1.0 / (n * max(1, len(rollouts))))
    return (torch.tensor(states, dtype=torch.float32), torch.tensor(actions, dtype=torch.long),
            torch.tensor(old, dtype=torch.float32), torch.tensor(adv, dtype=torch.float32),
            torch.tensor(weight, dtype=torch.float32))


def loss_terms(policy: nn.Module, ref: nn.Module, states, actions, old_logp, adv, weight,
               eps: float = 0.2, beta: float = 0.04, entropy: float = 0.0):
    """(loss, mean KL, share of steps whose ratio was clipped)."""
    all_logp = torch.log_softmax(policy(states), dim=-1)
    logp = all_logp.gather(1, actions[:, None])[:, 0]
    with torch.no_grad():
        ref_logp = torch.log_softmax(ref(states), dim=-1).gather(1, actions[:, None])[:, 0]
    ratio = torch.exp(logp - old_logp)
    surrogate = torch.minimum(ratio * adv, torch.clamp(ratio, 1 - eps, 1 + eps) * adv)
    kl = k3(logp, ref_logp)
    objective = surrogate - beta * kl
    if entropy:
        objective = objective - entropy * (all_logp.exp() * all_logp).sum(-1)
    loss = -(objective * weight).sum()
    clipped = ((ratio < 1 - eps) | (ratio > 1 + eps)).float().mean()
    return loss, float((kl.detach() * weight).sum() / weight.sum()), float(clipped)


def update(policy: nn.Module, ref: nn.Module, optimizer, groups: Sequence[Sequence[Rollout]],
           inner_epochs: int = 4, eps: float = 0.2, beta: float = 0.04, entropy: float = 0.0) -> dict:
    """μ = ``inner_epochs`` full-batch steps on the same rollouts (old log-probs fixed)."""
    states, actions, old, adv, weight = flatten(groups)
    if len(actions) == 0:
        return {"kl": 0.0, "clipped": 0.0, "steps": 0}
    kl = clipped = 0.0
    for _ in range(inner_epochs):
        loss, kl, clipped = loss_terms(policy, ref, states, actions, old, adv, weight, eps, beta, entropy)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"kl": kl, "clipped": clipped, "steps": int(len(actions))}


def logits_np(policy: nn.Module, states) -> object:
    with torch.no_grad():
        return policy(torch.as_tensor(states, dtype=torch.float32)).numpy()
