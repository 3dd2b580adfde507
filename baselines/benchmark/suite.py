"""All areas in one run: settings (full and quick), results dict and Markdown page."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from baselines.benchmark import decision, machine, report, solvers, throughput


@dataclass(frozen=True)
class Settings:
    repeats: int = 7  # timed runs per env (median reported)
    steps: int = 5000  # timed steps per run
    warmup: int = 500  # untimed steps per run
    solver_instances: int = 20  # random instances per sub-solver
    tem_ref_n: int = 6  # devices of the TEM-vs-reference instances
    tem_ref_instances: int = 3
    decision_sizes: tuple[int, ...] | None = None  # None: each decision case's own sweep
    search_instances: int = 15  # instances per size for the search's decision time
    act_calls: int = 500  # learner act calls per size
    learner_steps: int = 200  # training budget of the timed learner (the forward pass does not depend on it)
    vector: bool = True  # also measure mec_marl.vector when importable
    vector_steps: int = 200  # timed batched steps per batch size
    vector_batch_sizes: tuple[int, ...] | None = None  # None: each case's own (up to 8192)


FULL = Settings()
QUICK = Settings(repeats=3, steps=300, warmup=30, solver_instances=3, tem_ref_n=3, tem_ref_instances=1,
                 search_instances=2, act_calls=30, vector_steps=10)


def run(settings: Settings, env_ids, seed: int = 0, quick: bool = False) -> tuple[dict, str]:
    """Measure every area; returns ``(results, markdown)``."""
    machine.one_core()
    t_start = time.perf_counter()
    info = machine.machine_info()
    envs = throughput.measure(env_ids, settings.steps, settings.warmup, settings.repeats, seed,
                              settings.vector_steps if settings.vector else 0, settings.vector_batch_sizes)
    solver_rows = solvers.measure(settings.solver_instances, settings.tem_ref_instances, settings.tem_ref_n, seed)
    decisions = decision.measure(settings.decision_sizes, settings.search_instances, settings.act_calls,
                                 settings.learner_steps, seed)
    info["loadavg_1m_end"] = machine.loadavg()
    notes = [
        "One core: torch.set_num_threads(1); BLAS/OpenMP threads = 1 when run from the command line.",
        "Env steps/s counts parallel-API step() calls (one call advances every agent); "
        "agent-steps/s = steps/s × agents.",
        "Speed targets are reported, not asserted.",
        *throughput.notes(envs),
    ]
    busy = max(v for v in (info["loadavg_1m_start"], info["loadavg_1m_end"], 0.0) if v is not None)
    if busy > 1.5:
        notes.append(f"Other processes were running (1-min load average up to {busy:.1f} on {info['cpu_count']} CPUs, "
                     "~1 of it this benchmark): absolute rates may be depressed; the ratios to MPE2 come from "
                     "interleaved runs and are less affected.")
    wall = time.perf_counter() - t_start
    notes.append(f"Benchmark wall time: {wall:.1f} s.")
    results = {
        "quick": bool(quick),
        "seed": seed,
        "settings": asdict(settings),
        "machine": info,
        "protocol": envs["protocol"],
        "reference": envs["reference"],
        "envs": envs["envs"],
        "solvers": solver_rows,
        "decision": decisions,
        "notes": notes,
        "wall_s": wall,
    }
    lines = [*report.header(results), "", *throughput.markdown(envs), "", *solvers.markdown(solver_rows), "",
             *decision.markdown(decisions), *(f"- {note}" for note in notes), ""]
    return results, "\n".join(lines)

