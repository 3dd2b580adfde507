#!/usr/bin/env python
"""Train a learner from a config file; write its checkpoint and metrics.

    python scripts/train.py configs/train/cpdrl.yaml
    python scripts/train.py configs/train/cpdrl.yaml --set method=aste_ddpg --set env_kwargs.n_devices=4

The config names ``env``, ``method``, ``env_kwargs``, ``seed``, ``budget``
and ``eval_episodes``. Outputs (atomically) under ``--out`` (default
``runs/train/<method>-<env>-s<seed>``): ``policy.pt`` (load with
``scripts/evaluate.py ENV METHOD --policy .../policy.pt``), ``metrics.json``
(the evaluation means with 95% CIs, training time, the resolved config).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from baselines import registry  # noqa: E402
from baselines.experiment import aggregate, evaluate, write_json_atomic  # noqa: E402
from mec_marl.config import ConfigError, merge_dicts, parse_overrides  # noqa: E402

KEYS = {"env", "method", "env_kwargs", "seed", "budget", "eval_episodes"}


def load_train_config(path: str, overrides: list[str]) -> dict:
    with open(path) as fh:
        cfg = yaml.safe_load(fh) or {}
    cfg = merge_dicts(cfg, parse_overrides(overrides))
    unknown = sorted(set(cfg) - KEYS)
    if unknown:
        raise ConfigError(f"unknown training config key(s) {unknown}; allowed: {sorted(KEYS)}")
    for key in ("env", "method"):
        if key not in cfg:
            raise ConfigError(f"training config needs {key!r}")
    cfg.setdefault("env_kwargs", {})
    cfg.setdefault("seed", 0)
    cfg.setdefault("budget", {})
    cfg.setdefault("eval_episodes", 20)
    return cfg


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", help="training config YAML (see configs/train/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    try:
        cfg = load_train_config(args.config, args.overrides)
        method = registry.get(cfg["method"], cfg["env"])
        if method.kind != "learner":
            raise ConfigError(f"method {cfg['method']!r} is a {method.kind}, nothing to train; use scripts/evaluate.py")
        out = Path(args.out or f"runs/train/{cfg['method']}-{cfg['env']}-s{cfg['seed']}")
        start = time.perf_counter()
        policy = method.build(cfg["env"], dict(cfg["env_kwargs"]), seed=cfg["seed"], budget=dict(cfg["budget"]))
        train_time = time.perf_counter() - start
    except (ValueError, ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".policy.pt.tmp"
    policy.save(str(tmp))
    tmp.replace(out / "policy.pt")
    rows = evaluate(cfg["env"], policy, cfg["eval_episodes"], 10_000 + cfg["seed"], dict(cfg["env_kwargs"]))
    metrics = {"config": cfg, "train_time_s": train_time, "evaluation": aggregate(rows)}
    write_json_atomic(out / "metrics.json", metrics)
    ev = metrics["evaluation"]
    print(f"trained {cfg['method']} on {cfg['env']} in {train_time:.1f} s; "
          f"objective {ev.get('objective', float('nan')):.4g} +- {ev.get('objective_ci95', 0):.2g} "
          f"over {cfg['eval_episodes']} episodes")
    print(f"wrote {out / 'policy.pt'} and {out / 'metrics.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
