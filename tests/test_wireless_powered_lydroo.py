"""LyDROO and the searches / heuristics on wireless_powered_v0 with queues=True (short budgets)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mec_marl
from baselines import registry
from baselines.wireless_powered.droo import Droo, DrooHyper, train
from baselines.wireless_powered.heuristics import CoordinateDescent, Exhaustive, slot_values
from baselines.wireless_powered.lydroo import LyDroo, LyDrooHyper, queued_state
from mec_marl.solvers.lyapunov_allocation import allocate

SMALL = {"queues": True, "n_devices": 5, "weights": [1.5, 1, 1.5, 1, 1.5], "max_cycles": 30}


def _advance(env, slots=4):
    """A few all-local slots so that the queues are not empty."""
    env.reset(seed=3)
    for _ in range(slots):
        env.step({"scheduler": np.zeros(env.unwrapped.config.n_devices, np.float32)})


def test_exhaustive_and_cd_optimise_the_slot_objective():
    env = mec_marl.make("wireless_powered_v0", **SMALL)
    _advance(env)
    cfg, state = env.unwrapped.config, env.unwrapped.model_state
    gain = queued_state(env)[0]
    best = max(  # one allocation per decision, no batching
        float(allocate(cfg.lyapunov_system, gain, np.array(x, bool), state.data_queue, state.energy_queue,
                       cfg.device_weights).objective)
        for x in itertools.product((0, 1), repeat=5)
    )
    ex = Exhaustive()
    ex.reset(env)
    chosen = ex.act(None, env)["scheduler"] > 0.5
    assert slot_values(env, chosen[None])[0] == pytest.approx(best, rel=1e-12)
    cd = CoordinateDescent()
    cd.reset(env, seed=0)
    x = cd.act(None, env)["scheduler"] > 0.5
    flips = x[None] ^ np.eye(5, dtype=bool)
    assert slot_values(env, flips).max() <= slot_values(env, x[None])[0]  # a local optimum
    _, _, _, _, info = env.step({"scheduler": chosen.astype(np.float32)})
    assert info["scheduler"]["drift_plus_penalty"] == pytest.approx(best, rel=1e-12)


def test_lydroo_is_seeded_learns_and_round_trips(tmp_path):
    def run(seed):
        env = mec_marl.make("wireless_powered_v0", **SMALL)
        agent = LyDroo.for_config(env.unwrapped.config, LyDrooHyper(hidden=(32, 16), batch_size=16, memory_size=64, delta=8), seed)
        return train(env, 45, agent, seed=seed)

    a, b = run(1), run(1)
    assert a.losses == b.losses and len(a.losses) == 2 and a.K == b.K
    assert a.model[0].in_features == 15  # [h, Q, Y] of 5 devices
    assert all(st["step"] == 2 for st in a.optimizer.state_dict()["state"].values())  # one Adam for the run
    small = LyDrooHyper(hidden=(8,), batch_size=4, memory_size=16, training_interval=5, fresh_optimizer=True)
    fresh = LyDroo.for_config(mec_marl.make("wireless_powered_v0", **SMALL).unwrapped.config, small, 0)
    train(mec_marl.make("wireless_powered_v0", **SMALL), 10, fresh, seed=0)
    assert all(st["step"] == 1 for st in fresh.optimizer.state_dict()["state"].values())  # memory.py: reset
    env = mec_marl.make("wireless_powered_v0", **SMALL)
    _advance(env)
    state = queued_state(env)
    a.learning = False
    cand = a.candidates(a.relaxed(state))
    assert cand.shape == (2 * min(a.K, 6), 5)  # "OPN": K of x and K of x + noise
    decision, value = a.decide(state)
    assert value == pytest.approx(slot_values(env, decision[None])[0], rel=1e-12)
    path = str(tmp_path / "lydroo.pt")
    a.save(path)
    clone = LyDroo.load(path)
    np.testing.assert_array_equal(a.relaxed(state), clone.relaxed(state))
    assert clone.name == "lydroo" and clone.K == a.K
    with pytest.raises(ValueError, match="not a droo checkpoint"):
        Droo.load(path)


def test_methods_refuse_the_other_system():
    queued = mec_marl.make("wireless_powered_v0", **SMALL)
    queued.reset(seed=0)
    droo = Droo(5, queued.unwrapped.config.system, np.ones(5), DrooHyper())
    with pytest.raises(ValueError, match="queues=False"):
        droo.reset(queued)
    plain = mec_marl.make("wireless_powered_v0", n_devices=5, max_cycles=3)
    with pytest.raises(ValueError, match="queues=True"):
        LyDroo.for_config(plain.unwrapped.config, LyDrooHyper(), 0)


def test_registered_lydroo_builds_with_queues_and_acts():
    method = registry.get("lydroo", "wireless_powered_v0")
    agent = method.build("wireless_powered_v0", {"n_devices": 4, "weights": [1.5, 1, 1.5, 1], "max_cycles": 10},
                         seed=0, budget={"steps": 25, "batch_size": 8})
    assert agent.frames == 25 and agent.name == "lydroo"
    env = mec_marl.make("wireless_powered_v0", queues=True, n_devices=4, weights=[1.5, 1, 1.5, 1], max_cycles=10)
    obs, _ = env.reset(seed=5)
    agent.reset(env)
    while env.agents:
        obs, _, _, _, infos = env.step(agent.act(obs, env))
    assert infos["scheduler"]["episode"]["length"] == 10
