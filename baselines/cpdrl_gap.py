"""Where a CPDRL learner's gap to TEM goes (issue 21): the decision's share and the allocation's share.

For each evaluation instance (``baselines.experiment.seeds.eval_seeds``) of a trained policy:

* ``J_L``: the learner's objective (last step of the episode, the paper's metric);
* ``J_D``: the learner's offloading vector with the optimal resources for that vector
  (:func:`baselines.search.optimal_resources`, the allocation TEM uses);
* ``J_T``: TEM's objective.

``(J_D - J_T) / J_T`` is the decision's share of the gap, ``(J_L - J_D) / J_T`` the allocation's
(they add up to ``J_L / J_T - 1``). Per UTD: the offloading disagreements with TEM, split by distance
(the far half of the UTDs by channel gain) and task size (the large half by cycles), and the
log-error of the learner's bandwidth against the optimum for its own decision.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

import mec_marl
from baselines import registry
from baselines.experiment.seeds import eval_seeds
from baselines.search import cpdrl_exhaustive, optimal_resources
from mec_marl.envs import cpdrl

AGENT = "scheduler"


def _tag(train: dict | None, env: dict | None) -> str:
    """A short, stable name of the overrides (for cache files and table rows); '' when there are none."""
    parts = [f"{k}={v}" for k, v in sorted({**(train or {}), **{f"env.{k}": v for k, v in (env or {}).items()}}.items())]
    if not parts:
        return ""
    return "-" + hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:10]


def run_policy(run: Path, method: str, n: int, seed: int):
    """The policy a reproduction run saved for (method, n, seed) (a budget with ``save_policies: true``)."""
    found = sorted(Path(run).glob(f"cells/*/{method}/n_devices={n}_s{seed}.pt"))
    if not found:
        raise FileNotFoundError(f"no saved policy of {method} at n={n}, seed {seed} under {run}/cells "
                                "(run reproduce.py with a budget that has save_policies: true)")
    return registry.get(method, "cpdrl_v0").load(found[0])


def trained_policy(method: str, n: int, seed: int, steps: int, cache: Path | None,
                   train: dict | None = None, env: dict | None = None):
    """Train ``method`` at n UTDs (``steps`` env steps; ``train``: hyper-parameter overrides, ``env``: env
    options), or load it from ``cache`` when saved there."""
    spec = registry.get(method, "cpdrl_v0")
    path = None if cache is None else Path(cache) / f"{method}-n{n}-s{seed}-{steps}{_tag(train, env)}.pt"
    if path is not None and path.exists():
        return spec.load(path)
    policy = spec.build("cpdrl_v0", {"n_devices": n, **(env or {})}, seed=seed,
                        budget={"steps": steps, "progress": False, **(train or {})})
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        policy.save(path)
    return policy


def _far_large(instance) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the far half of the UTDs (lowest channel gain) and the large-task half (most cycles)."""
    n = instance.n
    far = np.zeros(n, bool)
    far[np.argsort(instance.gain)[: n // 2]] = True
    large = np.zeros(n, bool)
    large[np.argsort(instance.cycles)[n - n // 2 :]] = True
    return far, large


def decompose(policy, n: int, seed: int, episodes: int, env_kwargs: dict | None = None) -> dict:
    """The gap decomposition of ``policy`` at n UTDs over ``episodes`` evaluation instances (means);
    ``env_kwargs``: env options the policy was trained under (e.g. ``observation="paper"``)."""
    env = mec_marl.make("cpdrl_v0", n_devices=n, **(env_kwargs or {}), **getattr(policy, "env_options", {}))
    rows = []
    flips = {"far": [], "near": [], "large": [], "small": []}
    bw_err = {"far": [], "near": [], "large": [], "small": []}
    for s in eval_seeds(seed, episodes):
        obs, _ = env.reset(seed=s)
        base = env.unwrapped
        inst, cfg = base.instance, base.config
        policy.reset(env, seed=s)
        first_action, objectives = None, []
        while env.agents:
            action = policy.act(obs, env)
            first_action = action[AGENT] if first_action is None else first_action
            obs, _, _, _, infos = env.step(action)
            objectives.append(float(infos[AGENT]["objective"]))
        decoded = cpdrl.decode_action(first_action, inst, cfg)
        offload = np.asarray(decoded["offload"], bool)
        own = optimal_resources(inst, cfg, offload[None, :])
        tem = cpdrl_exhaustive(inst, cfg)
        j_l, j_d, j_t = objectives[-1], float(own["objective"][0]), tem["objective"]
        rows.append({"ratio": j_l / j_t, "decision": (j_d - j_t) / j_t, "allocation": (j_l - j_d) / j_t,
                     "refinement": (objectives[0] - min(objectives)) / j_t, "offloaders": offload.mean(),
                     "tem_offloaders": np.mean(tem["offload"])})
        far, large = _far_large(inst)
        wrong = offload != tem["offload"]
        with np.errstate(divide="ignore", invalid="ignore"):
            err = np.abs(np.log(np.asarray(decoded["exec_bandwidth"]) / own["bandwidth"][0]))
        for key, m in (("far", far), ("near", ~far), ("large", large), ("small", ~large)):
            flips[key].append(wrong[m].mean())
            sel = m & offload
            if sel.any():
                bw_err[key].append(float(np.mean(err[sel])))
    env.close()
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    out.update({f"flip_{k}": float(np.mean(v)) for k, v in flips.items()})
    out.update({f"bw_err_{k}": float(np.mean(v)) if v else float("nan") for k, v in bw_err.items()})
    return out


def decision_seconds(policy, n: int, seed: int, samples: int = 10, env_kwargs: dict | None = None) -> float:
    """Median wall time of ``reset`` + first ``act`` (what ``decision_time_s`` measures)."""
    env = mec_marl.make("cpdrl_v0", n_devices=n, **(env_kwargs or {}), **getattr(policy, "env_options", {}))
    times = []
    for s in eval_seeds(seed, samples):
        obs, _ = env.reset(seed=s)
        start = time.perf_counter()
        policy.reset(env, seed=s)
        policy.act(obs, env)
        times.append(time.perf_counter() - start)
    env.close()
    return float(np.median(times))


COLUMNS = [("n", "n"), ("method", "method"), ("seed", "seed"), ("ratio", "J_L/J_T"), ("decision", "decision share"),
           ("allocation", "allocation share"), ("refinement", "refinement over steps"),
           ("offloaders", "offload rate"), ("tem_offloaders", "TEM offload rate"), ("flip_far", "flips far"),
           ("flip_near", "flips near"), ("flip_large", "flips large"), ("flip_small", "flips small"),
           ("bw_err_far", "|log b/b*| far"), ("bw_err_near", "|log b/b*| near"), ("time_ms", "decision ms"),
           ("tem_ms", "TEM ms")]


def markdown(rows: list[dict]) -> str:
    """The decomposition as a Markdown table (shares in % of TEM's objective)."""
    pct = {"decision", "allocation", "refinement"}
    lines = ["| " + " | ".join(h for _, h in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = []
        for k, _ in COLUMNS:
            v = r.get(k, "")
            cells.append(f"{100 * v:+.1f} %" if k in pct else (f"{v:.3g}" if isinstance(v, float) else str(v)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def seed_mean(rows: list[dict]) -> list[dict]:
    """One row per (n, method) with the numeric columns averaged over its seeds (``seed`` = "mean of k");
    an (n, method) with a single seed keeps that seed's row."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["n"], r["method"]), []).append(r)
    out = []
    for (n, method), rs in groups.items():
        if len(rs) == 1:
            out.append(rs[0])
            continue
        keys = [k for k, v in rs[0].items() if isinstance(v, float)]
        out.append({"n": n, "method": method, "seed": f"mean of {len(rs)}",
                    **{k: float(np.nanmean([r[k] for r in rs])) for k in keys}})
    return out


def seed_ratios(run: str | Path, reference: str = "tem", metric: str = "objective") -> list[dict]:
    """Each method's ratio to ``reference`` per n, from a reproduction's cells: the ratio is taken per
    seed (both evaluated on that seed's instances), then its mean and 95 % bootstrap CI across seeds
    (:func:`baselines.experiment.stats.across_seeds`); with the median decision times (ms) beside it."""
    from baselines.experiment.io import read_json
    from baselines.experiment.stats import across_seeds

    cells = [read_json(p) for p in sorted(Path(run).glob("cells/*/*/n_devices=*_s*.json"))]
    by_key = {(c["cell"]["variant"], c["cell"]["point"]["n_devices"], c["cell"]["method_id"], c["cell"]["seed"]): c
              for c in cells}
    groups: dict[tuple, list[tuple[float, float, float]]] = {}
    for (variant, n, method, seed), c in by_key.items():
        ref = by_key.get((variant, n, reference, seed))
        if ref is None or method == reference:
            continue
        groups.setdefault((n, method), []).append((c["seed_means"][metric] / ref["seed_means"][metric],
                                                   c["seed_means"]["decision_time_s"], ref["seed_means"]["decision_time_s"]))
    rows = []
    for (n, method), vals in sorted(groups.items()):
        agg = across_seeds(v[0] for v in vals)
        rows.append({"n": n, "method": method, "seeds": len(vals), "ratio": agg["mean"], "ci_low": agg["ci_low"],
                     "ci_high": agg["ci_high"], "time_ms": 1e3 * float(np.mean([v[1] for v in vals])),
                     "tem_ms": 1e3 * float(np.mean([v[2] for v in vals]))})
    return rows


def plot(rows: list[dict], path: str | Path) -> None:
    """Stacked bars: the decision's and the allocation's share of the gap per method and n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r['method']}\nn={r['n']}" for r in rows]
    if len({r["method"] for r in rows}) == 1:
        labels = [f"n={r['n']}" for r in rows]
    x = np.arange(len(rows))
    dec = np.array([100 * r["decision"] for r in rows])
    alloc = np.array([100 * r["allocation"] for r in rows])
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(rows)), 4))
    ax.bar(x, dec, label="decision (its vector, optimal resources)")
    ax.bar(x, alloc, bottom=dec, label="allocation (its resources vs optimal for its vector)")
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("gap to TEM (% of TEM's objective)")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
