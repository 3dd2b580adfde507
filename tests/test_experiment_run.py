"""The runner as a user drives it: resume after a kill, prompt stop on Ctrl-C / SIGTERM, no orphans."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENT = {
    "paper": "slow",
    "env": "cpdrl_v0",
    "variants": {"a": {"overrides": {"max_cycles": 2}, "methods": ["slow"]}},
    "methods": {"slow": {"method": "experiment_methods:build_slow"}},
    "axes": {"n_devices": {}},
    "budgets": {"b": {"seeds": [0, 1], "sweep": {"n_devices": [2, 3]}, "eval_episodes": 1,
                      "decision_samples": 1, "decision_warmup": 0}},
    "metrics": ["objective"],
}


def start(tmp_path, workers: int, slow_seconds: float, markers: Path):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(EXPERIMENT))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")]), "CI": "true",
           "EXP_SLOW_POINT": "3", "EXP_SLOW_SECONDS": str(slow_seconds), "EXP_MARKERS": str(markers)}
    cmd = [sys.executable, "scripts/reproduce.py", str(path), "--budget", "b", "--out", str(tmp_path / "out"),
           "--workers", str(workers), "--no-plots"]
    # its own session: a signal to the group reaches it and its workers, as a terminal's Ctrl-C does
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for(predicate, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def cells(tmp_path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "cells").rglob("*.json")}


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_killed_run_resumes_without_recomputing_finished_cells(tmp_path):
    markers = tmp_path / "m"
    proc = start(tmp_path, workers=1, slow_seconds=120, markers=markers)
    try:
        # the n=2 cells finish, then the first n=3 cell hangs: kill the run there
        assert wait_for(lambda: any(p.name.split("-")[1] == "3" for p in markers.glob("*")) if markers.exists() else False)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    finished = cells(tmp_path)
    assert sorted(finished) == ["n_devices=2_s0.json", "n_devices=2_s1.json"]
    for p in markers.glob("*"):
        p.unlink()
    resumed = start(tmp_path, workers=1, slow_seconds=0, markers=markers)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert "2 already finished" in err
    after = cells(tmp_path)
    assert len(after) == 4 and all(after[name] == stamp for name, stamp in finished.items())
    assert sorted(p.name.split("-", 1)[1] for p in markers.glob("*")) == ["3-0", "3-1"]  # only the missing cells ran
    assert "Cells: all 4 planned" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_workers_promptly_and_keeps_finished_cells(tmp_path, signum, code):
    markers = tmp_path / "m"
    proc = start(tmp_path, workers=2, slow_seconds=120, markers=markers)
    try:
        # both workers are busy on the slow n=3 cells, and the n=2 cells are on disk
        assert wait_for(lambda: len([p for p in markers.glob("*") if p.name.split("-")[1] == "3"]) == 2
                        and len(cells(tmp_path)) == 2 if markers.exists() else False)
        workers = {int(p.name.split("-")[0]) for p in markers.glob("*")}
        assert workers and proc.pid not in workers
        os.killpg(proc.pid, signum) if signum == signal.SIGINT else proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == code, err
    assert "finished cells are kept" in err and "Traceback" not in err and "leaked" not in err
    assert sorted(cells(tmp_path)) == ["n_devices=2_s0.json", "n_devices=2_s1.json"]
    assert wait_for(lambda: not any(alive(pid) for pid in workers), timeout=5), "orphaned worker processes"
