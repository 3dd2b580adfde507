"""smart_community_v0 heuristics: the rules by hand, and their levels against SPEC's measurements."""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from baselines.smart_community import heuristics
from mec_marl.envs.smart_community import SmartCommunityInstance

G0 = 10**2.63


def _instance(waits_ok: bool):
    # One ED, one task at 0.1 s: at 0.4 s it has waited 0.3 s; C / f = 1.0 s (meets 1.5 s) or 1.25 s (does not).
    cycles = 1.0e9 if waits_ok else 1.25e9
    return SmartCommunityInstance(
        distance=np.array([[50.0]]),
        gain=G0 * np.array([[50.0]]) ** -4.0,
        cpu_freq=np.array([[1e9]]),
        power=np.array([[0.2]]),
        weights=np.array([[0.8, 0.6, 15.0]]),
        arrival_time=np.array([[[0.1]]]),
        data_size=np.array([[[8e6]]]),
        cycles=np.array([[[cycles]]]),
    )


@pytest.mark.parametrize("waits_ok,expected", [(True, 0), (False, 1)])
def test_greedy_runs_locally_exactly_when_the_deadline_can_be_met(waits_ok, expected):
    env = mec_marl.make("smart_community_v0", n_communities=1, n_devices=1)
    env.reset(options={"instance": _instance(waits_ok)})
    policy = heuristics.SmartCommunityHeuristic("greedy")
    policy.reset(env, seed=0)
    env.step(policy.act(None, env))
    _, _, _, _, info = env.step(policy.act(None, env))
    assert info["community_0"]["started"][0]
    assert info["community_0"]["offload"][0] == expected


def test_edge_gives_even_shares_to_the_subslots_offloaders():
    raw = heuristics.encode(np.array([True, False, True]))
    assert raw.tolist() == [1, -1, 1, 1, 1, 1, 1, 1, 1]


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="bogus"):
        heuristics.SmartCommunityHeuristic("bogus")


# SPEC's measured levels (realistic preset): success, energy (J), waiting (s).
@pytest.mark.parametrize(
    "mode,bandwidth,success,energy,waiting",
    [("local", 15e6, 0.415, 10.68, 0.82), ("edge", 5e6, 0.19, None, 1.26), ("greedy", 25e6, 0.47, None, None)],
)
def test_heuristic_levels_match_spec(mode, bandwidth, success, energy, waiting):
    got = heuristics.levels(mode, episodes=64, seed=3, bandwidth=bandwidth)
    assert got["success_rate"] == pytest.approx(success, abs=0.03)
    if energy is not None:
        assert got["avg_energy"] == pytest.approx(energy, rel=0.05)
    if waiting is not None:
        assert got["avg_waiting_time"] == pytest.approx(waiting, abs=0.06)


def test_sweeps_move_the_way_fig_8_and_9_do():
    # Fig. 8: more required cycles, lower reward; Fig. 9: a faster MEC server, higher reward (Edge), Local unmoved.
    light = heuristics.levels("greedy", episodes=32, seed=1, cycles_range=(0.8e9, 0.96e9))
    heavy = heuristics.levels("greedy", episodes=32, seed=1, cycles_range=(1.2e9, 1.44e9))
    assert light["return"] > heavy["return"] and light["success_rate"] > heavy["success_rate"]
    slow = heuristics.levels("edge", episodes=32, seed=1, edge_capacity=10e9)
    fast = heuristics.levels("edge", episodes=32, seed=1, edge_capacity=30e9)
    assert fast["return"] > slow["return"]
    local = [heuristics.levels("local", episodes=8, seed=1, edge_capacity=f)["return"] for f in (10e9, 30e9)]
    assert local[0] == local[1]


def test_the_papers_eight_methods_are_registered():
    from baselines import registry

    # Methods for any env (registry.ANY_ENV, e.g. ppo_shared) are listed too; the paper's eight are these.
    names = [m for m in registry.list_methods("smart_community_v0") if not registry.get(m).supports("no_such_env_v0")]
    assert names == sorted(["sc_local", "sc_edge", "sc_greedy", "sc_dqn", "sc_ddpg", "sc_td3", "mcf_td3", "pfr_oa"])
    env = mec_marl.make("smart_community_v0", n_communities=2, n_devices=2, max_cycles=6, arrival_rate=5.0)
    obs, _ = env.reset(seed=0)
    policy = registry.get("sc_greedy").build("smart_community_v0", {})
    policy.reset(env, seed=0)
    while env.agents:
        obs, _, _, _, infos = env.step(policy.act(obs, env))
    assert infos["community_0"]["episode"]["tasks"] > 0
    assert registry.get("pfr_oa").kind == "learner" and registry.get("pfr_oa").loader
