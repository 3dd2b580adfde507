"""SuperSuit + Stable-Baselines3 on every registered env: the two known traps
(DESIGN.md) and the fix in :mod:`mec_marl.adapters.supersuit`."""

from __future__ import annotations

import numpy as np
import pytest

supersuit = pytest.importorskip("supersuit")
from stable_baselines3 import PPO  # noqa: E402

import mec_marl  # noqa: E402
from conftest import configs_for, env_params  # noqa: E402
from mec_marl.adapters.sb3 import SB3VecEnv  # noqa: E402
from mec_marl.adapters.supersuit import SeededSB3VecEnvWrapper, black_death, sb3_vec_env  # noqa: E402

PARAMS = env_params()
# Training tests run each env once, with its first test config.
ENV_IDS = mec_marl.list_envs()
CYCLES = 3


def _shares_one_policy(env_id, config) -> bool:
    env = mec_marl.make(env_id, **config)
    first = env.possible_agents[0]
    return all(
        env.observation_space(a) == env.observation_space(first) and env.action_space(a) == env.action_space(first)
        for a in env.possible_agents
    )


def _zero_actions(venv) -> np.ndarray:
    space = venv.action_space
    low = getattr(space, "low", None)
    single = np.zeros(space.shape, dtype=space.dtype) if low is None else np.clip(0, space.low, space.high).astype(space.dtype)
    return np.stack([single] * venv.num_envs)


def _ppo(venv):
    return PPO("MlpPolicy", venv, seed=0, n_steps=8, batch_size=16, n_epochs=1, device="cpu")


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_trap_supersuit_concat_vec_env_breaks_ppo_seed(env_id, config):
    """The trap our adapter exists for: stock SuperSuit + ``PPO(seed=0)``."""
    if not _shares_one_policy(env_id, config):
        pytest.skip("agents have different spaces: SuperSuit's vector env refuses them")
    env = mec_marl.make(env_id, **config)
    venv = supersuit.concat_vec_envs_v1(
        supersuit.pettingzoo_env_to_vec_env_v1(env), 2, num_cpus=0, base_class="stable_baselines3"
    )
    with pytest.raises(AttributeError, match="has no attribute 'seed'"):
        _ppo(venv)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_fixed_supersuit_stack_trains_reproducibly(env_id):
    config = configs_for(env_id)[0]
    if not _shares_one_policy(env_id, config):
        pytest.skip("agents have different spaces: SuperSuit's vector env refuses them")

    def train():
        venv = sb3_vec_env(env_id, num_vec_envs=2, **{**config, "max_cycles": CYCLES})
        model = _ppo(venv)
        model.learn(model.n_steps * venv.num_envs)  # one rollout: two episodes per instance
        return model.policy.parameters_to_vector(), [e["r"] for e in model.ep_info_buffer]

    (params_a, returns_a), (params_b, returns_b) = train(), train()
    np.testing.assert_array_equal(params_a, params_b)
    assert returns_a == returns_b and len(returns_a) > 0  # SB3's logger found r/l/t


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_fixed_supersuit_stack_ends_on_the_env_step(env_id, config):
    if not _shares_one_policy(env_id, config):
        pytest.skip("agents have different spaces: SuperSuit's vector env refuses them")
    venv = sb3_vec_env(env_id, num_vec_envs=2, **{**config, "max_cycles": CYCLES})
    assert isinstance(venv, SeededSB3VecEnvWrapper)
    venv.seed(3)
    venv.reset()
    actions = _zero_actions(venv)
    for t in range(1, CYCLES + 1):
        _, _, dones, infos = venv.step(actions)
        assert dones.all() == (t == CYCLES)
    assert all(info["TimeLimit.truncated"] is True for info in infos)
    assert all(info["episode"]["l"] == CYCLES and "terminal_observation" in info for info in infos)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_trap_black_death_v3_misses_the_last_step_and_ours_does_not(env_id, config):
    """SuperSuit's black_death_v3 does not end a truncated episode (needs term AND trunc);
    SB3VecEnv and our corrected ``black_death`` end it on step ``max_cycles``."""
    config = {**config, "max_cycles": CYCLES}
    if not _shares_one_policy(env_id, config):
        pytest.skip("agents have different spaces")

    def dones_per_step(par_env, steps):
        venv = supersuit.pettingzoo_env_to_vec_env_v1(par_env)
        venv.reset(seed=0)
        actions = _zero_actions(venv)
        out = []
        for _ in range(steps):
            _, _, terms, truncs, _ = venv.step(actions)
            out.append(bool((np.asarray(terms) | np.asarray(truncs)).all()))
        return out

    stock = supersuit.black_death_v3(mec_marl.make(env_id, **config))
    venv = supersuit.pettingzoo_env_to_vec_env_v1(stock)
    venv.reset(seed=0)
    actions = _zero_actions(venv)
    for _ in range(CYCLES):
        _, _, terms, truncs, _ = venv.step(actions)
    assert not (np.asarray(terms) | np.asarray(truncs)).any(), "black_death_v3 now ends on time: update the docs"

    assert dones_per_step(black_death(mec_marl.make(env_id, **config)), CYCLES + 1) == [False] * (CYCLES - 1) + [True, False]

    ours = SB3VecEnv(env_id, num_envs=1, **config)
    ours.reset()
    dones = [ours.step(_zero_actions(ours))[2].all() for _ in range(CYCLES)]
    assert dones == [False] * (CYCLES - 1) + [True]


def test_black_death_fills_in_dead_agents():
    env = black_death(mec_marl.make("cpdrl_v0", n_devices=2, max_cycles=2))
    obs, _ = env.reset(seed=0)
    agent = env.possible_agents[0]
    action = {agent: np.zeros(env.action_space(agent).shape, dtype=np.float32)}
    _, _, terms, truncs, _ = env.step(action)
    assert not terms[agent] and not truncs[agent]
    _, _, terms, truncs, _ = env.step(action)
    assert truncs[agent] and not terms[agent] and env.agents == []
