"""scripts/benchmark.py in quick mode with tiny step counts: output contract only, no timing thresholds."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

import mec_marl

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "benchmark.py"


@pytest.fixture(scope="module")
def benchmark():
    spec = importlib.util.spec_from_file_location("mec_marl_benchmark_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def quick_run(benchmark, tmp_path_factory):
    out = tmp_path_factory.mktemp("benchmark")
    argv = ["--quick", "--out", str(out), "--steps", "40", "--warmup", "5", "--repeats", "2",
            "--solver-instances", "2", "--decision-n", "2,3", "--act-calls", "5", "--cpdrl-steps", "50", "--quiet"]
    results = benchmark.main(argv)
    return out, results


def _positive_finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_json_has_expected_keys(quick_run):
    out, results = quick_run
    data = json.loads((out / "benchmark.json").read_text())
    for key in ("quick", "seed", "machine", "protocol", "reference", "envs", "solvers", "decision", "targets", "notes"):
        assert key in data, key
    assert data["quick"] is True
    for key in ("date", "python", "cpu_count", "versions"):
        assert key in data["machine"]
    for key in ("numpy", "torch"):
        assert data["machine"]["versions"][key]
    assert data["reference"]["env"] == "mpe2/simple_spread_v3"
    assert set(data["protocol"]) >= {"steps", "warmup", "repeats"}
    assert data["protocol"]["steps"] == 40


def test_every_registered_env_has_a_positive_finite_rate(quick_run):
    out, _ = quick_run
    data = json.loads((out / "benchmark.json").read_text())
    assert set(data["envs"]) == set(mec_marl.list_envs())
    for env_id, row in data["envs"].items():
        assert _positive_finite(row["steps_per_s"]), (env_id, row["steps_per_s"])
        assert len(row["runs"]) == 2
        assert all(_positive_finite(r) for r in row["runs"])
        assert "ratio_to_reference" in row
        if data["reference"]["steps_per_s"] is not None:
            assert _positive_finite(row["ratio_to_reference"])
        else:  # mpe2 missing: recorded as null, with a note
            assert row["ratio_to_reference"] is None
            assert data["reference"]["note"]


def test_solver_and_decision_sections(quick_run):
    out, _ = quick_run
    data = json.loads((out / "benchmark.json").read_text())
    names = [row["solver"] for row in data["solvers"]]
    assert names[:3] == ["sqrt_shares", "local_cpu_optimum", "offload_resources"]
    assert any(name.startswith("TEM") for name in names)
    for row in data["solvers"]:
        assert _positive_finite(row["fast_s"]) and _positive_finite(row["reference_s"]), row
        assert _positive_finite(row["speedup"])
        assert math.isfinite(row["max_rel_gap"]) and math.isfinite(row["min_rel_gap"])
    decision = data["decision"]
    assert [r["n"] for r in decision["rows"]] == [2, 3]
    for row in decision["rows"]:
        assert _positive_finite(row["tem_s"]) and _positive_finite(row["cpdrl_act_s"])
        assert row["vectors"] == 2 ** row["n"]
    assert decision["cpdrl_policy"]


def test_markdown_written(quick_run):
    out, _ = quick_run
    md = out / "benchmark.md"
    assert md.exists()
    text = md.read_text()
    assert "| env |" in text
    for env_id in mec_marl.list_envs():
        assert f"`{env_id}`" in text
    assert "one core" in text
    assert not list(out.glob(".*.tmp")), "temp files left behind"


def test_unknown_env_is_rejected(benchmark, tmp_path):
    with pytest.raises(SystemExit):
        benchmark.main(["--quick", "--out", str(tmp_path), "--envs", "no_such_env_v0", "--quiet"])
