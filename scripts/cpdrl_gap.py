"""Decompose a CPDRL learner's gap to TEM into the decision's and the allocation's share (issue 21).

python scripts/cpdrl_gap.py --n 4 6 8 --methods cpdrl cpdrl_solver --steps 8000 --seeds 0 --episodes 10
python scripts/cpdrl_gap.py --n 8 --methods cpdrl --seeds 0 1 2 --train reward_transform=none --label raw-reward
(trains each method at each n and seed, caching policies under --cache; prints a Markdown table with one
row per seed and their means, writes --png and, with --json, the rows)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from baselines import registry


def _pairs(items: list[str], flag: str) -> dict:
    """``["key=value", ...]`` -> dict, values parsed as YAML (numbers, booleans, lists)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} {item!r}: expected KEY=VALUE")
        out[key.strip()] = yaml.safe_load(value)
    return out


def ratio_markdown(rows: list[dict]) -> str:
    lines = ["| n | method | seeds | ratio to TEM [95 % CI] | decision ms | TEM ms |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['n']} | {r['method']} | {r['seeds']} | {r['ratio']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}] "
                     f"| {r['time_ms']:.3g} | {r['tem_ms']:.3g} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[4, 6, 8])
    parser.add_argument("--methods", nargs="+", default=["cpdrl", "cpdrl_solver"])
    parser.add_argument("--steps", type=int, default=8000, help="training steps (quick budget: 8000)")
    parser.add_argument("--seeds", "--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--train", action="append", default=[], metavar="KEY=VALUE",
                        help="a hyper-parameter override (baselines.learners.cpdrl.Hyper field), repeatable")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="an env option to train and evaluate under (e.g. observation=paper), repeatable")
    parser.add_argument("--label", default="", help="appended to the method's name in the table")
    parser.add_argument("--cache", default="runs/cpdrl_gap", help="folder of trained policies ('' = none)")
    parser.add_argument("--run", default="", help="decompose the policies a reproduction saved here "
                        "(e.g. runs/cpdrl-quick_full) instead of training")
    parser.add_argument("--png", default="runs/cpdrl_gap/gap.png", help="the plot ('' = none)")
    parser.add_argument("--json", default="", help="also write the rows (per seed and means) to this file")
    parser.add_argument("--ratios", default="", metavar="RUN", help="only print each method's per-seed ratio to "
                        "TEM with its CI and decision times from a reproduction's cells (e.g. runs/cpdrl-quick_full)")
    args = parser.parse_args(argv)
    from baselines import cpdrl_gap
    from baselines.search import MAX_EXHAUSTIVE_DEVICES, CpdrlExhaustive

    if args.ratios:
        print(ratio_markdown(cpdrl_gap.seed_ratios(args.ratios)))
        return 0

    try:
        train, env = _pairs(args.train, "--train"), _pairs(args.env, "--env")
        for m in args.methods:
            registry.get(m, "cpdrl_v0")
    except (KeyError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.run and (train or env):
        print("error: --run decomposes saved policies; --train/--env apply to training only", file=sys.stderr)
        return 2
    if max(args.n) > MAX_EXHAUSTIVE_DEVICES:
        print(f"error: n > {MAX_EXHAUSTIVE_DEVICES}: TEM (the reference) refuses it", file=sys.stderr)
        return 2
    rows = []
    for n in args.n:
        for seed in args.seeds:
            tem_ms = 1e3 * cpdrl_gap.decision_seconds(CpdrlExhaustive(), n, seed)
            for m in args.methods:
                if args.run:
                    try:
                        policy = cpdrl_gap.run_policy(args.run, m, n, seed)
                    except FileNotFoundError as err:  # a run still in progress: decompose what it has
                        print(f"skipped: {err}", file=sys.stderr)
                        continue
                else:
                    policy = cpdrl_gap.trained_policy(m, n, seed, args.steps, args.cache or None, train, env)
                row = {"n": n, "method": m + (f" {args.label}" if args.label else ""), "seed": seed,
                       **cpdrl_gap.decompose(policy, n, seed, args.episodes, env)}
                row["time_ms"] = 1e3 * cpdrl_gap.decision_seconds(policy, n, seed, env_kwargs=env)
                row["tem_ms"] = tem_ms
                rows.append(row)
                print(f"n={n} seed={seed} {row['method']}: J/J_T {row['ratio']:.3f}", file=sys.stderr, flush=True)
    means = cpdrl_gap.seed_mean(rows) if len(args.seeds) > 1 else []
    print(cpdrl_gap.markdown(rows + means))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"train": train, "env": env, "steps": args.steps, "rows": rows,
                                               "means": means}, indent=1))
    if args.png:
        cpdrl_gap.plot(cpdrl_gap.seed_mean(rows), args.png)  # one bar per (n, method): the seeds' mean
        print(f"\nwrote {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
