"""Decompose a CPDRL learner's gap to TEM into the decision's and the allocation's share (issue 21).

python scripts/cpdrl_gap.py --n 4 6 8 --methods cpdrl cpdrl_solver --steps 8000 --seed 0 --episodes 10
(trains each method at each n, caching policies under --cache; prints a Markdown table, writes --png)
"""

from __future__ import annotations

import argparse
import sys

from baselines import registry


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[4, 6, 8])
    parser.add_argument("--methods", nargs="+", default=["cpdrl", "cpdrl_solver"])
    parser.add_argument("--steps", type=int, default=8000, help="training steps (quick budget: 8000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--cache", default="runs/cpdrl_gap", help="folder of trained policies ('' = none)")
    parser.add_argument("--png", default="runs/cpdrl_gap/gap.png")
    args = parser.parse_args(argv)
    from baselines import cpdrl_gap
    from baselines.search import MAX_EXHAUSTIVE_DEVICES, CpdrlExhaustive

    for m in args.methods:
        try:
            registry.get(m, "cpdrl_v0")
        except (KeyError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if max(args.n) > MAX_EXHAUSTIVE_DEVICES:
        print(f"error: n > {MAX_EXHAUSTIVE_DEVICES}: TEM (the reference) refuses it", file=sys.stderr)
        return 2
    rows = []
    for n in args.n:
        tem_ms = 1e3 * cpdrl_gap.decision_seconds(CpdrlExhaustive(), n, args.seed)
        for m in args.methods:
            policy = cpdrl_gap.trained_policy(m, n, args.seed, args.steps, args.cache or None)
            row = {"n": n, "method": m, **cpdrl_gap.decompose(policy, n, args.seed, args.episodes)}
            row["time_ms"] = 1e3 * cpdrl_gap.decision_seconds(policy, n, args.seed)
            row["tem_ms"] = tem_ms
            rows.append(row)
            print(f"n={n} {m}: J/J_T {row['ratio']:.3f}", file=sys.stderr, flush=True)
    print(cpdrl_gap.markdown(rows))
    if args.png:
        cpdrl_gap.plot(rows, args.png)
        print(f"\nwrote {args.png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
