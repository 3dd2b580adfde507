"""wireless_powered_v0 with queues=True (LyDROO): queue updates, rates and observations by hand on pinned instances."""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from mec_marl.config import ConfigError
from mec_marl.envs.wireless_powered_queues import QueuedInstance

N0 = 2e6 * 10 ** (-17.4) * 1e-3


def _env(**kw):
    kw = {"queues": True, "n_devices": 2, "weights": [1.5, 1.0], "max_cycles": 3, **kw}
    return mec_marl.make("wireless_powered_v0", **kw)


def _pinned(gain, arrivals):
    gain, arrivals = np.asarray(gain, float), np.asarray(arrivals, float)
    return QueuedInstance(distance=np.array([120.0, 255.0]), gain=gain, arrivals=arrivals)


def test_queues_over_three_local_slots_by_hand():
    env = _env()
    arrivals = [[1e6, 5e6], [2e6, 1e6], [0.0, 0.0]]
    env.reset(options={"instance": _pinned(np.full((3, 2), 1e-11), arrivals)})
    local = {"scheduler": np.zeros(2, np.float32)}
    # Slot 0: empty queues, nothing to process; Q(1) = A(0), Y(1) = max(0 + nu (0 - gamma), 0) = 0.
    _, _, _, _, info = env.step(local)
    i = info["scheduler"]
    np.testing.assert_allclose(i["data_queue"], [1e6, 5e6])
    np.testing.assert_allclose(i["energy_queue"], [0, 0])
    np.testing.assert_allclose(i["energy"], [0, 0])
    # Slot 1: Y = 0, so f = min(phi Q / T, f_max) = [1e8, 3e8] Hz -> bits [1e6, 3e6], e = kappa f^3 T.
    _, reward, _, _, info = env.step(local)
    i = info["scheduler"]
    np.testing.assert_allclose(i["computation_rate"], [1e6, 3e6])
    np.testing.assert_allclose(i["energy"], [1e-26 * 1e24, 1e-26 * 2.7e25])
    np.testing.assert_allclose(i["data_queue"], [0 + 2e6, 2e6 + 1e6])  # max(Q - served, 0) + A
    np.testing.assert_allclose(i["energy_queue"], [0.0, 1000 * (0.27 - 0.08)])  # max(Y + nu (e - gamma), 0)
    p4 = (1e6 / 1e6 + 20 * 1.5) * 1.0 + (5e6 / 1e6 + 20 * 1.0) * 3.0  # (Q/D + V w) r T / D - c_Y Y e, Y = 0
    assert i["drift_plus_penalty"] == pytest.approx(p4, rel=1e-12)
    # Default reward: V sum w d / D - (L(2) - L(1)), L = 1/2 sum (Q/D)^2 + c_Y / (2 nu) sum Y^2.
    lyap_1 = 0.5 * (1.0**2 + 5.0**2)
    lyap_2 = 0.5 * (2.0**2 + 3.0**2) + 10.0 / (2 * 1000.0) * (1000 * (0.27 - 0.08)) ** 2
    assert i["lyapunov_drift"] == pytest.approx(lyap_2 - lyap_1, rel=1e-12)
    assert reward["scheduler"] == pytest.approx((20 * (1.5 * 1.0 + 1.0 * 3.0) - (lyap_2 - lyap_1)) * 1e-3, rel=1e-12)
    assert i["objective"] == pytest.approx(1.5 * 1e6 + 1.0 * 3e6, rel=1e-12)
    # Slot 2: device 1 has Y = 190: f = sqrt((Q/D + V w) / (3 phi kappa D c_Y Y)).
    _, _, _, _, info = env.step(local)
    i = info["scheduler"]
    f1 = np.sqrt((3.0 + 20.0) / (3 * 100 * 1e-26 * 1e6 * 10 * 190.0))
    assert i["cpu_freq"][1] == pytest.approx(f1, rel=1e-12)
    assert i["cpu_freq"][0] == pytest.approx(2e8, rel=1e-12)  # Y = 0: phi Q / T
    assert i["energy_queue"][1] == pytest.approx(max(190.0 + 1000 * (1e-26 * f1**3 - 0.08), 0.0), rel=1e-12)
    episode = i["episode"]
    assert episode["avg_data_queue"] == pytest.approx(np.mean([3e6, 2.5e6, np.mean([0.0, 3e6 - f1 / 100])]))


def test_p4_reward_is_the_per_slot_objective():
    env = _env(queue_reward="p4")
    env.reset(options={"instance": _pinned(np.full((3, 2), 1e-11), [[1e6, 5e6], [2e6, 1e6], [0.0, 0.0]])})
    local = {"scheduler": np.zeros(2, np.float32)}
    env.step(local)
    _, reward, _, _, info = env.step(local)
    p4 = (1e6 / 1e6 + 20 * 1.5) * 1.0 + (5e6 / 1e6 + 20 * 1.0) * 3.0
    assert reward["scheduler"] == pytest.approx(p4 * 1e-3, rel=1e-12)
    assert info["scheduler"]["drift_plus_penalty"] == pytest.approx(p4, rel=1e-12)


def test_an_offloading_device_sends_at_its_rate():
    env = _env(max_cycles=2)
    h = np.array([3e-11, 1e-11])
    env.reset(options={"instance": _pinned(np.tile(h, (2, 1)), [[4e6, 0.0], [0.0, 0.0]])})
    env.step({"scheduler": np.zeros(2, np.float32)})
    _, _, _, _, info = env.step({"scheduler": np.array([1, 0], np.float32)})
    i = info["scheduler"]
    r_max = 2e6 / 1.1 * np.log2(1 + 0.1 * 3e-11 / N0)  # Y = 0: full power, queue 4e6 bits < R_max T
    assert i["computation_rate"][0] == pytest.approx(4e6, rel=1e-9)
    assert i["time_share"][0] == pytest.approx(4e6 / r_max, rel=1e-9)
    assert i["energy"][0] == pytest.approx(0.1 * 4e6 / r_max, rel=1e-9)
    assert i["offload"].tolist() == [1, 0]


def test_observation_is_lydroo_scaled_input():
    env = _env()
    env.reset(options={"instance": _pinned(np.full((3, 2), 2e-11), [[1e6, 5e6], [0, 0], [0, 0]])})
    env.step({"scheduler": np.zeros(2, np.float32)})
    obs, _, _, _, _ = env.step({"scheduler": np.zeros(2, np.float32)})
    Y1 = 1000 * (0.27 - 0.08)
    np.testing.assert_allclose(obs["scheduler"], [0.2, 0.2, 0.0, 2e6 * 1e-10, 0.0, Y1 * 1e-4], rtol=1e-6)
    np.testing.assert_allclose(env.state(), [0.2, 0.2, 0.0, 2e-4, 0.0, Y1 * 1e-4, 1.5, 1.0], rtol=1e-6)
    users = _env(agent_mode="users")
    users.reset(options={"instance": _pinned(np.full((3, 2), 2e-11), [[1e6, 5e6], [0, 0], [0, 0]])})
    obs, *_ = users.step({"wd_0": 0, "wd_1": 0})
    np.testing.assert_allclose(obs["wd_1"], [0.2, 5e6 * 1e-10, 0.0, 1.0], rtol=1e-6)


def test_queues_true_is_lydroo_and_the_scenario_spells_it_out():
    default = _env(n_devices=10, weights=None).config
    scenario = mec_marl.make("wireless_powered_v0", scenario="wireless_powered_lydroo").config
    for key in ("noise_power", "distance_range", "path_loss_exponent", "observation_scale", "lyapunov_v"):
        assert getattr(default, key) == pytest.approx(getattr(scenario, key), rel=1e-12)
    np.testing.assert_array_equal(default.device_weights, [1.5, 1.0] * 5)
    assert default.noise_power == pytest.approx(7.962e-15, rel=1e-3)  # -174 dBm/Hz over 2 MHz
    assert mec_marl.make("wireless_powered_v0").config.noise_power == 1e-10  # DROO's untouched


def test_rician_draws_have_the_average_gain():
    env = _env(n_devices=10, weights=None, max_cycles=4000)
    env.reset(seed=0)
    inst = env.unwrapped.instance
    hbar = 3 * (3e8 / (4 * np.pi * 915e6 * np.linspace(120, 255, 10))) ** 3
    np.testing.assert_allclose(inst.gain.mean(axis=0), hbar, rtol=0.05)
    assert inst.arrivals.mean() == pytest.approx(3e6, rel=0.02)


def test_bad_combinations_are_named():
    from conftest import DATA_DIR

    with pytest.raises(ConfigError, match="channel_file does not apply"):
        _env(n_devices=10, weights=None, channel_file=str(DATA_DIR / "droo_data_10_first50.mat"))
    with pytest.raises(ConfigError, match="energy_threshold"):
        _env(energy_threshold=-1)
    env = _env()
    with pytest.raises(ValueError, match="instance.arrivals has shape"):
        env.reset(options={"instance": _pinned(np.ones((3, 2)), np.ones((2, 2)))})
