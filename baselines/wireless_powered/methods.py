"""wireless_powered_v0's methods for the registry (DROO, TMC 2020; Bi & Zhang, TWC 2018; LyDROO, TWC 2021).

The searches and heuristics act on both systems: with ``queues=True`` their
critic is LyDROO's per-slot problem P4. ``lydroo`` needs ``queues=True``;
``droo`` / ``droo_knn`` need the wireless-powered system (their critic is (P2)).
"""

from __future__ import annotations

ENVS = ("wireless_powered_v0",)
HEURISTICS = "baselines.wireless_powered.heuristics"
DROO = "baselines.wireless_powered.droo"
LYDROO = "baselines.wireless_powered.lydroo"

# name, kind, factory, description, paper label, default budget
SPECS = (
    ("droo", "learner", f"{DROO}:build",
     "DROO: DNN + order-preserving quantiser, K candidates scored by the exact critic, replay training, adaptive K",
     "DROO", {"steps": 2000}),
    ("droo_knn", "learner", f"{DROO}:build", "DROO with the kNN quantiser", "DROO (KNN)",
     {"steps": 2000, "quantizer": "knn"}),
    ("lydroo", "learner", f"{LYDROO}:build",
     "LyDROO: DNN on [h, Q, Y] + noisy order-preserving candidates scored by the exact per-slot P4 optimum "
     "(queues=True)", "LyDROO", {"steps": 2000}),
    ("exhaustive", "search", f"{HEURISTICS}:build_exhaustive",
     "best of all 2^N decisions by the exact critic ((a, tau) of P2; queues: P4's optimum)", "Exhaustive", {}),
    ("coordinate_descent", "search", f"{HEURISTICS}:build_coordinate_descent",
     "Bi & Zhang's coordinate descent from a random decision", "CD", {}),
    ("all_local", "heuristic", f"{HEURISTICS}:build_all_local", "every device computes locally", "All local", {}),
    ("all_offload", "heuristic", f"{HEURISTICS}:build_all_offload", "every device offloads", "All offload", {}),
    ("random_offload", "heuristic", f"{HEURISTICS}:build_random", "each device offloads with probability 1/2",
     "Random", {}),
)
LOADER = f"{DROO}:load"


def register_all(register, method_cls) -> None:
    """``register(method_cls(name, envs, kind, factory, description, paper_label, default_budget, loader))``."""
    for name, kind, factory, description, label, budget in SPECS:
        register(
            method_cls(
                name,
                ENVS,
                kind,
                factory,
                description,
                label,
                default_budget=dict(budget),
                loader=(f"{LYDROO}:load" if name == "lydroo" else LOADER) if kind == "learner" else "",
                **({"deterministic": True} if name == "exhaustive" else {}),
                **({"env_options": {"queues": True}} if name == "lydroo" else {}),
            )
        )
