"""The DJTCRA learners: the toolkit pieces by hand, and tiny training runs (seeding, save/load)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mec_marl
from baselines.djtcra import learners
from baselines.learners.maddpg import joint, one_hot_rows, row_entropy, straight_through
from baselines.learners.value_decomposition import SharedAgentQ, td_loss
from baselines.policy import read_checkpoint  # noqa: F401  (the checkpoint format the policies use)

ENV = {"num_users": 12, "max_cycles": 3}
TINY = {"steps": 48, "warmup": 8, "batch_size": 8, "hidden": (16, 16), "num_envs": 4}


def test_joint_action_takes_each_row_from_its_owner():
    a0, a1 = torch.zeros(1, 3, 2), torch.ones(1, 3, 2)
    out = joint([a0, a1], torch.tensor([[1, 0, 1]]))
    assert out.tolist() == [[[1, 1], [0, 0], [1, 1]]]


def test_row_entropy_is_eq_32_over_the_agents_users():
    p = torch.tensor([[[0.5, 0.5], [1.0, 0.0], [0.25, 0.75]]])
    rows = torch.tensor([[1.0, 1.0, 0.0]])
    assert float(row_entropy(p, rows)) == pytest.approx(np.log(2), rel=1e-6)


def test_executed_action_is_the_rows_argmax_with_the_probabilities_gradient():
    p = torch.tensor([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]], requires_grad=True)
    assert one_hot_rows(p).tolist() == [[0, 1, 0], [1, 0, 0]]  # a tie goes to the lowest index, as in the env
    out = straight_through(p)
    assert out.tolist() == [[0, 1, 0], [1, 0, 0]]
    (out * torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert p.grad.tolist() == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize("mixing", ["sum", "none"])
def test_td_loss_by_hand(mixing):
    torch.manual_seed(0)
    q, target = SharedAgentQ(2, 2, 3, (4,)), SharedAgentQ(2, 2, 3, (4,))
    batch = {"obs": torch.randn(1, 2, 2), "next_obs": torch.randn(1, 2, 2), "actions": torch.tensor([[2, 0]]),
             "rewards": torch.tensor([1.5]), "terminated": torch.tensor([0.0])}
    qa = q(batch["obs"])[0]
    nxt = target(batch["next_obs"])[0].max(dim=-1).values
    taken = torch.stack([qa[0, 2], qa[1, 0]])
    if mixing == "sum":
        expected = (taken.sum() - (1.5 + 0.1 * nxt.sum())) ** 2
    else:
        expected = ((taken - (1.5 + 0.1 * nxt)) ** 2).mean()
    assert td_loss(q, target, batch, 0.1, mixing).item() == pytest.approx(float(expected), rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_users_start_with_their_own_greedy_actions(seed):
    """Like N separate networks, a fresh SharedAgentQ gives agents with the same observation
    different greedy actions: with one shared output layer all 100 users of djtcra_v0 picked
    one ES (the layer's per-action biases outweighed the user id), VDN-L and IDQN never left
    it and scored the same (18.9, every user on ES 0)."""
    torch.manual_seed(seed)
    q = SharedAgentQ(9, 100, 7, (64, 64))
    greedy = q(torch.full((1, 100, 9), 0.5)).argmax(-1)[0].numpy()
    counts = np.bincount(greedy, minlength=7)
    assert (counts > 0).sum() >= 5 and counts.max() <= 40  # uniform: ~14 each


@pytest.mark.parametrize("name", ["mamaxent", "maddpg", "vdn_l", "vdn_g", "idqn"])
def test_tiny_training_is_seeded_and_round_trips(name, tmp_path):
    server = {"actor_delay": 2, "entropy_delay": 1, "critic_action": "executed" if name == "maddpg" else "probs"}
    budget = dict(TINY, **(server if name in ("mamaxent", "maddpg") else {}))
    build = getattr(learners, f"build_{name}")
    a, b = build(env_kwargs=ENV, seed=3, budget=budget), build(env_kwargs=ENV, seed=3, budget=budget)
    env = mec_marl.make("djtcra_v0", **a.env_kwargs)
    obs, _ = env.reset(seed=5)
    acts_a, acts_b = a.act(obs, env), b.act(obs, env)
    for agent in env.agents:
        np.testing.assert_array_equal(acts_a[agent], acts_b[agent])
    assert a.history["system_reward"] == b.history["system_reward"]
    path = tmp_path / f"{name}.pt"
    a.save(path)
    loaded = type(a).load(path, method=name)
    for agent, act in loaded.act(obs, env).items():
        np.testing.assert_array_equal(act, acts_a[agent])
    env.step(acts_a)  # valid actions for the env


def test_mamaxent_learns_its_entropy_coefficient_and_maddpg_has_none():
    budget = dict(TINY, actor_delay=2, entropy_delay=1)
    ent = learners.build_mamaxent(env_kwargs=ENV, seed=0, budget=budget)
    plain = learners.build_maddpg(env_kwargs=ENV, seed=0, budget=budget)
    assert all(0 < w < 1.0 for w in ent.history["omega"])  # eq. 34 pulls omega down from 1
    assert plain.history["omega"] == [0.0] * 7
