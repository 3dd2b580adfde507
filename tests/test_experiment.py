"""The experiment helpers: confidence intervals, aggregation, atomic writes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from baselines.experiment import aggregate, mean_ci, to_markdown, write_json_atomic


def test_mean_ci_matches_hand_formula():
    values = [1.0, 2.0, 4.0, 7.0]
    mean, half = mean_ci(values)
    s = math.sqrt(sum((v - 3.5) ** 2 for v in values) / 3)
    assert mean == pytest.approx(3.5)
    assert half == pytest.approx(3.182446305284263 * s / 2.0)  # t_{0.975, 3}
    assert mean_ci([5.0]) == (5.0, 0.0)


def test_aggregate_handles_missing_keys():
    out = aggregate([{"a": 1.0, "b": 2.0}, {"a": 3.0}])
    assert out["episodes"] == 2 and out["a"] == 2.0 and out["b"] == 2.0 and out["b_ci95"] == 0.0


def test_write_json_atomic_converts_numpy_and_leaves_no_temp(tmp_path):
    path = tmp_path / "sub" / "x.json"
    write_json_atomic(path, {"a": np.arange(3), "b": np.float64(1.5), "c": np.bool_(True)})
    assert json.loads(path.read_text()) == {"a": [0, 1, 2], "b": 1.5, "c": True}
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert json.loads(path.read_text())["b"] == 1.5  # the old file survives a failed write


def test_markdown_table_formats_nan_as_dash():
    md = to_markdown([{"m": "x", "v": float("nan")}, {"m": "y", "v": 0.5}], ["m", "v"])
    assert "| x | - |" in md and "| y | 0.5 |" in md


class _ZeroPolicy:
    """Raw action 0: local UTDs asking for half the bandwidth and power (inconsistent unmasked)."""

    name = "zero"

    def __init__(self, env_options=None):
        if env_options is not None:
            self.env_options = env_options

    def reset(self, env, seed=None):
        pass

    def act(self, observations, env):
        return {a: np.zeros(env.action_space(a).shape) for a in env.agents}


def test_evaluate_applies_a_policys_env_options():
    from baselines.experiment import evaluate

    kwargs = {"n_devices": 3, "max_cycles": 2}
    masked = evaluate("cpdrl_v0", _ZeroPolicy(), 1, 0, kwargs)[0]
    unmasked = evaluate("cpdrl_v0", _ZeroPolicy({"consistency": "none"}), 1, 0, kwargs)[0]
    assert masked["consistency_rate"] == 1.0
    assert unmasked["consistency_rate"] == 0.0
