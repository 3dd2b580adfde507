#!/usr/bin/env python
"""Evaluate a method on an env and print the metric means.

    python scripts/evaluate.py cpdrl_v0 lem --episodes 5 --seed 0 --json
    python scripts/evaluate.py cpdrl_v0 cpdrl --policy runs/train/cpdrl.pt --json
    python scripts/evaluate.py cpdrl_v0 cpdrl --budget steps=2000 --set n_devices=4

Heuristics and searches run as they are; a learner is loaded from
``--policy`` (a checkpoint written by ``scripts/train.py``) or, without it,
trained first with ``--budget``. Episode i uses seed ``S + i``; training (if
any) uses ``--seed`` too. Prints one JSON object of metric means (with
``_ci95`` half-widths) with ``--json``, a table otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from baselines import registry  # noqa: E402
from baselines.experiment import aggregate, evaluate  # noqa: E402
from mec_marl.config import ConfigError, parse_overrides  # noqa: E402
from mec_marl.registry import entry  # noqa: E402


def parse_budget(items: list[str]) -> dict:
    budget = parse_overrides(items)
    return budget


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env_id")
    parser.add_argument("method")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="env config override, repeatable (units allowed: edge_capacity='20 GHz')")
    parser.add_argument("--scenario", default=None, help="scenario name under configs/scenarios")
    parser.add_argument("--policy", default=None, help="checkpoint of a trained learner")
    parser.add_argument("--budget", action="append", default=[], metavar="KEY=VALUE",
                        help="training budget for a learner without --policy (e.g. steps=5000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        entry(args.env_id)
        method = registry.get(args.method, args.env_id)
        env_kwargs = parse_overrides(args.overrides)
        if args.scenario:
            env_kwargs["scenario"] = args.scenario
        if args.policy:
            policy = method.load(args.policy)
        else:
            policy = method.build(args.env_id, env_kwargs, seed=args.seed, budget=parse_budget(args.budget))
        # learners may train with their own env options; evaluation uses the caller's config
        rows = evaluate(args.env_id, policy, args.episodes, args.seed, env_kwargs)
    except (ValueError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    summary = {"env_id": args.env_id, "method": args.method, "seed": args.seed, **aggregate(rows)}
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            if not key.endswith("_ci95"):
                ci = summary.get(f"{key}_ci95")
                extra = f" +- {ci:.4g}" if isinstance(ci, float) and ci else ""
                val = f"{value:.6g}" if isinstance(value, float) else str(value)
                print(f"{key:<{width}}  {val}{extra}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
