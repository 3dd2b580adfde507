"""LyDROO's per-slot allocation (P4) against independent references and hand formulas.

* the batched solver vs the exp-cone / Brent reference (mec_marl.solvers.reference) on random states;
* the real Lambert W vs scipy's; the greedy LP vs scipy's linprog;
* a local device's closed form and an offloading device's capped rate written out by hand;
* candidate batches give what one call per candidate gives.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.special import lambertw

from mec_marl.physics.wireless_power import path_gain
from mec_marl.solvers import lyapunov_allocation as la
from mec_marl.solvers.reference import lyapunov_allocation_reference
from mec_marl.solvers.time_allocation import all_decisions

SYSTEM = la.LyapunovSystem()
N0 = 2e6 * 10 ** (-17.4) * 1e-3


def _state(rng, n):
    hbar = path_gain(np.linspace(120, 255, n), 3.0, 915e6, 3.0)
    gain = hbar * rng.exponential(1.0, n)
    queue = rng.uniform(0, 3e7, n) * (rng.random(n) < 0.9)  # some empty queues
    energy_queue = rng.uniform(0, 300, n) * (rng.random(n) < 0.7)  # some Y = 0 (free energy)
    weights = np.where(np.arange(n) % 2 == 0, 1.5, 1.0)
    return gain, queue, energy_queue, weights


def test_allocation_matches_the_conic_reference_on_random_states():
    rng = np.random.default_rng(7)
    gaps = []
    for _ in range(25):
        gain, queue, energy_queue, weights = _state(rng, 6)
        x = rng.random(6) < 0.6
        fast = la.allocate(SYSTEM, gain, x, queue, energy_queue, weights)
        ref = lyapunov_allocation_reference(SYSTEM, gain, x, queue, energy_queue, weights)
        gaps.append(abs(float(fast.objective) - ref["objective"]) / max(abs(ref["objective"]), 1e-9))
        # The fast point is feasible: bits within the queue, slot time, power cap.
        assert np.all(fast.bits <= queue * (1 + 1e-12) + 1e-9)
        assert fast.time.sum() <= SYSTEM.slot * (1 + 1e-12)
        assert np.all(fast.power <= SYSTEM.max_power * (1 + 1e-9))
        assert np.all(fast.cpu_freq <= SYSTEM.max_cpu_freq * (1 + 1e-12))
    print(f"worst relative gap vs reference: {max(gaps):.2e}")
    assert max(gaps) < 1e-6


def test_lambert_w0_matches_scipy():
    z = np.concatenate([np.linspace(-0.36, 5.0, 500), np.logspace(-12, 25, 500), [0.0]])
    np.testing.assert_allclose(la.lambert_w0(z), lambertw(z).real, rtol=1e-12, atol=1e-15)
    branch = -1.0 / np.e + np.logspace(-15, -2, 50)  # ill-conditioned: W' is unbounded at -1/e
    np.testing.assert_allclose(la.lambert_w0(branch), lambertw(branch).real, atol=1e-7)
    assert la.lambert_w0(np.array([np.inf]))[0] == np.inf and la.lambert_w0(np.array([-1 / np.e]))[0] == -1.0


def test_greedy_bits_solve_the_lp():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = 6
        queue, rate = rng.uniform(0, 2e7, n), rng.uniform(1e6, 2e7, n)
        per_bit = rng.normal(1e-5, 1e-5, n)
        usable = (per_bit > 0) & (rng.random(n) < 0.9)
        bits = la._greedy_bits(SYSTEM, queue[None], rate[None], per_bit[None], usable[None])[0]
        c = np.where(usable, per_bit, 0.0)
        res = linprog(-c, A_ub=(1.0 / rate)[None], b_ub=[SYSTEM.slot],
                      bounds=[(0, q if u else 0) for q, u in zip(queue, usable)], method="highs")
        assert c @ bits == pytest.approx(-res.fun, rel=1e-9, abs=1e-9)
        assert (bits / rate).sum() <= SYSTEM.slot * (1 + 1e-12)


def test_local_closed_form_by_hand():
    # One local device: f* = min(sqrt((Q/D + V w) / (3 phi kappa D c_Y Y)), phi Q / T, f_max).
    Q, Y, w = 5e6, 50.0, 1.5
    f_free = np.sqrt((5.0 + 20 * 1.5) / (3 * 100 * 1e-26 * 1e6 * 10 * 50.0))  # 1.08e8 Hz < phi Q = 5e8, f_max
    out = la.allocate(SYSTEM, np.array([1e-11]), np.array([False]), np.array([Q]), np.array([Y]), np.array([w]))
    assert out.cpu_freq[0] == pytest.approx(f_free, rel=1e-12)
    assert out.bits[0] == pytest.approx(f_free / 100, rel=1e-12)
    assert out.energy[0] == pytest.approx(1e-26 * f_free**3, rel=1e-12)
    value = (5.0 + 30.0) / 1e6 * f_free / 100 - 10 * 50.0 * 1e-26 * f_free**3
    assert float(out.objective) == pytest.approx(value, rel=1e-12)
    # Y = 0: the upper bound; a small queue binds before f_max.
    out = la.allocate(SYSTEM, np.array([1e-11, 1e-11]), np.array([False, False]), np.array([1e6, 1e8]),
                      np.zeros(2), np.ones(2))
    np.testing.assert_allclose(out.cpu_freq, [1e8, 3e8])


def test_an_offloading_device_with_free_energy_sends_at_full_power():
    h = 3e-11
    r_max = 2e6 / 1.1 * np.log2(1 + 0.1 * h / N0)  # ~1.57e7 bits/s
    for queue in (4e6, 4e7):  # fits in the slot / is capped by the slot
        out = la.allocate(SYSTEM, np.array([h]), np.array([True]), np.array([queue]), np.zeros(1), np.ones(1))
        sent = min(queue, r_max * 1.0)
        assert out.bits[0] == pytest.approx(sent, rel=1e-9)
        assert out.time[0] == pytest.approx(sent / r_max, rel=1e-9)
        assert out.power[0] == pytest.approx(0.1, rel=1e-9)
        assert out.energy[0] == pytest.approx(0.1 * sent / r_max, rel=1e-9)


def test_an_offloading_device_with_priced_energy_uses_the_lambert_rate():
    # A lone offloader whose queue does not fill the slot: the time price is 0+, so it sends its
    # queue at the rate that minimises energy per bit subject to finishing in T: R = Q / T.
    h, queue, Y = 3e-11, 2e6, 100.0
    out = la.allocate(SYSTEM, np.array([h]), np.array([True]), np.array([queue]), np.array([Y]), np.ones(1))
    assert out.bits[0] == pytest.approx(queue, rel=1e-9)
    assert out.time[0] == pytest.approx(1.0, rel=1e-5)  # within the price's bisection precision
    power = N0 / h * (2 ** (queue * 1.1 / 2e6) - 1)
    assert out.energy[0] == pytest.approx(power * 1.0, rel=1e-5)


def test_candidate_batches_equal_single_calls():
    rng = np.random.default_rng(11)
    gain, queue, energy_queue, weights = _state(rng, 5)
    cand = all_decisions(5)
    batched = la.allocate(SYSTEM, gain[None], cand, queue[None], energy_queue[None], weights)
    single = np.array([la.allocate(SYSTEM, gain, x, queue, energy_queue, weights).objective for x in cand])
    np.testing.assert_allclose(batched.objective, single, rtol=1e-12)
    decision, best, index = la.best_decision(SYSTEM, gain, queue, energy_queue, cand, weights)
    assert best == single.max() and np.array_equal(decision, cand[np.argmax(single)]) and index == np.argmax(single)
