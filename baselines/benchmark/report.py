"""Results out: JSON-safe values, atomic file writes, number formatting, the Markdown page."""

from __future__ import annotations

import json
from pathlib import Path

# One writer for every result file (atomic, 0644, NaN/inf as null): the experiment layer's.
from baselines.experiment.io import sanitise as jsonable
from baselines.experiment.io import write_atomic


def write_results(results: dict, markdown: str, out: Path) -> tuple[Path, Path]:
    """``<out>/benchmark.json`` and ``<out>/benchmark.md``, each written atomically."""
    out = Path(out)
    json_path, md_path = out / "benchmark.json", out / "benchmark.md"
    write_atomic(json_path, json.dumps(jsonable(results), indent=2, allow_nan=False) + "\n")
    write_atomic(md_path, markdown)
    return json_path, md_path


def fmt_rate(x) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def fmt_time(s) -> str:
    if s is None:
        return "n/a"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1.0:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_ratio(x, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x:,.{digits}f}x"


def fmt_load(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def header(results: dict) -> list[str]:
    m = results["machine"]
    malloc = ", ".join(f"{k}={v}" for k, v in m["malloc_env"].items() if v is not None) or "glibc defaults"
    return [
        "# mec-marl benchmark",
        "",
        f"{m['date']} · Python {m['python']} · numpy {m['versions']['numpy']} · torch {m['versions']['torch']} · "
        f"{m['cpu_model']} · cpu_count {m['cpu_count']} · **one core** (torch threads {m['torch_threads']}) · "
        f"{m['libc'] or 'libc n/a'} malloc: {malloc} · "
        f"load avg (1 min) {fmt_load(m.get('loadavg_1m_start'))} → {fmt_load(m.get('loadavg_1m_end'))} · "
        f"mode {'quick' if results['quick'] else 'full'} · seed {results['seed']}",
    ]
