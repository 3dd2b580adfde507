"""wireless_powered_v0 physics against hand-computed values of DROO eq. (1)-(2) and (P1).

Expected values are written out with plain ``math`` from the equations and
DROO's constants (P = 3 W, mu = 0.7, phi = 100, k = 1e-26, B = 2 MHz,
v_u = 1.1, N_0 = 1e-10 W, w = 1, 1.5, ...), never by calling the code under
test; the env is driven through pinned instances.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mec_marl
from mec_marl.envs.wireless_powered import WirelessPoweredInstance
from mec_marl.physics import wireless_power as wpt

P, MU, PHI, K, B, VU, N0 = 3.0, 0.7, 100.0, 1e-26, 2e6, 1.1, 1e-10


def local_rate(h, a):
    """Eq. (1): f = (mu P h a / k)^(1/3) cycles/s over the whole frame, rate f / phi."""
    return (MU * P * h * a / K) ** (1 / 3) / PHI


def offload_rate(h, a, tau):
    """Eq. (2): B tau / v_u log2(1 + mu P a h^2 / (tau N0))."""
    return B * tau / VU * math.log2(1 + MU * P * a * h * h / (tau * N0))


def test_local_and_offload_rates_by_hand():
    system = wpt.WptSystem()
    h, a, tau = 3.2e-6, 0.4, 0.25
    assert wpt.local_rate(h, a, system) == pytest.approx(local_rate(h, a), rel=1e-13)
    assert wpt.offload_rate(h, a, tau, system) == pytest.approx(offload_rate(h, a, tau), rel=1e-13)
    assert wpt.harvested_energy(h, a, system) == pytest.approx(MU * P * h * a, rel=1e-15)
    assert wpt.offload_rate(h, a, 0.0, system) == 0.0  # no slot, no bits


def test_weighted_sum_rate_by_hand():
    system = wpt.WptSystem()
    h = np.array([5e-6, 2e-6, 8e-7])
    x = np.array([0, 1, 1])
    a, tau = 0.5, np.array([0.0, 0.3, 0.2])
    w = [1.0, 1.5, 1.0]
    expected = w[0] * local_rate(h[0], a) + w[1] * offload_rate(h[1], a, 0.3) + w[2] * offload_rate(h[2], a, 0.2)
    got = wpt.weighted_sum_rate(h, x, a, tau, w, system)
    assert got == pytest.approx(expected, rel=1e-13)
    np.testing.assert_array_equal(wpt.alternating_weights(5), [1, 1.5, 1, 1.5, 1])


def test_free_space_average_gain_by_hand():
    d = 2.5
    expected = 3.0 * (3e8 / (4 * math.pi * 915e6 * d)) ** 2.8
    assert wpt.path_gain(d, 3.0, 915e6, 2.8) == pytest.approx(expected, rel=1e-13)


def pinned(gains, optimal=None) -> WirelessPoweredInstance:
    gains = np.atleast_2d(np.asarray(gains, dtype=float))
    T, n = gains.shape
    return WirelessPoweredInstance(
        distance=np.linspace(2.5, 5.2, n),
        gain=gains,
        optimal_rate=np.zeros(T) if optimal is None else np.asarray(optimal, dtype=float),
        frame=np.arange(T),
    )


def test_all_local_frame_is_eq1_at_a_equal_1():
    """No device offloads: the AP charges for the whole frame (a = 1) and Q = sum w r_L(1)."""
    h = [4e-6, 1e-6, 2.5e-6]
    env = mec_marl.make("wireless_powered_v0", n_devices=3, max_cycles=1)
    env.reset(seed=0, options={"instance": pinned([h])})
    _, rewards, _, truncs, infos = env.step({"scheduler": np.zeros(3, np.float32)})
    info = infos["scheduler"]
    expected = sum(w * local_rate(g, 1.0) for w, g in zip([1.0, 1.5, 1.0], h))
    assert info["objective"] == pytest.approx(expected, rel=1e-13)
    assert rewards["scheduler"] == pytest.approx(expected * 1e-6, rel=1e-13)
    assert info["energy_fraction"] == 1.0 and not info["time_share"].any()
    np.testing.assert_allclose(info["energy"], [MU * P * g for g in h], rtol=1e-14)
    assert truncs["scheduler"] and info["episode"]["objective"] == pytest.approx(expected, rel=1e-13)


def test_one_offloader_optimum_by_scalar_search():
    """One device offloads alone: Q(a) = w eps' (1 - a) log2(1 + mu P a h^2 / ((1 - a) N0)), maximised
    over a by a golden-section search written here; the env's allocation must reach it."""
    h = 6e-6
    w = 1.0

    def q(a):
        return w * offload_rate(h, a, 1 - a)

    lo, hi = 1e-9, 1 - 1e-9
    g = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if q(m1) < q(m2):
            lo = m1
        else:
            hi = m2
    best = q((lo + hi) / 2)
    env = mec_marl.make("wireless_powered_v0", n_devices=1, max_cycles=1)
    env.reset(options={"instance": pinned([[h]])})
    _, _, _, _, infos = env.step({"scheduler": np.ones(1, np.float32)})
    info = infos["scheduler"]
    assert info["objective"] == pytest.approx(best, rel=1e-10)
    assert info["energy_fraction"] + info["time_share"][0] == pytest.approx(1.0, abs=1e-12)
    assert info["energy_fraction"] == pytest.approx((lo + hi) / 2, rel=1e-5)


def test_users_mode_decisions_and_shared_reward():
    h = [4e-6, 1e-6, 2.5e-6, 9e-6]
    env = mec_marl.make("wireless_powered_v0", n_devices=4, agent_mode="users", max_cycles=1)
    env.reset(options={"instance": pinned([h], optimal=[1.0])})
    _, rewards, _, _, infos = env.step({"wd_0": 1, "wd_1": 0, "wd_2": 0, "wd_3": 1})
    np.testing.assert_array_equal(infos["wd_2"]["offload"], [1, 0, 0, 1])
    assert len(set(rewards.values())) == 1
    info = infos["wd_0"]
    a, tau = info["energy_fraction"], info["time_share"]
    expected = 1.0 * offload_rate(h[0], a, tau[0]) + 1.5 * local_rate(h[1], a) + 1.0 * local_rate(h[2], a)
    expected += 1.5 * offload_rate(h[3], a, tau[3])
    assert info["objective"] == pytest.approx(expected, rel=1e-12)
    assert info["normalized_rate"] == pytest.approx(info["objective"] / 1.0, rel=1e-15)


def test_observation_is_the_scaled_gain_of_the_frame_to_decide():
    frames = [[1e-6, 2e-6], [3e-6, 4e-6]]
    env = mec_marl.make("wireless_powered_v0", n_devices=2, max_cycles=2)
    obs, _ = env.reset(options={"instance": pinned(frames)})
    np.testing.assert_allclose(obs["scheduler"], [1.0, 2.0], rtol=1e-6)
    obs, *_ = env.step({"scheduler": np.zeros(2, np.float32)})
    np.testing.assert_allclose(obs["scheduler"], [3.0, 4.0], rtol=1e-6)
    np.testing.assert_allclose(env.state(), [3.0, 4.0, 1.0, 1.5], rtol=1e-6)
