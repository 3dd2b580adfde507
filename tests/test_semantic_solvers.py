"""semantic_v0 sub-solvers: P3.1-P3.4 closed forms and the exact solver against a
cvxpy minimiser of the same per-UE problem; the top-chi quantisers; the critic's
cost table against solving each candidate action directly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mec_marl.envs import semantic as S
from mec_marl.solvers import lyapunov
from mec_marl.solvers.quantize_topchi import feasible_actions, nearest_candidates, top_chi
from mec_marl.solvers.reference import semantic_slot_reference

CONFIG = S.SemanticConfig()
HW = CONFIG.hardware()


def random_problem(seed: int, n: int = 40, scale: float = 30.0) -> lyapunov.SlotProblem:
    """Queues over light to heavy load, channels from the env's own draws."""
    rng = np.random.default_rng(seed)
    q_l = rng.uniform(0, scale, n) * (rng.random(n) > 0.1)  # some empty queues
    gain_mec = 10 ** rng.uniform(-12, -9, n)
    gain_mcc = 10 ** rng.uniform(-14, -10, n)
    state = S.SemanticState(
        queue_local=q_l,
        queue_edge=rng.uniform(0, scale / 3, n),
        virtual_local=rng.uniform(0, 5, n) * (rng.random(n) > 0.5),
        virtual_edge=rng.uniform(0, 5, n) * (rng.random(n) > 0.5),
        rho_mec=np.zeros(n, bool),
        rho_mcc=np.zeros(n, bool),
        gain_mec=gain_mec,
        gain_mcc=gain_mcc,
        t=np.zeros((), np.int64),
    )
    return S.slot_problem(CONFIG, state, gain_mec, gain_mcc)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_solver_matches_cvxpy(seed):
    problem = random_problem(seed)
    rng = np.random.default_rng(100 + seed)
    rho_e, rho_c = rng.random(40) < 0.5, rng.random(40) < 0.5
    ours = lyapunov.exact(problem, HW, rho_e, rho_c)
    ref = semantic_slot_reference(problem, HW, rho_e, rho_c)
    scale = 1.0 + np.abs(ref["cost"])
    assert np.all(ours["cost"] <= ref["cost"] + 1e-6 * scale), "exact solver worse than cvxpy"
    np.testing.assert_allclose(ours["cost"], ref["cost"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("seed", [3, 4])
def test_closed_forms_feasible_never_better_than_exact(seed):
    problem = random_problem(seed)
    rho_e = rho_c = np.ones(40)
    cf = lyapunov.closed_form(problem, HW, rho_e, rho_c)
    ex = lyapunov.exact(problem, HW, rho_e, rho_c)
    assert np.all(cf["mu_local"] <= problem.queue_local + 1e-9)  # 14i
    assert np.all(cf["f_local"] + cf["f_encode"] <= HW.f_local_max * (1 + 1e-12))  # 14g
    assert np.all(cf["mu_edge"] <= problem.queue_edge + 1e-9)  # 14j
    assert np.all(cf["f_edge"] <= HW.f_edge_max * (1 + 1e-12))  # 14h
    assert np.all(ex["cost"] <= cf["cost"] + 1e-9 * (1 + np.abs(cf["cost"])))
    assert np.any(ex["cost"] < cf["cost"] - 1e-6), "no tight instance: the test does not exercise the gap"


def test_closed_forms_are_exact_while_14i_and_14g_are_slack():
    problem = random_problem(5, n=200, scale=40.0)
    problem = lyapunov.SlotProblem(**{**problem.__dict__, "mec_power": np.zeros(200)})
    rho = np.ones(200)
    cf = lyapunov.closed_form(problem, HW, rho, rho)
    ex = lyapunov.exact(problem, HW, rho, rho)
    slack = (problem.queue_local - cf["mu_local"] > 1e-6) & (HW.f_local_max - cf["f_local"] - cf["f_encode"] > 1e3)
    assert slack.sum() > 20
    np.testing.assert_allclose(cf["cost"][slack], ex["cost"][slack], rtol=1e-9, atol=1e-9)


def test_closed_form_stationary_points_by_hand():
    """P3.1-P3.4 stationary points written out from Sec. IV-B (weights Q + Z)."""
    tau, v, nL, nE, l_en, l_de = 0.01, 2.0, 2048.0, 6912.0, 2.5e9, 5.5e9
    aL, aE = 5.787e-26, 4.45e-26
    qL, zL, qE, zE = 40.0, 3.0, 10.0, 1.0
    wL, wE = qL + zL, qE + zE
    gain_mec, gain_mcc = 1e-10, 1e-11
    problem = S.slot_problem(
        CONFIG,
        S.SemanticState(
            *(np.array([x]) for x in (qL, qE, zL, zE)),
            np.zeros(1, bool), np.zeros(1, bool), np.ones(1), np.ones(1), np.zeros((), int),
        ),
        np.array([gain_mec]),
        np.array([gain_mcc]),
    )
    out = lyapunov.closed_form(problem, HW, np.ones(1), np.ones(1))
    u_e = math.sqrt((tau * nL / l_en) ** 3 * (wL - wE) / (3 * v * aL))
    u_e = min(u_e, tau * 1.2e9 * nL / l_en, tau * 250e3 / (10 * 24))  # u^E_max, link cap
    sigma2 = 10 ** ((-174 - 30) / 10)
    b_c, sk0 = 25e3, 10 * 40
    u_c_bar = tau * b_c / sk0 * math.log2(wL * tau * gain_mcc / (math.log(2) * v * sk0 * sigma2))
    u_c_max = tau * b_c / sk0 * math.log2(1 + 0.1 * gain_mcc / (b_c * sigma2))
    u_c = max(min(u_c_bar, qL - u_e, u_c_max), 0.0)
    f_en = u_e * l_en / (tau * nL)
    f_bar = math.sqrt(wL * tau * nL / (3 * v * (l_en + l_de) * aL))
    f_l = min(f_bar, 1.2e9 - f_en, (qL - u_e - u_c) * (l_en + l_de) / (tau * nL))
    f_e = min(math.sqrt(wE * tau * nE / (3 * v * l_de * aE)), 1.41e9, qE * l_de / (tau * nE))
    assert out["u_mec"][0] == pytest.approx(u_e, rel=1e-12)
    assert out["u_mcc"][0] == pytest.approx(u_c, rel=1e-12)
    assert out["f_local"][0] == pytest.approx(f_l, rel=1e-12)
    assert out["f_edge"][0] == pytest.approx(f_e, rel=1e-12)
    assert out["f_encode"][0] == pytest.approx(f_en, rel=1e-12)


def test_unassociated_ue_offloads_nothing():
    problem = random_problem(6)
    out = lyapunov.closed_form(problem, HW, np.zeros(40), np.zeros(40))
    ex = lyapunov.exact(problem, HW, np.zeros(40), np.zeros(40))
    for alloc in (out, ex):
        assert np.all(alloc["u_mec"] == 0) and np.all(alloc["u_mcc"] == 0) and np.all(alloc["p_mec"] == 0)


@pytest.mark.parametrize("solver", ["closed_form", "exact"])
def test_cost_table_scores_candidates_like_direct_solves(solver):
    problem = random_problem(7, n=8)
    problem = lyapunov.SlotProblem(**{k: np.stack([v, v[::-1]]) for k, v in problem.__dict__.items()})  # (2, 8)
    table = lyapunov.cost_table(problem, HW, solver)
    assert table.shape == (2, 8, 2, 2)
    rho_e, rho_c = feasible_actions(8, 4, 2)
    pick = np.random.default_rng(0).choice(len(rho_e), 12, replace=False)
    scores = lyapunov.action_costs(table, rho_e[pick], rho_c[pick])
    assert scores.shape == (2, 12)
    for j, k in enumerate(pick):
        direct = lyapunov.solve(problem, HW, rho_e[k], rho_c[k], solver)["cost"].sum(axis=-1)
        np.testing.assert_allclose(scores[:, j], direct, rtol=1e-12)


def test_unknown_solver_is_named():
    with pytest.raises(ValueError, match="unknown solver 'newton'"):
        lyapunov.solve(random_problem(0), HW, 1.0, 1.0, "newton")


# ------------------------------------------------------------------ quantisers
def test_paper_action_count_1960():
    rho_e, rho_c = feasible_actions(8, 4, 2)
    assert len(rho_e) == 1960 == math.comb(8, 4) * math.comb(8, 2)
    assert np.all(rho_e.sum(1) == 4) and np.all(rho_c.sum(1) == 2)
    assert len({(tuple(a), tuple(b)) for a, b in zip(rho_e, rho_c)}) == 1960


def test_top_chi_gives_exactly_chi_ones_even_with_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((500, 8)), 1)  # many ties
    scores[:5] = 0.5  # all tied
    for chi in range(9):
        mask = top_chi(scores, chi)
        assert np.all(mask.sum(-1) == chi)
        kept_min = np.where(mask, scores, np.inf).min(-1)
        dropped_max = np.where(mask, -np.inf, scores).max(-1)
        assert np.all(kept_min >= dropped_max)
    assert top_chi(np.full(8, 0.5), 4).tolist() == [True] * 4 + [False] * 4  # ties to the lower index
    with pytest.raises(ValueError, match="chi"):
        top_chi(scores, 9)


def test_nearest_candidates_are_the_most_likely_feasible_actions():
    rng = np.random.default_rng(1)
    p_e, p_c = rng.random((3, 8)), rng.random((3, 8))
    cand_e, cand_c = nearest_candidates(p_e, p_c, 4, 2, 16)
    assert cand_e.shape == (3, 16, 8)
    all_e, all_c = feasible_actions(8, 4, 2)
    for b in range(3):
        def ll(e, c):
            return np.log(np.where(e, p_e[b], 1 - p_e[b])).sum(-1) + np.log(np.where(c, p_c[b], 1 - p_c[b])).sum(-1)

        brute = np.sort(ll(all_e, all_c))[::-1][:16]
        np.testing.assert_allclose(ll(cand_e[b], cand_c[b]), brute, rtol=1e-9)
        assert np.array_equal(cand_e[b, 0], top_chi(p_e[b], 4)) and np.array_equal(cand_c[b, 0], top_chi(p_c[b], 2))
        assert len({(tuple(x), tuple(y)) for x, y in zip(cand_e[b], cand_c[b])}) == 16
