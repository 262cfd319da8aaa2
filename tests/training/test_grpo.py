"""GRPO math on a toy problem with a known optimum: advantages, clipping and the k3 KL behave as specified."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from training_ray import grpo  # noqa: E402

OPTIMAL = [2, 0, 3]  # context -> the one rewarded action (a contextual bandit with a known optimum)


def _one_hot(i: int, n: int = 3) -> list:
    return [1.0 if j == i else 0.0 for j in range(n)]


def test_advantages_are_group_normalised():
    adv = grpo.group_advantages([1.0, 0.0, 0.0, 1.0])
    assert torch.allclose(adv, torch.tensor([1.0, -1.0, -1.0, 1.0]), atol=1e-3)
    assert torch.allclose(grpo.group_advantages([0.3] * 8), torch.zeros(8), atol=1e-4)  # uniform group: no signal


def test_reward_uses_the_seed_weights():
    assert grpo.reward(True, 0.5, 0.5, 0.0, 0.0, 0.1) == pytest.approx(0.6 + 0.15)
    assert grpo.reward(False, 0.2, 0.9, 0.0, 2.0, 0.1) == pytest.approx(0.3 * grpo.sigmoid(7.0) - 0.2)
    assert grpo.gate_penalty([(0.8, 0.9)], 0.7) == pytest.approx(-0.1)      # tool above the threshold
    assert grpo.gate_penalty([(0.3, 0.3), (0.3, 0.5)], 0.7) == pytest.approx(-0.05)  # one tool gained nothing


def test_clipping_stops_the_gradient_outside_the_band_only_in_the_favourable_direction():
    policy = grpo.build_policy(3, 4, seed=1)
    ref = grpo.build_policy(3, 4, seed=1)
    states = torch.tensor([_one_hot(0)])
    actions = torch.tensor([1])
    logp = torch.log_softmax(policy(states), -1)[0, 1].detach()
    old = logp - np.log(2.0)  # ratio = 2 > 1 + eps
    for adv, expect_grad in ((1.0, False), (-1.0, True)):
        policy.zero_grad()
        loss, _, clipped = grpo.loss_terms(policy, ref, states, actions, old.reshape(1), torch.tensor([adv]),
                                           torch.tensor([1.0]), eps=0.2, beta=0.0)
        loss.backward()
        norm = sum(float(p.grad.abs().sum()) for p in policy.parameters())
        assert clipped == 1.0 and (norm > 0) == expect_grad


def test_k3_is_zero_at_the_reference_and_pulls_back_towards_it():
    assert float(grpo.k3(torch.tensor([-1.2]), torch.tensor([-1.2]))) == 0.0
    assert float(grpo.k3(torch.tensor([-0.2]), torch.tensor([-1.2]))) > 0.0
    ref = grpo.build_policy(3, 4, seed=3)
    policy = grpo.build_policy(3, 4, seed=3)
    with torch.no_grad():
        policy[-1].bias.copy_(torch.tensor([2.0, -1.0, 0.5, 0.0]))
    opt = torch.optim.Adam(policy.parameters(), lr=0.05)
    states = [[_one_hot(i % 3)] for i in range(12)]
    groups = [[grpo.Rollout(states=s, actions=[i % 4], old_logp=[float(torch.log_softmax(policy(
        torch.tensor(s)), -1)[0, i % 4])], reward=0.5) for i, s in enumerate(states)]]
    first = grpo.update(policy, ref, opt, groups, inner_epochs=1, beta=1.0)["kl"]
    for _ in range(30):
        last = grpo.update(policy, ref, opt, groups, inner_epochs=4, beta=1.0)["kl"]
    assert last < first / 4  # zero advantages: only the KL term moves the policy, back to the reference


def test_grpo_finds_the_known_optimum_of_a_bandit():
    rng = np.random.default_rng(0)
    policy = grpo.build_policy(3, 4, seed=0)
    ref = grpo.build_policy(3, 4, seed=0)
    opt = torch.optim.Adam(policy.parameters(), lr=0.03)
    for _ in range(40):
        groups = []
        for ctx in range(3):
            state = _one_hot(ctx)
            logits = grpo.logits_np(policy, [state])[0]
            p = np.exp(logits - logits.max())
            p /= p.sum()
            group = []
            for _ in range(8):
                a = int(rng.choice(4, p=p))
                group.append(grpo.Rollout([state], [a], [float(np.log(p[a]))], float(a == OPTIMAL[ctx])))
            groups.append(group)
        stats = grpo.update(policy, ref, opt, groups, inner_epochs=4, eps=0.2, beta=0.04)
        assert stats["kl"] >= 0.0
    greedy = grpo.logits_np(policy, [_one_hot(c) for c in range(3)]).argmax(axis=1).tolist()
    assert greedy == OPTIMAL


def test_entropy_bonus_is_off_by_default_and_spreads_the_policy_when_on():
    states = torch.tensor([_one_hot(0), _one_hot(1)])
    actions = torch.tensor([0, 1])
    adv, weight = torch.zeros(2), torch.full((2,), 0.5)
    policy = grpo.build_policy(3, 4, seed=5)
    with torch.no_grad():
        policy[-1].bias.copy_(torch.tensor([3.0, 0.0, -1.0, 0.0]))
    old = torch.log_softmax(policy(states), -1).gather(1, actions[:, None])[:, 0].detach()
    plain, _, _ = grpo.loss_terms(policy, policy, states, actions, old, adv, weight, beta=0.0)
    off, _, _ = grpo.loss_terms(policy, policy, states, actions, old, adv, weight, beta=0.0, entropy=0.0)
    assert float(plain) == float(off) == 0.0  # zero advantages, no KL: the spec's loss is exactly 0

    def entropy() -> float:
        p = torch.softmax(policy(states), -1)
        return float(-(p * p.log()).sum(-1).mean())

    start = entropy()
    opt = torch.optim.Adam(policy.parameters(), lr=0.05)
    for _ in range(20):
        loss, _, _ = grpo.loss_terms(policy, policy, states, actions, old, adv, weight, beta=0.0, entropy=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert entropy() > start + 0.1
