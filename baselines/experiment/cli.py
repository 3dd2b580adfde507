"""``mec-marl reproduce`` and ``mec-marl plot``: thin command lines over the experiment package."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from baselines.cli import UsageError, _parser, guarded, show_progress


@guarded
def reproduce(argv: list[str] | None = None) -> int:
    """Reproduce a paper's figures and tables from its experiment file.

    python scripts/reproduce.py cpdrl --budget quick
    python scripts/reproduce.py cpdrl --budget paper --workers 4
    python scripts/reproduce.py cpdrl --methods tem,lem --values 2,4      # a subset: merged into the report
    python scripts/reproduce.py cpdrl --budget paper --values 8 --seeds 0,1

    Reads configs/experiments/<paper>.yaml (or a .yaml path). Each cell
    (variant x swept point x method x seed: train if a learner, evaluate on
    the seed's evaluation instances) is written atomically to <out>/cells/; a
    rerun skips finished cells, so a killed run resumes (--fresh recomputes the
    selected cells). The report (report.md, results.csv, summary.json, figures)
    always covers every finished cell of the budget's plan, so a subset run
    adds to it and never shrinks it. Ctrl-C stops promptly and keeps finished cells.
    """
    from baselines.experiment import figures
    from baselines.experiment.plan import parse_values, plan, select
    from baselines.experiment.run import Interrupted, execute, pending
    from baselines.experiment.schema import load_experiment
    from baselines.experiment.summary import write_summary

    parser = _parser(reproduce)
    parser.add_argument("paper", help="experiment name under configs/experiments (e.g. cpdrl) or a YAML path")
    parser.add_argument("--budget", default="quick", help="a budget of the experiment file (quick | paper)")
    parser.add_argument("--out", default=None, help="output directory (default runs/<paper>-<budget>)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--fresh", action="store_true", help="recompute the selected cells even if finished")
    parser.add_argument("--methods", default=None, help="comma-separated subset of the experiment's methods")
    parser.add_argument("--variants", default=None, help="comma-separated subset of the experiment's variants")
    parser.add_argument("--values", action="append", default=[], metavar="[AXIS=]V1,V2",
                        help="subset of the swept values (name the axis if there are several)")
    parser.add_argument("--seeds", default=None, help="comma-separated subset of the budget's seeds")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--progress", action=argparse_bool(), default=None,
                        help="progress bar (default: on a terminal, off when CI is set)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")

    exp = load_experiment(args.paper)
    cells = plan(exp, args.budget)
    try:
        seeds = [int(x) for x in _split(args.seeds)] if args.seeds else None
    except ValueError:
        raise UsageError(f"--seeds must be comma-separated integers, got {args.seeds!r}") from None
    subset = select(exp, args.budget, cells, _split(args.methods), parse_values(args.values, exp), _split(args.variants),
                    seeds)
    out = Path(args.out or f"runs/{exp.paper}-{args.budget}")
    todo = pending(subset, out, args.fresh)
    print(f"{exp.paper} ({args.budget}): {len(cells)} cells planned, {len(subset)} selected, "
          f"{len(subset) - len(todo)} already finished in {out / 'cells'}, {len(todo)} to run", file=sys.stderr)
    start = time.perf_counter()
    progress = show_progress() if args.progress is None else args.progress
    try:
        execute(todo, out, args.workers, progress, desc=f"{exp.paper} ({args.budget})")
    except Interrupted as stop:
        print(f"{stop}; finished cells are kept in {out / 'cells'}; rerun the same command to resume", file=sys.stderr)
        return 128 + stop.signum
    summary = write_summary(exp, args.budget, out, cells)
    plots = [] if args.no_plots else figures.draw(out)
    print(summary["report"])
    written = [out / "report.md", out / "results.csv", out / "summary.json", *plots]
    print("wrote " + ", ".join(str(p) for p in written))
    print(f"total time {time.perf_counter() - start:.1f} s")
    return 0


@guarded
def plot(argv: list[str] | None = None) -> int:
    """Redraw an experiment's figures from its result files (no re-run).

    python scripts/plot.py runs/cpdrl-quick
    python scripts/plot.py runs/cpdrl-quick --figures objective
    """
    from baselines.experiment import figures

    parser = _parser(plot)
    parser.add_argument("out", help="a reproduce output directory (with summary.json)")
    parser.add_argument("--figures", default=None, help="comma-separated subset of the experiment's figures")
    args = parser.parse_args(argv)
    paths = figures.draw(Path(args.out), _split(args.figures))
    print("wrote " + ", ".join(str(p) for p in paths) if paths else "no figure had data")
    return 0


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def argparse_bool():
    import argparse

    return argparse.BooleanOptionalAction


