"""``python scripts/benchmark.py`` / ``mec-marl benchmark``: run the benchmark, write JSON and Markdown."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields, replace
from pathlib import Path

DEFAULT_OUT = Path("runs") / "benchmark"


def _sizes(text: str) -> tuple[int, ...]:
    out = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(v) for v in part.split("-", 1))
                out += list(range(lo, hi + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        out = []
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected sizes like '2-10' or '2,4,6', got {text!r}")
    return tuple(out)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Speed benchmark: env steps/s, fast sub-solvers vs references, search vs learner decision time.")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and instances (CI, tests)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    parser.add_argument("--envs", nargs="+", default=None, help="env ids (default: every registered env)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-vector", action="store_true", help="skip the vector-env throughput")
    parser.add_argument("--quiet", action="store_true", help="do not print the Markdown table")
    for name, kind in (("repeats", _positive), ("steps", _positive), ("warmup", int), ("solver_instances", _positive),
                       ("search_instances", _positive), ("act_calls", _positive), ("learner_steps", _positive), ("vector_steps", _positive)):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=None)
    parser.add_argument("--vector-batch-sizes", dest="vector_batch_sizes", type=_sizes, default=None,
                        help="batch sizes of the vector-env measurement, e.g. 1,64 (default: each env's own)")
    parser.add_argument("--decision-sizes", dest="decision_sizes", type=_sizes, default=None,
                        help="sizes for the decision-time sweep, e.g. 2-10 (default: each case's own)")
    return parser


def main(argv: list[str] | None = None) -> dict:
    if argv is None:  # the command line: one core for numpy's BLAS too (must precede numpy's first import)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
    parser = build_parser()
    args = parser.parse_args(argv)

    import mec_marl
    from baselines.benchmark import report, suite

    settings = suite.QUICK if args.quick else suite.FULL
    overrides = {f.name: getattr(args, f.name) for f in fields(settings)
                 if getattr(args, f.name, None) is not None}
    settings = replace(settings, **overrides, vector=not args.no_vector)
    env_ids = args.envs or mec_marl.list_envs()
    unknown = [e for e in env_ids if e not in mec_marl.ENVS]
    if unknown:
        parser.error(f"unknown env id(s) {unknown}; registered: {mec_marl.list_envs()}")
    results, markdown = suite.run(settings, env_ids, seed=args.seed, quick=args.quick)
    json_path, md_path = report.write_results(results, markdown, args.out)
    if not args.quiet:
        print(markdown)
        print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
