"""Figures from result files alone: ``summary.json`` (and the cells, for training curves).

Labels, titles and file names come from the experiment stored in the
summary. One colour per method across every panel and figure; integer ticks
for integer sweeps; CI bands clipped to positive values on log axes (so they
stay visible); legends outside the axes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from baselines.experiment.io import read_json, write_atomic
from baselines.experiment.schema import Experiment, Figure, axis_value
from baselines.experiment.stats import bootstrap_ci


def _colours(exp: Experiment) -> dict[str, tuple]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {m: cmap(i % 10) for i, m in enumerate(exp.methods)}


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return write_atomic(path, buf.getvalue())


def _band(ax, xs, lo, hi, colour, log_y: bool):
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if log_y:
        # a band reaching <= 0 would vanish on a log axis: clip it at a fraction of the upper edge
        floor = np.where(hi > 0, hi * 1e-3, np.nan)
        lo = np.where(lo > 0, lo, floor)
    ax.fill_between(xs, lo, hi, color=colour, alpha=0.2, linewidth=0)


def _panels(variants: list[str]):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(variants), figsize=(5.2 * len(variants) + 1.8, 4.0), squeeze=False)
    return fig, axes[0]


def line_figure(exp: Experiment, spec: Figure, rows: list[dict], path: Path) -> Path | None:
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    x = spec.x or next(iter(exp.axes), None)
    if x is None:
        return None
    variants = [v for v in (spec.variants or list(exp.variants)) if any(r["variant"] == v for r in rows)]
    if not variants:
        return None
    colours = _colours(exp)
    fig, axes = _panels(variants)
    for ax, variant in zip(axes, variants):
        vrows = [r for r in rows if r["variant"] == variant and r.get(spec.metric) is not None]
        methods = [m for m in (spec.methods or list(exp.methods)) if any(r["method"] == m for r in vrows)]
        for m in methods:
            mrows = sorted((r for r in vrows if r["method"] == m), key=lambda r: r[x])
            xs = [r[x] for r in mrows]
            ys = [r[spec.metric] for r in mrows]
            ax.plot(xs, ys, marker="o", color=colours[m], label=exp.label_of(m))
            lo = [r.get(f"{spec.metric}_ci_low") for r in mrows]
            hi = [r.get(f"{spec.metric}_ci_high") for r in mrows]
            if all(v is not None for v in lo + hi):
                _band(ax, xs, lo, hi, colours[m], spec.log_y)
        ax.set_xlabel(exp.axis_label(x))
        ax.set_ylabel(spec.ylabel or spec.metric)
        ax.set_title(exp.variants[variant].label or variant)
        if spec.log_y:
            ax.set_yscale("log")
        if exp.axes[x].log:
            ax.set_xscale("log")
        values = sorted({r[x] for r in vrows})
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            if len(values) <= 12:
                ax.set_xticks(values)  # the swept values themselves
                ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    handles, labels = _legend(axes)
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle(spec.title or spec.name)
    fig.tight_layout()
    out = _save(fig, path)
    plt.close(fig)
    return out


def _legend(axes):
    seen: dict[str, object] = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, h)
    return list(seen.values()), list(seen)


def bar_figure(exp: Experiment, spec: Figure, rows: list[dict], path: Path) -> Path | None:
    """Grouped bars: one group per variant (and point), one bar per method, CI as error bars."""
    import matplotlib.pyplot as plt

    rows = [r for r in rows if (not spec.variants or r["variant"] in spec.variants) and r.get(spec.metric) is not None]
    if not rows:
        return None
    groups = list(dict.fromkeys((r["variant"],) + tuple(axis_value(r.get(a)) for a in exp.axes) for r in rows))
    methods = [m for m in (spec.methods or list(exp.methods)) if any(r["method"] == m for r in rows)]
    colours = _colours(exp)
    width = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(groups) * max(1, len(methods)) * 0.35 + 2), 4.0))
    for i, m in enumerate(methods):
        for g, key in enumerate(groups):
            match = [r for r in rows if r["method"] == m and (r["variant"],) + tuple(axis_value(r.get(a)) for a in exp.axes) == key]
            if not match:
                continue
            r = match[0]
            lo, hi = r.get(f"{spec.metric}_ci_low"), r.get(f"{spec.metric}_ci_high")
            err = None if lo is None or hi is None else [[max(r[spec.metric] - lo, 0)], [max(hi - r[spec.metric], 0)]]
            ax.bar(g + (i - (len(methods) - 1) / 2) * width, r[spec.metric], width, yerr=err, capsize=2,
                   color=colours[m], label=exp.label_of(m))  # _legend keeps one entry per label
    names = [", ".join([key[0]] + [f"{a}={v}" for a, v in zip(exp.axes, key[1:]) if v is not None]) for key in groups]
    ax.set_xticks(range(len(groups)), names)
    ax.set_ylabel(spec.ylabel or spec.metric)
    if spec.log_y:
        ax.set_yscale("log")
    handles, labels = _legend([ax])
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(spec.title or spec.name)
    fig.tight_layout()
    out = _save(fig, path)
    plt.close(fig)
    return out


def curve_figure(exp: Experiment, spec: Figure, cells: list[dict], path: Path) -> Path | None:
    """A learner's training history (``metric`` in each cell's ``history``): mean across seeds, CI band."""
    import matplotlib.pyplot as plt

    variants = [v for v in (spec.variants or list(exp.variants))
                if any(c["cell"]["variant"] == v and spec.metric in c.get("history", {}) for c in cells)]
    if not variants:
        return None
    colours = _colours(exp)
    fig, axes = _panels(variants)
    x = next(iter(exp.axes), None)
    for ax, variant in zip(axes, variants):
        vcells = [c for c in cells if c["cell"]["variant"] == variant and spec.metric in c.get("history", {})]
        # one curve per method at the largest value of the first axis (the hardest setting)
        if x is not None:
            top = max(c["cell"]["point"][x] for c in vcells)
            vcells = [c for c in vcells if c["cell"]["point"][x] == top]
            ax.set_title(f"{exp.variants[variant].label or variant}, {exp.axis_label(x)} = {top}")
        for m in [m for m in (spec.methods or list(exp.methods)) if any(c["cell"]["method_id"] == m for c in vcells)]:
            series = [np.asarray([np.nan if v is None else v for v in c["history"][spec.metric]], dtype=float)
                      for c in vcells if c["cell"]["method_id"] == m]
            length = min(len(s) for s in series)
            if length == 0:
                continue
            stack = np.stack([s[:length] for s in series])
            window = max(1, length // 50)  # smooth per-episode noise
            kernel = np.ones(window) / window
            smooth = np.stack([np.convolve(s, kernel, mode="valid") for s in stack])
            xs = np.arange(smooth.shape[1]) + window
            ax.plot(xs, smooth.mean(axis=0), color=colours[m], label=exp.label_of(m))
            if smooth.shape[0] > 1:
                stride = max(1, smooth.shape[1] // 40)
                idx = np.arange(0, smooth.shape[1], stride)
                ci = np.array([bootstrap_ci(smooth[:, i]) for i in idx])
                _band(ax, xs[idx], ci[:, 0], ci[:, 1], colours[m], spec.log_y)
        ax.set_xlabel("training episode")
        ax.set_ylabel(spec.ylabel or spec.metric)
        if spec.log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    handles, labels = _legend(axes)
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.suptitle(spec.title or spec.name)
    fig.tight_layout()
    out = _save(fig, path)
    plt.close(fig)
    return out


def draw(out: Path, names: list[str] | None = None) -> list[Path]:
    """Draw the experiment's figures from ``<out>/summary.json`` (and ``<out>/cells``); returns the files."""
    import matplotlib

    matplotlib.use("Agg")
    out = Path(out)
    summary_path = out / "summary.json"
    if not summary_path.is_file():
        raise FileNotFoundError(f"{summary_path}: no summary (run scripts/reproduce.py first)")
    summary = read_json(summary_path)
    exp = Experiment.model_validate(summary["experiment"])
    specs = [f for f in exp.figures if not names or f.name in names]
    if names:
        unknown = sorted(set(names) - {f.name for f in exp.figures})
        if unknown:
            raise ValueError(f"unknown figure {unknown[0]!r}; the experiment has {[f.name for f in exp.figures]}")
    cells = None
    paths = []
    for spec in specs:
        target = out / f"{spec.name}.png"
        if spec.kind == "curve":
            if cells is None:
                cells = [read_json(p) for p in sorted((out / "cells").rglob("*.json"))]
            path = curve_figure(exp, spec, cells, target)
        elif spec.kind == "bar":
            path = bar_figure(exp, spec, summary["rows"], target)
        else:
            path = line_figure(exp, spec, summary["rows"], target)
        if path is not None:
            paths.append(path)
    return paths
