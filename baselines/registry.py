"""Method registry: a method name -> how to build it and which envs it supports.

Every method is built by ``build(env_id, env_kwargs, seed, budget)`` and
returns a :class:`~baselines.policy.Policy`. For learners ``build`` trains
(with the budget, e.g. ``{"steps": 20000}``) and the result can be saved and
loaded; heuristics and searches ignore the budget. Later issues extend the
registry with :func:`register`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable, Literal

Kind = Literal["heuristic", "search", "learner"]


@dataclass(frozen=True)
class Method:
    name: str
    envs: tuple[str, ...]
    kind: Kind
    factory: str  # "module:callable" -> build(env_id, env_kwargs, seed, budget) -> Policy
    description: str = ""
    paper_label: str = ""  # the name in the paper's figures/tables
    default_budget: dict = field(default_factory=dict)
    loader: str = ""  # "module:callable" -> load(path) -> Policy, for learners' saved checkpoints

    def build(self, env_id: str, env_kwargs: dict | None = None, seed: int | None = None, budget: dict | None = None):
        if env_id not in self.envs:
            raise ValueError(f"method {self.name!r} does not support env {env_id!r}; it supports {list(self.envs)}")
        module, attr = self.factory.split(":")
        builder: Callable = getattr(importlib.import_module(module), attr)
        merged = {**self.default_budget, **(budget or {})}
        return builder(env_id=env_id, env_kwargs=dict(env_kwargs or {}), seed=seed, budget=merged)


    def load(self, path: str):
        """Load a saved policy of this method (learners only)."""
        if not self.loader:
            raise ValueError(f"method {self.name!r} ({self.kind}) has no saved policies to load")
        module, attr = self.loader.split(":")
        return getattr(importlib.import_module(module), attr)(path)


METHODS: dict[str, Method] = {}


def register(method: Method) -> None:
    METHODS[method.name] = method


def get(name: str, env_id: str | None = None) -> Method:
    try:
        method = METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; known methods: {list_methods(env_id)}") from None
    if env_id is not None and env_id not in method.envs:
        raise ValueError(f"method {name!r} does not support env {env_id!r}; methods for it: {list_methods(env_id)}")
    return method


def list_methods(env_id: str | None = None) -> list[str]:
    return sorted(m.name for m in METHODS.values() if env_id is None or env_id in m.envs)


# ---------------------------------------------------------------- builders
def _build_cpdrl_heuristic(mode: str, name: str):
    def build(env_id, env_kwargs, seed, budget):
        from baselines.heuristics import CpdrlRandomResources

        return CpdrlRandomResources(mode, name)

    return build


build_rom = _build_cpdrl_heuristic("random", "rom")
build_fom = _build_cpdrl_heuristic("full", "fom")
build_lem = _build_cpdrl_heuristic("local", "lem")


def build_tem(env_id, env_kwargs, seed, budget):
    from baselines.search import CpdrlExhaustive

    return CpdrlExhaustive()


CPDRL = ("cpdrl_v0",)
register(Method("tem", CPDRL, "search", "baselines.registry:build_tem", "exhaustive over 2^n offloading vectors, optimal resources per vector", "TEM"))
register(Method("rom", CPDRL, "heuristic", "baselines.registry:build_rom", "random offloading, random resources", "ROM"))
register(Method("fom", CPDRL, "heuristic", "baselines.registry:build_fom", "every UTD offloads, random communication resources", "FOM"))
register(Method("lem", CPDRL, "heuristic", "baselines.registry:build_lem", "every UTD local, random CPU frequency", "LEM"))

# Learners (CPDRL paper, Sec. V-A): the quick budget trains in about 20 s on one core.
# DDPG trains with the family's reward/observation scaling (preset "tuned") so that the
# comparison isolates STE, masks and the consistency terms; {"preset": "paper"} is Table I as printed.
register(Method("ddpg", CPDRL, "learner", "baselines.learners.sb3:build_ddpg", "plain DDPG (Stable-Baselines3), no STE, no masks", "DDPG", default_budget={"steps": 8000, "preset": "tuned"}, loader="baselines.learners.sb3:load"))
register(Method("ste_ddpg", CPDRL, "learner", "baselines.learners.cpdrl:build_ste_ddpg", "DDPG with the STE-binarised offloading output (eq. 15)", "STE-DDPG", default_budget={"steps": 8000}, loader="baselines.learners.cpdrl:load"))
register(Method("aste_ddpg", CPDRL, "learner", "baselines.learners.cpdrl:build_aste_ddpg", "STE-DDPG with the offloading decision masking the resources in the actor (eq. 15-16)", "ASTE-DDPG", default_budget={"steps": 8000}, loader="baselines.learners.cpdrl:load"))
register(Method("cpdrl", CPDRL, "learner", "baselines.learners.cpdrl:build_cpdrl", "STE + masks + consistency bonus (eq. 17) + consistency loss (eq. 18-19)", "CPDRL", default_budget={"steps": 8000}, loader="baselines.learners.cpdrl:load"))

# PFR-OA paper (smart_community_v0): Local, Edge, Greedy, DQN, DDPG, TD3, MCF-TD3, PFR-OA.
from baselines.smart_community import methods as _smart_community  # noqa: E402

_smart_community.register_all(register, Method)

# DJTCRA paper (djtcra_v0): MAMaxEnt, MADDPG, VDN-L, VDN-G, IDQN, GA-Aware, DAES, Random.
from baselines.djtcra import methods as _djtcra  # noqa: E402

_djtcra.register_all(register, Method)
