"""TorchRL on every registered env: PettingZooWrapper with infos kept, GymEnv on the
Gymnasium ids (the ``frameskip`` probe), and the batched ``EnvBase`` over mec_marl.vector."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchrl")
import gymnasium  # noqa: E402
from torchrl.envs import GymEnv  # noqa: E402
from torchrl.envs.utils import check_env_specs  # noqa: E402

import mec_marl  # noqa: E402
from conftest import env_params, episode_config  # noqa: E402
from mec_marl import vector  # noqa: E402
from mec_marl.adapters.torchrl import MecTorchRLEnv, pettingzoo_env  # noqa: E402
from mec_marl.config import ConfigError  # noqa: E402

PARAMS = env_params()
CYCLES = 3


def _short(config):
    return {**config, "max_cycles": CYCLES}


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_pettingzoo_wrapper_keeps_infos(env_id, config):
    env = pettingzoo_env(env_id, seed=0, **_short(config))
    check_env_specs(env, seed=0)
    torch.manual_seed(0)
    td = env.rollout(CYCLES, break_when_any_done=False)
    step_info_keys = set(mec_marl.make(env_id, **config).reset(seed=0)[1][mec_marl.make(env_id, **config).possible_agents[0]])
    for group in env.group_map:
        info = td["next", group, "info"]
        assert step_info_keys <= set(info.keys())
        lengths = info["episode_length"].reshape(CYCLES, -1)
        assert torch.isnan(lengths[:-1]).all() and (lengths[-1] == CYCLES).all()
        returns = info["episode_return"].reshape(CYCLES, -1)[-1]
        rewards = td["next", group, "reward"].reshape(CYCLES, -1).sum(0)
        torch.testing.assert_close(returns, rewards, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("env_id,config", env_params(single_agent_gymnasium=True))
def test_gym_env_on_the_gymnasium_id(env_id, config):
    """TorchRL passes ``frameskip`` and drops it on Python's unexpected-keyword TypeError."""
    env = GymEnv(mec_marl.ENVS[env_id].gymnasium_id, **config)
    check_env_specs(env, seed=0)


def test_unknown_config_key_is_a_config_error_and_a_type_error():
    with pytest.raises(ConfigError, match=r"cpdrl_v0: unknown config key\(s\) \['bogus'\]; allowed keys"):
        mec_marl.make("cpdrl_v0", bogus=1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'.*unknown config key"):
        gymnasium.make("mec_marl/CPDRL-v0", bogus=1)
    with pytest.raises(ConfigError, match="n_devices") as bad_value:
        mec_marl.make("cpdrl_v0", n_devices=-1)
    assert not isinstance(bad_value.value, TypeError)  # only unknown keys are unexpected keywords


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_batched_env_specs(env_id, config):
    env = MecTorchRLEnv(env_id, num_envs=3, seed=0, **_short(config))
    check_env_specs(env, seed=0)
    assert env.batch_size == (3,)
    agents = [a for group in env.group_map.values() for a in group]
    assert sorted(agents) == sorted(env.vector_env.possible_agents)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_batched_env_matches_mec_marl_vector_across_auto_resets(env_id, config):
    config = _short(config)
    B, steps = 2, 2 * CYCLES + 1
    env = MecTorchRLEnv(env_id, num_envs=B, seed=7, **config)
    torch.manual_seed(0)
    td = env.rollout(steps, break_when_any_done=False)

    ref = vector.make(env_id, num_envs=B, **config)
    obs, _ = ref.reset(seed=7)
    for t in range(steps):
        actions = {}
        for group, agents in env.group_map.items():
            for k, agent in enumerate(agents):
                actions[agent] = td[group, "action"][:, t, k].numpy()
                np.testing.assert_allclose(td[group, "observation"][:, t, k].numpy(), obs[agent], rtol=1e-6)
        obs, rewards, terms, truncs, infos = ref.step(actions)
        first = ref.possible_agents[0]
        done = terms[first] | truncs[first]
        assert td["next", "done"][:, t, 0].numpy().tolist() == done.tolist()
        for group, agents in env.group_map.items():
            for k, agent in enumerate(agents):
                mask = done.reshape(done.shape + (1,) * (obs[agent].ndim - 1))  # observations may be 2-D (djtcra)
                expected = np.where(mask, infos[agent]["final_obs"], obs[agent]) if done.any() else obs[agent]
                np.testing.assert_allclose(td["next", group, "observation"][:, t, k].numpy(), expected, rtol=1e-6)
                np.testing.assert_allclose(td["next", group, "reward"][:, t, k, 0].numpy(), rewards[agent], rtol=1e-5)
                if done.any():
                    got = td["next", group, "info", "episode_length"][:, t, k].numpy()
                    assert got[done].tolist() == [CYCLES] * int(done.sum())


def test_batched_env_is_seeded():
    def run(seed):
        env = MecTorchRLEnv("cpdrl_v0", num_envs=2, n_devices=2, max_cycles=CYCLES)
        env.set_seed(seed)
        torch.manual_seed(0)
        return env.rollout(4, break_when_any_done=False)["next", "agents", "observation"]

    a, b, c = run(1), run(1), run(2)
    assert torch.equal(a, b) and not torch.equal(a, c)
