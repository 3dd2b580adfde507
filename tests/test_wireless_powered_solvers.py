"""The (a, tau) critic and the quantisers against independent references and DROO's labels.

* fast critic vs the cvxpy conic program (mec_marl.solvers.reference) on random cases;
* the critic at DROO's labelled optimal decisions vs ``output_obj`` on the 50-frame
  fixtures in tests/data (and, ``slow``, on the full files when ../shared is present);
* exhaustive search never beats the labels beyond their precision;
* the order-preserving and kNN quantisers vs their definitions by brute force.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from mec_marl.physics.wireless_power import WptSystem, alternating_weights, weighted_sum_rate
from mec_marl.solvers import quantize
from mec_marl.solvers.reference import time_allocation_cvxpy
from mec_marl.solvers.time_allocation import all_decisions, best_decision, optimal_time_allocation

SYSTEM = WptSystem()
DATA = Path(__file__).resolve().parent / "data"
# The full DROO files (not in the repository); override with MEC_MARL_DROO_DATA.
FULL = Path(os.environ.get("MEC_MARL_DROO_DATA", Path(__file__).resolve().parents[2] / "shared" / "data" / "droo"))
# data_10.mat's labels carry up to 1.6e-6 relative error (the 2017 solver); data_5.mat is exact.
LABEL_TOL = {"data_10": 2e-6, "data_5": 1e-12}


def _random_case(rng, n):
    h = 10 ** rng.uniform(-8, -4.5, size=n)
    x = rng.random(n) < 0.5
    w = rng.choice([0.5, 1.0, 1.5, 3.0], size=n)
    return h, x, w


def test_critic_matches_cvxpy_on_random_cases():
    rng = np.random.default_rng(3)
    cases = [_random_case(rng, n) for n in (1, 2, 4, 6, 8)]
    h = np.full(5, 3e-6)
    cases += [(h, np.zeros(5, bool), np.ones(5)), (h, np.ones(5, bool), np.ones(5))]
    cases += [(np.array([2e-6, 0.0, 5e-6]), np.array([True, True, False]), np.ones(3))]  # a dead offloader
    for h, x, w in cases:
        fast = optimal_time_allocation(SYSTEM, h, x, w)
        ref_rate, ref_a, _ = time_allocation_cvxpy(SYSTEM, h, x, w)
        assert fast.rate == pytest.approx(ref_rate, rel=1e-6), (h, x, w)  # Clarabel: ~1e-7 at low SNR
        assert fast.rate >= ref_rate * (1 - 1e-12)  # the reference is feasible, so never better
        assert fast.a + fast.tau.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(fast.tau[~x] == 0) and np.all(fast.tau >= 0)
        assert fast.rate == pytest.approx(weighted_sum_rate(h, x, fast.a, fast.tau, w, SYSTEM), rel=1e-14)


def test_critic_beats_random_feasible_allocations():
    rng = np.random.default_rng(4)
    h, x, w = _random_case(rng, 6)
    x[:2] = True
    best = optimal_time_allocation(SYSTEM, h, x, w).rate
    split = rng.dirichlet(np.ones(x.sum() + 1), size=2000)
    tau = np.zeros((2000, 6))
    tau[:, x] = split[:, 1:]
    rates = weighted_sum_rate(h, x, split[:, 0], tau, w, SYSTEM)
    assert rates.max() <= best and rates.max() > 0.9 * best


def test_batched_candidates_equal_one_by_one():
    rng = np.random.default_rng(5)
    h = 10 ** rng.uniform(-7, -5, size=(3, 4))
    cand = rng.random((3, 6, 4)) < 0.5
    w = alternating_weights(4)
    batched = optimal_time_allocation(SYSTEM, h[:, None, :], cand, w)
    assert batched.rate.shape == (3, 6) and batched.tau.shape == (3, 6, 4)
    for i in range(3):
        for j in range(6):
            single = optimal_time_allocation(SYSTEM, h[i], cand[i, j], w)
            assert batched.rate[i, j] == pytest.approx(float(single.rate), rel=1e-13)
    decision, rate, index = best_decision(SYSTEM, h, cand, w)
    np.testing.assert_array_equal(rate, batched.rate.max(axis=-1))
    np.testing.assert_array_equal(decision, cand[np.arange(3), index])


def _labels(path):
    d = scipy.io.loadmat(path)
    return d["input_h"], d["output_mode"] > 0, d["output_obj"][:, 0]


def _gap_at_labels(path, name):
    h, mode, obj = _labels(path)
    rate = optimal_time_allocation(SYSTEM, h, mode, alternating_weights(h.shape[1])).rate
    gap = np.abs(rate / obj - 1)
    assert gap.max() <= LABEL_TOL[name], f"{name}: worst relative gap {gap.max():.3g} at sample {gap.argmax()}"
    return gap.max()


@pytest.mark.parametrize("name", ["data_10", "data_5"])
def test_critic_reproduces_droo_labels_on_fixture(name):
    _gap_at_labels(DATA / f"droo_{name}_first50.mat", name)


@pytest.mark.parametrize("name", ["data_10", "data_5"])
def test_exhaustive_search_never_beats_droo_labels_on_fixture(name):
    h, mode, obj = _labels(DATA / f"droo_{name}_first50.mat")
    n = h.shape[1]
    decision, rate, _ = best_decision(SYSTEM, h, all_decisions(n), alternating_weights(n))
    assert np.all(rate <= obj * (1 + LABEL_TOL[name])), (rate / obj).max()
    assert np.all(rate >= obj * (1 - LABEL_TOL[name]))
    np.testing.assert_array_equal(decision, mode)


def _full(name):
    path = FULL / f"{name}.mat"
    if not path.is_file():
        pytest.skip(f"{path} not present (the full DROO files live outside the repository)")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", ["data_10", "data_5"])
def test_critic_reproduces_droo_labels_full_file(name):
    worst = _gap_at_labels(_full(name), name)
    print(f"{name}: worst relative gap of the critic at output_mode vs output_obj: {worst:.3g}")


# Frames of data_10.mat (first occurrence; 13048-19942 repeat at +10000) whose labelled decision is
# not optimal: exhaustive search finds a decision up to 0.18 % better, and the cvxpy reference agrees.
SUBOPTIMAL_LABELS = {"data_10": [1300, 2012, 4831, 13048, 16076, 18700, 18792, 19649, 19942], "data_5": []}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["data_5", "data_10"])
def test_exhaustive_never_beats_droo_labels_full_file(name):
    h, mode, obj = _labels(_full(name))
    # data_10.mat repeats rows 10000-19999 as 20000-29999: each distinct channel row once.
    _, first = np.unique(h, axis=0, return_index=True)
    rows = np.sort(first)
    n = h.shape[1]
    decisions, w = all_decisions(n), alternating_weights(n)
    excess, better = np.empty(rows.size), np.empty((rows.size, n), bool)
    for start in range(0, rows.size, 500):
        part = rows[start : start + 500]
        better[start : start + 500], rate, _ = best_decision(SYSTEM, h[part], decisions, w)
        excess[start : start + 500] = rate / obj[part] - 1
    beaten = excess > LABEL_TOL[name]
    print(f"{name}: {rows.size} distinct frames; exhaustive beats the label on {beaten.sum()} "
          f"(worst {excess.max():.3g}); elsewhere the worst excess is {excess[~beaten].max():.3g}")
    assert rows[beaten].tolist() == SUBOPTIMAL_LABELS[name]
    for i in np.flatnonzero(beaten):  # the better decision is real: the independent reference confirms it
        ref_rate = time_allocation_cvxpy(SYSTEM, h[rows[i]], better[i], w)[0]
        assert ref_rate > obj[rows[i]] * (1 + LABEL_TOL[name])
        assert ref_rate == pytest.approx(obj[rows[i]] * (1 + excess[i]), rel=1e-7)


# ------------------------------------------------------------------ quantisers
def _op_by_definition(x, k):
    """DROO eq. (8)-(9) written out with Python loops."""
    out = [[int(v > 0.5) for v in x]]
    order = sorted(range(len(x)), key=lambda i: (abs(x[i] - 0.5), i))
    for j in order[: k - 1]:
        p = x[j]
        out.append([int(v > p) if p > 0.5 else int(v >= p) for v in x])
    return np.array(out, dtype=bool)


def test_order_preserving_quantiser_by_definition():
    rng = np.random.default_rng(6)
    x = rng.random((4, 7))
    got = quantize.order_preserving(x, 5)
    assert got.shape == (4, 5, 7)
    for i in range(4):
        np.testing.assert_array_equal(got[i], _op_by_definition(list(x[i]), 5))
        assert len({tuple(r) for r in got[i]}) == 5  # distinct candidates
    assert quantize.order_preserving(x, 100).shape == (4, 8, 7)  # at most N + 1
    example = quantize.order_preserving([0.2, 0.4, 0.7, 0.9], 3)
    np.testing.assert_array_equal(example, [[0, 0, 1, 1], [0, 1, 1, 1], [0, 0, 0, 1]])


def test_knn_quantiser_by_brute_force():
    rng = np.random.default_rng(7)
    x = rng.random((3, 5))
    got = quantize.knn(x, 4)
    every = all_decisions(5)
    for i in range(3):
        dist = ((every - x[i]) ** 2).sum(axis=1)
        expected = every[np.argsort(dist, kind="stable")[:4]]
        np.testing.assert_array_equal(got[i], expected)
    np.testing.assert_array_equal(got[:, 0], x > 0.5)  # the nearest is the threshold decision
