"""The ``mec-marl`` command: ``mec-marl train|evaluate|reproduce|plot|benchmark ...``.

``scripts/<command>.py`` runs the same code. Every command checks its
arguments before any work starts and reports a bad one in one line on stderr
with exit code 2 (set ``MEC_MARL_TRACEBACK=1`` for the full traceback); Ctrl-C
exits with 130 (SIGTERM with 143).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from baselines.policy import CheckpointError

ROOT = Path(__file__).resolve().parent.parent


class UsageError(ValueError):
    """A bad command-line argument; printed as one line, exit code 2."""


def guarded(command: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """Turn the errors a user can cause into one line and exit code 2."""
    from mec_marl.config import ConfigError

    def run(argv: list[str] | None = None) -> int:
        try:
            return command(argv)
        except (UsageError, ConfigError, CheckpointError, ValueError, FileNotFoundError) as err:
            if os.environ.get("MEC_MARL_TRACEBACK"):
                raise  # for debugging a method: the full traceback instead of one line
            print(f"error: {str(err).splitlines()[0] if str(err) else type(err).__name__}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130

    run.__name__ = command.__name__
    run.__doc__ = command.__doc__
    return run


def show_progress() -> bool:
    """tqdm progress on a terminal, quiet when CI is set or output is not a terminal."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")


def check_budget(budget: dict) -> dict:
    """Catch the common budget mistakes before training starts."""
    steps = budget.get("steps")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise UsageError(f"budget steps must be a positive integer, got {steps!r}")
    return budget


def check_env(env_id: str, env_kwargs: dict) -> None:
    """Build the env once so a bad id or config key fails before any training."""
    import mec_marl
    from mec_marl.registry import entry

    entry(env_id)
    mec_marl.make(env_id, **env_kwargs).close()


def summarise_episodes(episodes: list[dict]) -> dict[str, float]:
    from baselines.experiment.stats import seed_means

    return seed_means(episodes)


# ------------------------------------------------------------------ evaluate
@guarded
def evaluate(argv: list[str] | None = None) -> int:
    """Evaluate a method on an env and print the metric means.

    python scripts/evaluate.py cpdrl_v0 lem --episodes 5 --seed 0 --json
    python scripts/evaluate.py cpdrl_v0 cpdrl --policy runs/train/cpdrl-cpdrl_v0-s0/policy.pt --json
    python scripts/evaluate.py cpdrl_v0 cpdrl --budget steps=2000 --set n_devices=4
    python scripts/evaluate.py cpdrl_v0 my_pkg.methods:build          # a researcher's own method

    Heuristics and searches run as they are; a learner is loaded from
    --policy or, without it, trained first (seed --seed, budget --budget).
    The evaluation instances are the seed's (baselines.experiment.seeds:
    disjoint from every training instance). Episode metrics come from the
    env; decision_time_s is the median of many timed decisions.
    """
    from baselines import registry
    from baselines.experiment.episode import decision_time, evaluate as run_eval, median
    from baselines.experiment.io import write_csv
    from baselines.experiment.seeds import check_train_seed, eval_seeds
    from mec_marl.config import parse_overrides
    from mec_marl.registry import entry

    parser = _parser(evaluate)
    parser.add_argument("env_id")
    parser.add_argument("method", help="a registered method, or package.module:build")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="training seed; selects the evaluation instances too")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="env config override, repeatable (units allowed: edge_capacity='20 GHz')")
    parser.add_argument("--scenario", default=None, help="scenario name under configs/scenarios")
    parser.add_argument("--policy", default=None, help="checkpoint of a trained learner")
    parser.add_argument("--budget", action="append", default=[], metavar="KEY=VALUE",
                        help="training budget for a learner without --policy (e.g. steps=5000)")
    parser.add_argument("--trace", default=None, metavar="CSV", help="write every step's metrics to this CSV")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    if args.episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
    check_train_seed(args.seed)
    entry(args.env_id)
    method = registry.get(args.method, args.env_id)
    env_kwargs = parse_overrides(args.overrides)
    if args.scenario:
        env_kwargs["scenario"] = args.scenario
    env_kwargs = {**env_kwargs, **method.env_options}
    check_env(args.env_id, env_kwargs)
    if args.policy:
        policy = method.load(args.policy)
    else:
        budget = check_budget(parse_overrides(args.budget))
        if method.kind == "learner" and "progress" not in budget and show_progress():
            budget["progress"] = True
        policy = method.build(args.env_id, env_kwargs, seed=args.seed, budget=budget)
    trace: list | None = [] if args.trace else None
    episodes = run_eval(args.env_id, policy, args.episodes, args.seed, env_kwargs, trace)
    import mec_marl

    env = mec_marl.make(args.env_id, **env_kwargs)
    times = decision_time(env, policy, eval_seeds(args.seed, args.episodes))
    env.close()
    if trace is not None:
        write_csv(args.trace, trace, list(dict.fromkeys(k for row in trace for k in row)))
    summary = {"env_id": args.env_id, "method": method.name, "seed": args.seed, "episodes": args.episodes,
               **summarise_episodes(episodes), "decision_time_s": median(times)}
    if args.json:
        from baselines.experiment.io import sanitise

        print(json.dumps(sanitise(summary), sort_keys=True))
    else:
        width = max(len(k) for k in summary)
        for key, value in summary.items():
            print(f"{key:<{width}}  {value:.6g}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    return 0


# --------------------------------------------------------------------- train
class TrainConfig(BaseModel):
    """A training run: configs/train/*.yaml, with ``--set key=value`` on top."""

    model_config = ConfigDict(extra="forbid")
    env: str
    method: str
    env_kwargs: dict[str, Any] = {}
    options: dict[str, Any] = {}
    seed: int = Field(default=0, ge=0, lt=2**32)
    budget: dict[str, Any] = {}  # {} = the method's registered default
    eval_episodes: int = Field(default=20, ge=1)


def load_train_config(path: str, overrides: list[str]) -> TrainConfig:
    import yaml

    from mec_marl.config import merge_dicts, parse_overrides

    if not os.path.isfile(path):
        raise UsageError(f"no such training config: {path}")
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as err:
        raise UsageError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a training config must be a mapping")
    data = merge_dicts(data, parse_overrides(overrides))
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as err:
        e = err.errors()[0]
        key = ".".join(str(p) for p in e["loc"])
        what = "unknown key" if e["type"] == "extra_forbidden" else ("missing key" if e["type"] == "missing" else "key")
        detail = "" if e["type"] in ("extra_forbidden", "missing") else f": {e['msg']} (got {e.get('input')!r})"
        raise UsageError(f"{path}: {what} {key!r}{detail}; allowed keys: {sorted(TrainConfig.model_fields)}") from None


@guarded
def train(argv: list[str] | None = None) -> int:
    """Train a learner from a config file; write its checkpoint and metrics.

    python scripts/train.py configs/train/cpdrl.yaml
    python scripts/train.py configs/train/cpdrl.yaml --set method=aste_ddpg --set env_kwargs.n_devices=4

    Outputs (atomically) under --out (default runs/train/<method>-<env>-s<seed>):
    policy.pt (load with `scripts/evaluate.py ENV METHOD --policy .../policy.pt`) and
    metrics.json (evaluation on the seed's evaluation instances, the resolved
    config, training time and curves, package versions and git commit).
    """
    import mec_marl
    from baselines import registry
    from baselines.experiment.episode import decision_time, evaluate as run_eval, median
    from baselines.experiment.io import write_json
    from baselines.experiment.provenance import provenance
    from baselines.experiment.run import _history
    from baselines.experiment.seeds import eval_seeds
    from mec_marl.registry import entry

    parser = _parser(train)
    parser.add_argument("config", help="training config YAML (see configs/train/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    cfg = load_train_config(args.config, args.overrides)
    entry(cfg.env)
    method = registry.get(cfg.method, cfg.env)
    if method.kind != "learner":
        raise UsageError(f"method {cfg.method!r} is a {method.kind}, nothing to train; use scripts/evaluate.py")
    method.check_options(cfg.options)
    env_kwargs = {**cfg.env_kwargs, **method.env_options}
    check_env(cfg.env, env_kwargs)
    budget = check_budget(dict(cfg.budget))
    if "progress" not in budget and show_progress():
        budget["progress"] = True
    out = Path(args.out or f"runs/train/{cfg.method}-{cfg.env}-s{cfg.seed}")

    start = time.perf_counter()
    policy = method.build(cfg.env, env_kwargs, seed=cfg.seed, budget=budget, options=cfg.options or None)
    train_time = time.perf_counter() - start
    _save_policy(policy, out / "policy.pt")
    episodes = run_eval(cfg.env, policy, cfg.eval_episodes, cfg.seed, env_kwargs)
    env = mec_marl.make(cfg.env, **env_kwargs)
    times = decision_time(env, policy, eval_seeds(cfg.seed, cfg.eval_episodes))
    env_config = env.unwrapped.config.model_dump(mode="json")
    env.close()
    evaluation = {**summarise_episodes(episodes), "decision_time_s": median(times)}
    write_json(out / "metrics.json", {
        "config": cfg.model_dump(), "env_config": env_config, "train_time_s": train_time,
        "evaluation": evaluation, "episodes": episodes, "history": _history(policy), "provenance": provenance(),
    })
    print(f"trained {cfg.method} on {cfg.env} in {train_time:.1f} s; objective "
          f"{evaluation.get('objective', float('nan')):.4g} (mean over {cfg.eval_episodes} evaluation episodes)")
    print(f"wrote {out / 'policy.pt'} and {out / 'metrics.json'}")
    return 0


def _save_policy(policy, path: Path) -> None:
    """Atomic, world-readable checkpoint, whether or not the policy is a LearnedPolicy yet."""
    import io

    from baselines.experiment.io import write_atomic
    from baselines.policy import LearnedPolicy

    if isinstance(policy, LearnedPolicy):
        policy.save(path)
        return
    buf = io.BytesIO()
    policy.save(buf)  # torch.save takes a file object as well as a path
    write_atomic(path, buf.getvalue())


# ---------------------------------------------------------------- benchmark
def benchmark(argv: list[str] | None = None) -> int:
    """Run scripts/benchmark.py with these arguments."""
    import runpy

    script = ROOT / "scripts" / "benchmark.py"
    if not script.is_file():
        print(f"error: {script} not found (the benchmark runs from a source checkout)", file=sys.stderr)
        return 2
    saved = sys.argv
    sys.argv = [str(script), *(sys.argv[2:] if argv is None else argv)]
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        return int(stop.code or 0) if not isinstance(stop.code, str) else 1
    finally:
        sys.argv = saved
    return 0


# --------------------------------------------------------------- dispatcher
def _parser(command) -> argparse.ArgumentParser:
    import inspect

    doc = inspect.cleandoc(command.__doc__ or "")
    return argparse.ArgumentParser(prog=f"mec-marl {command.__name__}", description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def _commands() -> dict[str, Callable]:
    from baselines.experiment import cli as experiment_cli

    return {"train": train, "evaluate": evaluate, "reproduce": experiment_cli.reproduce,
            "plot": experiment_cli.plot, "benchmark": benchmark}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    commands = _commands()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print(f"usage: mec-marl {{{','.join(commands)}}} ...\n\n" + __doc__.strip(), file=sys.stderr)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
