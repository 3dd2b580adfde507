"""Summarise finished cells: statistics across seeds, tables, the paper's claims with verdicts.

Rows are built from every finished cell of the budget's full plan found on
disk, so a subset run adds to the report and never shrinks it; the report
says how many of the planned cells it covers.
"""

from __future__ import annotations

import math
from pathlib import Path

from baselines.experiment import claims as claim_checks
from baselines.experiment.io import markdown_table, read_json, write_atomic, write_csv, write_json
from baselines.experiment.plan import Cell, cell_path
from baselines.experiment.schema import Experiment, axis_value
from baselines.experiment.stats import across_seeds

STATS = ("mean", "iqm", "ci_low", "ci_high")


def load_results(out: Path, cells: list[Cell]) -> list[dict]:
    return [read_json(p) for p in (cell_path(out, c) for c in cells) if p.exists()]


def summarise(exp: Experiment, results: list[dict]) -> list[dict]:
    """One row per (variant, point, method): each metric's mean, IQM and 95% CI across seeds."""
    groups: dict[tuple, list[dict]] = {}
    for res in results:
        cell = res["cell"]
        key = (cell["variant"], tuple((k, axis_value(v)) for k, v in cell["point"].items()), cell["method_id"])
        groups.setdefault(key, []).append(res)
    variant_order = {v: i for i, v in enumerate(exp.variants)}
    method_order = {m: i for i, m in enumerate(exp.methods)}
    rows = []
    for (variant, point, mid), group in sorted(
        groups.items(), key=lambda kv: (variant_order[kv[0][0]], [_sortable(v) for _, v in kv[0][1]], method_order[kv[0][2]])
    ):
        row = {"variant": variant, **dict(point), "method": mid, "label": exp.label_of(mid),
               "seeds": len(group), "episodes": sum(len(r["episodes"]) for r in group)}
        for metric in exp.metrics:
            agg = across_seeds(r["seed_means"].get(metric) for r in group)
            row[metric] = agg["mean"]
            for stat in STATS[1:]:
                row[f"{metric}_{stat}"] = agg[stat]
        rows.append(row)
    for table in exp.tables:
        if table.reference is None:
            continue
        metric = (table.metrics or exp.metrics)[0]
        ref = {(r["variant"], _point(exp, r)): r[metric] for r in rows if r["method"] == table.reference}
        for r in rows:
            if not table.variants or r["variant"] in table.variants:
                base = ref.get((r["variant"], _point(exp, r)))
                r[f"ratio_to_{table.reference}"] = r[metric] / base if base else math.nan
    return rows


def _sortable(v):
    return (0, v, "") if isinstance(v, (int, float, tuple)) else (1, 0, str(v))


def _point(exp: Experiment, row: dict) -> tuple:
    return tuple(row.get(a) for a in exp.axes)


def columns(exp: Experiment) -> list[str]:
    cols = ["variant", *exp.axes, "method", "label", "seeds", "episodes"]
    for metric in exp.metrics:
        cols += [metric] + [f"{metric}_{s}" for s in STATS[1:]]
    cols += [f"ratio_to_{t.reference}" for t in exp.tables if t.reference]
    return list(dict.fromkeys(cols))


def _with_ci(row: dict, metric: str) -> str:
    mean, lo, hi = row.get(metric), row.get(f"{metric}_ci_low"), row.get(f"{metric}_ci_high")
    if mean is None or not math.isfinite(mean):
        return "-"
    if lo is None or hi is None or not math.isfinite(lo) or lo == hi:
        return f"{mean:.4g}"
    return f"{mean:.4g} [{lo:.4g}, {hi:.4g}]"


def report(exp: Experiment, budget: str, rows: list[dict], verdicts: list[dict], done: int, planned: int) -> str:
    b = exp.budgets[budget]
    lines = [f"# {exp.title or exp.paper}\n\n"]
    coverage = "all" if done == planned else f"PARTIAL: {done} of"
    lines.append(
        f"Budget `{budget}`: training seeds {b.seeds}, {b.eval_episodes} evaluation episodes per seed; "
        f"each entry is the mean across seeds [95% bootstrap CI across seeds]; decision time is the median "
        f"of {b.decision_samples} decisions after {b.decision_warmup} warm-up ones. Cells: {coverage} {planned} planned.\n"
    )
    if verdicts:
        lines.append("\n## The paper's claims and what we measured\n\n")
        for v in verdicts:
            lines.append(f"- Paper: {v['claim']}\n  - Measured: **{v['verdict']}**: {v['evidence']}\n")
    for table in exp.tables or []:
        metrics = table.metrics or exp.metrics
        lines.append(f"\n## {table.title or table.name}\n")
        for variant in table.variants or list(exp.variants):
            vrows = [r for r in rows if r["variant"] == variant]
            if not vrows:
                continue
            spec = exp.variants[variant]
            lines.append(f"\n### {spec.label or variant}{': ' + spec.description if spec.description else ''}\n\n")
            shown = [{**r, **{m: _with_ci(r, m) for m in metrics}} for r in vrows]
            cols = [*exp.axes, "label", *metrics] + ([f"ratio_to_{table.reference}"] if table.reference else [])
            heads = [exp.axis_label(a) if a in exp.axes else a for a in cols]
            heads = ["method" if c == "label" else h for c, h in zip(cols, heads)]
            if table.reference:
                heads[-1] = f"{metrics[0]} / {exp.label_of(table.reference)}"
            lines.append(markdown_table(shown, cols, heads))
    if exp.reported:
        lines.append("\n## The paper's reported values beside ours\n\n")
        rep_rows = []
        for rep in exp.reported:
            match = [r for r in rows if r["variant"] == rep.variant and r["method"] == rep.method
                     and all(r.get(a) == v for a, v in rep.at.items())]
            rep_rows.append({"variant": rep.variant, "at": ", ".join(f"{a}={v}" for a, v in rep.at.items()),
                             "method": exp.label_of(rep.method), "metric": rep.metric, "paper": rep.value,
                             "ours": _with_ci(match[0], rep.metric) if match else "not run", "source": rep.source})
        lines.append(markdown_table(rep_rows, ["variant", "at", "method", "metric", "paper", "ours", "source"]))
    return "".join(lines)


def write_summary(exp: Experiment, budget: str, out: Path, planned: list[Cell]) -> dict:
    """Write ``summary.json``, ``results.csv`` and ``report.md`` from the finished cells; return the summary."""
    out = Path(out)
    results = load_results(out, planned)
    rows = summarise(exp, results)
    verdicts = [claim_checks.verdict(exp, c, rows) for c in exp.claims]
    text = report(exp, budget, rows, verdicts, len(results), len(planned))
    summary = {
        "experiment": exp.model_dump(mode="json"),
        "budget": budget,
        "cells_done": len(results),
        "cells_planned": len(planned),
        "rows": rows,
        "claims": verdicts,
    }
    write_json(out / "summary.json", summary)
    write_csv(out / "results.csv", rows, columns(exp))
    write_atomic(out / "report.md", text)
    summary["report"] = text
    return summary
