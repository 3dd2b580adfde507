"""OJRS learner parts: 2p-ER (eq. 31-32), the 2r-SAE loss (eq. 23), and a tiny seeded training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mec_marl
from baselines.large_scale.ojrs.learner import OjrsPolicy, build
from baselines.large_scale.ojrs.replay import PreservedPrioritizedReplay
from baselines.large_scale.ojrs.sae import StackedAutoencoder, related_term, sae_loss
from baselines.learners.common import torch_threads

TINY = {"steps": 120, "progress": False, "sae_warmup": 16, "t_sae": 10, "batch_size": 16, "buffer_size": 64,
        "train_interval": 5, "t_sa": 3, "code_size": 4, "sae_hidden": "8", "dnn_hidden": "16"}
ENV = {"scenario": "large_scale_table2", "n_ues": 5, "max_cycles": 40}


def test_preserve_strategy_keeps_reusable_transitions():
    replay = PreservedPrioritizedReplay(3, 2, 2, rho_max=1.2, tau=1.0, eps=1e-3, rng=np.random.default_rng(0))
    for norm in (1.0, 2.0, 2.1):  # collected at weight norms 1.0, 2.0, 2.1
        replay.add(np.full(2, norm), np.zeros(2, dtype=np.int64), norm)
    # ||theta||^2 = 2.05: rho = 2.05, 1.025, 0.976 -> only the first is outside (1/1.2, 1.2) and goes
    replay.add(np.full(2, 9.0), np.ones(2, dtype=np.int64), 2.05)
    assert sorted(replay.x[:, 0]) == [2.0, 2.1, 9.0]
    replay.add(np.full(2, 7.0), np.ones(2, dtype=np.int64), 2.05)  # all reusable now: the oldest (2.0) goes
    assert sorted(replay.x[:, 0]) == [2.1, 7.0, 9.0]
    replay.add(np.full(2, 5.0), np.ones(2, dtype=np.int64), 1.0)  # none reusable (rho ~0.48): the oldest, 2.1, goes
    assert sorted(replay.x[:, 0]) == [5.0, 7.0, 9.0]


def test_priority_sampling_follows_eq_32():
    replay = PreservedPrioritizedReplay(4, 1, 1, rho_max=1.2, tau=1.0, eps=1e-3, rng=np.random.default_rng(1))
    for i in range(4):
        replay.add(np.zeros(1), np.zeros(1, dtype=np.int64), 1.0)
    replay.update_priorities(np.array([0, 1, 2]), 0.0)  # p = eps
    replay.update_priorities(np.array([3]), 0.999)  # p = 1.0
    counts = np.bincount(replay.sample(20000), minlength=4) / 20000
    assert counts[3] == pytest.approx(1.0 / 1.003, abs=0.01)


def test_related_term_ignores_row_scale_and_loss_trains():
    x = torch.tensor([[1.0, 2.0, 0.5, 0.25]])
    assert float(related_term(x, 3.0 * x, 2, 2)) == pytest.approx(0.0, abs=1e-12)
    assert float(related_term(x, torch.tensor([[2.0, 1.0, 0.5, 0.25]]), 2, 2)) > 0
    torch.manual_seed(0)
    model = StackedAutoencoder(2, 2, (8,), 3)
    data = torch.rand(64, 4)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = float(sae_loss(model, data, 0.5, 0.08).detach())
    with torch_threads(1):
        for _ in range(100):
            loss = sae_loss(model, data, 0.5, 0.08)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    assert float(loss.detach()) < 0.5 * first


def test_ojrs_trains_reproducibly_and_round_trips(tmp_path):
    a = build("large_scale_v0", ENV, 3, TINY)
    b = build("large_scale_v0", ENV, 3, TINY)
    env = mec_marl.make("large_scale_v0", **ENV, **OjrsPolicy.env_options)
    obs, _ = env.reset(seed=11)
    action = a.act(obs, env)["scheduler"]
    assert action.shape == (5,) and action.dtype.kind == "i" and np.all((action >= 0) & (action <= 2))
    np.testing.assert_array_equal(action, b.act(obs, env)["scheduler"])
    assert a.log["objective"] == b.log["objective"] and len(a.log["objective"]) == 120 - 16
    assert len(a.log["loss"]) > 0 and min(a.log["t_sa"]) >= 1
    path = tmp_path / "ojrs.pt"
    a.save(path)
    loaded = OjrsPolicy.load(path, method="ojrs")
    np.testing.assert_array_equal(loaded.act(obs, env)["scheduler"], action)
    with pytest.raises(ValueError, match="unknown key"):
        build("large_scale_v0", ENV, 0, {"steps": 10, "no_such_key": 1})


def test_ppo_users_mode_trains_reproducibly_and_round_trips(tmp_path):
    from baselines.large_scale.ppo import PpoUsersPolicy, build as build_ppo

    budget = {"steps": 64, "n_envs": 2, "n_steps": 8, "batch_size": 16, "n_epochs": 1, "net_arch": "8"}
    a = build_ppo("large_scale_v0", ENV, 5, budget)
    b = build_ppo("large_scale_v0", ENV, 5, budget)
    env = mec_marl.make("large_scale_v0", **ENV, **PpoUsersPolicy.env_options)
    obs, _ = env.reset(seed=2)
    actions = a.act(obs, env)
    assert set(actions) == set(env.agents) and all(0 <= v <= 2 for v in actions.values())
    assert actions == b.act(obs, env)
    a.save(tmp_path / "ppo.pt")
    assert PpoUsersPolicy.load(tmp_path / "ppo.pt", method="ls_ppo_users").act(obs, env) == actions


def test_order_preserving_quantiser_flips_the_least_sure_ues_cumulatively():
    from baselines.large_scale.droo import order_preserving_candidates

    probs = np.array([[0.6, 0.3, 0.1], [0.1, 0.45, 0.45], [0.2, 0.1, 0.7], [0.05, 0.5, 0.45]])
    # argmax [0, 1, 2, 1]; gaps 0.3, 0.0, 0.5, 0.05 -> least sure UE 1 (second choice 2), then UE 3 (2), UE 0 (1)
    cands = order_preserving_candidates(probs, 4)
    np.testing.assert_array_equal(cands, [[0, 1, 2, 1], [0, 2, 2, 1], [0, 2, 2, 2], [1, 2, 2, 2]])


def test_droo_trains_reproducibly_and_round_trips(tmp_path):
    from baselines.large_scale.droo import DrooPolicy, build as build_droo

    budget = {"steps": 60, "progress": False, "batch_size": 8, "train_interval": 5, "hidden": "8"}
    a, b = (build_droo("large_scale_v0", ENV, 4, budget) for _ in range(2))
    assert a.history["objective"] == b.history["objective"] and len(a.history["objective"]) == 60
    env = mec_marl.make("large_scale_v0", **ENV, **DrooPolicy.env_options)
    obs, _ = env.reset(seed=1)
    action = a.act(obs, env)["scheduler"]
    np.testing.assert_array_equal(action, b.act(obs, env)["scheduler"])
    a.save(tmp_path / "droo.pt")
    loaded = DrooPolicy.load(tmp_path / "droo.pt", method="ls_droo")
    np.testing.assert_array_equal(loaded.act(obs, env)["scheduler"], action)
