#!/usr/bin/env python
"""Speed benchmark: env steps/s, fast sub-solvers vs references, search vs learner decision time.

Usage::

    python scripts/benchmark.py                 # full run (a few minutes on one core)
    python scripts/benchmark.py --quick         # CI: fewer repeats and instances
    python scripts/benchmark.py --envs cpdrl_v0 --repeats 9 --steps 10000

Writes ``<out>/benchmark.json`` and ``<out>/benchmark.md`` (default
``runs/benchmark``). The measurements live in :mod:`baselines.benchmark`.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # one core for numpy's BLAS too (must precede numpy's first import)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

from baselines.benchmark.cli import main  # noqa: E402

if __name__ == "__main__":
    main(sys.argv[1:])
