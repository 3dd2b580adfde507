"""Run cells, in parallel worker processes, resuming from the cells already on disk.

Each worker writes its cell's result file itself (atomically), so every
finished cell survives whatever happens to the run afterwards. Ctrl-C or
SIGTERM stops the run promptly: workers ignore SIGINT (only the parent
decides), the parent terminates them through ``multiprocessing.Pool.terminate``
and exits; nothing is left running and the finished cells stay on disk.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

from baselines import registry
from baselines.experiment.episode import decision_time, evaluate, median
from baselines.experiment.io import write_csv, write_json
from baselines.experiment.plan import Cell, cell_path
from baselines.experiment.provenance import provenance
from baselines.experiment.seeds import eval_seeds
from baselines.experiment.stats import seed_means


class Interrupted(Exception):
    """The run was stopped by a signal; finished cells are on disk."""

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


def run_cell(cell: Cell, out: Path) -> dict:
    """Train (if a learner), evaluate and time one cell; write and return its result."""
    import mec_marl

    _pin_threads()
    method = registry.get(cell.method, cell.env)
    start = time.perf_counter()
    budget = cell.train if method.kind == "learner" else {}
    policy = method.build(cell.env, dict(cell.env_kwargs), seed=cell.seed, budget=budget, options=cell.options or None)
    train_time = time.perf_counter() - start
    trace: list | None = [] if cell.trace else None
    # method.build added the method's env options for training; cell.env_kwargs already hold them
    episodes = evaluate(cell.env, policy, cell.eval_episodes, cell.seed, cell.env_kwargs, trace)
    env = mec_marl.make(cell.env, **cell.env_kwargs)
    try:
        times = decision_time(env, policy, eval_seeds(cell.seed, cell.eval_episodes), cell.decision_samples,
                              cell.decision_warmup)
        env_config = env.unwrapped.config.model_dump(mode="json")
    finally:
        env.close()
    means = seed_means(episodes)
    means["decision_time_s"] = median(times)
    means["train_time_s"] = train_time if method.kind == "learner" else 0.0
    result = {
        "cell": cell.as_dict(),
        "env_config": env_config,
        "deterministic": method.deterministic,
        "kind": method.kind,
        "eval_seeds": [eval_seeds(cell.seed, cell.eval_episodes)[0], cell.eval_episodes],
        "episodes": episodes,
        "seed_means": means,
        "decision_times_s": times,
        "history": _history(policy),
        "provenance": provenance(),
    }
    path = cell_path(out, cell)
    if trace is not None:
        columns = list(dict.fromkeys(k for row in trace for k in row))
        write_csv(path.with_suffix(".trace.csv"), trace, columns)
    if cell.save_policy and hasattr(policy, "save"):
        policy.save(path.with_suffix(".pt"))
    write_json(path, result)  # last: the cell counts as finished once this file exists
    return result


def _history(policy) -> dict:
    """A learner's training curves (lists of numbers), if it keeps any."""
    hist = getattr(policy, "history", None) or {}
    return {k: list(v) for k, v in hist.items() if isinstance(v, (list, tuple))}


def _pin_threads() -> None:
    # One thread per worker: N workers on N cores; torch's default would oversubscribe.
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _worker_init() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"  # read by torch and numpy's BLAS when a learner first imports them
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and terminates us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _task(args):
    cell, out = args
    return run_cell(cell, out)


def pending(cells: list[Cell], out: Path, fresh: bool = False) -> list[Cell]:
    return [c for c in cells if fresh or not cell_path(out, c).exists()]


def execute(cells: list[Cell], out: Path, workers: int = 1, progress: bool | None = None, desc: str = "") -> int:
    """Run ``cells`` (learners first: they are the long poles); returns how many finished.

    Raises :class:`Interrupted` on SIGINT/SIGTERM after stopping every worker.
    """
    from tqdm import tqdm

    out = Path(out)
    learners = {c.method for c in cells if registry.get(c.method).kind == "learner"}
    todo = sorted(cells, key=lambda c: c.method not in learners)
    if progress is None:
        progress = sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")
    bar = tqdm(total=len(todo), desc=desc, unit="cell", disable=not progress)
    done = 0
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def stop(signum, frame):
        for s in previous:
            signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        raise Interrupted(signum)

    for s in previous:
        signal.signal(s, stop)
    pool = results = None
    try:
        if workers > 1 and len(todo) > 1:
            pool = multiprocessing.get_context("spawn").Pool(min(workers, len(todo)), initializer=_worker_init)
            results = pool.imap_unordered(_task, [(c, out) for c in todo])
            for res in results:
                done += 1
                bar.set_postfix_str(f"{res['cell']['method_id']} {res['cell']['point']}")
                bar.update()
            pool.close()
            pool.join()
        else:
            for cell in todo:
                run_cell(cell, out)
                done += 1
                bar.update()
    finally:
        if pool is not None:
            pool.terminate()  # SIGTERM to every worker, then join: no orphans
            pool.join()
            del pool, results  # release the pool's queue semaphores now, not at interpreter exit
        bar.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return done
