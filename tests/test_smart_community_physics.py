"""smart_community_v0 physics against hand formulas (PFR-OA eq. 1-15, 19; battery cases eq. 8-13).

Every expected value is written out from the paper's formulas and SPEC's rules
on pinned instances; none is computed by the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mec_marl
from mec_marl.config import ConfigError
from mec_marl.envs.smart_community import SmartCommunityInstance
from mec_marl.physics import battery, queues

G0, ALPHA, NOISE, TAU, TD = 10**2.63, 4.0, 1e-6, 0.4, 1.5
Q = (0.8, 0.6, 15.0)  # q_t, q_e, q_p


def pinned(distance, cpu, power, tasks, weights=Q):
    """One community; ``tasks[j]`` = list of (arrival s, D bits, C cycles) of ED j, padded with inf."""
    n = len(distance)
    k = max(1, max(len(t) for t in tasks))
    arrival = np.full((1, n, k), np.inf)
    data = np.ones((1, n, k))
    cycles = np.ones((1, n, k))
    for j, items in enumerate(tasks):
        for slot, (a, d, c) in enumerate(items):
            arrival[0, j, slot], data[0, j, slot], cycles[0, j, slot] = a, d, c
    distance = np.array([distance], dtype=float)
    return SmartCommunityInstance(
        distance=distance,
        gain=G0 * distance**-ALPHA,
        cpu_freq=np.array([cpu], dtype=float),
        power=np.array([power], dtype=float),
        weights=np.array([weights], dtype=float),
        arrival_time=arrival,
        data_size=data,
        cycles=cycles,
    )


def make(**config):
    base = dict(n_communities=1, n_devices=3, initial_battery=0.5, harvest=5.0)
    return mec_marl.make("smart_community_v0", **{**base, **config})


def action(alpha, w=(1.0, 1.0, 1.0), beta=(1.0, 1.0, 1.0)):
    return {"community_0": np.array([*alpha, *w, *beta], dtype=np.float32)}


LOCAL = action((-1, -1, -1))


# ----------------------------------------------------------- unit functions
def test_battery_cases_by_hand():
    b, e, cap = 60.0, 5.0, 120.0
    assert battery.next_level(b, e, 0.0, cap) == 65.0  # eq. 8
    assert battery.next_level(118.0, 5.0, 0.0, cap) == 120.0  # eq. 8 capped at b_max
    assert battery.next_level(b, e, battery.local_charge(10.0), cap) == 55.0  # eq. 9 / 10
    assert battery.next_level(3.0, 1.0, 10.0, cap) == 0.0  # clipped at 0
    assert battery.drawn(3.0, 1.0, 10.0) == 4.0
    assert battery.edge_success_charge(2.0, 8.0) == 10.0  # eq. 11
    assert battery.upload_failure_charge(0.3, 2.0, TAU) == pytest.approx(0.3 * 0.4)  # eq. 12, T^tr > tau
    assert battery.upload_failure_charge(0.3, 0.1, TAU) == pytest.approx(0.3 * 0.1)  # T^tr < tau
    # eq. 13: E^tr + P_m (tau - T^tr), clipped to [0, T^m]
    assert battery.edge_failure_charge(1.0, 100.0, 0.1, 5.0, TAU) == pytest.approx(1.0 + 100.0 * 0.3)
    assert battery.edge_failure_charge(1.0, 100.0, 0.1, 0.2, TAU) == pytest.approx(1.0 + 100.0 * 0.2)
    assert battery.edge_failure_charge(1.0, 100.0, 0.5, 5.0, TAU) == pytest.approx(1.0)
    case = battery.classify(
        started=[False, True, True, True, True, True],
        offload=[False, False, False, True, True, True],
        local_ok=[True, True, False, True, True, True],
        upload_ok=[True, True, True, True, False, True],
        edge_ok=[True, True, True, True, True, False],
    )
    assert case.tolist() == [8, 9, 10, 11, 12, 13]


def test_queue_window_by_hand():
    arrival = np.array([[0.1, 0.3, 0.9, np.inf], [0.5, np.inf, np.inf, np.inf]])
    assert queues.arrived(arrival, 0.4).tolist() == [2, 0]
    assert queues.length(arrival, np.array([1, 0]), 1.0).tolist() == [2, 1]
    assert queues.head_value(arrival, np.array([2, 7])).tolist() == [0.9, np.inf]
    head, dropped = queues.expire(arrival, np.array([0, 0]), 1.85, TD)
    assert head.tolist() == [2, 0] and dropped.tolist() == [2, 0]  # 0.1 and 0.3 waited >= 1.5 s
    head, dropped = queues.expire(arrival, np.array([3, 0]), 1.85, TD)
    assert head.tolist() == [3, 0] and dropped.tolist() == [0, 0]  # already past them
    assert queues.window_sum(arrival, np.array([0, 0]), np.array([2, 0])).tolist() == [pytest.approx(0.4), 0.0]


# ------------------------------------------------------- local execution
def test_local_success_delay_failure_idle_and_drop():
    inst = pinned(
        distance=[50.0, 50.0, 50.0],
        cpu=[1e9, 1e9, 1e9],
        power=[0.2, 0.2, 0.2],
        tasks=[[(0.1, 8e6, 1.0e9)], [(0.05, 8e6, 1.2e9), (0.08, 8e6, 1.0e9)], []],
    )
    env = make()
    env.reset(options={"instance": inst})
    _, rew, _, _, info = env.step(LOCAL)  # t = 0: the tasks arrive inside the sub-slot, nothing starts
    assert rew["community_0"] == 0.0
    np.testing.assert_allclose(info["community_0"]["battery"], [65.0, 65.0, 65.0])  # eq. 8: 60 + 5
    assert info["community_0"]["battery_case"].tolist() == [8, 8, 8]

    _, rew, _, _, info = env.step(LOCAL)  # t = 1 (0.4 s): ED0 and ED1 start
    i = info["community_0"]
    # ED0: T^w = 0.3, T^l = C / f = 1.0 s, T = 1.3 <= 1.5; E^l = k C f^2 = 1e-26 * 1e9 * 1e18 = 10 J
    # ED1: T^w = 0.35, T^l = 1.2 s, T = 1.55 > 1.5 fails C2 but runs and is charged 12 J (eq. 10)
    np.testing.assert_allclose(i["latency"], [1.3, 1.55, 0.0])
    np.testing.assert_allclose(i["energy"], [10.0, 12.0, 0.0])
    assert i["success"].tolist() == [True, False, False]
    assert i["battery_case"].tolist() == [9, 10, 8]
    np.testing.assert_allclose(i["battery"], [65 + 5 - 10, 65 + 5 - 12, 70.0])
    assert rew["community_0"] == pytest.approx(-(0.8 * 1.3 + 0.6 * 10.0) - 15.0)  # eq. 19
    np.testing.assert_allclose(i["cpu_freq"], [1e9, 1e9, 0.0])

    _, rew, _, _, info = env.step(LOCAL)  # t = 2: both busy; ED1's second task waited 1.12 s
    assert rew["community_0"] == 0.0 and info["community_0"]["dropped"].tolist() == [0, 0, 0]
    _, rew, _, _, info = env.step(LOCAL)  # t = 3: at 1.6 s the queued task has waited 1.52 >= T_d
    i = info["community_0"]
    assert i["dropped"].tolist() == [0, 1, 0]
    assert i["waiting"][1] == pytest.approx(1.6 - 0.08)
    assert i["energy"][1] == 0.0 and i["tasks"] == 1.0 and i["successes"] == 0.0
    assert rew["community_0"] == pytest.approx(-15.0)


def test_battery_failure_c3_local():
    inst = pinned(distance=[50.0], cpu=[1e9], power=[0.2], tasks=[[(0.1, 8e6, 1.0e9)]])
    env = make(n_devices=1, initial_battery=5.0 / 120.0, harvest=0.0)
    env.reset(options={"instance": inst})
    env.step(action((-1,), (1,), (1,)))
    _, rew, _, _, info = env.step(action((-1,), (1,), (1,)))
    i = info["community_0"]
    # Meets T_d (1.3 s) but E^l = 10 J > b = 5 J: C3 fails, eq. 10 empties the battery.
    assert i["battery_case"].tolist() == [10] and i["success"].tolist() == [False]
    assert i["battery"][0] == 0.0 and i["energy"][0] == pytest.approx(5.0)
    assert rew["community_0"] == pytest.approx(-15.0)


# --------------------------------------------------------- offloading
def _snr(power, distance):
    return power * G0 * distance**-ALPHA / NOISE


def test_edge_success_upload_failure_edge_failure():
    d, p, data, cyc = 10.0, 0.2, 4e6, 1e9
    inst = pinned(
        distance=[d, d, d],
        cpu=[1e9, 1e9, 1e9],
        power=[p, p, p],
        tasks=[[(0.1, data, cyc)], [(0.1, data, cyc), (0.2, data, cyc)], [(0.1, data, cyc)]],
    )
    env = make()
    env.reset(options={"instance": inst})
    env.step(LOCAL)
    # a = -1 maps to a share of 0, floored at min_share = 1e-3 before renormalising over the offloaders.
    _, rew, _, _, info = env.step(action((1, 1, 1), w=(1, -1, 1), beta=(1, 1, -1)))
    i = info["community_0"]
    total = 2.001
    w = np.array([1, 1e-3, 1]) / total
    beta = np.array([1, 1, 1e-3]) / total
    np.testing.assert_allclose(i["bandwidth"], w * 15e6)
    np.testing.assert_allclose(i["edge_cpu"], beta * 20e9)
    assert i["bandwidth"].sum() == pytest.approx(15e6) and i["edge_cpu"].sum() == pytest.approx(20e9)  # C4, C5
    rate = w * 15e6 * math.log2(1 + _snr(p, d))  # eq. 1
    t_up = data / rate  # eq. 2
    e_up = p * t_up  # eq. 3
    t_m = cyc / (beta * 20e9)  # eq. 6
    e_m = 100.0 * t_m  # eq. 7
    assert i["battery_case"].tolist() == [11, 12, 13]
    assert i["success"].tolist() == [True, False, False]
    expected_energy = [
        e_up[0] + e_m[0],  # eq. 11
        p * min(TAU, t_up[1]),  # eq. 12: the upload takes ~41 s > T_d
        e_up[2] + 100.0 * min(max(TAU - t_up[2], 0.0), t_m[2]),  # eq. 13: T^m = 100 s
    ]
    np.testing.assert_allclose(i["energy"], expected_energy, rtol=1e-12)
    np.testing.assert_allclose(i["battery"], np.minimum(65 + 5 - np.array(expected_energy), 120), rtol=1e-12)
    t0 = 0.3 + t_up[0] + t_m[0]  # eq. 14
    assert i["latency"][0] == pytest.approx(t0)
    assert rew["community_0"] == pytest.approx(-(0.8 * t0 + 0.6 * expected_energy[0]) - 2 * 15.0)

    # The failed upload keeps ED1 busy for its whole T^tr: its second task waits and is dropped at 2.0 s.
    for t in (2, 3):
        _, _, _, _, info = env.step(action((1, 1, 1)))
        assert not info["community_0"]["started"][1]
        assert info["community_0"]["dropped"].tolist() == [0, 0, 0]
    _, _, _, _, info = env.step(action((1, 1, 1)))
    assert info["community_0"]["dropped"].tolist() == [0, 1, 0]
    assert info["community_0"]["waiting"][1] == pytest.approx(2.0 - 0.2)


def test_edge_failure_on_battery_c3():
    d, p, data, cyc = 10.0, 0.2, 4e6, 1e9
    inst = pinned(distance=[d], cpu=[1e9], power=[p], tasks=[[(0.1, data, cyc)]])
    env = make(n_devices=1, initial_battery=2.0 / 120.0, harvest=0.0)
    env.reset(options={"instance": inst})
    env.step(action((1,), (1,), (1,)))
    _, _, _, _, info = env.step(action((1,), (1,), (1,)))
    i = info["community_0"]
    t_up = data / (15e6 * math.log2(1 + _snr(p, d)))
    # T = 0.3 + 0.02 + 0.05 s meets T_d, but E^tr + E^m = 0.004 + 5 J > b = 2 J: eq. 13.
    assert i["battery_case"].tolist() == [13] and not i["success"][0]
    assert i["energy"][0] == pytest.approx(2.0)  # E^tr + P_m (tau - T^tr) = 35 J, only 2 J in the battery
    assert i["battery"][0] == 0.0
    assert 0.3 + t_up + cyc / 20e9 <= TD


# ---------------------------------------------------------- episode metrics
def test_episode_counts_decided_and_dropped_tasks_not_queued_ones():
    inst = pinned(distance=[50.0], cpu=[1e9], power=[0.2], tasks=[[(0.1, 8e6, 1.0e9), (0.5, 8e6, 1.0e9)]])
    env = make(n_devices=1, max_cycles=2)
    env.reset(options={"instance": inst})
    env.step(action((-1,), (1,), (1,)))
    _, _, _, trunc, info = env.step(action((-1,), (1,), (1,)))
    assert trunc["community_0"]
    episode = info["community_0"]["episode"]
    assert episode["tasks"] == 1.0  # the task that arrived at 0.5 s is still queued at 0.8 s
    assert episode["success_rate"] == 1.0
    assert episode["avg_energy"] == pytest.approx(10.0)
    assert episode["avg_waiting_time"] == pytest.approx(0.3)


def test_pinned_instance_validation_names_the_field():
    inst = pinned(distance=[50.0], cpu=[1e9], power=[0.2], tasks=[[(0.5, 8e6, 1e9), (0.1, 8e6, 1e9)]])
    env = make(n_devices=1)
    with pytest.raises(ValueError, match="arrival_time"):
        env.reset(options={"instance": inst})
    good = pinned(distance=[50.0], cpu=[1e9], power=[0.2], tasks=[[(0.1, 8e6, 1e9)]])
    import dataclasses

    with pytest.raises(ValueError, match="gain"):
        env.reset(options={"instance": dataclasses.replace(good, gain=good.gain * 2)})


@pytest.mark.parametrize(
    "key,value", [("n_communities", 0), ("bandwidth", -5e6), ("bandwidth", "-5 MHz"), ("deadline", 0.0)]
)
def test_bad_config_is_refused_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        mec_marl.make("smart_community_v0", **{key: value})


def test_boundary_tables_equal_the_direct_queue_functions():
    rng = np.random.default_rng(0)
    arrival = queues.poisson_arrivals(rng, 2.0, 30, (4, 3))
    arrival[0, 0, 5:] = np.inf  # a short sequence, padded
    arrival[1, 1, :3] = [0.4, 0.8, 1.9]  # arrivals exactly on boundaries and on s tau - T_d
    arrival[1, 1] = np.sort(arrival[1, 1])
    ready, stale, prefix = queues.arrival_tables(arrival, TAU, TD, 21)
    for s in range(21):
        now = s * TAU
        np.testing.assert_array_equal(ready[..., s], queues.arrived(arrival, now))
        np.testing.assert_array_equal(stale[..., s], queues.expire(arrival, np.zeros((4, 3), int), now, TD)[0])
    start, stop = rng.integers(0, 10, (4, 3)), rng.integers(10, 31, (4, 3))
    window = queues.head_value(prefix, stop) - queues.head_value(prefix, start)
    np.testing.assert_allclose(window, queues.window_sum(np.where(np.isfinite(arrival), arrival, 0.0), start, stop))
