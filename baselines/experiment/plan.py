"""Plan an experiment: variants x swept points x methods x seeds -> cells.

A cell is one (variant, point, method, seed): train the method if it is a
learner, evaluate it on the seed's evaluation instances, time its decisions.
Its result lives at :func:`cell_path`; a cell whose file exists is finished.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from baselines import registry
from baselines.experiment.schema import RUNNER_METRICS, Experiment, ExperimentError


@dataclass(frozen=True)
class Cell:
    variant: str
    env: str
    method_id: str  # the experiment's name for the method (its column)
    method: str  # registry name or "package.module:build"
    seed: int
    point: dict[str, Any]  # axis -> value
    env_kwargs: dict[str, Any]  # scenario + overrides + env axes + the method's env options
    options: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)  # learners only
    eval_episodes: int = 10
    decision_samples: int = 20
    decision_warmup: int = 3
    trace: bool = False
    save_policy: bool = False  # learners: also save the trained policy next to the result (<cell>.pt)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Cell":
        return cls(**data)


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", str(value))


def cell_path(out: Path, cell: Cell) -> Path:
    point = "_".join(f"{_slug(k)}={_slug(v)}" for k, v in cell.point.items()) or "default"
    return Path(out) / "cells" / cell.variant / cell.method_id / f"{point}_s{cell.seed}.json"


def points(exp: Experiment, budget: str) -> list[dict[str, Any]]:
    sweep = exp.budgets[budget].sweep
    axes = list(exp.axes)
    return [dict(zip(axes, combo)) for combo in itertools.product(*(sweep[a] for a in axes))]


def plan(exp: Experiment, budget: str) -> list[Cell]:
    """Every cell of ``budget``; unknown methods or envs are errors naming them."""
    if budget not in exp.budgets:
        raise ExperimentError(f"unknown budget {budget!r}; the experiment has {sorted(exp.budgets)}")
    b = exp.budgets[budget]
    cells = []
    for vname, variant in exp.variants.items():
        if b.variants and vname not in b.variants:
            continue
        env_id = exp.env_of(vname)
        base = {**({"scenario": variant.scenario} if variant.scenario else {}), **variant.overrides}
        check_variant(exp, vname, env_id, base)
        for point in points(exp, budget):
            for mid in variant.methods:
                spec = exp.methods[mid]
                try:
                    method = registry.get(exp.method_of(mid), env_id)
                    method.check_options(spec.options)
                except ValueError as err:
                    raise ExperimentError(f"variant {vname!r}, method {mid!r}: {err}") from None
                env_kwargs, options, train = dict(base), dict(spec.options), {**b.train, **spec.train,
                                                                        **b.method_train.get(mid, {})}
                for axis, value in point.items():
                    target = exp.axes[axis].target
                    {"env": env_kwargs, "options": options, "train": train}[target][axis] = value
                env_kwargs.update(method.env_options)
                env_kwargs.update(spec.env_options)
                for seed in b.seeds:
                    cells.append(Cell(
                        variant=vname, env=env_id, method_id=mid, method=method.name, seed=seed, point=dict(point),
                        env_kwargs=env_kwargs, options=options, train=train if method.kind == "learner" else {},
                        eval_episodes=b.eval_episodes, decision_samples=b.decision_samples,
                        decision_warmup=b.decision_warmup, trace=b.trace,
                        save_policy=b.save_policies and method.kind == "learner",
                    ))
    return cells


def check_variant(exp: Experiment, name: str, env_id: str, env_kwargs: dict) -> None:
    """Build the variant's env once: a bad env id, scenario or key, or a metric the env lacks, fails here."""
    import mec_marl

    try:
        env = mec_marl.make(env_id, **env_kwargs)
    except ValueError as err:
        raise ExperimentError(f"variant {name!r}: {err}") from None
    declared = getattr(getattr(env.unwrapped, "model", None), "episode_metrics", None)
    env.close()
    if declared is None:
        return
    known = set(declared) | {"return", "length"} | set(RUNNER_METRICS)
    unknown = [m for m in exp.metrics if m not in known]
    if unknown:
        raise ExperimentError(f"metric {unknown[0]!r} is not an episode metric of {env_id}; "
                              f"its metrics: {sorted(known)}")


def select(exp: Experiment, budget: str, cells: list[Cell], methods: list[str] | None = None,
           values: dict[str, list[str]] | None = None, variants: list[str] | None = None,
           seeds: list[int] | None = None) -> list[Cell]:
    """The cells of a subset run; a method, variant, value or seed outside the plan is an error."""
    if methods:
        unknown = [m for m in methods if m not in exp.methods]
        if unknown:
            raise ExperimentError(f"unknown method {unknown[0]!r}; the experiment has {list(exp.methods)}")
        cells = [c for c in cells if c.method_id in methods]
    if variants:
        unknown = [v for v in variants if v not in exp.variants]
        if unknown:
            raise ExperimentError(f"unknown variant {unknown[0]!r}; the experiment has {list(exp.variants)}")
        cells = [c for c in cells if c.variant in variants]
    if seeds:
        allowed = exp.budgets[budget].seeds
        unknown = [s for s in seeds if s not in allowed]
        if unknown:
            raise ExperimentError(f"seed {unknown[0]} is not a seed of budget {budget!r}; its seeds: {allowed}")
        cells = [c for c in cells if c.seed in seeds]
    for axis, wanted in (values or {}).items():
        if axis not in exp.axes:
            raise ExperimentError(f"unknown sweep axis {axis!r}; the experiment has {list(exp.axes)}")
        allowed = {str(v): v for v in exp.budgets[budget].sweep[axis]}
        for w in wanted:
            if w not in allowed:
                raise ExperimentError(f"{axis}={w!r} is not a value of budget {budget!r}; its values: {list(allowed.values())}")
        keep = [allowed[w] for w in wanted]
        cells = [c for c in cells if c.point[axis] in keep]
    return cells


def parse_values(items: list[str], exp: Experiment) -> dict[str, list[str]]:
    """``["2,4"]`` (the experiment's only axis) or ``["n_devices=2,4", ...]`` -> axis -> values."""
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" in item:
            axis, _, vals = item.partition("=")
        elif len(exp.axes) == 1:
            axis, vals = next(iter(exp.axes)), item
        else:
            raise ExperimentError(f"--values {item!r}: name the axis (AXIS=V1,V2); axes: {list(exp.axes)}")
        parsed = [v.strip() for v in vals.split(",") if v.strip()]
        if not parsed:
            raise ExperimentError(f"--values {item!r} lists no values")
        out.setdefault(axis.strip(), []).extend(parsed)
    return out
