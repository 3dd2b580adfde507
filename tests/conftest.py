"""Shared test configuration: which configs of which env the conformance suite runs.

``ENV_CONFIGS`` maps an env id to the configs the conformance tests run it
with. :func:`env_params` turns it into pytest parameters over
``mec_marl.list_envs()``: an env that is registered but has no entry here is
still tested, with its default config ``{}``, so every new env is covered by
the conformance suite the moment it is registered. Add an entry to test more
configs (keep ``max_cycles`` small where whole episodes run).

Per-env hooks (all optional; an env without an entry gets the generic default):

* ``DECISION_ACTIONS[env_id](env) -> (actions_a, actions_b)``: two action dicts
  that put tasks in visibly different places (the render test checks that the
  ``rgb_array`` picture differs). Default: every agent's action-space low vs high.
* ``SEEDED_DYNAMICS``: envs whose steps draw randomness after ``reset`` (e.g.
  per-slot fading); the pinned-instance replay test then also passes the seed.
* ``REQUIRED_STEP_INFO_KEYS[env_id]``: keys that every step's info must carry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mec_marl

# Small fixtures checked into the repository (tests/data/README.md).
DATA_DIR = Path(__file__).resolve().parent / "data"

# Whole-episode tests cap the episode at this length unless the config sets
# max_cycles itself (keeps the suite fast for envs with expensive steps).
EPISODE_CYCLES = 12

ENV_CONFIGS: dict[str, list[dict]] = {
    "cpdrl_v0": [
        {},
        {"observation": "paper", "consistency": "none", "n_devices": 2},
        {"scenario": "cpdrl_kilobit", "n_devices": 3, "max_cycles": 7},
        {"n_devices": 10, "bandwidth_overuse": "execute"},
    ],
    "djtcra_v0": [
        {"num_users": 12, "max_cycles": 3},
        {"agent_mode": "users", "num_users": 6, "max_cycles": 3},
        {
            "agent_mode": "users",
            "user_observation": "state",
            "observation_scale": "si",
            "world_seed": None,
            "num_users": 5,
            "n_servers": 3,
            "capacities": ["20 GHz", "30 GHz", "40 GHz"],
            "max_cycles": 2,
        },
        {"allocation": "proportional", "world_seed": None, "num_users": 9, "max_cycles": 4},
    ],
    "semantic_v0": [
        {"max_cycles": 20},
        {"agent_mode": "users", "n_ues": 4, "chi_mec": 2, "chi_mcc": 1, "max_cycles": 15},
        {"scenario": "semantic_scenario2", "max_cycles": 10, "solver": "exact", "shadowing": "episode"},
    ],
    "large_scale_v0": [
        {"n_ues": 6, "max_cycles": 8},
        {"scenario": "large_scale_table2", "n_ues": 5, "n_mecs": 3, "max_cycles": 6, "weight_change_slot": 3},
        {"agent_mode": "users", "n_ues": 4, "n_mecs": 1, "max_cycles": 5, "observation": "cqi"},
        {"agent_mode": "users", "scenario": "large_scale_table2", "n_ues": 3, "n_mecs": 5, "max_cycles": 4,
         "outage_fallback": False},
    ],
    # Arrivals start one sub-slot after reset; a high rate fills the buffers within a few steps.
    "smart_community_v0": [
        {"arrival_rate": 5.0},
        {"n_communities": 1, "n_devices": 2, "observation": "paper", "arrival_rate": 5.0},
        {"scenario": "smart_community_paper_power", "n_communities": 2, "n_devices": 3, "max_cycles": 9},
    ],
    "wireless_powered_v0": [
        {},
        {"agent_mode": "users", "n_devices": 4, "max_cycles": 6},
        {"n_devices": 3, "exhaustive_labels": True, "max_cycles": 5},
        {"channel_file": str(DATA_DIR / "droo_data_5_first50.mat"), "n_devices": 5, "replay_start": "random", "max_cycles": 10},
        {
            "channel_file": str(DATA_DIR / "droo_data_10_first50.mat"),
            "agent_mode": "users",
            "replay_start": "random",
            "first_frame": 20,
            "max_cycles": 8,
        },
        {"queues": True, "max_cycles": 10},
        {"queues": True, "n_devices": 3, "exhaustive_labels": True, "max_cycles": 5},
        {"scenario": "wireless_powered_lydroo", "agent_mode": "users", "n_devices": 4,
         "weights": [1.5, 1.0, 1.5, 1.0], "max_cycles": 6},
    ],
}

# Info keys that hold one entry per user (SPEC, "Shared contracts").
PER_USER_INFO_KEYS = ("latency", "energy", "offload", "bandwidth", "power", "cpu_freq", "edge_cpu", "qoe", "success")
# Info keys that measure wall-clock time: excluded from exact-equality comparisons.
WALL_TIME_INFO_KEYS = frozenset({"solver_time_s"})
# Config fields that name the number of users, in the order they are looked up.
USER_COUNT_FIELDS = ("n_devices", "n_users", "n_ues", "num_users")


def _cpdrl_decisions(env):
    """All UTDs offload (a_raw = +1, mid resources) vs all local (a_raw = -1)."""
    agent = env.possible_agents[0]
    n = env.unwrapped.config.n_devices
    offload = np.zeros(4 * n, dtype=np.float32)
    offload[:n] = 1.0
    local = np.zeros(4 * n, dtype=np.float32)
    local[:n] = -1.0
    return {agent: offload}, {agent: local}


def _djtcra_decisions(env):
    """Servers mode: every task to the last ES vs every task to its own ES (DAES); users mode: ES 0 vs the last."""
    config = env.unwrapped.config
    H, U = config.n_servers, config.num_users
    if config.agent_mode == "users":
        return {a: 0 for a in env.possible_agents}, {a: H - 1 for a in env.possible_agents}
    last = np.zeros((U, H), dtype=np.float32)
    last[:, -1] = 1.0
    own = {}
    for h, agent in enumerate(env.possible_agents):
        a = np.zeros((U, H), dtype=np.float32)
        a[:, h] = 1.0
        own[agent] = a
    return {a: last for a in env.possible_agents}, own


def _semantic_decisions(env):
    """Scores rising with the UE index vs falling: the top-chi UEs differ."""
    from mec_marl.envs.semantic import encode_action

    config = env.unwrapped.config
    n = config.n_ues
    first = np.arange(n) < max(config.chi_mec, 1)
    return encode_action(config, first, first), encode_action(config, first[::-1], first[::-1])

def _large_scale_decisions(env):
    """Every UE at MEC 1 vs every UE local."""
    return ({a: np.ones_like(np.asarray(env.action_space(a).sample())) for a in env.possible_agents},
            {a: np.zeros_like(np.asarray(env.action_space(a).sample())) for a in env.possible_agents})


def _smart_community_decisions(env):
    """Every ED offloads vs every ED runs locally (the picture draws the decision alpha)."""
    n = env.unwrapped.config.n_devices
    offload = np.ones(3 * n, dtype=np.float32)
    local = offload.copy()
    local[:n] = -1.0
    return {a: offload for a in env.possible_agents}, {a: local for a in env.possible_agents}


def _wireless_powered_decisions(env):
    """Every device offloads vs every device computes locally."""
    on, off = {}, {}
    for agent in env.possible_agents:
        space = env.action_space(agent)
        if hasattr(space, "n"):
            on[agent], off[agent] = 1, 0
        else:
            on[agent], off[agent] = np.ones(space.shape, np.float32), np.zeros(space.shape, np.float32)
    return on, off


DECISION_ACTIONS = {
    "cpdrl_v0": _cpdrl_decisions,
    "large_scale_v0": _large_scale_decisions,
    "djtcra_v0": _djtcra_decisions,
    "semantic_v0": _semantic_decisions,
    "smart_community_v0": _smart_community_decisions,
    "wireless_powered_v0": _wireless_powered_decisions,
}
SEEDED_DYNAMICS: set[str] = set()
REQUIRED_STEP_INFO_KEYS: dict[str, set[str]] = {
    "cpdrl_v0": {"latency", "energy", "offload", "bandwidth", "power", "cpu_freq", "edge_cpu", "success", "objective"},
    "large_scale_v0": {"latency", "energy", "offload", "fallback", "power", "cpu_freq", "edge_cpu", "objective",
                       "latency_sum"},
    "djtcra_v0": {
        "latency", "qoe", "offload", "edge_cpu", "success", "objective", "system_qoe", "avg_latency",
        "su", "du", "gu", "cu", "own_qoe",
    },
    "semantic_v0": {"energy", "offload", "power", "cpu_freq", "edge_cpu", "objective", "system_power", "q_local"},
    "smart_community_v0": {
        "latency", "energy", "waiting", "offload", "bandwidth", "power", "cpu_freq", "edge_cpu", "success",
        "battery", "battery_case", "dropped", "objective", "success_rate", "avg_energy", "avg_waiting_time",
    },
    "wireless_powered_v0": {"energy", "offload", "time_share", "computation_rate", "objective", "normalized_rate"},
}


def _config_id(config: dict) -> str:
    if not config:
        return "default"
    return ",".join(f"{k}={v}" for k, v in config.items())


def configs_for(env_id: str) -> list[dict]:
    """The configs to test ``env_id`` with (``[{}]`` if it has no entry)."""
    return ENV_CONFIGS.get(env_id) or [{}]


def env_params(single_agent_gymnasium: bool = False) -> list:
    """pytest params ``(env_id, config)`` over every registered env.

    With ``single_agent_gymnasium`` only the envs that register a Gymnasium id,
    in their configs with one agent (a ``users`` agent mode is multi-agent).
    """
    params = []
    for env_id in mec_marl.list_envs():
        if single_agent_gymnasium and not mec_marl.ENVS[env_id].gymnasium_id:
            continue
        for config in configs_for(env_id):
            if single_agent_gymnasium and len(mec_marl.make(env_id, **config).possible_agents) != 1:
                continue  # a multi-agent mode of an env that also has a single-agent one
            params.append(pytest.param(env_id, dict(config), id=f"{env_id}-{_config_id(config)}"))
    return params


def episode_config(config: dict) -> dict:
    """``config`` with ``max_cycles`` capped at :data:`EPISODE_CYCLES` unless it sets it."""
    out = dict(config)
    out.setdefault("max_cycles", EPISODE_CYCLES)
    return out


def make_env(env_id: str, config: dict, **extra):
    """Build the parallel env ``env_id`` with ``config`` plus ``extra`` keyword arguments."""
    return mec_marl.make(env_id, **{**config, **extra})


def decision_actions(env_id: str, env):
    """Two action dicts with different decisions (see ``DECISION_ACTIONS``)."""
    if env_id in DECISION_ACTIONS:
        return DECISION_ACTIONS[env_id](env)
    low, high = {}, {}
    for agent in env.agents:
        space = env.action_space(agent)
        if hasattr(space, "low"):
            low[agent], high[agent] = space.low.copy(), space.high.copy()
        elif hasattr(space, "nvec"):
            low[agent], high[agent] = np.zeros_like(space.nvec), space.nvec - 1
        else:
            low[agent], high[agent] = space.start, space.start + space.n - 1
    return low, high


def n_users(env) -> int | None:
    """Number of users of the env's config, if it names it in a known field."""
    config = env.unwrapped.config
    for field in USER_COUNT_FIELDS:
        if hasattr(config, field):
            return int(getattr(config, field))
    return None
