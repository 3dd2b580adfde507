"""Heuristics and TEM on cpdrl_v0, against independent references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

import mec_marl
from baselines import registry
from baselines.experiment import evaluate
from baselines.search import cpdrl_exhaustive, offloading_vectors
from mec_marl.envs import cpdrl


def _instance(n, seed, **cfg):
    env = mec_marl.make("cpdrl_v0", n_devices=n, **cfg)
    env.reset(seed=seed)
    return env, env.unwrapped.instance, env.unwrapped.config


def _reference_cost(inst, cfg, vector):
    """Penalised cost of one offloading vector, minimised by scipy over all continuous resources."""
    n = inst.n
    off = np.asarray(vector, dtype=bool)
    k = int(off.sum())

    def cost(x):
        f = np.where(off, 0.0, x[:n] * inst.f_max)
        p = np.where(off, x[n : 2 * n] * cfg.p_max, 0.0)
        w = np.where(off, x[2 * n :], 0.0)
        b = w / max(w.sum(), 1e-12) * cfg.bandwidth
        out = cpdrl.decision_outcome(inst, cfg, off, np.where(off, b, 1.0), f, np.where(off, p, 1.0))
        obj, tard = cpdrl.penalised_cost(out["latency"], out["energy"], cfg)
        return float(obj + cfg.tardiness_weight * tard)

    best = np.inf
    rng = np.random.default_rng(0)
    for _ in range(6):
        x0 = np.concatenate([rng.uniform(0.3, 1, n), rng.uniform(0.01, 0.5, n), rng.uniform(0.2, 1, n)])
        bounds = [(1e-3, 1.0)] * n + [(1e-4, 1.0)] * n + [(1e-3, 1.0)] * n
        res = minimize(cost, x0, method="Powell", bounds=bounds, options={"xtol": 1e-9, "ftol": 1e-12, "maxfev": 40000})
        best = min(best, res.fun)
    return best, k


@pytest.mark.parametrize("scenario", ["cpdrl", "cpdrl_kilobit"])
def test_tem_matches_enumeration_with_numerical_resources(scenario):
    env, inst, cfg = _instance(2, seed=3, scenario=scenario)
    tem = cpdrl_exhaustive(inst, cfg)
    refs = [_reference_cost(inst, cfg, v)[0] for v in itertools.product((0, 1), repeat=2)]
    assert tem["penalised_cost"] <= min(refs) * (1 + 1e-6)
    assert tem["penalised_cost"] >= min(refs) * (1 - 1e-3)


def test_tem_decision_replays_in_env_with_its_cost():
    env, inst, cfg = _instance(5, seed=7)
    policy = registry.get("tem").build("cpdrl_v0", {"n_devices": 5})
    policy.reset(env)
    obs, rew, term, trunc, infos = env.step(policy.act({}, env))
    info = infos["scheduler"]
    assert info["penalised_cost"] == pytest.approx(policy.solution["penalised_cost"], rel=1e-9)
    assert info["bandwidth_overuse"] < 1e-12
    assert info["consistency_rate"] == 1.0
    np.testing.assert_array_equal(info["offload"], policy.solution["offload"].astype(int))


def test_offloading_vectors_enumerates_all_and_refuses_huge_n():
    v = offloading_vectors(3)
    assert v.shape == (8, 3) and len({tuple(r) for r in v}) == 8
    with pytest.raises(ValueError, match="refused"):
        offloading_vectors(30)


@pytest.mark.parametrize("method", ["rom", "fom", "lem"])
def test_heuristics_are_feasible_and_beaten_by_tem(method):
    kwargs = {"n_devices": 4, "max_cycles": 3}
    rows = evaluate("cpdrl_v0", registry.get(method).build("cpdrl_v0", kwargs), 6, 0, kwargs)
    tem_rows = evaluate("cpdrl_v0", registry.get("tem").build("cpdrl_v0", kwargs), 6, 0, kwargs)
    for row, tem_row in zip(rows, tem_rows):
        assert row["bandwidth_overuse"] < 1e-9
        assert row["consistency_rate"] == 1.0
        assert tem_row["penalised_cost"] <= row["penalised_cost"] + 1e-9


def test_heuristic_offloading_rules():
    env, inst, cfg = _instance(6, seed=1)
    for method, expected in (("fom", 1), ("lem", 0)):
        policy = registry.get(method).build("cpdrl_v0", {})
        policy.reset(env, seed=0)
        _, _, _, _, infos = env.step(policy.act({}, env))
        assert np.all(infos["scheduler"]["offload"] == expected)


def test_random_heuristic_is_seeded():
    env, inst, cfg = _instance(6, seed=1)
    a, b = (registry.get("rom").build("cpdrl_v0", {}) for _ in range(2))
    a.reset(env, seed=5)
    b.reset(env, seed=5)
    np.testing.assert_array_equal(a.act({}, env)["scheduler"], b.act({}, env)["scheduler"])


def test_registry_errors_name_the_problem():
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        registry.get("nope")
    with pytest.raises(ValueError, match="does not support env"):
        registry.get("tem").build("other_v0", {})
