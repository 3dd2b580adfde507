"""Methods for the experiment-runner tests, reached as ``experiment_methods:build_*``.

``build_slow`` behaves like LEM but, for the cells named by the environment
variable ``EXP_SLOW_POINT`` (an ``n_devices`` value), sleeps ``EXP_SLOW_SECONDS``
first; every build writes ``<EXP_MARKERS>/<pid>-<n>-<seed>`` so a test knows
which cells started in which process.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def build_slow(env_id, env_kwargs, seed, budget):
    from baselines.heuristics import CpdrlRandomResources

    n = env_kwargs.get("n_devices")
    markers = os.environ.get("EXP_MARKERS")
    if markers:
        Path(markers).mkdir(parents=True, exist_ok=True)
        (Path(markers) / f"{os.getpid()}-{n}-{seed}").touch()
    if str(n) == os.environ.get("EXP_SLOW_POINT"):
        time.sleep(float(os.environ.get("EXP_SLOW_SECONDS", "0")))
    return CpdrlRandomResources("local", "slow")
