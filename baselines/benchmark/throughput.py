"""Env throughput: parallel-API ``step`` calls per second, against PettingZoo MPE2 as a reference.

A new env is one entry in :data:`CASES` (env id, config, the batch sizes its
vector-env measurement uses, an optional speed target as a ratio to MPE2);
registered envs without an entry are measured at their default config.

Protocol: actions pre-sampled from the seeded action spaces (sampling is not
timed); the env is reset with a seed, warm-up steps are excluded, then N
``step`` calls are timed with ``time.perf_counter``; the env is reset when an
episode ends, inside the timed loop (the rate includes the amortised reset
cost); median over R runs. Runs are interleaved (reference, env 1, env 2,
reference, ...) so that the ratios are robust to load that drifts.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass, field

from baselines.benchmark import report
from baselines.benchmark.timing import median

REFERENCE_ID = "mpe2/simple_spread_v3"
REFERENCE_KWARGS = {"N": 3, "max_cycles": 25, "continuous_actions": False}
VECTOR_BATCH_SIZES = (1, 64, 1024, 8192)


@dataclass(frozen=True)
class Case:
    env_id: str
    config: dict = field(default_factory=dict)  # the env's defaults (the paper's scale) when empty
    batch_sizes: tuple[int, ...] = VECTOR_BATCH_SIZES  # for the vector env (mec_marl.vector)
    target_ratio: float | None = None  # speed goal as a ratio to MPE2; reported, never asserted
    vector_target_rate: tuple[int, float] | None = None  # (B, agent-steps/s) goal of the vector env
    vector_target_speedup: tuple[int, float] | None = None  # (B, ratio to the single-env loop) goal


CASES = {case.env_id: case for case in [
    Case("cpdrl_v0", target_ratio=10.0, vector_target_rate=(8192, 3e6), vector_target_speedup=(1024, 100.0)),
    Case("smart_community_v0", vector_target_rate=(8192, 1e5)),
    # 100-slot episodes: an instance pre-draws its slots' fading and arrivals, (B, T, I) arrays
    # (the default 1000 slots would hold 1.3 GB at B = 8192); resets amortise over the episode.
    Case("semantic_v0", config={"max_cycles": 100}, vector_target_rate=(8192, 1e6)),
    # Issue 16: >= 1e6 instance-steps/s in scheduler mode (one agent per instance) at B = 8192.
    Case("large_scale_v0", vector_target_rate=(8192, 1e6)),
    # 7 ES agents, 100 users, a sum-of-sigmoids program per ES and step; 8192 instances pre-draw 0.8 GB
    # of slots, a step at B = 8192 takes seconds (the benchmark test measures B = 1, 8).
    Case("djtcra_v0", batch_sizes=(1, 64, 1024, 8192), vector_target_rate=(8192, 30000.0)),
]}


def case_for(env_id: str) -> Case:
    return CASES.get(env_id, Case(env_id))


def _one_run(make_env, steps: int, warmup: int, seed: int) -> dict:
    """One timed run: fresh env, pre-sampled seeded actions, warm-up untimed, ``steps`` timed steps."""
    env = make_env()
    env.reset(seed=seed)
    agents = list(env.possible_agents)
    spaces = {a: env.action_space(a) for a in agents}
    for i, a in enumerate(agents):
        spaces[a].seed(seed + 7919 * (i + 1))
    total = warmup + steps
    per_agent = {a: [spaces[a].sample() for _ in range(total)] for a in agents}
    actions = [{a: per_agent[a][t] for a in agents} for t in range(total)]
    env.reset(seed=seed)
    for t in range(warmup):
        env.step({a: actions[t][a] for a in env.agents})
        if not env.agents:
            env.reset()
    step, reset = env.step, env.reset
    n_all, n_resets = len(agents), 0
    t0 = time.perf_counter()
    for act in actions[warmup:]:
        live = env.agents
        step(act if len(live) == n_all else {a: act[a] for a in live})  # agents may leave mid-episode
        if not env.agents:
            reset()
            n_resets += 1
    elapsed = time.perf_counter() - t0
    base = getattr(env, "unwrapped", env)
    out = {"rate": steps / elapsed, "resets": n_resets, "n_agents": n_all,
           "max_cycles": getattr(env, "max_cycles", getattr(base, "max_cycles", None))}
    env.close()
    return out


def _summarise(runs: list[dict]) -> dict:
    rates = [r["rate"] for r in runs]
    med = median(rates)
    return {
        "steps_per_s": med,
        "steps_per_s_min": float(min(rates)),
        "steps_per_s_max": float(max(rates)),
        "runs": [float(r) for r in rates],
        "agent_steps_per_s": med * runs[0]["n_agents"],
        "resets_per_run": int(median([r["resets"] for r in runs])),
        "n_agents": runs[0]["n_agents"],
        "max_cycles": runs[0]["max_cycles"],
    }


def _reference_factory():
    """``(make_env, None)`` for MPE2 ``simple_spread_v3``, or ``(None, note)`` if mpe2 is missing."""
    try:
        from mpe2 import simple_spread_v3
    except ImportError as err:
        return None, f"mpe2 not installed ({err}); install the bench extra: pip install 'mec-marl[bench]'"
    return (lambda: simple_spread_v3.parallel_env(**REFERENCE_KWARGS)), None


def vector_throughput(env_id: str, config: dict, batch_sizes, steps: int = 50, warmup: int = 5,
                      seed: int = 0) -> dict:
    """Env-steps/s of ``mec_marl.vector.make(env_id, num_envs=B, **config)`` for each B.

    Skipped, with a note, when ``mec_marl.vector`` is not importable. One
    batched ``step`` advances B envs: the rate counts B env steps per call
    (auto-resets included). Actions: a pool of 8 seeded batched samples, cycled.
    """
    try:
        from mec_marl import vector
    except ImportError as err:
        return {"skipped": True, "note": f"mec_marl.vector not importable ({err}); vector throughput not measured"}
    rows = []
    for b in batch_sizes:
        env = vector.make(env_id, num_envs=int(b), **config)
        env.reset(seed=seed)
        spaces = {agent: env.action_space(agent) for agent in env.possible_agents}  # batched spaces
        for i, space in enumerate(spaces.values()):
            space.seed(seed + 7919 * (i + 1))
        # a small pool of pre-sampled batches, cycled (sampling is not timed; 8192 x steps would be large)
        pool = [{agent: space.sample() for agent, space in spaces.items()} for _ in range(8)]
        for t in range(warmup):
            env.step(pool[t % len(pool)])
        t0 = time.perf_counter()
        for t in range(steps):
            env.step(pool[t % len(pool)])
        elapsed = time.perf_counter() - t0
        # Peak memory of a few steps, measured apart from the timing (tracemalloc slows allocation).
        tracemalloc.start()
        for t in range(3):
            env.step(pool[t % len(pool)])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        env.close()
        n_agents = len(env.possible_agents)
        rows.append({"batch_size": int(b), "env_steps_per_s": int(b) * steps / elapsed, "calls_per_s": steps / elapsed,
                     "agent_steps_per_s": int(b) * n_agents * steps / elapsed, "peak_step_memory_mb": peak / 2**20})
    return {"skipped": False, "steps": steps, "warmup": warmup, "rows": rows}


def _vector_targets(vector: dict, row: dict, case: Case) -> None:
    """Speed-up of each batch size over the single-env loop, and the case's vector goals (reported)."""
    for r in vector["rows"]:
        r["speedup_vs_single"] = r["env_steps_per_s"] / row["steps_per_s"]
    by_b = {r["batch_size"]: r for r in vector["rows"]}
    goals = []
    if case.vector_target_rate and case.vector_target_rate[0] in by_b:
        b, goal = case.vector_target_rate
        got = by_b[b]["agent_steps_per_s"]
        goals.append({"goal": f"agent-steps/s at B = {b} >= {goal:,.0f}", "measured": got, "met": got >= goal})
    if case.vector_target_speedup and case.vector_target_speedup[0] in by_b:
        b, goal = case.vector_target_speedup
        got = by_b[b]["speedup_vs_single"]
        goals.append({"goal": f"speed-up over the single-env loop at B = {b} >= {goal:g}x", "measured": got,
                      "met": got >= goal})
    vector["targets"] = goals


def measure(env_ids, steps: int, warmup: int, repeats: int, seed: int, vector_steps: int = 200,
            vector_batch_sizes=None) -> dict:
    """``{"protocol", "reference", "envs"}``: each env's steps/s, its ratio to MPE2, and its vector rates
    (``vector_steps`` batched steps per batch size; 0 skips the vector env)."""
    import mec_marl

    make_ref, note = _reference_factory()
    cases = {env_id: case_for(env_id) for env_id in env_ids}
    makers = {env_id: (lambda c=case: mec_marl.make(c.env_id, **c.config)) for env_id, case in cases.items()}
    if make_ref is not None:
        makers = {REFERENCE_ID: make_ref, **makers}
    runs = {key: [] for key in makers}
    for run in range(repeats):
        for key, make_env in makers.items():
            runs[key].append(_one_run(make_env, steps, warmup, seed + run))
    reference = {"env": REFERENCE_ID, "kwargs": REFERENCE_KWARGS}
    if make_ref is None:
        reference.update(steps_per_s=None, note=note)
    else:
        reference.update(_summarise(runs.pop(REFERENCE_ID)))
    envs = {}
    for env_id, case in cases.items():
        row = _summarise(runs[env_id])
        row["config"] = mec_marl.make(env_id, **case.config).config.model_dump()
        ratio = None if reference["steps_per_s"] is None else row["steps_per_s"] / reference["steps_per_s"]
        row["ratio_to_reference"] = ratio
        if ratio is not None:  # run i of the env and of the reference ran side by side
            row["ratio_paired_median"] = median([a / b for a, b in zip(row["runs"], reference["runs"])])
        row["target_ratio"] = case.target_ratio
        row["meets_target"] = None if (case.target_ratio is None or ratio is None) else bool(ratio >= case.target_ratio)
        if vector_steps > 0:
            sizes = case.batch_sizes if vector_batch_sizes is None else tuple(vector_batch_sizes)
            row["vector"] = vector = vector_throughput(env_id, case.config, sizes, steps=vector_steps,
                                                       warmup=min(5, vector_steps), seed=seed)
            if not vector.get("skipped"):
                _vector_targets(vector, row, case)
        envs[env_id] = row
    protocol = {"steps": steps, "warmup": warmup, "repeats": repeats, "timer": "time.perf_counter",
                "reset_cost": "included (env reset inside the timed loop at episode end)",
                "actions": "pre-sampled from the action spaces, seeded",
                "order": "runs interleaved: reference, env 1, env 2, ..., repeated"}
    return {"protocol": protocol, "reference": reference, "envs": envs}


def markdown(section: dict) -> list[str]:
    p, ref = section["protocol"], section["reference"]
    lines = [
        "## Env steps/s (random actions, parallel API)",
        "",
        f"{p['warmup']} warm-up steps excluded, {p['steps']} timed steps, median of {p['repeats']} runs; resets at "
        "episode end are inside the timed loop (amortised reset cost included); actions pre-sampled from the "
        "seeded action spaces (sampling not timed).",
        "",
        "| env | agents | steps/s (median) | min–max | agent-steps/s | vs MPE2 | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    for env_id, row in section["envs"].items():
        target, met = row.get("target_ratio"), row.get("meets_target")
        lines.append(
            f"| `{env_id}` | {row['n_agents']} | {report.fmt_rate(row['steps_per_s'])} | "
            f"{report.fmt_rate(row['steps_per_s_min'])}–{report.fmt_rate(row['steps_per_s_max'])} | "
            f"{report.fmt_rate(row['agent_steps_per_s'])} | {report.fmt_ratio(row['ratio_to_reference'], 2)} | "
            f"{'≥ ' + report.fmt_ratio(target, 0) if target else '—'} | "
            f"{'—' if met is None else ('yes' if met else '**no**')} |")
    if ref.get("steps_per_s") is not None:
        lines.append(
            f"| `{REFERENCE_ID}` (reference, N=3) | {ref['n_agents']} | {report.fmt_rate(ref['steps_per_s'])} | "
            f"{report.fmt_rate(ref['steps_per_s_min'])}–{report.fmt_rate(ref['steps_per_s_max'])} | "
            f"{report.fmt_rate(ref['agent_steps_per_s'])} | 1.00x | — | — |")
    else:
        lines += ["", f"Reference `{REFERENCE_ID}`: not measured — {ref.get('note')}"]
    vector_rows = [(env_id, row["vector"]) for env_id, row in section["envs"].items() if "vector" in row]
    measured = [(env_id, v) for env_id, v in vector_rows if not v.get("skipped")]
    if measured:
        lines += ["", "### Vector env (`mec_marl.vector`): by batch size B, beside the single-env loop above", "",
                  "| env | B | env-steps/s | agent-steps/s | batched calls/s | vs single env | peak memory of a step |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for env_id, v in measured:
            for r in v["rows"]:
                lines.append(f"| `{env_id}` | {r['batch_size']} | {report.fmt_rate(r['env_steps_per_s'])} | "
                             f"{report.fmt_rate(r['agent_steps_per_s'])} | {report.fmt_rate(r['calls_per_s'])} | "
                             f"{report.fmt_ratio(r['speedup_vs_single'], 1)} | {r['peak_step_memory_mb']:.1f} MB |")
        goals = [(env_id, g) for env_id, v in measured for g in v.get("targets", [])]
        if goals:
            lines += ["", "| env | vector goal | measured | met |", "|---|---|---:|:-:|"]
            for env_id, g in goals:
                lines.append(f"| `{env_id}` | {g['goal']} | {g['measured']:,.1f} | {'yes' if g['met'] else '**no**'} |")
    return lines


def notes(section: dict) -> list[str]:
    out = []
    if section["reference"]["steps_per_s"] is None:
        out.append(section["reference"]["note"])
    skipped = {v["note"] for row in section["envs"].values() if (v := row.get("vector")) and v.get("skipped")}
    return out + sorted(skipped)
