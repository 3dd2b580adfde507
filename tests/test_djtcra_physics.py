"""djtcra_v0 physics against hand calculations of the DJTCRA paper's eq. (1)-(11) and SPEC's cloud.

Expected values are written out with plain ``math`` from the paper's
equations, never by calling ``mec_marl.physics``; the env is driven through a
pinned instance where every ES serves at most one user, so each ES's
allocation is its whole capacity (or nothing) and the whole slot can be
computed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mec_marl
from mec_marl.config import ConfigError
from mec_marl.envs.djtcra import DjtcraInstance
from mec_marl.envs.djtcra_world import sample_instance, swap_eta
from mec_marl.physics import channel

KB = 8192.0
H_BS, H_UT, H_BAR, FC_GHZ = 35.0, 1.5, 5.0, 5.0


def pl_by_hand(d2):
    """3GPP RMa LOS (eq. 2-5) with math only."""
    d3 = math.sqrt(d2**2 + (H_BS - H_UT) ** 2)
    d_bp = 2 * math.pi * H_BS * H_UT * FC_GHZ * 1e9 / 3e8

    def pl1(d):
        return (
            20 * math.log10(40 * math.pi * d * FC_GHZ / 3)
            + min(0.03 * H_BAR**1.72, 10) * math.log10(d)
            - min(0.044 * H_BAR**1.72, 14.77)
            + 0.002 * math.log10(H_BAR) * d
        )

    return pl1(d3) if d2 <= d_bp else pl1(d_bp) + 40 * math.log10(d3 / d_bp)


@pytest.mark.parametrize("d2,spec_db", [(30.0, 79.6), (100.0, 87.3), (6000.0, 131.5)])
def test_rural_macro_path_loss_by_hand(d2, spec_db):
    got = float(channel.rural_macro_path_loss_db(d2))
    assert got == pytest.approx(pl_by_hand(d2), abs=1e-9)
    assert got == pytest.approx(spec_db, abs=0.05)  # SPEC's numbers
    if d2 > 5000:
        assert channel.breakpoint_distance(H_BS, H_UT, 5e9) < d2  # PL2 branch


# Three RANs/ESs; user 0 stays at ES 0, user 1 is forwarded RAN 0 -> ES 1, user 2
# is forwarded RAN 2 -> ES 1 over a 0.5 s link, so the cloud beats ES 1 for it.
CAP = (10e9, 20e9, 30e9)
USERS = dict(
    ran=[0, 0, 2],
    distance=[30.0, 60.0, 100.0],
    noise_dbm=[-100.0, -90.0, -110.0],
    bandwidth=[20e6, 30e6, 40e6],
    task_volume=[300 * KB, 500 * KB, 400 * KB],
    result_volume=[10 * KB, 15 * KB, 20 * KB],
    cycles_per_bit=[250.0, 300.0, 228.0],
    alpha=[15.0, 12.0, 20.0],
    beta=[0.35, 0.36, 0.34],
)
ETA = [[1.0, 3.0, 2.0], [4.0, 0.5, 1.0], [2.0, 1.5, 1.0]]
RATE = [[0, 100e6, 80e6], [100e6, 0, 150e6], [80e6, 150e6, 0]]
DELAY = [[0, 0.015, 0.012], [0.015, 0, 0.5], [0.012, 0.5, 0]]
ASSIGN = [0, 1, 1]


def pinned():
    row = lambda k: np.array([USERS[k]], dtype=float)  # noqa: E731  (T = 1 slot)
    return DjtcraInstance(
        eta=np.array(ETA), link_rate=np.array(RATE), link_delay=np.array(DELAY),
        ran=np.array([USERS["ran"]]), distance=row("distance"),
        noise=10 ** ((row("noise_dbm") - 30) / 10), bandwidth=row("bandwidth"),
        task_volume=row("task_volume"), result_volume=row("result_volume"),
        cycles_per_bit=row("cycles_per_bit"), alpha=row("alpha"), beta=row("beta"),
    )


def make(**extra):
    cfg = dict(num_users=3, n_servers=3, capacities=list(CAP), max_cycles=1, observation_scale="si")
    cfg.update(extra)
    return mec_marl.make("djtcra_v0", **cfg)


def by_hand(u):
    v_t, v_r = USERS["task_volume"][u], USERS["result_volume"][u]
    g = 10 ** (-pl_by_hand(USERS["distance"][u]) / 10)
    noise = 10 ** ((USERS["noise_dbm"][u] - 30) / 10)
    d_c = (v_t + v_r) / (USERS["bandwidth"][u] * math.log2(1 + 0.1 * g / noise))  # eq. 1, 20 dBm
    cycles = v_t * USERS["cycles_per_bit"][u]
    cloud = d_c + (v_t + v_r) / 100e6 + 2 * 0.2 + cycles / 20e9  # SPEC's RCS
    i, j = USERS["ran"][u], ASSIGN[u]
    d_f = 0.0 if i == j else (v_t + v_r) / RATE[i][j] + 2 * DELAY[i][j]  # eq. 6
    edge = d_c + d_f + ETA[u][j] * cycles / CAP[j]  # eq. 8, 9 with the whole capacity
    qoe = lambda d: 1 / (1 + math.exp(USERS["alpha"][u] * (d - USERS["beta"][u])))  # noqa: E731  eq. 11
    return edge, cloud, qoe(edge), qoe(cloud)


def test_one_slot_by_hand():
    env = make()
    obs, _ = env.reset(options={"instance": pinned()})
    actions = {}
    for h, agent in enumerate(env.agents):
        a = np.zeros((3, 3), dtype=np.float32)
        a[np.arange(3), ASSIGN] = 1.0
        actions[agent] = a
    _, rewards, _, _, infos = env.step(actions)
    info = infos["es_0"]
    e0, _, q0, _ = by_hand(0)
    e1, _, q1, _ = by_hand(1)
    _, c2, _, qc2 = by_hand(2)
    # User 2's best edge QoE (infinite CPU at ES 1, 1 s of forwarding) loses to the cloud.
    assert 1 / (1 + math.exp(20 * (1.0 - 0.34))) < qc2
    np.testing.assert_allclose(info["latency"], [e0, e1, c2], rtol=1e-9)
    np.testing.assert_allclose(info["qoe"], [q0, q1, qc2], rtol=1e-9)
    np.testing.assert_allclose(info["edge_cpu"], [CAP[0], CAP[1], 0.0], rtol=1e-9)
    np.testing.assert_array_equal(info["offload"], [1, 2, 4])  # ES 0, ES 1, cloud (H + 1)
    assert rewards["es_1"] == pytest.approx(q0 + q1 + qc2, rel=1e-12)
    assert info["system_qoe"] == pytest.approx(q0 + q1 + qc2, rel=1e-12)
    assert info["avg_latency"] == pytest.approx((e0 + e1 + c2) / 3, rel=1e-12)
    qs = [q0, q1, qc2]
    assert info["su"] == sum(q > 0.9 for q in qs) and info["gu"] == sum(q < 0.1 for q in qs)
    assert info["du"] == 3 - info["su"] - info["gu"] and info["cu"] == 1
    assert infos["es_0"]["own_qoe"] == pytest.approx(q0 + q1)  # r^h: its connected users
    assert infos["es_1"]["own_qoe"] == 0.0 and infos["es_2"]["own_qoe"] == pytest.approx(qc2)


def test_observation_rows_are_eq_18_with_other_users_zeroed():
    env = make()
    obs, _ = env.reset(options={"instance": pinned()})
    row1 = [1, 500 * KB, 15 * KB, 300.0, 12.0, 0.36, 60.0, 30e6, 10 ** ((-90 - 30) / 10)]
    np.testing.assert_allclose(obs["es_0"][1], row1, rtol=1e-6)
    assert np.all(obs["es_0"][2] == 0) and np.all(obs["es_1"] == 0)
    assert obs["es_2"][2, 0] == 3  # RAN numbered from 1
    np.testing.assert_allclose(env.state()[1], row1, rtol=1e-6)


def test_users_mode_runs_the_same_physics():
    env = make(agent_mode="users")
    env.reset(options={"instance": pinned()})
    _, rewards, _, _, infos = env.step({f"user_{u}": ASSIGN[u] for u in range(3)})
    qs = [by_hand(0)[2], by_hand(1)[2], by_hand(2)[3]]
    assert rewards["user_0"] == pytest.approx(sum(qs), rel=1e-12)
    assert infos["user_1"]["own_qoe"] == pytest.approx(qs[1], rel=1e-9)


def test_eta_swap_moves_each_row_minimum_to_its_es():
    rng = np.random.default_rng(3)
    eta = rng.uniform(0.5, 8, (40, 5))
    swapped = swap_eta(eta, np.random.default_rng(4), 1.0)
    np.testing.assert_array_equal(np.sort(swapped, axis=1), np.sort(eta, axis=1))  # a permutation per row
    changed = (swapped != eta).any(axis=1)
    argmins = swapped.argmin(axis=1)
    # every user holds its minimum in the column it was drawn for; users whose minimum
    # was already there are unchanged, the others had exactly two entries swapped
    assert np.all((swapped != eta).sum(axis=1)[changed] == 2)
    assert np.all(swapped[np.arange(40), argmins] == eta.min(axis=1))


def test_alpha_and_beta_are_redrawn_until_positive():
    env = make(num_users=200, max_cycles=50, alpha_mean=1.0, alpha_std=4.0)
    inst = sample_instance(env.config, np.random.default_rng(0))
    assert np.all(inst.alpha > 0) and np.all(inst.beta > 0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"capacities": ["60 GHz"] * 6}, "capacities has 6 entries"),
        ({"capacities": [60e9] * 6 + [-1e9]}, "capacities"),
        ({"n_servers": 3}, "n_servers"),
        ({"task_volume_max": "100 KB"}, "task_volume_max"),
        ({"task_volume_max": "2e10 bits"}, "task_volume_max"),
    ],
)
def test_bad_config_is_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        mec_marl.make("djtcra_v0", **kwargs)


def test_task_volume_max_sets_the_upper_bound_of_v_t():
    """Fig. 10's axis: V^T ~ U[200 KB, MTV]; the draws and the normalised V^T column follow it."""
    env = mec_marl.make("djtcra_v0", num_users=500, task_volume_max="1000 KB")
    assert env.config.task_volume_range == (200 * KB, 1000 * KB)
    inst = sample_instance(env.config, np.random.default_rng(0))
    assert inst.task_volume.min() >= 200 * KB and inst.task_volume.max() <= 1000 * KB
    assert inst.task_volume.max() > 800 * KB  # 500 x 10 draws: P(all <= 800 KB) = 0.75^5000
    env.reset(seed=0)
    v = env.state()[:, 1]
    assert v.max() <= 1.0 and v.max() > 0.8  # V^T / 1000 KB


def test_non_positive_alpha_in_a_pinned_instance_is_refused():
    env = make()
    env.reset(seed=0)
    bad = pinned()
    bad = DjtcraInstance(**{**bad.__dict__, "alpha": np.array([[15.0, -1.0, 20.0]])})
    with pytest.raises(ValueError, match="alpha must be positive"):
        env.reset(options={"instance": bad})
