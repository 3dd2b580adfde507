"""Rule-based baselines on djtcra_v0: they allocate as their rule says, and rank as SPEC measured."""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from baselines.djtcra import AssociationPolicy, assignment_to_actions
from baselines.djtcra.levels import evaluate


@pytest.mark.parametrize("mode", ["servers", "users"])
@pytest.mark.parametrize("rule", ["daes", "ga_aware", "random"])
def test_policy_allocates_by_its_rule(rule, mode):
    env = mec_marl.make("djtcra_v0", num_users=20, max_cycles=2, agent_mode=mode)
    obs, _ = env.reset(seed=4)
    policy = AssociationPolicy(rule)
    policy.reset(env, seed=0)
    _, _, _, _, infos = env.step(policy.act(obs, env))
    chosen = infos[env.possible_agents[0]]["assignment"]
    inst = env.unwrapped.instance
    if rule == "daes":
        np.testing.assert_array_equal(chosen, inst.ran[0])
    elif rule == "ga_aware":
        np.testing.assert_array_equal(chosen, inst.eta.argmin(axis=-1))
    else:
        assert len(set(chosen.tolist())) > 1


def test_assignment_to_actions_round_trips_through_eq_21():
    env = mec_marl.make("djtcra_v0", num_users=30, max_cycles=1)
    env.reset(seed=1)
    wanted = np.random.default_rng(0).integers(0, 7, 30)
    _, _, _, _, infos = env.step(assignment_to_actions(env.unwrapped.config, wanted))
    np.testing.assert_array_equal(infos["es_3"]["assignment"], wanted)


def test_rules_rank_as_spec_measured():
    """GA-Aware > DAES > Random on system QoE and the reverse on latency (SPEC's levels)."""
    means = {r: {k: v.mean() for k, v in evaluate(r, num_envs=12, seed=0, max_cycles=2).items()}
             for r in ("daes", "ga_aware", "random")}
    assert means["ga_aware"]["system_qoe"] > means["daes"]["system_qoe"] > means["random"]["system_qoe"]
    assert means["ga_aware"]["avg_latency"] < means["daes"]["avg_latency"] < means["random"]["avg_latency"]
    for m in means.values():
        assert m["su"] + m["du"] + m["gu"] == pytest.approx(100)


def test_random_is_not_the_envs_stream_under_the_same_seed():
    env = mec_marl.make("djtcra_v0", num_users=50, max_cycles=1)
    obs, _ = env.reset(seed=5)
    policy = AssociationPolicy("random")
    policy.reset(env, seed=5)  # the experiment runner seeds both alike
    _, _, _, _, infos = env.step(policy.act(obs, env))
    assert not np.array_equal(infos["es_0"]["assignment"], env.unwrapped.instance.ran[0])


def test_experiment_files_plan_the_papers_axes_and_keep_table_iv_for_the_paper_budget():
    from baselines.experiment.plan import plan
    from baselines.experiment.schema import load_experiment

    volume = plan(load_experiment("djtcra_volume"), "paper")
    kb = sorted({c.env_kwargs["task_volume_max"] / 8192 for c in volume})
    assert kb == [500, 600, 700, 800, 900, 1000]  # Fig. 10's MTV axis (SPEC: 500..1000 KB)
    assert {c.env_kwargs["num_users"] for c in volume} == {110}  # Fig. 10's caption
    for name in ("djtcra", "djtcra_beta", "djtcra_volume"):
        exp = load_experiment(name)
        quick = {c.method_id: c.train for c in plan(exp, "quick")}
        paper = {c.method_id: c.train for c in plan(exp, "paper")}
        assert quick["maddpg"]["critic_action"] == "executed"
        assert paper["maddpg"] == paper["mamaxent"] == paper["vdn_l"] == {"steps": 200000}
