"""Result files: atomic, world-readable writes; valid JSON (NaN and inf become null).

Every file the experiment layer writes goes through :func:`write_atomic`, so a
reader (or a resumed run) never sees half a file, and a killed run leaves
either the old file or the new one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np

FILE_MODE = 0o644


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``; mode 0644."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, FILE_MODE)  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def sanitise(obj):
    """JSON-ready copy: numpy -> Python, NaN/inf -> None, tuples -> lists, Paths -> str."""
    if isinstance(obj, dict):
        return {str(k): sanitise(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [sanitise(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return sanitise(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path: str | os.PathLike, data) -> Path:
    return write_atomic(path, json.dumps(sanitise(data), indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike):
    with open(path) as fh:
        return json.load(fh)


def csv_text(rows: Iterable[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _csv_cell(row.get(c)) for c in columns})
    return buf.getvalue()


def _csv_cell(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return value


def write_csv(path: str | os.PathLike, rows: Iterable[dict], columns: list[str]) -> Path:
    return write_atomic(path, csv_text(rows, columns))


def markdown_table(rows: list[dict], columns: list[str], headers: list[str] | None = None) -> str:
    """A Markdown table; floats to 4 significant digits, missing values as ``-``."""

    def cell(value):
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        if isinstance(value, float):
            return format(value, ".4g")
        return str(value).replace("|", "\\|")  # a literal bar (|U|) would split the cell

    lines = ["| " + " | ".join(cell(h) for h in headers or columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"
