"""skrl on every registered env: ``wrap_env(env, wrapper="pettingzoo")`` with no glue
(the env exposes ``observation_spaces`` / ``action_spaces`` / ``state_space``), and a
short IPPO run through skrl's own trainer."""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skrl")
from skrl.envs.wrappers.torch import wrap_env  # noqa: E402
from skrl.utils.spaces.torch import flatten_tensorized_space, tensorize_space  # noqa: E402

import mec_marl  # noqa: E402
from conftest import configs_for, env_params  # noqa: E402

CYCLES = 3


@pytest.mark.parametrize("env_id,config", env_params())
def test_wrap_env_pettingzoo_needs_no_glue(env_id, config):
    raw = mec_marl.make(env_id, **{**config, "max_cycles": CYCLES})
    env = wrap_env(raw, wrapper="pettingzoo")
    assert env.possible_agents == raw.possible_agents
    assert env.observation_spaces == raw.observation_spaces and env.action_spaces == raw.action_spaces
    assert all(env.state_spaces[a] == raw.state_space for a in raw.possible_agents)
    obs, infos = env.reset()
    for agent in raw.possible_agents:
        assert obs[agent].shape == (1, int(torch.tensor(raw.observation_space(agent).shape).prod()))
    for agent, state in env.state().items():
        assert state.shape[0] == 1
    for t in range(1, CYCLES + 1):
        actions = {
            a: flatten_tensorized_space(tensorize_space(space, space.sample())) for a, space in env.action_spaces.items()
        }
        obs, rewards, terminated, truncated, infos = env.step(actions)
        assert set(rewards) == set(raw.possible_agents)
        assert all(r.shape == (1, 1) for r in rewards.values())
        assert all(bool(truncated[a] | terminated[a]) == (t == CYCLES) for a in raw.possible_agents)
    assert all("episode" in infos[a] for a in raw.possible_agents)


def _ippo(env, rollouts: int, directory):
    """skrl's IPPO with small MLPs; dict-valued settings spelled per agent (skrl 2.1's
    ``IPPO_CFG.expand`` rejects the empty-dict defaults as agent maps)."""
    from skrl.memories.torch import RandomMemory
    from skrl.multi_agents.torch.ippo import IPPO, IPPO_CFG
    from gymnasium import spaces
    from skrl.utils.model_instantiators.torch import (
        categorical_model, deterministic_model, gaussian_model, multicategorical_model,
    )

    def policy_model(space):
        """A Gaussian for Box actions, (multi-)categorical for discrete ones."""
        if isinstance(space, spaces.MultiDiscrete):
            return multicategorical_model
        if isinstance(space, spaces.Discrete):
            return categorical_model
        return gaussian_model

    net = [{"name": "net", "input": "OBSERVATIONS", "layers": [16, 16], "activations": "tanh"}]
    models = {
        a: {
            "policy": policy_model(env.action_spaces[a])(
                observation_space=env.observation_spaces[a], action_space=env.action_spaces[a],
                device=env.device, network=net, output="ACTIONS"),
            "value": deterministic_model(observation_space=env.observation_spaces[a], action_space=env.action_spaces[a],
                                         device=env.device, network=net, output="ONE"),
        }
        for a in env.possible_agents
    }
    memories = {a: RandomMemory(memory_size=rollouts, num_envs=env.num_envs, device=env.device) for a in env.possible_agents}
    cfg = IPPO_CFG(rollouts=rollouts, learning_epochs=1, mini_batches=1)
    cfg.experiment.directory = str(directory)  # skrl writes runs/<date>_IPPO in the cwd by default
    cfg.experiment.write_interval = cfg.experiment.checkpoint_interval = 0
    for field in dataclasses.fields(cfg):
        if getattr(cfg, field.name) == {}:
            setattr(cfg, field.name, {a: {} for a in env.possible_agents})
    return IPPO(possible_agents=env.possible_agents, models=models, memories=memories,
                observation_spaces=env.observation_spaces, state_spaces=env.state_spaces,
                action_spaces=env.action_spaces, device=env.device, cfg=cfg)


@pytest.mark.parametrize("env_id", mec_marl.list_envs())
def test_skrl_ippo_trains(env_id, tmp_path):
    from skrl.trainers.torch import SequentialTrainer
    from skrl.utils import set_seed

    raw = mec_marl.make(env_id, **{**configs_for(env_id)[0], "max_cycles": CYCLES})
    if any(len(raw.action_space(a).shape or ()) > 1 for a in raw.possible_agents):
        # skrl's Gaussian/MLP models act on flat Box actions; djtcra's ES agents score a (users x servers) matrix.
        pytest.skip(f"{env_id}: matrix-shaped actions; flatten them for skrl's MLP models (gymnasium FlattenObservation-style)")
    set_seed(0)
    env = wrap_env(raw, wrapper="pettingzoo")
    agent = _ippo(env, rollouts=8, directory=tmp_path)
    obs, _ = env.reset()
    states = env.state()
    for a in env.possible_agents:  # materialise the lazy layers before taking a snapshot
        for role in ("policy", "value"):
            agent.models[a][role].act({"observations": obs[a], "states": states[a]}, role=role)
    before = {a: torch.nn.utils.parameters_to_vector(agent.models[a]["policy"].parameters()).clone() for a in env.possible_agents}
    cfg = {"timesteps": 8, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False}
    SequentialTrainer(env=env, agents=agent, cfg=cfg).train()
    for a in env.possible_agents:
        after = torch.nn.utils.parameters_to_vector(agent.models[a]["policy"].parameters())
        assert not torch.equal(before[a], after), f"{a}: no update after one rollout"
