"""The benchmark in quick mode with tiny step counts: output contract only, no timing thresholds."""

from __future__ import annotations

import json
import math

import pytest

import mec_marl
from baselines.benchmark import cli, report, throughput


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("benchmark")
    argv = ["--quick", "--out", str(out), "--steps", "40", "--warmup", "5", "--repeats", "2",
            "--solver-instances", "2", "--search-instances", "1", "--decision-sizes", "2,3", "--act-calls", "5",
            "--learner-steps", "20", "--vector-batch-sizes", "1,8", "--quiet"]
    return out, cli.main(argv)


def _positive_finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def test_json_has_expected_keys_and_machine_info(quick_run):
    out, _ = quick_run
    data = json.loads((out / "benchmark.json").read_text())
    for key in ("quick", "seed", "settings", "machine", "protocol", "reference", "envs", "solvers", "decision", "notes"):
        assert key in data, key
    assert data["quick"] is True
    machine = data["machine"]
    for key in ("date", "python", "cpu_count", "versions", "torch_threads", "thread_env", "malloc_env"):
        assert key in machine, key
    assert set(machine["malloc_env"]) >= {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"}
    assert machine["torch_threads"] == 1
    for key in ("numpy", "torch"):
        assert machine["versions"][key]
    assert data["reference"]["env"] == "mpe2/simple_spread_v3"
    assert data["protocol"]["steps"] == 40 and data["settings"]["steps"] == 40


def test_every_registered_env_has_a_positive_finite_rate(quick_run):
    out, _ = quick_run
    data = json.loads((out / "benchmark.json").read_text())
    assert set(data["envs"]) == set(mec_marl.list_envs())
    for env_id, row in data["envs"].items():
        assert _positive_finite(row["steps_per_s"]), (env_id, row["steps_per_s"])
        assert len(row["runs"]) == 2 and all(_positive_finite(r) for r in row["runs"])
        if data["reference"]["steps_per_s"] is not None:
            assert _positive_finite(row["ratio_to_reference"])
        else:  # mpe2 missing: recorded as null, with a note
            assert row["ratio_to_reference"] is None and data["reference"]["note"] in data["notes"]
        vector = row["vector"]
        if vector["skipped"]:
            assert "mec_marl.vector" in vector["note"] and vector["note"] in data["notes"]
        else:
            assert [r["batch_size"] for r in vector["rows"]] == [1, 8]  # --vector-batch-sizes
            assert all(_positive_finite(r["env_steps_per_s"]) for r in vector["rows"])


def test_solver_and_decision_sections(quick_run):
    out, _ = quick_run
    data = json.loads((out / "benchmark.json").read_text())
    names = [row["solver"] for row in data["solvers"]]
    assert names[:3] == ["sqrt_shares", "local_cpu_optimum", "offload_resources"]
    assert any(name.startswith("TEM") for name in names)
    for row in data["solvers"]:
        assert _positive_finite(row["fast_s"]) and _positive_finite(row["reference_s"]), row
        assert _positive_finite(row["speedup"])
        # the fast solvers are exact: never noticeably worse than the references
        assert math.isfinite(row["min_rel_gap"]) and row["max_rel_gap"] < 1e-3, row
    (decision,) = data["decision"]
    assert (decision["env"], decision["search"], decision["learner"]) == ("cpdrl_v0", "tem", "cpdrl")
    assert [r["size"] for r in decision["rows"]] == [2, 3]
    for row in decision["rows"]:
        assert _positive_finite(row["search_s"]) and _positive_finite(row["learner_act_s"])


def test_markdown_written(quick_run):
    out, _ = quick_run
    text = (out / "benchmark.md").read_text()
    assert "| env |" in text and "one core" in text and "malloc" in text
    for env_id in mec_marl.list_envs():
        assert f"`{env_id}`" in text
    assert "Decision time on `cpdrl_v0`: CPDRL vs TEM" in text
    assert not list(out.glob(".*.tmp")), "temp files left behind"
    assert (out / "benchmark.json").stat().st_mode & 0o044  # readable by others, like the plots


def test_unknown_env_and_bad_numbers_are_rejected(tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["--quick", "--out", str(tmp_path), "--envs", "no_such_env_v0", "--quiet"])
    for bad in (["--repeats", "0"], ["--decision-sizes", "abc"]):
        with pytest.raises(SystemExit):
            cli.main(["--quick", "--out", str(tmp_path), "--quiet", *bad])


def test_vector_hook_is_skipped_with_a_note_without_the_vector_module(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mec_marl.vector", None)  # import fails
    monkeypatch.delattr(mec_marl, "vector", raising=False)
    out = throughput.vector_throughput("cpdrl_v0", {}, (1, 64))
    assert out["skipped"] and "mec_marl.vector" in out["note"]


def test_json_writer_turns_non_finite_numbers_into_null(tmp_path):
    report.write_results({"x": float("nan"), "y": [float("inf"), 1.5]}, "# t\n", tmp_path)
    assert json.loads((tmp_path / "benchmark.json").read_text()) == {"x": None, "y": [None, 1.5]}
