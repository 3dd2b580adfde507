"""The PFR-OA paper's eight methods on smart_community_v0, as registry builders.

Each builder has the registry's signature ``build(env_id, env_kwargs, seed,
budget) -> Policy``; learners train inside ``build`` with ``budget`` (keys of
:data:`baselines.smart_community.learners.DEFAULTS`) and load back with
:func:`baselines.smart_community.learners.load`. :data:`SPECS` lists them
with the paper's labels; :func:`register_all` hands them to a registry.
"""

from __future__ import annotations

ENVS = ("smart_community_v0",)
LOADER = "baselines.smart_community.learners:load"
# Quick budgets: transitions per community (the paper trains for hundreds of 80-step episodes).
QUICK_STEPS = 4000

# name, kind, builder, description, paper label, default budget
SPECS = [
    ("sc_local", "heuristic", "build_local", "every task on its ED", "Local", {}),
    ("sc_edge", "heuristic", "build_edge", "every task offloaded, even shares among the offloaders", "Edge", {}),
    ("sc_greedy", "heuristic", "build_greedy", "local when waiting + C/f meets T_d, else edge", "Greedy", {}),
    ("sc_dqn", "learner", "build_dqn", "DQN per community over 2^n offloading subsets, even shares", "DQN",
     {"total_steps": QUICK_STEPS}),
    ("sc_ddpg", "learner", "build_ddpg", "DDPG per community (Stable-Baselines3)", "DDPG", {"total_steps": QUICK_STEPS}),
    ("sc_td3", "learner", "build_td3", "TD3 per community (Stable-Baselines3)", "TD3", {"total_steps": QUICK_STEPS}),
    ("mcf_td3", "learner", "build_mcf_td3", "TD3 per community + FedAvg of actor and twin critics every f_p episodes",
     "MCF-TD3", {"total_steps": QUICK_STEPS}),
    ("pfr_oa", "learner", "build_pfr_oa",
     "proximal TD3 + partial-greedy selection of V models + soft merge (f_q), adaptive lambda", "PFR-OA",
     {"total_steps": QUICK_STEPS}),
]


def _heuristic(mode: str, name: str):
    def build(env_id, env_kwargs, seed, budget):
        from baselines.smart_community.heuristics import SmartCommunityHeuristic

        return SmartCommunityHeuristic(mode, name)

    return build


def _learner(method: str):
    def build(env_id, env_kwargs, seed, budget):
        from baselines.smart_community.learners import train

        return train(method, env_kwargs, seed=0 if seed is None else int(seed), budget=budget)

    return build


build_local = _heuristic("local", "sc_local")
build_edge = _heuristic("edge", "sc_edge")
build_greedy = _heuristic("greedy", "sc_greedy")
build_dqn = _learner("dqn")
build_ddpg = _learner("ddpg")
build_td3 = _learner("td3")
build_mcf_td3 = _learner("mcf_td3")
build_pfr_oa = _learner("pfr_oa")


def register_all(register, method_cls) -> None:
    """``register(method_cls(name, envs, kind, factory, description, paper_label, default_budget, loader))``."""
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
            )
        )
