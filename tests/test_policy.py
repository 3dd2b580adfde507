"""LearnedPolicy: one checkpoint format, refused clearly when wrong."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.policy import CheckpointError, LearnedPolicy


class Linear(LearnedPolicy):
    name = "linear"

    def __init__(self, weight):
        self.weight = np.asarray(weight, dtype=np.float32)

    def predict(self, obs):
        return np.clip(self.weight * obs, -1, 1)

    def checkpoint_state(self):
        return {"weight": self.weight.tolist()}

    @classmethod
    def from_checkpoint_state(cls, state):
        return cls(state["weight"])


def test_save_load_round_trip_and_mode(tmp_path):
    path = tmp_path / "p.pt"
    Linear([0.5, 2.0]).save(path)
    assert path.stat().st_mode & 0o777 == 0o644
    loaded = LearnedPolicy.load(path, method="linear")
    assert isinstance(loaded, Linear)
    np.testing.assert_allclose(loaded.predict(np.array([1.0, 1.0])), [0.5, 1.0])


def test_load_errors_name_the_problem(tmp_path):
    path = tmp_path / "p.pt"
    Linear([1.0]).save(path)
    with pytest.raises(CheckpointError, match="checkpoint of method 'linear', not 'cpdrl'"):
        LearnedPolicy.load(path, method="cpdrl")
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        LearnedPolicy.load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="not a mec-marl checkpoint"):
        LearnedPolicy.load(junk)
