"""Measure semantic_v0's levels for the DRLH paper's methods (SPEC, semantic_v0).

    python scripts/semantic_levels.py --scenario semantic_scenario1 --slots 6000 --seeds 0 1 \
        --methods random exhaustive drlh_64 [--set solver=exact]

Prints one Markdown row per method: time-average Q^L, Q^E, power (W) over the
episode, mean +- std over seeds, and the mean decision time per slot (CPU
time of ``act``; for DRLH of the decision alone, without its online training step).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import mec_marl
from baselines.semantic import ExhaustivePolicy, GreedyPolicy, LongestQueuePolicy, RandomAssociationPolicy
from mec_marl.config import ConfigError, parse_overrides
from mec_marl.envs import semantic
from mec_marl.solvers import lyapunov


def make_policy(name: str, critic: str = "table"):
    fixed = {
        "random": RandomAssociationPolicy,
        "exhaustive": ExhaustivePolicy,
        "greedy": GreedyPolicy,
        "longest_queue": LongestQueuePolicy,
    }
    if name == "exhaustive":
        return ExhaustivePolicy(critic=critic)
    if name in fixed:
        return fixed[name]()
    if name.startswith("drlh_") and name[5:].isdigit():
        from baselines.semantic.drlh import DrlhPolicy  # torch only when asked for

        return DrlhPolicy(int(name[5:]), critic=critic)
    raise ValueError(f"unknown method {name!r}; allowed: {sorted(fixed)} or drlh_<N_A>")


def solver_gap(env, actions) -> tuple[float, float]:
    """(closed-form - exact) per-slot cost of the executed association, and the exact cost's magnitude."""
    base = env.unwrapped
    config, state = base.config, base.model_state
    rho_mec, rho_mcc = semantic.decode_action(config, actions)
    problem = semantic.slot_problem(config, state, state.gain_mec, state.gain_mcc)
    hw = config.hardware()
    closed = lyapunov.closed_form(problem, hw, rho_mec, rho_mcc)["cost"].sum()
    exact = lyapunov.exact(problem, hw, rho_mec, rho_mcc)["cost"].sum()
    return closed - exact, abs(exact)


def measure(method: str, scenario: str, slots: int, seed: int, overrides: dict, gap: bool = False,
            critic: str = "table") -> dict:
    env = mec_marl.make("semantic_v0", scenario=scenario, max_cycles=slots, **overrides)
    policy = make_policy(method, critic)
    obs, _ = env.reset(seed=seed)
    policy.reset(env, seed=seed)
    decide, gaps = 0.0, []
    while env.agents:
        start = time.process_time()  # CPU time: robust to other processes on a shared machine
        actions = policy.act(obs, env)
        decide += time.process_time() - start
        if gap:
            gaps.append(solver_gap(env, actions))
        obs, _, _, _, infos = env.step(actions)
    episode = next(iter(infos.values()))["episode"]
    # DRLH records its decisions alone (without its online training step).
    own = getattr(policy, "decision_cpu_seconds", None)
    out = {**episode, "decision_ms": 1e3 * (float(np.mean(own)) if own else decide / slots)}
    if gap:
        diff, scale = np.array(gaps).T
        out["gap_mean"] = float(diff.mean())
        out["gap_rel"] = float(diff.sum() / scale.sum())  # closed-form excess / |exact G| over the episode
        out["gap_slots"] = float((diff > 1e-6 * (1 + scale)).mean())
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="semantic_scenario1")
    parser.add_argument("--slots", type=int, default=6000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=["random", "exhaustive"])
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config key=value")
    parser.add_argument("--gap", action="store_true", help="also report the closed forms' gap to the exact solver")
    parser.add_argument("--critic", choices=["table", "direct"], default="table",
                        help="score candidates from the per-UE cost table or by one solve per candidate")
    args = parser.parse_args(argv)
    try:
        overrides = parse_overrides(args.overrides)
        mec_marl.make("semantic_v0", scenario=args.scenario, max_cycles=args.slots, **overrides)
        for name in args.methods:
            make_policy(name)
    except (ConfigError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("| method | Q^L | Q^E | power (W) | decision (CPU ms) |")
    print("|---|---|---|---|---|")
    for name in args.methods:
        rows = [measure(name, args.scenario, args.slots, s, overrides, args.gap, args.critic) for s in args.seeds]
        cell = lambda k: f"{np.mean([r[k] for r in rows]):.3g} +- {np.std([r[k] for r in rows]):.2g}"
        extra = f" gap {cell('gap_rel')} of |G|, on {cell('gap_slots')} of slots" if args.gap else ""
        cells = " | ".join(cell(k) for k in ("queue_local", "queue_edge", "system_power", "decision_ms"))
        print(f"| {name} | {cells} |{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
