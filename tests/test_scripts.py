"""The command-line scripts, run as a user runs them: output, one-line errors, resume, plots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def run(*args, check=True):
    env = {**os.environ, "CI": "true"}
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def fails(*args, message: str):
    proc = run(*args, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], proc.stderr
    return proc


def test_evaluate_prints_json_with_objective():
    proc = run("scripts/evaluate.py", "cpdrl_v0", "lem", "--episodes", "5", "--seed", "0", "--json")
    data = json.loads(proc.stdout)
    assert data["episodes"] == 5 and data["method"] == "lem"
    assert data["objective"] > 0 and data["decision_time_s"] > 0 and data["length"] == 50
    again = json.loads(run("scripts/evaluate.py", "cpdrl_v0", "lem", "--episodes", "5", "--seed", "0", "--json").stdout)
    assert again["objective"] == data["objective"]  # seeded


def test_evaluate_overrides_trace_and_a_researchers_method(tmp_path):
    trace = tmp_path / "trace.csv"
    proc = run("scripts/evaluate.py", "cpdrl_v0", "tem", "--episodes", "2", "--set", "n_devices=3",
               "--set", "max_cycles=2", "--json", "--trace", str(trace))
    assert json.loads(proc.stdout)["length"] == 2
    assert trace.read_text().splitlines()[0].startswith("episode,step,reward")
    assert len(trace.read_text().splitlines()) == 1 + 2 * 2
    own = run("scripts/evaluate.py", "cpdrl_v0", "baselines.cpdrl:build_fom", "--episodes", "2", "--set", "max_cycles=2", "--json")
    assert json.loads(own.stdout)["objective"] > 0


@pytest.mark.parametrize("args, message", [
    (["nope"], "unknown method 'nope'"),
    (["lem", "--set", "n_devices=0"], "n_devices"),
    (["lem", "--episodes", "0"], "--episodes must be >= 1"),
    (["cpdrl", "--policy", "/nonexistent.pt"], "/nonexistent.pt: no such checkpoint file"),
    (["cpdrl", "--policy", "README.md"], "README.md: not a mec-marl checkpoint"),
    (["cpdrl", "--budget", "steps=abc"], "budget steps must be a positive integer, got 'abc'"),
])
def test_evaluate_errors_are_one_line(args, message):
    fails("scripts/evaluate.py", "cpdrl_v0", *args, message=message)


def test_evaluate_unknown_env():
    fails("scripts/evaluate.py", "nope_v0", "lem", message="unknown env id")


def test_train_checks_arguments_before_training(tmp_path):
    fails("scripts/train.py", "/nonexistent.yaml", message="no such training config: /nonexistent.yaml")
    out = tmp_path / "t"
    fails("scripts/train.py", "configs/train/cpdrl.yaml", "--set", "eval_episodes=0", "--out", str(out),
          message="eval_episodes")
    assert not out.exists()  # nothing trained, nothing written
    fails("scripts/train.py", "configs/train/cpdrl.yaml", "--set", "bogus=1", message="unknown key 'bogus'")
    fails("scripts/train.py", "configs/train/cpdrl.yaml", "--set", "method=tem", message="nothing to train")
    fails("scripts/train.py", "configs/train/cpdrl.yaml", "--set", "budget.steps=abc", message="positive integer")


def test_trained_checkpoint_loads_under_its_own_method_only(tmp_path):
    out = tmp_path / "t"
    run("scripts/train.py", "configs/train/cpdrl.yaml", "--set", "env_kwargs.n_devices=2", "--set", "env_kwargs.max_cycles=2",
        "--set", "budget.steps=120", "--set", "budget.learning_starts=50", "--set", "eval_episodes=1", "--out", str(out))
    policy = out / "policy.pt"
    assert policy.stat().st_mode & 0o777 == 0o644
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["evaluation"]["objective"] > 0 and metrics["provenance"]["versions"]["numpy"]
    ok = run("scripts/evaluate.py", "cpdrl_v0", "cpdrl", "--policy", str(policy), "--set", "n_devices=2",
             "--set", "max_cycles=2", "--episodes", "1", "--json")
    assert json.loads(ok.stdout)["objective"] == pytest.approx(metrics["evaluation"]["objective"])  # same instances
    fails("scripts/evaluate.py", "cpdrl_v0", "aste_ddpg", "--policy", str(policy), "--set", "n_devices=2",
          message="a checkpoint of method 'cpdrl', not 'aste_ddpg'")


def _tiny_experiment(tmp_path) -> Path:
    exp = yaml.safe_load((ROOT / "configs/experiments/cpdrl.yaml").read_text())
    exp["variants"] = {"table1": {"scenario": "cpdrl", "overrides": {"max_cycles": 3}, "methods": ["tem", "lem", "fom"]}}
    exp["budgets"] = {"tiny": {"seeds": [0, 1], "sweep": {"n_devices": [2, 3]}, "eval_episodes": 2,
                               "decision_samples": 3}}
    exp["figures"] = [f for f in exp["figures"] if f["kind" if "kind" in f else "name"] != "curve"]
    exp["claims"] = [exp["claims"][0]]
    exp["claims"][0]["check"]["method"] = "fom"
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(exp, sort_keys=False))
    return path


def test_reproduce_subset_merges_resumes_and_plot_redraws(tmp_path):
    path, out = _tiny_experiment(tmp_path), tmp_path / "out"
    common = ["scripts/reproduce.py", str(path), "--budget", "tiny", "--out", str(out), "--workers", "1"]
    run(*common, "--methods", "tem,lem", "--values", "2")
    assert "PARTIAL: 4 of 12" in (out / "report.md").read_text()
    proc = run(*common)
    report = (out / "report.md").read_text()
    assert "Cells: all 12 planned" in report and "TEM" in proc.stdout and "FOM" in proc.stdout
    assert "Paper: CPDRL is close to the optimum TEM" in report and "Measured: **does not hold**" in report
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 3 and "objective_ci_low" in rows[0]
    assert json.loads((out / "summary.json").read_text())["cells_done"] == 12
    stamps = {p: p.stat().st_mtime_ns for p in (out / "cells").rglob("*.json")}
    run(*common, "--methods", "lem", "--values", "2")  # a subset after the full run: nothing recomputed, nothing lost
    assert {p: p.stat().st_mtime_ns for p in (out / "cells").rglob("*.json")} == stamps
    assert "Cells: all 12 planned" in (out / "report.md").read_text()
    for name in ("objective.png", "decision_time.png"):
        assert (out / name).stat().st_mode & 0o777 == 0o644
        (out / name).unlink()
    run("scripts/plot.py", str(out))
    assert (out / "objective.png").stat().st_size > 0 and (out / "decision_time.png").stat().st_size > 0


@pytest.mark.parametrize("args, message", [
    (["--methods", "bogus"], "unknown method 'bogus'"),
    (["--values", "abc"], "n_devices='abc' is not a value of budget 'tiny'"),
    (["--budget", "huge"], "unknown budget 'huge'"),
])
def test_reproduce_refuses_unknown_methods_and_values(tmp_path, args, message):
    path = _tiny_experiment(tmp_path)
    fails("scripts/reproduce.py", str(path), "--budget", "tiny", "--out", str(tmp_path / "o"), *args, message=message)
    assert not (tmp_path / "o").exists()


def test_reproduce_and_plot_missing_inputs():
    fails("scripts/reproduce.py", "/nonexistent.yaml", message="no such experiment file")
    fails("scripts/plot.py", "/nonexistent-dir", message="no summary")


def test_console_script_dispatches():
    from baselines import cli

    assert cli.main(["--help"]) == 0
    assert cli.main(["bogus"]) == 2
    assert set(cli._commands()) == {"train", "evaluate", "reproduce", "plot", "benchmark"}
