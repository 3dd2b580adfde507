"""Mean episode metrics of the rule-based baselines on ``djtcra_v0``, on the vector env.

What SPEC's measured heuristic levels are checked against: each of
``num_envs`` instances runs one episode per rule (same seed, so the rules see
the same users and worlds); ``world_seed=None`` (the default here) draws a
new world per instance, so the means average over worlds as SPEC's do.

    python -m baselines.djtcra.levels --num-envs 200 --seed 0
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from baselines.djtcra.heuristics import ASSOCIATIONS, assignment_to_actions
from mec_marl import vector

METRICS = ("system_qoe", "avg_latency", "su", "du", "gu", "cu")


def evaluate(rule: str, num_envs: int = 64, seed: int = 0, **config) -> dict:
    """Per-instance episode metrics of ``rule``: ``{metric: (num_envs,) array}``."""
    config.setdefault("world_seed", None)
    venv = vector.make("djtcra_v0", num_envs=num_envs, **config)
    venv.reset(seed=seed)
    rng = np.random.default_rng(seed + 1)
    for _ in range(venv.config.episode_length):
        assignment = ASSOCIATIONS[rule](venv.config, venv.instance, venv.model_state.t, rng)
        _, _, _, _, infos = venv.step(assignment_to_actions(venv.config, assignment))
    episode = infos[venv.agents[0]]["episode"]
    return {m: np.asarray(episode[m]) for m in METRICS}


def summarise(values: dict) -> dict:
    """Mean and a normal 95% half-width per metric."""
    out = {}
    for m, v in values.items():
        out[m] = {"mean": float(v.mean()), "ci95": float(1.96 * v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0}
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rules", nargs="*", default=sorted(ASSOCIATIONS))
    parser.add_argument("--set", nargs="*", default=[], help="config overrides key=value")
    args = parser.parse_args(argv)
    overrides = list(args.set)
    result = {rule: summarise(evaluate(rule, args.num_envs, args.seed, overrides=overrides)) for rule in args.rules}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
