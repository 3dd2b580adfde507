"""large_scale_v0 physics against hand-computed values of the OJRS paper's eq. (4)-(5), (8), (10)-(13).

Every expected value is written out with Python ``math`` from the equations
and Table I (D = 8e5 bits, F = 1e9 cycles, B = 1 MHz, F_L = 1 GHz, F_MEC =
50 GHz, kappa = 1e-27, v = 3, beta0 = -30 dB), never by calling
``mec_marl.physics`` or the solver; the env is driven through pinned
instances and its infos, rewards and observations are compared with them.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import mec_marl
from mec_marl.envs.large_scale import LargeScaleInstance

D, F, B, F_L, F_MEC, KAPPA, BETA0 = 8e5, 1e9, 1e6, 1e9, 50e9, 1e-27, 1e-3
MECS = [(10.0, 10.0), (40.0, 40.0)]  # Sec. V-A, M = 2
UES = [(13.0, 14.0), (40.0, 34.0), (25.0, 25.0)]  # distances 5 / 6 / ... m
FADING = [
    [[1.0, 0.5], [0.02, 2.0], [1.5, 1.5]],  # slot 0
    [[0.1, 1.0], [1.0, 0.01], [0.7, 0.3]],  # slot 1
]
WEIGHTS, WEIGHTS_AFTER = [1.0, 1.5, 2.0], [2.0, 1.0, 0.5]


def pinned() -> LargeScaleInstance:
    return LargeScaleInstance(
        ue_position=np.array(UES), mec_position=np.array(MECS), fading=np.array(FADING),
        weights=np.array(WEIGHTS), weights_after=np.array(WEIGHTS_AFTER),
    )


def hand(preset_p_max, noise_dbm_hz, slot, weights, decision):
    """Latency per UE and the weighted sum for a decision (0 local, j MEC j), eq. 4-5, 8, 10-13."""
    sigma2 = 10 ** (noise_dbm_hz / 10) / 1000 * B
    f0 = min(F_L, (preset_p_max / KAPPA) ** (1 / 3))  # C3, C4 with eq. 8
    t_local = F / f0  # eq. 4
    upload = []
    for i, (x, y) in enumerate(UES):
        row = []
        for j, (X, Y) in enumerate(MECS):
            r_ij = math.sqrt((X - x) ** 2 + (Y - y) ** 2)  # eq. 10
            h = BETA0 / r_ij**2 * FADING[slot][i][j]  # eq. 11
            rate = B * math.log2(1 + preset_p_max * h / sigma2)  # eq. 12
            row.append(D / rate)  # eq. 5
        upload.append(row)
    executed = [a if a == 0 or upload[i][a - 1] <= t_local else 0 for i, a in enumerate(decision)]
    loads = {j: sum(math.sqrt(weights[k] * F) for k, a in enumerate(executed) if a == j) for j in (1, 2)}
    latency = []
    for i, a in enumerate(executed):
        if a == 0:
            latency.append(t_local)
        else:
            f_ij = F_MEC * math.sqrt(weights[i] * F) / loads[a]  # KKT split (C5)
            latency.append(upload[i][a - 1] + F / f_ij)  # eq. 4-5
    objective = sum(w * t for w, t in zip(weights, latency))  # eq. 13, each task once
    return latency, objective, executed, upload


def make(**kw):
    env = mec_marl.make("large_scale_v0", n_ues=3, n_mecs=2, max_cycles=2, **kw)
    return env


@pytest.mark.parametrize("scenario,p_max,noise", [(None, 0.1, -174.0), ("large_scale_table2", 1.0, -101.0)])
def test_step_matches_eq_4_5_10_13(scenario, p_max, noise):
    env = make(scenario=scenario) if scenario else make()
    env.reset(options={"instance": pinned()})
    decision = [1, 2, 1]
    latency, objective, executed, upload = hand(p_max, noise, 0, WEIGHTS, decision)
    _, rewards, _, _, infos = env.step({"scheduler": np.array(decision)})
    info = infos["scheduler"]
    np.testing.assert_allclose(info["latency"], latency, rtol=1e-12)
    assert info["objective"] == pytest.approx(objective, rel=1e-12)
    assert rewards["scheduler"] == pytest.approx(1.0 / objective, rel=1e-12)
    assert info["latency_sum"] == pytest.approx(sum(latency), rel=1e-12)
    np.testing.assert_array_equal(info["offload"], executed)
    np.testing.assert_array_equal(info["requested"], decision)
    np.testing.assert_array_equal(info["fallback"], [a != e for a, e in zip(decision, executed)])


def test_outage_fallback_flagged_and_switchable():
    """Table2: UE 1 at 6 m from MEC 2 but fading 0.02 to MEC 1 (38 m): its upload to MEC 1 exceeds 1 s."""
    decision = [0, 1, 0]
    latency, objective, executed, upload = hand(1.0, -101.0, 0, WEIGHTS, decision)
    assert upload[1][0] > 1.0 and executed == [0, 0, 0]
    env = make(scenario="large_scale_table2")
    env.reset(options={"instance": pinned()})
    info = env.step({"scheduler": np.array(decision)})[4]["scheduler"]
    np.testing.assert_array_equal(info["fallback"], [False, True, False])
    assert info["objective"] == pytest.approx(objective, rel=1e-12) and info["fallback_rate"] == pytest.approx(1 / 3)
    off = make(scenario="large_scale_table2", outage_fallback=False)
    off.reset(options={"instance": pinned()})
    info = off.step({"scheduler": np.array(decision)})[4]["scheduler"]
    assert not info["fallback"].any()
    assert info["latency"][1] == pytest.approx(upload[1][0] + F / F_MEC, rel=1e-12)


def test_observation_is_the_slot_cqi_and_weights_and_weights_change():
    env = make(scenario="large_scale_table2", weight_change_slot=1)
    obs, _ = env.reset(options={"instance": pinned()})
    sigma2 = 10 ** (-101 / 10) / 1000 * B

    def cqi(slot):
        out = []
        for i, (x, y) in enumerate(UES):
            for j, (X, Y) in enumerate(MECS):
                h = BETA0 / ((X - x) ** 2 + (Y - y) ** 2) * FADING[slot][i][j]
                out.append(math.log2(1 + 1.0 * h / sigma2))
        return out

    np.testing.assert_allclose(obs["scheduler"], cqi(0) + WEIGHTS, rtol=1e-6)  # float32
    obs, rewards, _, _, _ = env.step({"scheduler": np.array([1, 2, 0])})
    np.testing.assert_allclose(obs["scheduler"], cqi(1) + WEIGHTS_AFTER, rtol=1e-6)
    _, objective, _, _ = hand(1.0, -101.0, 1, WEIGHTS_AFTER, [2, 2, 1])
    _, rewards, _, truncs, infos = env.step({"scheduler": np.array([2, 2, 1])})
    assert infos["scheduler"]["objective"] == pytest.approx(objective, rel=1e-12)
    np.testing.assert_array_equal(infos["scheduler"]["weight"], WEIGHTS_AFTER)
    assert truncs["scheduler"]


def test_episode_reward_is_one_over_mean_weighted_latency():
    env = make(scenario="large_scale_table2")
    env.reset(options={"instance": pinned()})
    objectives = []
    for slot, decision in enumerate(([1, 2, 1], [0, 1, 2])):
        infos = env.step({"scheduler": np.array(decision)})[4]
        objectives.append(hand(1.0, -101.0, slot, WEIGHTS, decision)[1])
    episode = infos["scheduler"]["episode"]
    assert episode["objective"] == pytest.approx(sum(objectives) / 2, rel=1e-12)
    assert episode["reward"] == pytest.approx(2 / sum(objectives), rel=1e-12)
    assert episode["return"] == pytest.approx(sum(1 / o for o in objectives), rel=1e-12)
    assert episode["return"] / 2 > episode["reward"]  # mean of 1/L exceeds 1 / mean L (Jensen)


def test_users_mode_sees_own_row_and_shares_the_reward():
    env = make(scenario="large_scale_table2", agent_mode="users")
    assert env.possible_agents == ["ue_0", "ue_1", "ue_2"]
    obs, _ = env.reset(options={"instance": pinned()})
    sched = make(scenario="large_scale_table2")
    full, _ = sched.reset(options={"instance": pinned()})
    for i in range(3):
        own = np.append(full["scheduler"][2 * i: 2 * i + 2], WEIGHTS[i]).astype(np.float32)
        np.testing.assert_array_equal(obs[f"ue_{i}"], own)
    _, rewards, _, _, infos = env.step({"ue_0": 1, "ue_1": 2, "ue_2": 1})
    _, objective, _, _ = hand(1.0, -101.0, 0, WEIGHTS, [1, 2, 1])
    assert list(rewards.values()) == pytest.approx([1 / objective] * 3, rel=1e-12)
    assert infos["ue_2"]["objective"] == pytest.approx(objective, rel=1e-12)


def test_local_cpu_cap_of_the_default_preset():
    """P_max 0.1 W: (P_max / kappa)^(1/3) = 4.64e8 Hz < F_L, so local latency is 2.154 s (eq. 4, 8)."""
    env = make()
    _, infos = env.reset(options={"instance": pinned()})
    info = infos["scheduler"]
    np.testing.assert_allclose(info["cpu_freq"], (0.1 / KAPPA) ** (1 / 3), rtol=1e-12)
    np.testing.assert_allclose(info["latency"], F / (0.1 / KAPPA) ** (1 / 3), rtol=1e-12)
    np.testing.assert_allclose(info["energy"], KAPPA * ((0.1 / KAPPA) ** (1 / 3)) ** 3 * info["latency"], rtol=1e-12)


def test_pinned_instance_checks_name_the_field():
    env = make()
    bad = dataclasses.replace(pinned(), distance=np.ones((3, 2)))
    with pytest.raises(ValueError, match="distance disagrees"):
        env.reset(options={"instance": bad})
    with pytest.raises(ValueError, match="fading has shape"):
        env.reset(options={"instance": dataclasses.replace(pinned(), fading=np.ones((3, 3, 2)))})
    with pytest.raises(ValueError, match="weights must be positive"):
        env.reset(options={"instance": dataclasses.replace(pinned(), weights=np.zeros(3))})


def test_layouts_of_sec_v_a_and_config_errors():
    for m, first in ((1, (25, 25)), (4, (10, 10)), (5, (10, 10))):
        env = mec_marl.make("large_scale_v0", n_mecs=m)
        env.reset(seed=0)
        assert env.instance.mec_position.shape == (m, 2) and tuple(env.instance.mec_position[0]) == first
    with pytest.raises(ValueError, match="weight_range"):
        mec_marl.make("large_scale_v0", weight_range=[0.0, 1.0])
    with pytest.raises(ValueError, match="n_mecs"):
        mec_marl.make("large_scale_v0", n_mecs=6)
