"""The command-line scripts, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def run(*args, check=True):
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_evaluate_prints_json_with_objective():
    proc = run("scripts/evaluate.py", "cpdrl_v0", "lem", "--episodes", "5", "--seed", "0", "--json")
    data = json.loads(proc.stdout)
    assert data["episodes"] == 5 and data["method"] == "lem"
    assert data["objective"] > 0 and "objective_ci95" in data
    again = json.loads(run("scripts/evaluate.py", "cpdrl_v0", "lem", "--episodes", "5", "--seed", "0", "--json").stdout)
    assert again["objective"] == data["objective"]  # seeded


def test_evaluate_overrides_and_errors():
    proc = run("scripts/evaluate.py", "cpdrl_v0", "tem", "--episodes", "2", "--set", "n_devices=3",
               "--set", "max_cycles=2", "--json")
    assert json.loads(proc.stdout)["episode_length"] == 2
    bad = run("scripts/evaluate.py", "cpdrl_v0", "nope", check=False)
    assert bad.returncode == 2 and "unknown method 'nope'" in bad.stderr
    bad = run("scripts/evaluate.py", "cpdrl_v0", "lem", "--set", "n_devices=0", check=False)
    assert bad.returncode == 2 and "n_devices" in bad.stderr
    bad = run("scripts/evaluate.py", "nope_v0", "lem", check=False)
    assert bad.returncode == 2 and "unknown env id" in bad.stderr


def test_reproduce_writes_tables_and_plots_and_resumes(tmp_path):
    exp = yaml.safe_load((ROOT / "configs/experiments/cpdrl.yaml").read_text())
    exp["scenarios"] = {"table1": {"scenario": "cpdrl", "methods": ["tem", "lem", "fom"]}}
    exp["budgets"] = {"tiny": {"values": [2, 3], "seeds": [0], "eval_episodes": 2, "train": {}}}
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(exp))
    out = tmp_path / "out"
    proc = run("scripts/reproduce.py", str(path), "--budget", "tiny", "--out", str(out), "--workers", "1")
    assert "TEM" in proc.stdout and "LEM" in proc.stdout
    for name in ("results.csv", "results.md", "table1_objective.png"):
        assert (out / name).stat().st_size > 0
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 3
    cells = sorted((out / "cells").rglob("*.json"))
    assert len(cells) == 6
    stamps = [c.stat().st_mtime_ns for c in cells]
    run("scripts/reproduce.py", str(path), "--budget", "tiny", "--out", str(out), "--workers", "1")
    assert [c.stat().st_mtime_ns for c in cells] == stamps  # resumed: nothing recomputed
    tem_ratio = [r for r in rows if ",TEM," in r]
    assert all(",1.0," in r for r in tem_ratio)
