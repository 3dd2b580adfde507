#!/usr/bin/env python
"""Train a BenchMARL algorithm (MAPPO by default) on one or more mec-marl envs, on CPU.

    python scripts/train_benchmarl.py cpdrl_v0 smart_community_v0 --iterations 5 --seed 0
    python scripts/train_benchmarl.py smart_community_v0 --algorithm ippo --set max_cycles=20 --out runs/benchmarl
    python scripts/train_benchmarl.py wireless_powered_v0 --algorithm qmix --set agent_mode=users

Each env runs as ``MecTask.<ENV>`` (``mec_marl.adapters.benchmarl``): ``--num-envs``
instances batched by ``mec_marl.vector``, ``--frames`` env steps collected per
iteration. ``--set KEY=VALUE`` is an env config key, applied to every env given.
``--eval-every N`` runs BenchMARL's evaluation (deterministic actions, one
episode on each of ``--eval-episodes`` instances) every N iterations.
Each iteration prints the mean episode return and the agent-steps/s (env steps
x agents over collection plus training). ``--out DIR`` writes, per env,
``DIR/<env>/metrics.json`` (atomically) and BenchMARL's own CSV logs, JSON and
final checkpoint under ``DIR/<env>/``. Needs BenchMARL 1.5 with torchrl 0.11:
``make test-benchmarl`` creates ``.venv-benchmarl``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from mec_marl import registry
from mec_marl.config import ConfigError, parse_overrides


def experiment_config(iterations: int, frames: int, num_envs: int, minibatch: int, epochs: int,
                      save_folder: Path, log: bool, eval_every: int = 0, eval_episodes: int = 10):
    """BenchMARL's default ``ExperimentConfig`` sized for a short CPU run (on- and off-policy alike)."""
    from benchmarl.experiment import ExperimentConfig

    config = ExperimentConfig.get_from_yaml()
    config.max_n_iters, config.max_n_frames = iterations, None
    config.on_policy_collected_frames_per_batch = config.off_policy_collected_frames_per_batch = frames
    config.on_policy_n_envs_per_worker = config.off_policy_n_envs_per_worker = num_envs
    config.on_policy_minibatch_size = config.off_policy_train_batch_size = minibatch
    config.on_policy_n_minibatch_iters = config.off_policy_n_optimizer_steps = epochs
    config.off_policy_memory_size = max(frames * iterations, minibatch)
    config.render = False  # video logging needs torchvision, left out of this setup
    config.evaluation = eval_every > 0  # deterministic-policy episodes on their own instances
    config.evaluation_interval = frames * max(eval_every, 1)
    config.evaluation_episodes = eval_episodes
    config.loggers = ["csv"] if log else []  # no wandb; CSV needs no extra package
    config.create_json = config.checkpoint_at_end = log
    Path(save_folder).mkdir(parents=True, exist_ok=True)  # BenchMARL creates only its run folder inside
    config.save_folder = str(Path(save_folder).resolve())
    return config


def build_experiment(env_id: str, env_kwargs: dict, algorithm: str, seed: int, config, callbacks=()):
    """The BenchMARL ``Experiment`` (MLP actor and critic with BenchMARL's default sizes)."""
    from benchmarl.algorithms import algorithm_config_registry
    from benchmarl.experiment import Experiment
    from benchmarl.models import MlpConfig

    from mec_marl.adapters.benchmarl import MecTask

    task = MecTask[env_id.upper()].get_task(env_kwargs)
    return Experiment(task=task, algorithm_config=algorithm_config_registry[algorithm].get_from_yaml(),
                      model_config=MlpConfig.get_from_yaml(), critic_model_config=MlpConfig.get_from_yaml(),
                      seed=seed, config=config, callbacks=list(callbacks))


def train(env_id: str, env_kwargs: dict, algorithm: str, seed: int, config) -> list[dict]:
    """Run one experiment; its per-iteration rows (``IterationLog``)."""
    from mec_marl.adapters.benchmarl import IterationLog

    log = IterationLog()
    experiment = build_experiment(env_id, env_kwargs, algorithm, seed, config, callbacks=[log])
    log.start()
    experiment.run()
    return log.rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("envs", nargs="+", metavar="env", help=f"env id(s), from {registry.list_envs()}")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="env config key, for every env (repeatable)")
    parser.add_argument("--algorithm", default="mappo", help="a BenchMARL algorithm: mappo, ippo, maddpg, iddpg, "
                                                               "masac, isac (continuous); qmix, vdn, iql (discrete)")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-envs", type=int, default=16, help="env instances stepped as one batch")
    parser.add_argument("--frames", type=int, default=1600, help="env steps collected per iteration")
    parser.add_argument("--minibatch", type=int, default=400, help="frames per minibatch (off-policy: per batch)")
    parser.add_argument("--epochs", type=int, default=4, help="minibatch iterations (off-policy: optimiser steps)")
    parser.add_argument("--eval-every", type=int, default=0, help="evaluate every N iterations (0: never)")
    parser.add_argument("--eval-episodes", type=int, default=10, help="episodes (instances) per evaluation")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: small MLPs on a shared CPU, see docs/benchmarl.md)")
    parser.add_argument("--out", default=None, help="directory for metrics.json, BenchMARL's logs and checkpoint")
    args = parser.parse_args(argv)
    try:
        import mec_marl.adapters.benchmarl  # noqa: F401  (its ImportError names the setup)
        from benchmarl.algorithms import algorithm_config_registry
    except ImportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        unknown = [e for e in args.envs if e not in registry.ENVS]
        if unknown:
            raise ConfigError(f"unknown env id {unknown[0]!r}; registered envs: {registry.list_envs()}")
        if args.algorithm not in algorithm_config_registry:
            raise ConfigError(f"unknown algorithm {args.algorithm!r}; BenchMARL's: {sorted(algorithm_config_registry)}")
        if min(args.iterations, args.num_envs, args.frames, args.minibatch, args.epochs, args.threads,
               args.eval_episodes) < 1 or args.eval_every < 0:
            raise ConfigError("--iterations, --num-envs, --frames, --minibatch, --epochs, --threads and "
                              "--eval-episodes must be >= 1, --eval-every >= 0")
        env_kwargs = parse_overrides(args.overrides)
        from mec_marl.adapters.benchmarl import MecTask

        for env_id in args.envs:  # fail here, in one line, on a bad config key or an unsupported action space
            MecTask[env_id.upper()].get_task(env_kwargs)
    except (ConfigError, ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    import torch

    from baselines.experiment.io import write_json

    torch.set_num_threads(args.threads)
    for env_id in args.envs:
        print(f"== {env_id}: {args.algorithm}, seed {args.seed}", flush=True)
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(args.out) / env_id if args.out else Path(scratch)
            config = experiment_config(args.iterations, args.frames, args.num_envs, args.minibatch, args.epochs,
                                       folder, log=bool(args.out), eval_every=args.eval_every,
                                       eval_episodes=args.eval_episodes)
            rows = train(env_id, env_kwargs, args.algorithm, args.seed, config)
        if args.out:
            write_json(Path(args.out) / env_id / "metrics.json",
                       {"env": env_id, "env_kwargs": env_kwargs, "algorithm": args.algorithm, "seed": args.seed,
                        "num_envs": args.num_envs, "frames": args.frames, "iterations": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
