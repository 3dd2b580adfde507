"""Tests of mec_marl.solvers.allocation against independent references.

The references (:mod:`mec_marl.solvers.reference`, shared with the
benchmark) never reuse the module's closed forms: cvxpy for the square-root
rule, a dense grid plus bounded Brent for the local CPU frequency, and for the
offloaders' bandwidth/power a nested brute force (grid + golden section over
the power for a given bandwidth, grid + Brent over the bandwidth split) for
rows with 1-2 offloaders and a multi-start SLSQP on a smooth epigraph form of
the penalised cost for rows with up to 3 offloaders.

Magnitudes follow CPDRL Table I (D in KB = 8192 bits, C 500-1000 cycles/bit,
f_max 1-2 GHz, F = 15 GHz, B = 5 MHz, sigma^2 = 1e-13 W, P_max = 1 W, kappa =
1e-28, tau = 0.5 s, g = d^-3 in a 300 m square). Variants: "kilobit" (1 Kb =
1000 bits; every offloader then meets tau = 0.5 s) and "kilobit_tight" (tau =
0.05 s), which, with Table I's values, puts many users on the deadline kink.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mec_marl.solvers import reference
from mec_marl.solvers.allocation import (
    local_cpu_cost,
    local_cpu_optimum,
    offload_cost,
    offload_resources,
    proportional_shares,
    sqrt_shares,
)

B_TOT = 5e6
SIGMA2 = 1e-13
P_MAX = 1.0
F_EDGE = 15e9
KAPPA = 1e-28
TAU = 0.5

VARIANTS = {"table1": (8192, 0.5), "kilobit": (1000, 0.5), "kilobit_tight": (1000, 0.05)}


# --------------------------------------------------------------------------- #
# instance generation and independent formulas
# --------------------------------------------------------------------------- #
def draw_users(rng, n, unit_bits=8192):
    D = rng.uniform(200, 400, n) * unit_bits
    C = rng.uniform(500, 1000, n)
    f_max = rng.uniform(1e9, 2e9, n)
    pos = rng.uniform(0.0, 300.0, (n, 2))
    d = np.maximum(np.hypot(pos[:, 0] - 150.0, pos[:, 1] - 150.0), 1.0)
    g = d**-3.0
    return D, C, f_max, g


def edge_delay(offload, D, C):
    """Equal split of F among the offloaders (CPDRL eq. 7), written out."""
    k = np.sum(offload, axis=-1, keepdims=True)
    return D * C * np.maximum(k, 1) / F_EDGE


def user_cost(b, p, D, g, Te, wl, we, wt, tau):
    return reference.offload_user_cost(b, p, D, g, Te, SIGMA2, wl, we, tau, wt)


def ref_offload(D, g, Te, wl, we, wt, tau, rng=None, starts=1):
    """The reference optimum of one row's offloaders (best of multi-start SLSQP and, for 1-2, brute force)."""
    return reference.offload_reference(D, g, Te, B_TOT, P_MAX, SIGMA2, wl, we, tau, wt, rng=rng, starts=starts)[0]


def ref_nested(D, g, Te, wl, we, wt, tau):
    return reference.offload_brute_force(D, g, Te, B_TOT, P_MAX, SIGMA2, wl, we, tau, wt)[0]


def sample_rows(rng, n_rows, n, max_off):
    """Random 0/1 rows with 1..max_off offloaders among n users."""
    k = rng.integers(1, max_off + 1, n_rows)
    return np.argsort(rng.random((n_rows, n)), axis=1) < k[:, None]


# --------------------------------------------------------------------------- #
# sqrt / proportional shares
# --------------------------------------------------------------------------- #
def test_sqrt_shares_matches_cvxpy():
    rng = np.random.default_rng(11)
    for trial in range(12):
        n = int(rng.integers(2, 11))
        D, C, _, g = draw_users(rng, n)
        p = rng.uniform(0.01, 1.0, n)
        w = (1.0 + p) * D / np.log2(1.0 + p * g / SIGMA2)  # Table I-sized bandwidth weights
        if trial % 3 == 2:
            w = D * C  # CPU split of a server (F)
        mask = rng.random(n) < 0.7
        mask[rng.integers(n)] = True
        total = B_TOT if trial % 3 != 2 else F_EDGE
        x = sqrt_shares(w, total, mask)
        assert np.all(x[~mask] == 0)
        assert np.isclose(x.sum(), total, rtol=1e-12)
        x_ref = reference.sqrt_shares_cvxpy(w[mask], total)
        ours = np.sum(w[mask] / x[mask])
        ref = np.sum(w[mask] / x_ref)
        assert ours <= ref * (1 + 1e-4)
        assert abs(ours - ref) <= 1e-4 * ref


def test_sqrt_shares_kkt_batch_and_edge_cases():
    rng = np.random.default_rng(12)
    w = rng.uniform(0.1, 10.0, (4, 3, 7))
    mask = rng.random((4, 3, 7)) < 0.6
    mask[0, 0] = False  # a row without users
    total = rng.uniform(1.0, 5.0, (4, 3))
    x = sqrt_shares(w, total, mask)
    assert x.shape == w.shape
    assert np.all(x[0, 0] == 0)
    assert np.all(x[~mask] == 0)
    rows = mask.any(-1)
    np.testing.assert_allclose(x.sum(-1)[rows], total[rows], rtol=1e-12)
    # stationarity: w / x^2 is the same for every masked entry of a row
    ratio = np.where(mask, w / np.where(mask, x, 1.0) ** 2, np.nan)[rows]
    spread = np.nanmax(ratio, -1) / np.nanmin(ratio, -1)
    np.testing.assert_allclose(spread, 1.0, rtol=1e-10)
    # each row equals the unbatched call
    np.testing.assert_allclose(x[2, 1], sqrt_shares(w[2, 1], total[2, 1], mask[2, 1]))
    # total with a trailing axis, and no mask
    np.testing.assert_allclose(sqrt_shares(w, total[..., None]), sqrt_shares(w, total))
    # all-zero weights: equal split among the masked entries
    np.testing.assert_allclose(sqrt_shares([0.0, 0.0, 3.0], 2.0, [True, True, False]), [1.0, 1.0, 0.0])


def test_proportional_shares():
    w = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0], [1.0, 1.0, 1.0, 1.0]])
    mask = np.array([[True, True, False, True], [True] * 4, [False] * 4])
    x = proportional_shares(w, 14.0, mask)
    np.testing.assert_allclose(x[0], [2.0, 4.0, 0.0, 8.0])
    np.testing.assert_allclose(x[1], [3.5] * 4)
    np.testing.assert_array_equal(x[2], 0.0)
    np.testing.assert_allclose(proportional_shares([1.0, 3.0], 8.0), [2.0, 6.0])
    # equal weights: equal shares (CPDRL eq. 7)
    np.testing.assert_allclose(proportional_shares(np.ones(3), F_EDGE), [F_EDGE / 3] * 3)


@pytest.mark.parametrize("fn", [sqrt_shares, proportional_shares])
def test_shares_errors(fn):
    with pytest.raises(ValueError, match="non-negative"):
        fn([1.0, 2.0], -1.0)
    with pytest.raises(ValueError, match="non-negative"):
        fn([1.0, -2.0], 1.0)
    with pytest.raises(ValueError, match="shape"):
        fn(np.ones((3, 4)), np.ones(5))
    with pytest.raises(ValueError, match="shape"):
        fn(np.ones((3, 4)), 1.0, mask=np.ones(5, bool))
    with pytest.raises(ValueError):
        fn(1.0, 1.0)


# --------------------------------------------------------------------------- #
# local CPU frequency
# --------------------------------------------------------------------------- #
def _local_cost_ref(c, f, wl, we, wt, tau):
    return reference.local_cost(c, f, KAPPA, wl, we, tau, wt)


def test_local_cpu_optimum_matches_brute_force_all_regimes():
    rng = np.random.default_rng(21)
    m = 240
    cases = []
    for i in range(m):
        unit = 8192 if i % 2 else 1000
        D, C, fmax, _ = draw_users(rng, 1, unit)
        c = float(D[0] * C[0])
        wl = 1.0 if i % 3 else float(rng.uniform(0.2, 5.0))
        we = 1.0 if i % 4 == 0 else float(rng.uniform(0.05, 20.0))
        wt = 1.0 if i % 5 else float(rng.uniform(0.0, 5.0))
        tau = TAU if i % 2 else float(rng.uniform(0.1, 1.5))
        cases.append((c, float(fmax[0]), wl, we, wt, tau))
    c, fmax, wl, we, wt, tau = (np.array(v) for v in zip(*cases))
    f = local_cpu_optimum(c, fmax, KAPPA, wl, we, tau, wt)
    assert f.shape == (m,)
    assert np.all((f > 0) & (f <= fmax))
    ours = _local_cost_ref(c, f, wl, we, wt, tau)
    np.testing.assert_allclose(local_cpu_cost(c, f, KAPPA, wl, we, tau, wt), ours, rtol=1e-13)

    regimes = set()
    worst = 0.0
    f_refs, c_refs = reference.local_cpu_reference(c, fmax, KAPPA, wl, we, tau, wt)
    for i in range(m):
        f_ref, c_ref = f_refs[i], c_refs[i]
        assert ours[i] <= c_ref * (1 + 1e-9), (i, ours[i], c_ref)
        worst = max(worst, abs(ours[i] - c_ref) / c_ref)
        if f_ref >= fmax[i] * (1 - 1e-7):
            regimes.add("clipped")
        elif c[i] / f_ref < tau[i] * (1 - 1e-6):
            regimes.add("on_time")
        elif c[i] / f_ref > tau[i] * (1 + 1e-6):
            regimes.add("tardy")
        else:
            regimes.add("kink")
    assert worst <= 1e-6
    assert regimes == {"clipped", "on_time", "tardy", "kink"}, regimes


def test_local_cpu_optimum_table1_values_and_edge_cases():
    # lambda1 = lambda2 = 1, kappa = 1e-28: f0 = (1 / 2e-28)^(1/3) = 1.71 GHz (SPEC's TEM formula)
    f0 = (1.0 / (2 * KAPPA)) ** (1 / 3)
    assert np.isclose(local_cpu_optimum(1e8, 2e9, KAPPA, 1.0, 1.0, TAU), f0, rtol=1e-12)
    assert local_cpu_optimum(1e8, 1.2e9, KAPPA, 1.0, 1.0, TAU) == 1.2e9
    # no energy weight: as fast as possible
    assert local_cpu_optimum(3e9, 1.5e9, KAPPA, 1.0, 0.0, TAU) == 1.5e9
    # kink: c / tau between f0 and f1 = 2^(1/3) f0
    c = 1.9e9 * TAU
    assert np.isclose(local_cpu_optimum(c, 3e9, KAPPA, 1.0, 1.0, TAU), 1.9e9, rtol=1e-12)
    with pytest.raises(ValueError, match="w_latency"):
        local_cpu_optimum(1e9, 2e9, KAPPA, 0.0, 1.0, TAU)
    with pytest.raises(ValueError, match="tau"):
        local_cpu_optimum(1e9, 2e9, KAPPA, 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="shape"):
        local_cpu_optimum(np.ones(3), np.ones(4), KAPPA, 1.0, 1.0, TAU)


# --------------------------------------------------------------------------- #
# offloaders' bandwidth and power
# --------------------------------------------------------------------------- #
def _solve_rows(rows, D, g, Te, tau, wl=1.0, we=1.0, wt=1.0):
    b, p = offload_resources(rows, D, g, Te, B_TOT, P_MAX, SIGMA2, wl, we, tau, wt)
    assert b.shape == rows.shape and p.shape == rows.shape
    assert np.all(b.sum(-1) <= B_TOT * (1 + 1e-9))
    assert np.all(b[~rows] == 0) and np.all(p[~rows] == 0)
    assert np.all((p[rows] > 0) & (p[rows] <= P_MAX)) and np.all(b[rows] > 0)
    cost = np.where(rows, user_cost(np.where(rows, b, 1.0), np.where(rows, p, 1.0), D, g, Te, wl, we, wt, tau), 0.0)
    np.testing.assert_allclose(
        offload_cost(rows, D, g, Te, b, p, SIGMA2, wl, we, tau, wt), cost.sum(-1), rtol=1e-12)
    return b, p, cost.sum(-1)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_offload_resources_matches_references(variant):
    unit, tau = VARIANTS[variant]
    rng = np.random.default_rng({"table1": 31, "kilobit": 32, "kilobit_tight": 33}[variant])
    n = 10
    worst_gap, regimes = -np.inf, {"on_time": 0, "kink": 0, "tardy": 0}
    for inst in range(3):
        D, C, _, g = draw_users(rng, n, unit)
        rows = sample_rows(rng, 8, n, 3)
        rows[0] = False
        rows[0, inst] = True  # at least one single-offloader row
        Te = edge_delay(rows, D, C)
        b, p, ours = _solve_rows(rows, D, g, Te, tau)
        with np.errstate(divide="ignore"):
            t_end = D / (b * np.log2(1 + p * g / SIGMA2)) + Te
        on_kink = rows & (np.abs(t_end - tau) <= 1e-9 * tau)
        regimes["kink"] += int(on_kink.sum())
        regimes["on_time"] += int((rows & ~on_kink & (t_end < tau)).sum())
        regimes["tardy"] += int((rows & ~on_kink & (t_end > tau)).sum())
        for r in range(rows.shape[0]):
            idx = np.flatnonzero(rows[r])
            args = (D[idx], g[idx], Te[r, idx], 1.0, 1.0, 1.0, tau)
            ref = ref_offload(*args, rng, starts=4 if idx.size > 1 else 1)
            assert ours[r] <= ref * (1 + 1e-5), (variant, inst, r, ours[r], ref)
            assert ours[r] >= ref * (1 - 1e-3), (variant, inst, r, ours[r], ref)
            worst_gap = max(worst_gap, (ours[r] - ref) / ref)
    print(f"{variant}: max relative gap to reference {worst_gap:.2e}, regimes {regimes}")
    if variant == "table1":
        assert regimes["tardy"] > 0 and regimes["on_time"] > 0
    if variant == "kilobit":  # deadlines met with 1 Kb = 1000 bits
        assert regimes["tardy"] == 0 and regimes["kink"] == 0
    if variant == "kilobit_tight":
        assert regimes["kink"] > 0


@pytest.mark.parametrize("variant", ["table1", "kilobit_tight"])
def test_offload_resources_kink_rows_match_references(variant):
    """Rows where some offloader ends exactly at the deadline (T^t + T^e = tau, the kink
    regime) occur with Table I sizes and tau = 0.5 s, and with kilobits and tau = 0.05 s;
    check a few of them (1-3 offloaders) against the references."""
    unit, tau = VARIANTS[variant]
    rng = np.random.default_rng({"table1": 41, "kilobit_tight": 42}[variant])
    D, C, _, g = draw_users(rng, 10, unit)
    rows = sample_rows(rng, 512, 10, 3)
    Te = edge_delay(rows, D, C)
    b, p, ours = _solve_rows(rows, D, g, Te, tau)
    t_end = np.where(rows, D / (np.where(rows, b, 1.0) * np.log2(1 + np.where(rows, p, 1.0) * g / SIGMA2)) + Te, np.inf)
    kink_rows = np.flatnonzero(np.any(rows & (np.abs(t_end - tau) <= 1e-9 * tau), axis=-1))
    assert kink_rows.size >= 5, kink_rows.size
    worst = -np.inf
    for r in kink_rows[:6]:
        idx = np.flatnonzero(rows[r])
        args = (D[idx], g[idx], Te[r, idx], 1.0, 1.0, 1.0, tau)
        ref = ref_offload(*args, rng, starts=4 if idx.size > 1 else 1)
        assert ours[r] <= ref * (1 + 1e-5), (r, ours[r], ref)
        assert ours[r] >= ref * (1 - 1e-3), (r, ours[r], ref)
        worst = max(worst, (ours[r] - ref) / ref)
    print(f"{variant}: {kink_rows.size} kink rows of 512, max relative gap on kink rows {worst:.2e}")


def test_no_tardiness_is_sqrt_rule_with_best_power():
    """w_t = 0: p minimises (l1 + l2 p) / L(p) per user, b is the square-root rule (CPDRL eq. 5-6)."""
    rng = np.random.default_rng(51)
    D, C, _, g = draw_users(rng, 8)
    rows = sample_rows(rng, 20, 8, 8)
    Te = edge_delay(rows, D, C)
    for wl, we in [(1.0, 1.0), (1.0, 0.1), (2.0, 5.0)]:
        b, p, _ = _solve_rows(rows, D, g, Te, TAU, wl, we, 0.0)
        # without tardiness the best power minimises (wl + we p) / log2(1 + p g / sigma^2), whatever b
        _, p_ref = reference.best_power(B_TOT, D, g, 0.0, P_MAX, SIGMA2, wl, we, TAU, 0.0)
        np.testing.assert_allclose(p[rows], np.broadcast_to(p_ref, rows.shape)[rows], rtol=1e-6)
        c = (wl + we * p_ref) * D / np.log2(1 + p_ref * g / SIGMA2)
        np.testing.assert_allclose(b, sqrt_shares(np.broadcast_to(c, rows.shape), B_TOT, rows), rtol=1e-9)


def test_offload_resources_batch_shapes_and_timing():
    rng = np.random.default_rng(61)
    D, C, _, g = draw_users(rng, 10)
    rows = rng.random((1024, 10)) < 0.5
    Te = edge_delay(rows, D, C)
    offload_resources(rows, D, g, Te, B_TOT, P_MAX, SIGMA2, 1.0, 1.0, TAU)  # warm-up
    t0 = time.perf_counter()
    b, p = offload_resources(rows, D, g, Te, B_TOT, P_MAX, SIGMA2, 1.0, 1.0, TAU)
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0  # ~ a few ms; a loose guard against per-row Python loops
    # leading batch axes and per-row totals
    b3, p3 = offload_resources(rows.reshape(32, 32, 10), D, g, Te.reshape(32, 32, 10), B_TOT, P_MAX,
                               SIGMA2, 1.0, 1.0, TAU)
    np.testing.assert_allclose(b3.reshape(1024, 10), b, rtol=1e-12)
    np.testing.assert_allclose(p3.reshape(1024, 10), p, rtol=1e-12)
    b2, _ = offload_resources(rows, D, g, Te, np.full(1024, B_TOT / 2), P_MAX, SIGMA2, 1.0, 1.0, TAU)
    assert np.all(b2.sum(-1) <= B_TOT / 2 * (1 + 1e-9))
    # rows with no offloader
    none = np.zeros((3, 10), bool)
    b0, p0 = offload_resources(none, D, g, edge_delay(none, D, C), B_TOT, P_MAX, SIGMA2, 1.0, 1.0, TAU)
    assert np.all(b0 == 0) and np.all(p0 == 0)


def test_offload_resources_always_tardy_and_errors():
    rng = np.random.default_rng(71)
    D, C, _, g = draw_users(rng, 3)
    rows = np.array([[True, True, False]])
    Te = np.full((1, 3), 0.7)  # edge delay alone exceeds tau
    b, p, ours = _solve_rows(rows, D, g, Te, TAU)
    ref = ref_nested(D[:2], g[:2], Te[0, :2], 1.0, 1.0, 1.0, TAU)
    assert ours[0] <= ref * (1 + 1e-5) and ours[0] >= ref * (1 - 1e-3)
    with pytest.raises(ValueError, match="non-negative"):
        offload_resources(rows, D, g, Te, -1.0, P_MAX, SIGMA2, 1.0, 1.0, TAU)
    with pytest.raises(ValueError, match="shape"):
        offload_resources(rows, D[:2], g, Te, B_TOT, P_MAX, SIGMA2, 1.0, 1.0, TAU)
    with pytest.raises(ValueError, match="shape"):
        offload_resources(rows, D, g, Te, np.ones(4), P_MAX, SIGMA2, 1.0, 1.0, TAU)
    with pytest.raises(ValueError, match="w_latency"):
        offload_resources(rows, D, g, Te, B_TOT, P_MAX, SIGMA2, 0.0, 1.0, TAU)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    m=st.integers(1, 2),
    seed=st.integers(0, 2**31 - 1),
    kilobit=st.booleans(),
    wl=st.floats(0.1, 10.0),
    we=st.floats(0.0, 10.0),
    wt=st.floats(0.0, 10.0),
    tau=st.floats(0.02, 2.0),
)
def test_offload_resources_hypothesis(m, seed, kilobit, wl, we, wt, tau):
    rng = np.random.default_rng(seed)
    D, C, _, g = draw_users(rng, m, 1000 if kilobit else 8192)
    Te = rng.uniform(0.0, 1.2 * tau, m)
    rows = np.ones((1, m), bool)
    b, p, ours = _solve_rows(rows, D, g, Te[None], tau, wl, we, wt)
    ref = ref_nested(D, g, Te, wl, we, wt, tau)
    assert ours[0] <= ref * (1 + 1e-5), (ours[0], ref)
    assert ours[0] >= ref * (1 - 1e-3), (ours[0], ref)
