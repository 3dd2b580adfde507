"""The DRLH paper's methods on semantic_v0, as registry builders.

Each builder has the registry's signature ``build(env_id, env_kwargs, seed,
budget) -> Policy``. DRLH(N_A) trains inside ``build`` online for
``budget["steps"]`` slots (Table I: 15000) and is then evaluated frozen;
:func:`baselines.semantic.drlh.load` loads a saved one. :data:`SPECS` lists
the methods with the paper's labels; :func:`register_all` hands them to a registry.
"""

from __future__ import annotations

ENVS = ("semantic_v0",)
LOADER = "baselines.semantic.drlh:load"
PAPER_STEPS = 15000  # Table I: training slots of DRLH
QUICK_STEPS = 3000

# name, kind, builder, description, paper label, default budget
SPECS = [
    ("sem_exhaustive", "search", "build_exhaustive", "all feasible associations (1960 for I = 8) through the critic",
     "Exhaustive search", {}),
    ("sem_random", "heuristic", "build_random", "a uniformly drawn feasible association per slot", "Random", {}),
    ("sem_greedy", "heuristic", "build_greedy", "MEC then MCC by the critic's marginal gain (not in the paper)",
     "Greedy", {}),
    ("sem_longest_queue", "heuristic", "build_longest_queue",
     "MEC to the largest Q^L + Z^L - Q^E - Z^E, MCC to the largest Q^L + Z^L (not in the paper)", "Longest queue", {}),
    *(
        (f"drlh_{n}", "learner", f"build_drlh_{n}", f"DRLH with N_A = {n} candidates, trained online", f"DRLH({n})",
         {"steps": QUICK_STEPS})
        for n in (64, 16, 8)
    ),
]


def build_exhaustive(env_id, env_kwargs, seed, budget):
    from baselines.semantic.heuristics import ExhaustivePolicy

    policy = ExhaustivePolicy()
    policy.name = "sem_exhaustive"
    return policy


def _simple(cls_name: str, name: str):
    def build(env_id, env_kwargs, seed, budget):
        from baselines.semantic import heuristics

        policy = getattr(heuristics, cls_name)()
        policy.name = name
        return policy

    build.__name__ = f"build_{name}"
    return build


build_random = _simple("RandomAssociationPolicy", "sem_random")
build_greedy = _simple("GreedyPolicy", "sem_greedy")
build_longest_queue = _simple("LongestQueuePolicy", "sem_longest_queue")


def _drlh(n_candidates: int):
    def build(env_id, env_kwargs, seed, budget):
        from baselines.semantic.drlh import train

        budget = dict(budget or {})
        steps = int(budget.pop("steps", QUICK_STEPS))
        return train(env_kwargs, n_candidates, seed=0 if seed is None else int(seed), steps=steps,
                     name=f"drlh_{n_candidates}", **budget)

    build.__name__ = f"build_drlh_{n_candidates}"
    return build


build_drlh_64 = _drlh(64)
build_drlh_16 = _drlh(16)
build_drlh_8 = _drlh(8)


# Decisions that depend on the instance and state only (no randomness, no training).
DETERMINISTIC = ("sem_exhaustive", "sem_greedy", "sem_longest_queue")


def register_all(register, method_cls) -> None:
    """``register(method_cls(name, envs, kind, factory, description, paper_label, default_budget, loader, ...))``."""
    for name, kind, builder, description, label, budget in SPECS:
        register(
            method_cls(
                name,
                ENVS,
                kind,
                f"{__name__}:{builder}",
                description,
                label,
                default_budget=dict(budget),
                loader=LOADER if kind == "learner" else "",
                deterministic=name in DETERMINISTIC,
            )
        )
