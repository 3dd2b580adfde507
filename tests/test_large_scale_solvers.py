"""OJRS P2.1 closed form (mec_marl.solvers.multi_mec) against the cvxpy reference.

The reference (mec_marl.solvers.reference.p21_cvxpy) solves P2.1 jointly over
powers and CPU frequencies with a conic solver, without the closed form's
structure. Instances follow SPEC's two presets (Table I of the OJRS paper with
P_max 0.1 W / -174 dBm/Hz or P_max 1 W / -101 dBm/Hz), UEs uniform in the
50 m square, Rayleigh fading.
"""

from __future__ import annotations

import numpy as np
import pytest

from mec_marl.solvers import multi_mec as al
from mec_marl.solvers.reference import p21_cvxpy

PRESETS = {
    "default": dict(p_max=0.1, noise_power=10 ** (-174 / 10) * 1e-3 * 1e6),
    "table2": dict(p_max=1.0, noise_power=10 ** (-101 / 10) * 1e-3 * 1e6),
}
COMMON = dict(data_size=8e5, cycles=1e9, bandwidth=1e6, f_local_max=1e9, mec_cpu=50e9, kappa=1e-27)


def draw(rng, n, m, preset="table2"):
    mecs = rng.uniform(0, 50, (m, 2))
    ues = rng.uniform(0, 50, (n, 2))
    dist = np.maximum(np.linalg.norm(ues[:, None] - mecs[None], axis=-1), 1.0)
    gain = 1e-3 / dist**2 * rng.exponential(1.0, (n, m))
    weights = rng.uniform(0.5, 2.0, n)
    return gain, weights, {**COMMON, **PRESETS[preset]}


CASES = [(3, 1, "table2"), (30, 2, "table2"), (30, 2, "default"), (60, 3, "default"), (200, 5, "table2"),
         (200, 5, "default")]


@pytest.mark.parametrize("n,m,preset", CASES)
def test_closed_form_matches_cvxpy(n, m, preset):
    rng = np.random.default_rng(n * 10 + m)
    gain, w, kw = draw(rng, n, m, preset)
    decision = rng.integers(0, m + 1, n)
    decision[0] = 0  # at least one local UE and one offloader
    decision[1 % n] = m
    ref = p21_cvxpy(decision, gain, w, **kw)
    problem = al.p21_problem(gain, w, **kw)
    fast = al.p21_solve(problem, decision, fallback=False)
    assert fast["objective"] == pytest.approx(ref["objective"], rel=1e-6)
    assert al.p21_objective(problem, decision, fallback=False) == pytest.approx(ref["objective"], rel=1e-6)
    # The closed form is feasible: C4 power, C3 / eq. 8 local CPU, C5 per MEC.
    off = decision > 0
    assert np.all(fast["power"][off] == kw["p_max"]) and np.all(fast["power"][~off] == 0)
    f_loc = fast["cpu_freq"][~off]
    assert np.all(f_loc <= kw["f_local_max"]) and np.all(kw["kappa"] * f_loc**3 <= kw["p_max"] * (1 + 1e-12))
    for j in range(1, m + 1):
        assert fast["edge_cpu"][decision == j].sum() <= kw["mec_cpu"] * (1 + 1e-12)


@pytest.mark.parametrize("n,m", [(6, 2), (12, 3)])
def test_exponential_cone_form_agrees_at_small_n(n, m):
    """The reference's power-as-variable form (inv_pos(log1p(p h / sigma^2))) gives the same optimum."""
    rng = np.random.default_rng(7 + n)
    gain, w, kw = draw(rng, n, m, "table2")
    decision = rng.integers(0, m + 1, n)
    decision[0] = 1
    ref = p21_cvxpy(decision, gain, w, power_form="log", **kw)
    fast = al.p21_objective(al.p21_problem(gain, w, **kw), decision, fallback=False)
    assert fast == pytest.approx(ref["objective"], rel=1e-6)
    assert np.all(ref["power"][decision > 0] >= kw["p_max"] * (1 - 1e-4))  # power at its C4 maximum


def test_mec_without_users_and_zero_gain_ue_give_no_nan():
    rng = np.random.default_rng(3)
    gain, w, kw = draw(rng, 8, 3, "table2")
    gain[2, :] = 0.0  # UE 2 has no channel at all
    decision = np.array([1, 1, 1, 0, 3, 3, 0, 1])  # MEC 2 has no users
    problem = al.p21_problem(gain, w, **kw)
    with np.errstate(all="raise"):  # no invalid operation anywhere on the path
        kept = al.p21_solve(problem, decision, fallback=False)
        fell = al.p21_solve(problem, decision, fallback=True)
    for out in (kept, fell):
        for key, value in out.items():
            assert not np.any(np.isnan(np.asarray(value, dtype=float))), key
    assert kept["latency"][2] == np.inf and kept["objective"] == np.inf
    assert al.p21_objective(problem, decision, fallback=False) == np.inf
    assert np.all(kept["edge_cpu"][[0, 1, 2, 7]] > 0)  # the silent UE still holds its KKT share
    # With the fallback it runs locally, flagged, and the rest equals the reference without it.
    assert fell["fallback"][2] and fell["offload"][2] == 0 and fell["latency"][2] == problem.local_latency[2]
    assert np.isfinite(fell["objective"])
    moved = decision.copy()
    moved[2] = 0
    ref = p21_cvxpy(moved, gain, w, **kw)
    assert fell["objective"] == pytest.approx(ref["objective"], rel=1e-6)
    assert np.all(fell["edge_cpu"][decision == 2] == 0)


def test_candidates_and_instances_batch_like_a_loop():
    rng = np.random.default_rng(11)
    draws = [draw(rng, 10, 2, "table2") for _ in range(3)]
    kw = draws[0][2]
    gains = np.stack([d[0] for d in draws])
    weights = np.stack([d[1] for d in draws])
    problem = al.p21_problem(gains, weights, **kw)  # batch (3,)
    decisions = rng.integers(0, 3, (3, 5, 10))  # 5 candidates per instance
    batched = al.p21_objective(problem, decisions)
    solved = al.p21_solve(problem, decisions)
    assert batched.shape == (3, 5) and solved["latency"].shape == (3, 5, 10)
    for b in range(3):
        single = al.p21_problem(gains[b], weights[b], **kw)
        for c in range(5):
            expected = al.p21_solve(single, decisions[b, c])
            assert batched[b, c] == pytest.approx(expected["objective"], rel=1e-12)
            np.testing.assert_allclose(solved["latency"][b, c], expected["latency"], rtol=1e-12)
            np.testing.assert_array_equal(solved["offload"][b, c], expected["offload"])


def test_fallback_rule_by_hand():
    """A UE whose upload alone exceeds local execution (F / f_i0 = 1 s at P_max 1 W) runs locally."""
    kw = {**COMMON, **PRESETS["table2"]}
    snr_per_gain = kw["p_max"] / kw["noise_power"]
    # spectral efficiencies 0.5 (upload 1.6 s > 1 s) and 4 bit/s/Hz (0.2 s)
    gain = np.array([[(2**0.5 - 1) / snr_per_gain], [(2**4 - 1) / snr_per_gain]])
    w = np.array([1.0, 2.0])
    problem = al.p21_problem(gain, w, **kw)
    out = al.p21_solve(problem, np.array([1, 1]))
    np.testing.assert_array_equal(out["fallback"], [True, False])
    np.testing.assert_array_equal(out["offload"], [0, 1])
    # UE 1 alone at the MEC: 0.2 s upload + 1e9 / 50e9 s; UE 0 local 1 s.
    np.testing.assert_allclose(out["latency"], [1.0, 0.2 + 0.02], rtol=1e-12)
    assert out["objective"] == pytest.approx(1.0 * 1.0 + 2.0 * 0.22, rel=1e-12)


def test_bad_decisions_are_named():
    gain, w, kw = draw(np.random.default_rng(0), 4, 2)
    problem = al.p21_problem(gain, w, **kw)
    with pytest.raises(ValueError, match="0..2"):
        al.p21_objective(problem, np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="does not fit"):
        al.p21_objective(problem, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="weights must be positive"):
        al.p21_problem(gain, np.zeros(4), **kw)
