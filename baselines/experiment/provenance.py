"""What produced a result: package versions and the git commit of the code."""

from __future__ import annotations

import functools
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("mec-marl", "numpy", "scipy", "torch", "stable-baselines3", "gymnasium", "pettingzoo", "pydantic")
ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=1)
def provenance() -> dict:
    versions = {"python": platform.python_version()}
    for dist in PACKAGES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return {"versions": versions, "git": git_state(ROOT)}


def git_state(root: Path) -> dict:
    """``{"commit": sha, "dirty": bool}``, or ``{}`` outside a git checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        if commit.returncode != 0:
            return {}
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                                capture_output=True, text=True, timeout=10)
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}
