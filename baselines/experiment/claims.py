"""The paper's claims, checked against our numbers: a verdict with the numbers behind it."""

from __future__ import annotations

import math

from baselines.experiment.schema import Below, Claim, Experiment, GrowsSlower, WithinRatio, axis_value

HOLDS, FAILS, UNKNOWN = "holds", "does not hold", "not measured"


def _point_key(exp: Experiment, row: dict, skip: str | None = None) -> tuple:
    return (row["variant"],) + tuple((a, axis_value(row.get(a))) for a in exp.axes if a != skip)


def _where(key: tuple) -> str:
    return ", ".join([key[0]] + [f"{a}={v}" for a, v in key[1:]])


def _by_point(exp, rows, variants) -> dict[tuple, dict[str, dict]]:
    """(variant, axis values) -> method -> row."""
    out: dict[tuple, dict[str, dict]] = {}
    for r in rows:
        if not variants or r["variant"] in variants:
            out.setdefault(_point_key(exp, r), {})[r["method"]] = r
    return out


def _series(exp, rows, variants, axis) -> dict[tuple, dict[str, list[dict]]]:
    """(variant, the other axes' values) -> method -> rows along ``axis``."""
    out: dict[tuple, dict[str, list[dict]]] = {}
    for r in rows:
        if not variants or r["variant"] in variants:
            out.setdefault(_point_key(exp, r, skip=axis), {}).setdefault(r["method"], []).append(r)
    return out


def verdict(exp: Experiment, claim: Claim, rows: list[dict]) -> dict:
    check = claim.check
    if isinstance(check, Below):
        result = _below(exp, check, rows, claim.variants)
    elif isinstance(check, WithinRatio):
        result = _within(exp, check, rows, claim.variants)
    elif isinstance(check, GrowsSlower):
        result = _grows(exp, check, rows, claim.variants)
    else:  # pragma: no cover - the schema admits only the kinds above
        raise TypeError(type(check).__name__)
    return {"claim": claim.claim, "check": check.model_dump(), **result}


def _value(row: dict, metric: str) -> float:
    v = row.get(metric)
    return float(v) if v is not None else math.nan


def _below(exp, c: Below, rows, variants) -> dict:
    sign = -1.0 if c.higher_is_better else 1.0
    compared = held = 0
    worst = None  # (margin, text)
    for key, methods in _by_point(exp, rows, variants).items():
        if c.method not in methods:
            continue
        ours = _value(methods[c.method], c.metric)
        for other in c.others:
            if other not in methods:
                continue
            theirs = _value(methods[other], c.metric)
            compared += 1
            margin = sign * (theirs - ours)
            held += margin > 0
            if worst is None or margin < worst[0]:
                worst = (margin, f"{_where(key)}: {exp.label_of(c.method)} {ours:.4g} vs {exp.label_of(other)} {theirs:.4g}")
    if not compared:
        return {"verdict": UNKNOWN, "evidence": "no point has both the method and a compared one"}
    word = "above" if c.higher_is_better else "below"
    return {"verdict": HOLDS if held == compared else FAILS,
            "evidence": f"{c.metric}: {exp.label_of(c.method)} {word} the compared method in {held} of {compared} "
                        f"(point, method) pairs; {'closest' if held == compared else 'worst'}: {worst[1]}"}


def _within(exp, c: WithinRatio, rows, variants) -> dict:
    ratios = []
    for key, methods in _by_point(exp, rows, variants).items():
        if c.method in methods and c.reference in methods:
            ref = _value(methods[c.reference], c.metric)
            ratios.append((_value(methods[c.method], c.metric) / ref if ref else math.inf, key))
    if not ratios:
        return {"verdict": UNKNOWN, "evidence": f"no point has both {c.method} and {c.reference}"}
    worst, key = max(ratios)
    label = f"{exp.label_of(c.method)}/{exp.label_of(c.reference)}"
    return {"verdict": HOLDS if worst <= c.max_ratio else FAILS,
            "evidence": f"{c.metric} ratio {label} at most {worst:.3g} (at {_where(key)}; bound {c.max_ratio:g}) "
                        f"over {len(ratios)} point{'s' if len(ratios) != 1 else ''}; median {sorted(r for r, _ in ratios)[len(ratios) // 2]:.3g}"}


def _grows(exp, c: GrowsSlower, rows, variants) -> dict:
    axis = c.axis or next(iter(exp.axes), None)
    if axis is None:
        return {"verdict": UNKNOWN, "evidence": "the experiment sweeps no axis"}
    parts, ok = [], True
    for key, methods in _series(exp, rows, variants, axis).items():
        growth = {}
        for m in (c.method, c.than):
            series = sorted((r[axis], _value(r, c.metric)) for r in methods.get(m, []))
            if len(series) >= 2 and series[0][1] > 0:
                growth[m] = (series[-1][1] / series[0][1], series[0][0], series[-1][0])
        if len(growth) < 2:
            continue
        ok &= growth[c.method][0] < growth[c.than][0]
        lo, hi = growth[c.method][1], growth[c.method][2]
        parts.append(f"{_where(key)}: {exp.label_of(c.method)} x{growth[c.method][0]:.3g} vs "
                     f"{exp.label_of(c.than)} x{growth[c.than][0]:.3g} from {axis}={lo} to {hi}")
    if not parts:
        return {"verdict": UNKNOWN, "evidence": f"fewer than two {axis} values with both methods"}
    return {"verdict": HOLDS if ok else FAILS, "evidence": f"{c.metric} growth " + "; ".join(parts)}
