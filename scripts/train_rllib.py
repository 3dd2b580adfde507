#!/usr/bin/env python
"""Train RLlib PPO (new API stack) on a mec-marl env; local by default, a Ray cluster with --address.

    python scripts/train_rllib.py smart_community_v0 --iterations 20
    python scripts/train_rllib.py smart_community_v0 --env-runners 2 --policy per-agent
    python scripts/train_rllib.py cpdrl_v0 --set n_devices=4 --out runs/rllib/cpdrl
    python scripts/train_rllib.py smart_community_v0 --address auto --env-runners 32   # on a cluster's head node

``--policy shared`` (default): one policy for every agent (parameter sharing);
``--policy per-agent``: one policy per agent. Each iteration prints the mean
episode return and the agent-steps/s sampled. ``--out DIR`` writes the final
checkpoint to ``DIR/checkpoint`` and the per-iteration metrics to
``DIR/metrics.json`` (atomically). Needs ``ray[rllib]`` (its own venv:
``make test-rllib`` creates ``.venv-rllib``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mec_marl import registry
from mec_marl.config import ConfigError, parse_overrides


def build_config(env_id: str, env_kwargs: dict, policy: str, env_runners: int, seed: int,
                 train_batch: int, minibatch: int, epochs: int):
    """The ``PPOConfig`` this script trains with."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from mec_marl.adapters.rllib import MecMultiAgentEnv, per_agent_policy_spec, shared_policy_spec

    registry.make(env_id, **env_kwargs)  # fail here, in one line, on an unknown env or config key
    if policy == "shared":
        policies, mapping = shared_policy_spec()
    else:
        policies, mapping = per_agent_policy_spec(env_id, **env_kwargs)
    return (
        PPOConfig()
        .environment(MecMultiAgentEnv, env_config={"env_id": env_id, **env_kwargs})
        .env_runners(num_env_runners=env_runners, num_envs_per_env_runner=1)
        .multi_agent(policies=policies, policy_mapping_fn=mapping)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={p: RLModuleSpec() for p in sorted(policies)}))
        .training(train_batch_size_per_learner=train_batch, minibatch_size=minibatch, num_epochs=epochs)
        .debugging(seed=seed)
    )


def summarise(result: dict, elapsed: float) -> dict:
    runners = result.get("env_runners", {})
    agent_steps = runners.get("num_agent_steps_sampled", {})
    steps = sum(agent_steps.values()) if isinstance(agent_steps, dict) else float(agent_steps or 0)
    mean_return = runners.get("episode_return_mean")
    return {
        "iteration": int(result.get("training_iteration", 0)),
        "episode_return_mean": None if mean_return is None else float(mean_return),
        "agent_steps": float(steps),
        "agent_steps_per_s": steps / elapsed if elapsed > 0 else None,
        "time_s": elapsed,
    }


def write_json_atomic(path: Path, data) -> None:
    from baselines.experiment.io import write_json

    write_json(path, data)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("env", help=f"env id, one of {registry.list_envs()}")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="env config key (repeatable)")
    parser.add_argument("--policy", choices=("shared", "per-agent"), default="shared")
    parser.add_argument("--env-runners", type=int, default=0, help="remote env runners (0: sample in the driver)")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-batch", type=int, default=2000, help="env steps per training iteration")
    parser.add_argument("--minibatch", type=int, default=250)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--address", default=None, help="Ray cluster address ('auto' on a cluster node); default: local")
    parser.add_argument("--out", default=None, help="directory for the checkpoint and metrics.json")
    args = parser.parse_args(argv)
    try:
        import ray
    except ImportError:
        print("error: ray[rllib] is not installed (make test-rllib creates .venv-rllib with it)", file=sys.stderr)
        return 2
    try:
        if args.env not in registry.ENVS:
            raise ConfigError(f"unknown env id {args.env!r}; registered envs: {registry.list_envs()}")
        if args.env_runners < 0 or args.iterations < 1:
            raise ConfigError("--env-runners must be >= 0 and --iterations >= 1")
        env_kwargs = parse_overrides(args.overrides)
        config = build_config(args.env, env_kwargs, args.policy, args.env_runners, args.seed,
                              args.train_batch, args.minibatch, args.epochs)
    except (ConfigError, ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    started = not ray.is_initialized()  # a caller's Ray session (tests, notebooks) is left running
    if started:
        ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
    history = []
    try:
        algo = config.build_algo()
        for _ in range(args.iterations):
            start = time.perf_counter()
            result = algo.train()
            row = summarise(result, time.perf_counter() - start)
            history.append(row)
            print(f"iter {row['iteration']:3d}  return {row['episode_return_mean']:.4g}  "
                  f"agent-steps {row['agent_steps']:.0f} in {row['time_s']:.1f} s "
                  f"({row['agent_steps_per_s']:.0f}/s)", flush=True)
        if args.out:
            out = Path(args.out)
            algo.save_to_path(str((out / "checkpoint").resolve()))
            write_json_atomic(out / "metrics.json", {"env": args.env, "env_kwargs": env_kwargs, "policy": args.policy,
                                                     "env_runners": args.env_runners, "seed": args.seed,
                                                     "iterations": history})
        algo.stop()
    finally:
        if started:
            ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
