"""PPO with parameter sharing (SB3) on every registered env: trains, is seeded, acts,
saves and loads through :class:`baselines.policy.LearnedPolicy`."""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from baselines.learners import sb3_shared
from baselines.policy import CheckpointError, LearnedPolicy
from conftest import configs_for

CYCLES = 3
TINY = {"steps": 32, "num_envs": 2, "n_steps": 8, "batch_size": 16, "n_epochs": 1, "hidden": "16,16", "progress": False}


def _shares_one_policy(env) -> bool:
    first = env.possible_agents[0]
    return all(
        env.observation_space(a) == env.observation_space(first) and env.action_space(a) == env.action_space(first)
        for a in env.possible_agents
    )


@pytest.mark.parametrize("env_id", mec_marl.list_envs())
def test_shared_ppo_trains_acts_and_round_trips(env_id, tmp_path):
    config = {**configs_for(env_id)[0], "max_cycles": CYCLES}
    env = mec_marl.make(env_id, **config)
    if not _shares_one_policy(env):
        pytest.skip("agents have different spaces: one shared policy cannot act for all")
    policy = sb3_shared.build(env_id, config, seed=0, budget=TINY)
    again = sb3_shared.build(env_id, config, seed=0, budget=TINY)
    np.testing.assert_array_equal(policy.model.policy.parameters_to_vector(), again.model.policy.parameters_to_vector())
    n_agents = len(env.possible_agents)
    assert policy.history["agent_steps"] >= TINY["steps"] * n_agents
    assert policy.history["episode_length"] and set(policy.history["episode_length"]) == {CYCLES}

    path = tmp_path / "policy.pt"
    policy.save(path)
    loaded = LearnedPolicy.load(path, method="ppo_shared")
    assert isinstance(loaded, sb3_shared.SharedPpoPolicy)

    obs, _ = env.reset(seed=1)
    policy.reset(env, seed=1)
    while env.agents:
        actions = policy.act(obs, env)
        np.testing.assert_array_equal(np.stack(list(actions.values())), np.stack(list(loaded.act(obs, env).values())))
        assert all(env.action_space(a).contains(actions[a]) for a in env.agents)
        obs, *_ = env.step(actions)


def test_shared_ppo_budget_errors_name_the_key():
    with pytest.raises(ValueError, match="unknown key.*'lr'"):
        sb3_shared.build("cpdrl_v0", {}, seed=0, budget={"steps": 8, "lr": 0.1})
    with pytest.raises(ValueError, match="needs 'steps'"):
        sb3_shared.build("cpdrl_v0", {}, seed=0, budget={})


def test_shared_ppo_checkpoint_refuses_another_method(tmp_path):
    policy = sb3_shared.build("cpdrl_v0", {"n_devices": 2, "max_cycles": CYCLES}, seed=0, budget=TINY)
    path = tmp_path / "policy.pt"
    policy.save(path)
    with pytest.raises(CheckpointError, match="not 'ddpg'"):
        sb3_shared.load(path, method="ddpg")


def test_shared_ppo_as_a_registry_method(tmp_path):
    """The entry the lead registers (see the module docstring): build and load through ``Method``."""
    from baselines.registry import ANY_ENV, Method

    method = Method("ppo_shared", (ANY_ENV,), "learner", "baselines.learners.sb3_shared:build",
                    default_budget={"steps": 20000})
    policy = method.build("cpdrl_v0", {"n_devices": 2, "max_cycles": CYCLES}, seed=0, budget=TINY)
    path = tmp_path / "policy.pt"
    policy.save(path)
    loaded = method.load(str(path))
    assert isinstance(loaded, sb3_shared.SharedPpoPolicy) and loaded.name == "ppo_shared"
    np.testing.assert_array_equal(
        loaded.model.policy.parameters_to_vector(), policy.model.policy.parameters_to_vector()
    )
