"""wireless_powered_v0: .mat replay, labels, termination, channel model and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

import mec_marl
from mec_marl import vector
from mec_marl.config import ConfigError
from mec_marl.envs import wireless_powered

DATA = pytest.importorskip("conftest").DATA_DIR
FILE10 = str(DATA / "droo_data_10_first50.mat")
FILE5 = str(DATA / "droo_data_5_first50.mat")


def test_replay_plays_the_file_in_order_and_labels_match():
    d = scipy.io.loadmat(FILE10)
    env = mec_marl.make("wireless_powered_v0", channel_file=FILE10, first_frame=3, max_cycles=5)
    obs, _ = env.reset(seed=0)
    for t in range(5):
        np.testing.assert_allclose(obs["scheduler"], d["input_h"][3 + t] * 1e6, rtol=1e-6)
        # the labelled optimal decision reaches the label: normalized rate 1 within the labels' precision
        action = d["output_mode"][3 + t].astype(np.float32)
        obs, _, terms, truncs, infos = env.step({"scheduler": action})
        info = infos["scheduler"]
        assert info["frame"] == 3 + t
        assert info["optimal_rate"] == d["output_obj"][3 + t, 0]
        assert info["normalized_rate"] == pytest.approx(1.0, abs=2e-6)
        assert not terms["scheduler"]
    assert truncs["scheduler"]
    assert info["episode"]["normalized_rate"] == pytest.approx(1.0, abs=2e-6)


def test_sequential_replay_terminates_at_the_file_end():
    env = mec_marl.make("wireless_powered_v0", channel_file=FILE5, n_devices=5, first_frame=47, max_cycles=10)
    env.reset(seed=0)
    ends = []
    for _ in range(3):
        _, _, terms, truncs, infos = env.step({"scheduler": np.zeros(5, np.float32)})
        ends.append((terms["scheduler"], truncs["scheduler"]))
    assert ends == [(False, False), (False, False), (True, False)]
    assert infos["scheduler"]["episode"]["length"] == 3 and env.agents == []
    venv = vector.make("wireless_powered_v0", num_envs=2, channel_file=FILE5, n_devices=5, first_frame=48)
    venv.reset(seed=0)
    venv.step({"scheduler": np.zeros((2, 5))})
    _, _, terms, _, infos = venv.step({"scheduler": np.zeros((2, 5))})
    assert terms["scheduler"].all() and infos["scheduler"]["_episode"].all()


def test_worse_decisions_score_below_one():
    env = mec_marl.make("wireless_powered_v0", channel_file=FILE10, max_cycles=50)
    env.reset()
    ratios = []
    for _ in range(50):
        _, _, _, _, infos = env.step({"scheduler": np.zeros(10, np.float32)})  # all local
        ratios.append(infos["scheduler"]["normalized_rate"])
    assert max(ratios) <= 1.0 + 2e-6 and np.mean(ratios) < 0.95


def test_exhaustive_labels_for_iid_frames():
    env = mec_marl.make("wireless_powered_v0", n_devices=4, exhaustive_labels=True, max_cycles=20)
    env.reset(seed=2)
    every = [np.array(bits, np.float32) for bits in np.ndindex(2, 2, 2, 2)]
    for t in range(5):
        ratios = []
        for action in every:  # replay the frame under each of the 16 decisions
            probe = mec_marl.make("wireless_powered_v0", n_devices=4, exhaustive_labels=True, max_cycles=20)
            probe.reset(options={"instance": env.unwrapped.instance})
            for _ in range(t):
                probe.step({"scheduler": np.zeros(4, np.float32)})
            ratios.append(probe.step({"scheduler": action})[4]["scheduler"]["normalized_rate"])
        assert max(ratios) == pytest.approx(1.0, abs=1e-12) and min(ratios) > 0


def test_iid_channels_follow_the_average_gain_model():
    config = wireless_powered.WirelessPoweredConfig(max_cycles=4000)
    inst = wireless_powered.sample_instance(config, np.random.default_rng(0))
    mean = inst.gain.mean(axis=0)
    expected = 3.0 * (3e8 / (4 * np.pi * 915e6 * np.linspace(2.5, 5.2, 10))) ** 2.8
    np.testing.assert_allclose(mean, expected, rtol=0.08)  # Exp(1) fading: ~1.6% std of the mean
    assert np.median(inst.gain / expected) == pytest.approx(np.log(2), rel=0.05)  # exponential fading


def _write(tmp_path, name, **fields):
    path = tmp_path / name
    scipy.io.savemat(path, fields)
    return str(path)


def test_missing_and_malformed_files_get_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        mec_marl.make("wireless_powered_v0", channel_file=str(tmp_path / "nope.mat"))
    text = tmp_path / "bad.mat"
    text.write_text("not a mat file")
    with pytest.raises(ConfigError, match="not a readable MATLAB"):
        mec_marl.make("wireless_powered_v0", channel_file=str(text))
    with pytest.raises(ConfigError, match="no 'input_h'"):
        mec_marl.make("wireless_powered_v0", channel_file=_write(tmp_path, "a.mat", h=np.ones((3, 10))))
    with pytest.raises(ConfigError, match="set n_devices=5"):
        mec_marl.make("wireless_powered_v0", channel_file=FILE5)
    with pytest.raises(ConfigError, match="finite and non-negative"):
        mec_marl.make("wireless_powered_v0", channel_file=_write(tmp_path, "b.mat", input_h=-np.ones((3, 10))))
    bad_obj = _write(tmp_path, "c.mat", input_h=np.ones((3, 10)), output_obj=np.ones((2, 1)))
    with pytest.raises(ConfigError, match="'output_obj' has 2 entries for 3 frames"):
        mec_marl.make("wireless_powered_v0", channel_file=bad_obj)
    with pytest.raises(ConfigError, match="first_frame=50"):
        mec_marl.make("wireless_powered_v0", channel_file=FILE10, first_frame=50)
    with pytest.raises(ConfigError, match="weights has 2 entries"):
        mec_marl.make("wireless_powered_v0", weights=[1.0, 2.0])


def test_unlabelled_file_reports_zero_normalized_rate(tmp_path):
    path = _write(tmp_path, "h.mat", input_h=scipy.io.loadmat(FILE5)["input_h"])
    env = mec_marl.make("wireless_powered_v0", channel_file=path, n_devices=5, max_cycles=2)
    env.reset()
    _, _, _, _, infos = env.step({"scheduler": np.ones(5, np.float32)})
    assert infos["scheduler"]["optimal_rate"] == 0.0 and infos["scheduler"]["normalized_rate"] == 0.0
    assert infos["scheduler"]["objective"] > 0
