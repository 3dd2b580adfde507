"""Experiments: run methods on envs, collect the envs' own metrics, aggregate.

Data flows one way: a method builds a policy (training it if it is a
learner), :func:`evaluate` runs it on fresh seeded instances and reads the
metrics from ``infos`` (experiment code never recomputes physics), and
:func:`aggregate` turns per-episode rows into means with 95% confidence
intervals. Results are written atomically (:func:`write_json_atomic`), so an
interrupted run can resume from the cells already on disk.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Iterable

import numpy as np

import mec_marl

# Per-user arrays in infos are summarised by these scalars instead.
_SKIP_KEYS = {"clipped_actions"}


def _scalar_infos(info: dict) -> dict[str, float]:
    out = {}
    for key, value in info.items():
        if key in _SKIP_KEYS:
            continue
        if isinstance(value, (bool, int, float, np.floating, np.integer)) and not isinstance(value, np.ndarray):
            out[key] = float(value)
    return out


def run_episode(env, policy, seed: int) -> dict[str, float]:
    """One seeded episode; returns the episode's metrics.

    ``decision_time_s`` is the wall time of the policy's first decision on the
    instance (``reset`` + first ``act``): for a search this includes solving
    the instance, for a learner it is one forward pass. Scalar infos are
    averaged over the agents at the final step; ``best_objective`` is the
    lowest objective over the episode's steps (CPDRL, Alg. 1 line 18).
    """
    observations, _ = env.reset(seed=seed)
    start = time.perf_counter()
    policy.reset(env, seed=seed)
    actions = policy.act(observations, env)
    decision_time = time.perf_counter() - start
    episode_reward = 0.0
    best_objective = math.inf
    last: dict[str, float] = {}
    steps = 0
    while env.agents:
        if steps:
            actions = policy.act(observations, env)
        observations, rewards, terms, truncs, infos = env.step(actions)
        steps += 1
        episode_reward += float(np.mean(list(rewards.values())))
        per_agent = [_scalar_infos(i) for i in infos.values()]
        last = {k: float(np.mean([p[k] for p in per_agent if k in p])) for k in per_agent[0]}
        if "objective" in last:
            best_objective = min(best_objective, last["objective"])
        if all(terms.values()) or all(truncs.values()):
            break
    metrics = {f"{k}": v for k, v in last.items()}
    metrics["episode_reward"] = episode_reward
    metrics["decision_time_s"] = decision_time
    metrics["episode_length"] = float(steps)
    if math.isfinite(best_objective):
        metrics["best_objective"] = best_objective
    return metrics


def evaluate(env_id: str, policy, episodes: int, seed: int, env_kwargs: dict | None = None) -> list[dict]:
    """Run ``episodes`` episodes with seeds ``seed, seed + 1, ...``; one metrics dict each.

    A policy with an ``env_options`` dict (a learner's variant options, e.g.
    DDPG's ``consistency="none"``) is evaluated with those options on top of
    ``env_kwargs``: a method is scored in the env it acts in, so an unmasked
    learner does not get the env's masks for free.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env_kwargs = {**(env_kwargs or {}), **getattr(policy, "env_options", {})}
    env = mec_marl.make(env_id, **env_kwargs)
    try:
        return [run_episode(env, policy, seed + i) for i in range(episodes)]
    finally:
        env.close()


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of a Student-t confidence interval (0 for one value)."""
    from scipy import stats

    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    if arr.size == 1:
        return float(arr[0]), 0.0
    half = stats.t.ppf(0.5 + confidence / 2, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size)
    return float(arr.mean()), float(half)


def aggregate(rows: list[dict]) -> dict[str, float]:
    """Per-episode metric rows -> ``{metric: mean, metric_ci95: half-width}``."""
    keys = sorted({k for r in rows for k in r})
    out: dict[str, float] = {"episodes": float(len(rows))}
    for key in keys:
        mean, half = mean_ci(r[key] for r in rows if key in r)
        out[key] = mean
        out[f"{key}_ci95"] = half
    return out


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write a file so that readers never see a half-written version."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str | Path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_json(path: str | Path):
    with open(path) as fh:
        return json.load(fh)


def to_csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in columns})
    return buf.getvalue()


def to_markdown(rows: list[dict], columns: list[str], formats: dict[str, str] | None = None) -> str:
    formats = formats or {}

    def cell(row, col):
        value = row.get(col, "")
        if isinstance(value, float):
            if math.isnan(value):
                return "-"
            return format(value, formats.get(col, ".4g"))
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(r, c) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"
