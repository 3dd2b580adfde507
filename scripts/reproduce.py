#!/usr/bin/env python
"""Reproduce a paper's comparison from its experiment file.

    python scripts/reproduce.py cpdrl --budget quick
    python scripts/reproduce.py cpdrl --budget paper --workers 2
    python scripts/reproduce.py configs/experiments/cpdrl.yaml --budget quick --out runs/x

Reads ``configs/experiments/<paper>.yaml``: scenarios x methods x swept
values x seeds. Each cell (train if a learner, then evaluate on fresh seeded
instances) is written atomically to ``<out>/cells/``; a rerun skips the cells
already there, so an interrupted run resumes (``--fresh`` starts over). Then
writes ``results.csv``, ``results.md`` and the plots into ``<out>`` (default
``runs/<paper>-<budget>``) and prints the table.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from baselines import registry  # noqa: E402
from baselines.experiment import (  # noqa: E402
    aggregate,
    evaluate,
    read_json,
    to_csv,
    to_markdown,
    write_json_atomic,
    write_text_atomic,
)
from mec_marl.config import CONFIG_ROOT  # noqa: E402

EXPERIMENT_DIR = CONFIG_ROOT / "experiments"


def load_experiment(name: str) -> dict:
    path = Path(name)
    if not path.exists():
        path = EXPERIMENT_DIR / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml"))
        raise SystemExit(f"error: unknown experiment {name!r}; known: {known}")
    with open(path) as fh:
        return yaml.safe_load(fh)


def run_cell(cell: dict) -> dict:
    """Train (if needed) and evaluate one method on one configuration."""
    import torch

    torch.set_num_threads(1)
    method = registry.get(cell["method"], cell["env"])
    env_kwargs = dict(cell["env_kwargs"])
    start = time.perf_counter()
    policy = method.build(cell["env"], env_kwargs, seed=cell["seed"], budget=cell["train"])
    train_time = time.perf_counter() - start
    # Evaluation instances depend on the seed only, so every method sees the same ones.
    rows = evaluate(cell["env"], policy, cell["eval_episodes"], 10_000 + 1000 * cell["seed"], env_kwargs)
    return {**cell, "rows": rows, "train_time_s": train_time}


def plan_cells(exp: dict, budget_name: str, only_methods: set[str] | None = None) -> list[dict]:
    budget = exp["budgets"][budget_name]
    key = exp["sweep"]["key"]
    cells = []
    for scen_name, scen in exp["scenarios"].items():
        for value in budget["values"]:
            for method in scen["methods"]:
                if only_methods and method not in only_methods:
                    continue
                registry.get(method, exp["env"])  # fail early on a typo
                kind = registry.get(method).kind
                # deterministic methods need one seed; learners and random heuristics all
                seeds = budget["seeds"] if kind != "search" else budget["seeds"][:1]
                for seed in seeds:
                    cells.append(
                        {
                            "scenario_name": scen_name,
                            "env": exp["env"],
                            "env_kwargs": {"scenario": scen["scenario"], key: value},
                            "sweep_value": value,
                            "method": method,
                            "seed": seed,
                            "train": dict(budget.get("train", {})) if kind == "learner" else {},
                            "eval_episodes": budget["eval_episodes"],
                        }
                    )
    return cells


def cell_path(out: Path, cell: dict) -> Path:
    return out / "cells" / cell["scenario_name"] / cell["method"] / f"v{cell['sweep_value']}_s{cell['seed']}.json"


def summarise(exp: dict, results: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    train_times: dict[tuple, list[float]] = {}
    for res in results:
        k = (res["scenario_name"], res["sweep_value"], res["method"])
        groups.setdefault(k, []).extend(res["rows"])
        train_times.setdefault(k, []).append(res["train_time_s"])
    order = {name: i for i, name in enumerate(exp["scenarios"])}
    rows = []
    for (scen, value, method), ep_rows in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1], kv[0][2])):
        agg = aggregate(ep_rows)
        rows.append(
            {
                "scenario": scen,
                exp["sweep"]["key"]: value,
                "method": method,
                "label": registry.get(method).paper_label or method,
                "train_time_s": sum(train_times[(scen, value, method)]) / len(train_times[(scen, value, method)]),
                **agg,
            }
        )
    # ratio to the exhaustive optimum where present
    best = {(r["scenario"], r[exp["sweep"]["key"]]): r["objective"] for r in rows if r["method"] == "tem"}
    for r in rows:
        ref = best.get((r["scenario"], r[exp["sweep"]["key"]]))
        r["ratio_to_tem"] = r["objective"] / ref if ref else math.nan
    return rows


def plot(exp: dict, rows: list[dict], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key, label = exp["sweep"]["key"], exp["sweep"].get("label", exp["sweep"]["key"])
    metric = exp.get("metric", "objective")
    paths = []
    for scen in exp["scenarios"]:
        srows = [r for r in rows if r["scenario"] == scen]
        methods = list(dict.fromkeys(r["method"] for r in srows))
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        for m in methods:
            mr = sorted((r for r in srows if r["method"] == m), key=lambda r: r[key])
            xs = [r[key] for r in mr]
            ax1.errorbar(xs, [r[metric] for r in mr], yerr=[r.get(f"{metric}_ci95", 0) for r in mr],
                         marker="o", capsize=3, label=mr[0]["label"])
            if registry.get(m).kind in ("search", "learner"):
                ax2.plot(xs, [r["decision_time_s"] for r in mr], marker="o", label=mr[0]["label"])
        ax1.set_xlabel(label)
        ax1.set_ylabel(f"{metric} (sum of delay + energy)")
        ax1.set_yscale("log")
        ax1.set_title(f"{exp['paper']} / {scen}: {metric} (Fig. 4, 6)")
        ax1.legend(fontsize=8)
        ax2.set_xlabel(label)
        ax2.set_ylabel("decision time per instance (s)")
        ax2.set_yscale("log")
        ax2.set_title("decision time (Fig. 5)")
        ax2.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{scen}_{metric}.png"
        tmp = out / f".{scen}_{metric}.tmp.png"
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
        plt.close(fig)
        paths.append(path)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paper", help="experiment name under configs/experiments (e.g. cpdrl) or a YAML path")
    parser.add_argument("--budget", default="quick", help="a budget of the experiment file (quick | paper)")
    parser.add_argument("--out", default=None, help="output directory (default runs/<paper>-<budget>)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--fresh", action="store_true", help="ignore cells already on disk")
    parser.add_argument("--values", default=None, help="comma-separated subset of the swept values")
    parser.add_argument("--methods", default=None, help="comma-separated subset of methods")
    args = parser.parse_args(argv)

    exp = load_experiment(args.paper)
    if args.budget not in exp["budgets"]:
        raise SystemExit(f"error: unknown budget {args.budget!r}; allowed: {sorted(exp['budgets'])}")
    out = Path(args.out or f"runs/{exp['paper']}-{args.budget}")
    cells = plan_cells(exp, args.budget, set(args.methods.split(",")) if args.methods else None)
    if args.values:
        keep = {int(v) if v.strip().lstrip("-").isdigit() else float(v) for v in args.values.split(",")}
        cells = [c for c in cells if c["sweep_value"] in keep]

    results, todo = [], []
    for cell in cells:
        path = cell_path(out, cell)
        if path.exists() and not args.fresh:
            results.append(read_json(path))
        else:
            todo.append(cell)
    # learners first: they are the long poles
    todo.sort(key=lambda c: registry.get(c["method"]).kind != "learner")
    from tqdm import tqdm

    start = time.perf_counter()
    bar = tqdm(total=len(cells), initial=len(results), desc=f"{exp['paper']} ({args.budget})", unit="cell",
               disable=None)
    if args.workers > 1 and len(todo) > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            futures = {pool.submit(run_cell, c): c for c in todo}
            for fut in as_completed(futures):
                res = fut.result()
                write_json_atomic(cell_path(out, res), res)
                results.append(res)
                bar.set_postfix_str(f"{res['method']} {exp['sweep']['key']}={res['sweep_value']}")
                bar.update()
    else:
        for c in todo:
            res = run_cell(c)
            write_json_atomic(cell_path(out, res), res)
            results.append(res)
            bar.update()
    bar.close()

    rows = summarise(exp, results)
    key = exp["sweep"]["key"]
    columns = ["scenario", key, "label", "objective", "objective_ci95", "ratio_to_tem", "best_objective",
               "penalised_cost", "tardiness", "success_rate", "avg_latency", "avg_energy",
               "decision_time_s", "train_time_s", "episodes"]
    write_text_atomic(out / "results.csv", to_csv(rows, columns))
    md = [f"# {exp['description']}\n", f"Budget `{args.budget}`; {exp['paper_reports']['ordering']}.\n"]
    for scen, spec in exp["scenarios"].items():
        md.append(f"\n## {scen}: {spec.get('description', '')}\n\n")
        md.append(to_markdown([r for r in rows if r["scenario"] == scen], columns[1:]))
    write_text_atomic(out / "results.md", "".join(md))
    plots = plot(exp, rows, out)
    print("".join(md))
    print(f"wrote {out / 'results.csv'}, {out / 'results.md'}, " + ", ".join(str(p) for p in plots))
    print(f"total time {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
