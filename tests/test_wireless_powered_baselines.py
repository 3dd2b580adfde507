"""wireless_powered_v0 baselines: heuristics, exhaustive, coordinate descent and DROO (short budgets)."""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from baselines.wireless_powered.droo import Droo, DrooHyper, train
from baselines.wireless_powered.heuristics import (
    CoordinateDescent,
    Exhaustive,
    FixedDecision,
    RandomDecision,
    coordinate_descent,
)
from conftest import DATA_DIR
from mec_marl.solvers.time_allocation import optimal_time_allocation

FILE10 = str(DATA_DIR / "droo_data_10_first50.mat")


def _run(policy, seed=0, **config):
    env = mec_marl.make("wireless_powered_v0", **config)
    obs, _ = env.reset(seed=seed)
    policy.reset(env, seed=seed)
    ratios, decisions = [], []
    while env.agents:
        obs, _, _, _, infos = env.step(policy.act(obs, env))
        info = infos[env.possible_agents[0]]
        ratios.append(info["normalized_rate"])
        decisions.append(info["offload"])
    return np.array(ratios), np.array(decisions)


def test_exhaustive_reaches_the_labels_and_heuristics_stay_below():
    exhaustive, decisions = _run(Exhaustive(), channel_file=FILE10, max_cycles=20)
    np.testing.assert_allclose(exhaustive, 1.0, atol=2e-6)
    local, d_local = _run(FixedDecision(False, "all_local"), channel_file=FILE10, max_cycles=20)
    offload, d_off = _run(FixedDecision(True, "all_offload"), channel_file=FILE10, max_cycles=20)
    assert not d_local.any() and d_off.all()
    assert local.mean() < offload.mean() < exhaustive.mean()


def test_policies_act_in_users_mode():
    ratios, decisions = _run(Exhaustive(), channel_file=FILE10, agent_mode="users", max_cycles=5)
    np.testing.assert_allclose(ratios, 1.0, atol=2e-6)
    r1, d1 = _run(RandomDecision(), seed=3, agent_mode="users", n_devices=4, max_cycles=10)
    r2, d2 = _run(RandomDecision(), seed=3, agent_mode="users", n_devices=4, max_cycles=10)
    np.testing.assert_array_equal(d1, d2)  # seeded through reset
    assert 0 < d1.mean() < 1


def test_coordinate_descent_is_a_local_optimum_near_the_optimum():
    ratios, _ = _run(CoordinateDescent(), channel_file=FILE10, max_cycles=20)
    assert ratios.min() > 0.97 and ratios.mean() > 0.995
    env = mec_marl.make("wireless_powered_v0", channel_file=FILE10, max_cycles=1)
    env.reset()
    cfg = env.unwrapped.config
    gain = env.unwrapped.instance.gain[0]
    def evaluate(cand):
        return optimal_time_allocation(cfg.system, gain[None], cand, cfg.device_weights).rate

    x, q, rounds = coordinate_descent(evaluate, np.zeros(10, bool))
    for j in range(10):  # no single flip improves
        y = x.copy()
        y[j] = ~y[j]
        assert optimal_time_allocation(cfg.system, gain, y, cfg.device_weights).rate <= q
    assert rounds >= 1


def _droo(seed, **hyper):
    env = mec_marl.make("wireless_powered_v0", n_devices=5, max_cycles=100)
    cfg = env.unwrapped.config
    agent = Droo(5, cfg.system, cfg.device_weights, DrooHyper(batch_size=32, memory_size=128, **hyper), seed=seed)
    return train(env, 40, agent, seed=seed)


def test_droo_is_seeded_and_learns_the_memory():
    a, b = _droo(seed=1), _droo(seed=1)
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert p.detach().equal(q.detach())
    assert a.K == b.K and a.losses == b.losses and len(a.losses) == 4
    assert a.losses[-1] < a.losses[0]  # BCE on the stored best decisions falls
    c = _droo(seed=2)
    assert not all(p.detach().equal(q.detach()) for p, q in zip(a.model.parameters(), c.model.parameters()))


def test_droo_knn_and_fixed_k():
    agent = _droo(seed=0, quantizer="knn", k=3, adaptive_k=False)
    assert agent.K == 3
    with pytest.raises(ValueError, match="quantizer"):
        DrooHyper(quantizer="top")


def test_droo_save_load_round_trip(tmp_path):
    agent = _droo(seed=4)
    path = str(tmp_path / "droo.pt")
    agent.save(path)
    clone = Droo.load(path)
    gain = np.array([2e-6, 5e-6, 1e-6, 3e-6, 8e-6])
    np.testing.assert_array_equal(agent.relaxed(gain), clone.relaxed(gain))
    assert clone.K == agent.K and clone.stored == agent.stored
    agent.learning = clone.learning = False
    assert np.array_equal(agent.decide(gain)[0], clone.decide(gain)[0])


def test_droo_builder_trains_on_the_file_then_acts(tmp_path):
    from baselines.wireless_powered import droo

    env_kwargs = {"channel_file": FILE10, "first_frame": 30, "max_cycles": 10}
    agent = droo.build("wireless_powered_v0", env_kwargs, seed=0, budget={"steps": 30, "batch_size": 16})
    assert agent.frames == 30 and agent.learning and len(agent.history["normalized_rate"]) == 1
    ratios, _ = _run(agent, **env_kwargs)
    assert len(ratios) == 10 and ratios.min() > 0.5
    with pytest.raises(ValueError, match="unknown budget key"):
        droo.build("wireless_powered_v0", env_kwargs, seed=0, budget={"steps": 1, "lr_typo": 0.1})


def test_registered_methods_build_and_run():
    from baselines import registry

    names = {"droo", "droo_knn", "exhaustive", "coordinate_descent", "all_local", "all_offload", "random_offload"}
    assert names <= set(registry.list_methods("wireless_powered_v0"))
    env_kwargs = {"channel_file": FILE10, "first_frame": 40, "max_cycles": 5}
    for name in sorted(names - {"droo", "droo_knn"}):
        policy = registry.get(name, "wireless_powered_v0").build("wireless_powered_v0", env_kwargs, seed=0)
        assert policy.name == name
        ratios, _ = _run(policy, **env_kwargs)
        assert len(ratios) == 5 and np.all(ratios <= 1 + 2e-6)
    knn = registry.get("droo_knn").build("wireless_powered_v0", env_kwargs, seed=0, budget={"steps": 20})
    assert knn.name == "droo_knn" and knn.hyper.quantizer == "knn"


def test_experiment_file_plans_its_quick_budget():
    from baselines.experiment.plan import plan
    from baselines.experiment.schema import load_experiment

    exp = load_experiment("droo")
    cells = plan(exp, "quick")  # builds the variant's env and resolves every method
    assert {c.method for c in cells} == {
        "droo", "droo_knn", "coordinate_descent", "exhaustive", "all_offload", "random_offload", "all_local"
    }
    assert all(c.env_kwargs["exhaustive_labels"] for c in cells)  # self-contained: no data files
    assert {c.train.get("steps") for c in cells if c.method.startswith("droo")} == {2000}
