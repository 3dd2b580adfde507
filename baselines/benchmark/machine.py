"""What the numbers were measured on: machine, libraries, threads, allocator settings, load."""

from __future__ import annotations

import datetime
import os
import platform

# glibc malloc tunables change allocation-heavy timings (numpy temporaries) by tens of percent.
MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PACKAGES = ("numpy", "torch", "scipy", "cvxpy", "pettingzoo", "gymnasium", "stable-baselines3", "mpe2", "mec-marl")


def one_core() -> None:
    """Pin torch to one thread (intra- and inter-op). BLAS threads are set by the CLI before numpy loads."""
    import torch

    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set, or parallel work already started
        pass


def version(package: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def loadavg() -> float | None:
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info() -> dict:
    import torch

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    libc, libc_version = platform.libc_ver()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "libc": f"{libc} {libc_version}".strip() or None,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_usable": usable,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "thread_env": {var: os.environ.get(var) for var in THREAD_VARS},
        "malloc_env": {var: os.environ.get(var) for var in MALLOC_VARS},
        "versions": {package: version(package) for package in PACKAGES},
        "loadavg_1m_start": loadavg(),
    }
