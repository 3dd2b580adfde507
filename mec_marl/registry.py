"""The env registry: versioned ids -> entry points, mirrored into PettingZoo and Gymnasium.

``mec_marl.make("cpdrl_v0", n_devices=4)`` and
``pettingzoo.make("parallel", "mec_marl/cpdrl_v0", n_devices=4)`` build the same
env. Single-agent envs also get a Gymnasium id (``mec_marl/CPDRL-v0``) whose
observation and action are the single agent's, so plain SB3 works on them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

NAMESPACE = "mec_marl"


@dataclass(frozen=True)
class EnvEntry:
    env_id: str  # e.g. "cpdrl_v0"
    module: str  # module with parallel_env(**kwargs)
    gymnasium_id: str | None = None  # for single-agent envs
    paper: str = ""

    @property
    def pettingzoo_id(self) -> str:
        return f"{NAMESPACE}/{self.env_id}"


ENVS: dict[str, EnvEntry] = {
    "cpdrl_v0": EnvEntry("cpdrl_v0", "mec_marl.envs.cpdrl", "mec_marl/CPDRL-v0", "Li, Nakamura, Takase: Consistency-Preserving Deep Reinforcement Learning for Computation Offloading and Resource Allocation in MEC Environment (CPDRL)"),
    "large_scale_v0": EnvEntry(
        "large_scale_v0", "mec_marl.envs.large_scale", "mec_marl/LargeScale-v0",
        "Jiang, Wang, Dong, Pan, Yang: Stacked Autoencoder-Based Deep Reinforcement Learning for Online "
        "Resource Scheduling in Large-Scale MEC Networks (OJRS)",
    ),
    "smart_community_v0": EnvEntry(
        "smart_community_v0",
        "mec_marl.envs.smart_community",
        None,
        "Chen, Xiong, Chen, Min, Li: Joint Computation Offloading and Resource Allocation in Multi-Edge Smart "
        "Communities With Personalized Federated Deep Reinforcement Learning (PFR-OA)",
    ),
    "semantic_v0": EnvEntry(
        "semantic_v0",
        "mec_marl.envs.semantic",
        "mec_marl/Semantic-v0",
        "Ji, Qin: Computational Offloading in Semantic-Aware Cloud-Edge-End Collaborative Networks (DRLH)",
    ),
    "wireless_powered_v0": EnvEntry(
        "wireless_powered_v0",
        "mec_marl.envs.wireless_powered",
        "mec_marl/WirelessPowered-v0",
        "Huang, Bi, Zhang: Deep Reinforcement Learning for Online Computation Offloading in Wireless Powered "
        "Mobile-Edge Computing Networks (DROO, IEEE TMC 2020)",
    ),
    "djtcra_v0": EnvEntry(
        "djtcra_v0",
        "mec_marl.envs.djtcra",
        None,
        "Chen, Sun, Yu, Taleb: Joint Task and Computing Resource Allocation in Distributed Edge Computing "
        "Systems via Multi-Agent Deep Reinforcement Learning (DJTCRA)",
    ),
}


def list_envs() -> list[str]:
    """Every registered env id."""
    return sorted(ENVS)


def entry(env_id: str) -> EnvEntry:
    try:
        return ENVS[env_id]
    except KeyError:
        raise ValueError(f"unknown env id {env_id!r}; registered envs: {list_envs()}") from None


def make(env_id: str, **config):
    """Build the parallel env ``env_id`` with config keys as keyword arguments."""
    module = importlib.import_module(entry(env_id).module)
    return module.parallel_env(**config)


def make_aec(env_id: str, **config):
    """Build the AEC version of ``env_id`` (through ``parallel_to_aec``)."""
    module = importlib.import_module(entry(env_id).module)
    return module.env(**config)


def _register_all() -> None:
    import warnings

    import gymnasium
    import pettingzoo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re-registration on module reload
        for e in ENVS.values():
            pettingzoo.register("parallel", e.pettingzoo_id, entry_point=f"{e.module}:parallel_env")
            pettingzoo.register("aec", e.pettingzoo_id, entry_point=f"{e.module}:env")
            if e.gymnasium_id and e.gymnasium_id not in gymnasium.registry:
                gymnasium.register(
                    e.gymnasium_id,
                    entry_point="mec_marl.adapters.gymnasium:make_single_agent",
                    vector_entry_point="mec_marl.adapters.gymnasium:make_single_agent_vector",
                    kwargs={"env_id": e.env_id},
                )
