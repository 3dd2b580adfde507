"""Results out: JSON-safe values, atomic file writes, number formatting, the Markdown page."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np


def jsonable(obj):
    """Recursively JSON-safe (numpy scalars/arrays, tuples; non-finite floats -> None, so the file is valid JSON)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_atomic(path: Path, text: str) -> None:
    """Write to a temp file beside ``path`` and ``os.replace`` it into place (mode 0644 less the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o644 & ~umask)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
