"""Decision time: a search's wall time per instance against a learner's ``act``, over problem sizes.

A search decides once per instance (``reset`` solves it, ``act`` returns the
solution): timed per fresh instance, median over instances after one
warm-up instance. A learner's ``act`` is one forward pass: median over many
calls after warm-up calls (single cold timings jump by several x under load).
Both are built through the method registry. A new env is one entry in
:data:`CASES`.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from baselines.benchmark import report
from baselines.benchmark.timing import median, time_calls


@dataclass(frozen=True)
class Case:
    env_id: str
    search: str  # registry method that solves each instance
    learner: str  # registry learner whose act is timed
    size_key: str  # the env config key swept
    sizes: tuple[int, ...]


CASES = [Case("cpdrl_v0", search="tem", learner="cpdrl", size_key="n_devices", sizes=tuple(range(2, 11)))]


def _search_times(env, policy, instances: int, seed: int) -> list[float]:
    times = []
    for i in range(instances + 1):  # instance 0 is the warm-up
        observations, _ = env.reset(seed=seed + i)
        t0 = time.perf_counter()
        policy.reset(env, seed=seed + i)
        policy.act(observations, env)
        if i:
            times.append(time.perf_counter() - t0)
    return times


def measure_case(case: Case, sizes, search_instances: int, act_calls: int, learner_steps: int, seed: int) -> dict:
    import mec_marl
    from baselines import registry

    search, learner = registry.get(case.search, case.env_id), registry.get(case.learner, case.env_id)
    rows = []
    for size in sizes:
        config = {case.size_key: int(size)}
        env = mec_marl.make(case.env_id, **config)
        search_policy = search.build(case.env_id, config, seed=seed)
        search_s = median(_search_times(env, search_policy, search_instances, seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            learner_policy = learner.build(case.env_id, config, seed=seed,
                                           budget={"steps": learner_steps, "progress": False})
        observations, _ = env.reset(seed=seed)
        learner_policy.reset(env, seed=seed)
        act_s = time_calls(lambda: learner_policy.act(observations, env), calls=act_calls, warmup=10)
        env.close()
        rows.append({"size": int(size), "search_s": search_s, "learner_act_s": act_s,
                     "search_over_learner": search_s / act_s if act_s > 0 else None})
    growth = growth_last = None
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = (last["search_s"] / first["search_s"]) ** (1.0 / (last["size"] - first["size"]))
        top = rows[-3:]  # least-squares slope of log t over the three largest sizes
        growth_last = float(np.exp(np.polyfit([r["size"] for r in top], np.log([r["search_s"] for r in top]), 1)[0]))
    return {
        "env": case.env_id, "search": case.search, "learner": case.learner, "size_key": case.size_key,
        "search_label": search.paper_label or search.name, "learner_label": learner.paper_label or learner.name,
        "learner_budget": {"steps": learner_steps},
        "search_instances_per_size": search_instances, "act_calls_per_size": act_calls,
        "search_growth_per_unit": growth, "search_growth_per_unit_largest": growth_last, "rows": rows,
    }


def measure(sizes, search_instances: int, act_calls: int, learner_steps: int, seed: int) -> list[dict]:
    """Every case; ``sizes`` (if given) replaces each case's own sweep."""
    return [measure_case(case, sizes or case.sizes, search_instances, act_calls, learner_steps, seed) for case in CASES]


def markdown(sections: list[dict]) -> list[str]:
    lines = []
    for d in sections:
        s, lrn, key = d["search_label"], d["learner_label"], d["size_key"]
        lines += [
            f"## Decision time on `{d['env']}`: {lrn} vs {s}",
            "",
            f"{s}: wall time per instance (`reset` solves it, then `act`), median of {d['search_instances_per_size']} "
            f"instances after one warm-up instance. {lrn}: one `act` call, median of {d['act_calls_per_size']} calls "
            f"after 10 warm-up calls (learner trained for {d['learner_budget']['steps']} steps; the forward pass "
            "does not depend on training).",
            "",
            f"| {key} | {s} | {lrn} act | {s} / {lrn} |",
            "|---:|---:|---:|---:|",
        ]
        for row in d["rows"]:
            lines.append(f"| {row['size']} | {report.fmt_time(row['search_s'])} | "
                         f"{report.fmt_time(row['learner_act_s'])} | {report.fmt_ratio(row['search_over_learner'], 1)} |")
        if d.get("search_growth_per_unit"):
            lines += ["", f"{s} time grows ×{d['search_growth_per_unit']:.2f} per unit of {key} (geometric mean over "
                      f"{d['rows'][0]['size']}..{d['rows'][-1]['size']}; ×{d['search_growth_per_unit_largest']:.2f} "
                      f"fitted over the {min(3, len(d['rows']))} largest: fixed overhead dominates small sizes)."]
        lines.append("")
    return lines
