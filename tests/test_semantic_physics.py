"""semantic_v0 physics against hand-computed values of the DRLH paper's eq. 1-2, 5-12, 15-16, 22.

Expected values are written out with plain Python ``math`` from the paper's
equations and Tables I-II (plus SPEC's constants), never by calling the code
under test; the env is driven through pinned instances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mec_marl
from mec_marl.envs.semantic import SemanticInstance, encode_action
from mec_marl.physics import fading, queues, semantic

TAU, V = 0.01, 2.0
N_L, N_E, L_EN, L_DE = 2048.0, 6912.0, 2.5e9, 5.5e9
A_L, A_E = 5.787e-26, 4.45e-26
F_L, F_E = 1.2e9, 1.41e9
S, K, K0 = 10.0, 24.0, 40.0
SIGMA2 = 10 ** ((-174.0 - 30.0) / 10.0)  # W/Hz
P_MAX = 0.1


def pathloss(d_m, a, b):
    return 10 ** (-(a + b * math.log10(d_m / 1000.0)) / 10.0)


def test_path_loss_models_by_hand():
    assert fading.log_distance_gain(100.0, 140.7, 36.7) == pytest.approx(10 ** (-(140.7 - 36.7) / 10), rel=1e-12)
    assert fading.log_distance_gain(500.0, 128.1, 37.6) == pytest.approx(
        10 ** (-(128.1 + 37.6 * math.log10(0.5)) / 10), rel=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fading_draws_have_unit_mean_and_the_right_spread(dtype):
    u = np.random.default_rng(0).random((3, 400_000)).astype(dtype)
    ray = fading.exponential(u[0])
    normal = fading.standard_normal(u[1])
    ric = fading.rician_power(normal[:200_000], normal[200_000:], 3.0)
    assert ray.dtype == normal.dtype == ric.dtype == dtype
    ray, ric, normal = ray.astype(float), ric.astype(float), normal.astype(float)
    assert normal.mean() == pytest.approx(0.0, abs=0.01) and normal.std() == pytest.approx(1.0, abs=0.01)
    assert ray.mean() == pytest.approx(1.0, abs=0.01) and (ray**2).mean() == pytest.approx(2.0, abs=0.05)
    # Rician K = 3: E|h|^4 = (K^2 + 4K + 2) / (K + 1)^2 = 23 / 16.
    assert ric.mean() == pytest.approx(1.0, abs=0.01) and (ric**2).mean() == pytest.approx(23 / 16, abs=0.02)
    assert fading.exponential(np.zeros(1, dtype))[0] > 0  # U = 0 never gives a zero channel gain
    shadow_db = 10 * np.log10(fading.lognormal_shadowing(normal, 8.0).astype(float))
    assert shadow_db.std() == pytest.approx(8.0, abs=0.05) and abs(shadow_db.mean()) < 0.05


def test_poisson_counts_by_inversion():
    u = np.random.default_rng(1).random(400_000)
    for mean in (1.0, 7.5):
        counts = queues.poisson_counts(u, mean)
        assert counts.mean() == pytest.approx(mean, rel=0.01) and counts.var() == pytest.approx(mean, rel=0.02)
        assert np.mean(counts == 0) == pytest.approx(math.exp(-mean), abs=2e-3)
    assert queues.poisson_counts(np.array([0.0, 0.5]), 1.0).tolist() == [0.0, 1.0]  # CDF(0) = e^-1 = 0.37
    assert queues.poisson_counts(u[:10], 0.0).tolist() == [0.0] * 10


def test_semantic_accuracy_curve_and_threshold():
    # Defaults: eps_max 1, slope 0.5 / dB, midpoint 0.2 dB -> eps = 0.9 at 0.2 + 2 ln 9 = 4.594 dB (SPEC: ~4.6 dB).
    assert semantic.accuracy(0.2, 1.0, 0.5, 0.2) == pytest.approx(0.5)
    threshold_db = 0.2 + math.log(9.0) / 0.5
    assert semantic.accuracy(threshold_db, 1.0, 0.5, 0.2) == pytest.approx(0.9, rel=1e-12)
    assert semantic.snr_for_accuracy(0.9, 1.0, 0.5, 0.2) == pytest.approx(10 ** (threshold_db / 10), rel=1e-12)
    with pytest.raises(ValueError, match="eps_min"):
        semantic.snr_for_accuracy(0.95, 0.9, 0.5, 0.2)


def test_execution_and_offloading_formulas_by_hand():
    assert semantic.tasks_per_slot(TAU, N_L, F_L, L_EN + L_DE) == pytest.approx(TAU * N_L * F_L / 8e9)  # eq. 5
    assert semantic.tasks_per_slot(TAU, N_E, F_E, L_DE) == pytest.approx(TAU * 6912 * 1.41e9 / 5.5e9)  # eq. 7
    assert semantic.cubic_power(A_L, F_L) == pytest.approx(100.0, rel=1e-3)  # SPEC: alpha^L (1.2 GHz)^3 = 100 W
    b, gain, u = 25e3, 2e-12, 3.0
    p = (2 ** (u * S * K0 / (TAU * b)) - 1) * SIGMA2 * b / gain  # eq. 12 with the -1
    assert semantic.mcc_transmit_power(u, TAU, b, S * K0, gain, SIGMA2) == pytest.approx(p, rel=1e-12)
    u_max = TAU * b / (S * K0) * math.log2(1 + P_MAX * gain / (b * SIGMA2))
    assert semantic.mcc_max_volume(P_MAX, TAU, b, S * K0, gain, SIGMA2) == pytest.approx(u_max, rel=1e-12)
    assert semantic.mcc_transmit_power(u_max, TAU, b, S * K0, gain, SIGMA2) == pytest.approx(P_MAX, rel=1e-9)
    assert semantic.semantic_capacity(TAU, 250e3, S, K) == pytest.approx(TAU * 250e3 / 240)


def test_queue_updates_by_hand():
    assert queues.local_queue_update(np.array([3.0, 1.0]), np.array([2.5, 4.0]), np.array([1.0, 2.0])).tolist() == [
        1.5,
        2.0,
    ]  # eq. 1
    assert queues.edge_queue_update(np.array([2.0]), np.array([0.5]), np.array([1.0])).tolist() == [2.5]  # eq. 2
    assert queues.virtual_queue_update(np.array([1.0, 0.0]), np.array([5.5, 2.0]), 5.0).tolist() == [1.5, 0.0]
    assert queues.virtual_queue_update(np.array([4.0]), np.array([9.0]), None).tolist() == [0.0]  # no bound


# ------------------------------------------------------------ pinned episodes
POSITIONS = [(100.0, 0.0), (0.0, -120.0)]
MCC = (500.0, 0.0)
ARRIVALS = [[3.0, 0.0], [1.0, 2.0]]


def pinned() -> SemanticInstance:
    d_mec = [math.hypot(x, y) for x, y in POSITIONS]
    d_mcc = [math.hypot(x - MCC[0], y - MCC[1]) for x, y in POSITIONS]
    ones = np.ones((3, 2))
    return SemanticInstance(
        position=np.array(POSITIONS),
        mcc_position=np.array(MCC),
        distance_mec=np.array(d_mec),
        distance_mcc=np.array(d_mcc),
        pathloss_mec=np.array([pathloss(d, 140.7, 36.7) for d in d_mec]),
        pathloss_mcc=np.array([pathloss(d, 128.1, 37.6) for d in d_mcc]),
        fading_mec=ones,
        fading_mcc=ones,
        shadowing_mcc=ones,
        arrivals=np.array(ARRIVALS),
    )


def make_env(**extra):
    config = dict(n_ues=2, chi_mec=1, chi_mcc=1, max_cycles=2, q_local_max=2.0, q_edge_max=1.0)
    env = mec_marl.make("semantic_v0", **{**config, **extra})
    env.reset(seed=0, options={"instance": pinned()})
    return env


def test_two_pinned_slots_by_hand():
    env = make_env()
    cfg = env.unwrapped.config
    both_on_ue0 = encode_action(cfg, np.array([1.0, 0.0]), np.array([1.0, 0.0]))
    _, r1, _, _, i1 = env.step(both_on_ue0)
    info = i1["controller"]
    # Slot 0: empty queues, nothing to serve; Q^L(1) = Lambda(0), Z^L(1) = max(Q^L(1) - 2, 0).
    assert info["q_local"].tolist() == [3.0, 0.0] and info["z_local"].tolist() == [1.0, 0.0]
    assert info["system_power"] == 0.0 and r1["controller"] == 0.0
    obs, r2, _, trunc, i2 = env.step(both_on_ue0)
    info = i2["controller"]
    # Slot 1, UE 0: w^L = Q^L + Z^L = 4, w^E = 0; closed forms of P3.1-P3.3.
    w_l, q_l = 4.0, 3.0
    h_mec = pathloss(100.0, 140.7, 36.7)
    h_mcc = pathloss(math.hypot(100.0 - 500.0, 0.0), 128.1, 37.6)
    u_e_bar = math.sqrt((TAU * N_L / L_EN) ** 3 * w_l / (3 * V * A_L))
    u_e = min(u_e_bar, q_l, TAU * F_L * N_L / L_EN, TAU * 1e6 / (S * K))
    b_c = 50e3
    u_c_bar = TAU * b_c / (S * K0) * math.log2(w_l * TAU * h_mcc / (math.log(2) * V * S * K0 * SIGMA2))
    u_c_max = TAU * b_c / (S * K0) * math.log2(1 + P_MAX * h_mcc / (b_c * SIGMA2))
    u_c = max(min(u_c_bar, q_l - u_e, u_c_max), 0.0)
    f_en = u_e * L_EN / (TAU * N_L)
    f_bar = math.sqrt(w_l * TAU * N_L / (3 * V * (L_EN + L_DE) * A_L))
    f_l = min(f_bar, F_L - f_en, (q_l - u_e - u_c) * 8e9 / (TAU * N_L))
    u_l = TAU * N_L * f_l / 8e9
    assert info["u_mec"][0] == pytest.approx(u_e, rel=1e-12)
    assert info["u_mcc"][0] == pytest.approx(u_c, rel=1e-12)
    assert info["u_local"][0] == pytest.approx(u_l, rel=1e-9, abs=1e-12)
    assert info["u_mec"][1] == 0 and info["u_mcc"][1] == 0 and info["u_local"][1] == 0  # UE 1: empty queue
    # Powers: eq. 6 circuit model, eq. 12, and the semantic power for eps >= 0.9 (SNR 4.594 dB) on b^E = 1 MHz.
    snr_min = 10 ** ((0.2 + math.log(9) / 0.5) / 10)
    p_sem = snr_min * 1e6 * SIGMA2 / h_mec
    p_mcc = (2 ** (u_c * S * K0 / (TAU * b_c)) - 1) * SIGMA2 * b_c / h_mcc
    power = A_L * (f_l**3 + f_en**3) + p_mcc + p_sem
    assert info["system_power"] == pytest.approx(power, rel=1e-9)
    assert info["system_energy"] == pytest.approx(power * TAU, rel=1e-9)
    assert info["power"][0] == pytest.approx(p_mcc + p_sem, rel=1e-9)
    # Queues (eq. 1, 2, 15, 16) with Lambda(1) = [1, 2].
    q_l_next = q_l - (u_l + u_e + u_c) + 1.0
    assert info["q_local"] == pytest.approx([q_l_next, 2.0])
    assert info["q_edge"] == pytest.approx([u_e, 0.0])
    assert info["z_local"] == pytest.approx([max(1.0 + q_l_next - 2.0, 0.0), 0.0])
    assert info["z_edge"] == pytest.approx([max(u_e - 1.0, 0.0), 0.0])
    assert info["slack_backlog"][0] == pytest.approx(q_l - u_l - u_e - u_c, abs=1e-12)
    # Reward -G (eq. 22): UE 0 weight 4 with Lambda = 1; UE 1 weight 0.
    g = -w_l * (u_l + u_e + u_c - 1.0) + V * power
    assert r2["controller"] == pytest.approx(-g, rel=1e-9)
    g_fn = queues.drift_plus_penalty(
        np.array([w_l, 0.0]), np.zeros(2), np.array([u_l + u_e + u_c, 0.0]), np.array([1.0, 2.0]),
        np.zeros(2), np.array([u_e, 0.0]), np.array([power, 0.0]), V,
    )
    assert g_fn == pytest.approx(g, rel=1e-12)
    # Episode metrics: time averages over the two slots.
    ep = info["episode"]
    assert trunc["controller"] and ep["length"] == 2
    assert ep["queue_local"] == pytest.approx(((3.0 + 0.0) / 2 + (q_l_next + 2.0) / 2) / 2)
    assert ep["system_power"] == pytest.approx(power / 2, rel=1e-9)
    assert ep["served_ratio"] == pytest.approx((u_l + u_e + u_c) / 6.0, rel=1e-9)
    # The final observation shows slot 2's channels: log10(p_max |h|^2 / (b sigma^2)) with b = BW / chi.
    assert obs["controller"][0] == pytest.approx(math.log10(P_MAX * h_mec / (1e6 * SIGMA2)), rel=1e-6)
    assert obs["controller"][2] == pytest.approx(math.log10(P_MAX * h_mcc / (b_c * SIGMA2)), rel=1e-6)


def test_exact_solver_is_never_worse_in_the_env():
    rewards = {}
    for solver in ("closed_form", "exact"):
        env = make_env(solver=solver, max_cycles=2)
        act = encode_action(env.unwrapped.config, np.array([1.0, 0.0]), np.array([1.0, 0.0]))
        env.step(act)
        rewards[solver] = env.step(act)[1]["controller"]
    assert rewards["exact"] >= rewards["closed_form"] - 1e-9
    assert rewards["exact"] > rewards["closed_form"] + 1e-6  # (14i) is tight on this slot


def test_users_mode_quantises_all_scores_jointly():
    env = mec_marl.make("semantic_v0", agent_mode="users", n_ues=4, chi_mec=2, chi_mcc=1, max_cycles=3)
    env.reset(seed=1)
    scores = {"ue_0": [0.9, 0.1], "ue_1": [0.2, 0.8], "ue_2": [0.7, 0.3], "ue_3": [0.1, 0.2]}
    _, rewards, _, _, infos = env.step({a: np.array(s, dtype=np.float32) for a, s in scores.items()})
    assert infos["ue_0"]["rho_mec"].tolist() == [True, False, True, False]
    assert infos["ue_0"]["rho_mcc"].tolist() == [False, True, False, False]
    assert len(set(rewards.values())) == 1  # one team reward


def test_pre_drawn_episode_randomness():
    env = mec_marl.make("semantic_v0", max_cycles=400, arrival_rate=300.0)
    env.reset(seed=3)
    inst = env.unwrapped.instance
    assert inst.fading_mec.shape == (401, 8) and inst.arrivals.shape == (400, 8)
    assert inst.arrivals.mean() == pytest.approx(3.0, abs=0.15)  # Poisson(Lambda tau)
    assert np.all((inst.distance_mec >= 50) & (inst.distance_mec <= 150))
    env2 = mec_marl.make("semantic_v0", max_cycles=400, arrival_rate=300.0, shadowing="episode")
    env2.reset(seed=3)
    assert np.all(env2.unwrapped.instance.shadowing_mcc == env2.unwrapped.instance.shadowing_mcc[0])


def test_slot_gather_with_batches_at_different_slots():
    from mec_marl.envs.semantic import _at_slot

    arr = np.arange(3 * 5 * 2, dtype=float).reshape(3, 5, 2)
    t = np.array([0, 4, 2])
    expected = np.stack([arr[0, 0], arr[1, 4], arr[2, 2]])
    np.testing.assert_array_equal(_at_slot(arr, t), expected)
    np.testing.assert_array_equal(_at_slot(arr, np.array([3, 3, 3])), arr[:, 3])
    np.testing.assert_array_equal(_at_slot(arr[0], np.array(1)), arr[0, 1])
