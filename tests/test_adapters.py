"""Gymnasium's vector API and Stable-Baselines3 on the batched env (single-agent ids and
parameter sharing), including the SuperSuit / SB3 traps the adapters exist to avoid."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import mec_marl
from conftest import env_params
from mec_marl.adapters.sb3 import SB3VecEnv

GYM_PARAMS = env_params(single_agent_gymnasium=True)


def _make_vec(env_id, num_envs, **config):
    gym_id = mec_marl.ENVS[env_id].gymnasium_id
    return gymnasium.make_vec(gym_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **config)


@pytest.mark.parametrize("env_id,config", GYM_PARAMS)
def test_make_vec_returns_our_batched_env(env_id, config):
    venv = _make_vec(env_id, 3, **{**config, "max_cycles": 2})
    assert isinstance(venv, gymnasium.vector.VectorEnv)
    assert venv.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    single = gymnasium.make(mec_marl.ENVS[env_id].gymnasium_id, **config)
    assert venv.single_observation_space == single.observation_space
    assert venv.single_action_space == single.action_space
    obs, infos = venv.reset(seed=0)
    assert venv.observation_space.contains(obs)
    for key in [k for k in infos if not k.startswith("_")]:
        assert infos[f"_{key}"].shape == (3,)
    venv.action_space.seed(0)
    obs, rewards, terms, truncs, infos = venv.step(venv.action_space.sample())
    assert rewards.shape == terms.shape == truncs.shape == (3,) and not truncs.any()
    assert "final_obs" not in infos
    obs, rewards, terms, truncs, infos = venv.step(venv.action_space.sample())
    assert truncs.all() and infos["_final_obs"].all() and infos["_episode"].all()
    assert venv.observation_space.contains(obs) and infos["final_obs"].shape == obs.shape
    assert not np.array_equal(obs, infos["final_obs"])  # the reset observation replaced the last one
    assert infos["episode"]["length"].tolist() == [2, 2, 2]


@pytest.mark.parametrize("env_id,config", GYM_PARAMS)
def test_make_vec_is_seeded(env_id, config):
    def run(seed):
        venv = _make_vec(env_id, 2, **config)
        obs, _ = venv.reset(seed=seed)
        venv.action_space.seed(1)
        return [obs] + [venv.step(venv.action_space.sample())[0] for _ in range(3)]

    a, b, c = run(4), run(4), run(5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_sb3_vec_env_episode_conventions():
    venv = SB3VecEnv("cpdrl_v0", num_envs=4, n_devices=2, max_cycles=3)
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (4, 12)
    actions = np.zeros((4, 8), dtype=np.float32)
    for t in range(3):
        obs, rewards, dones, infos = venv.step(actions)
    assert dones.all()
    for info in infos:
        assert info["TimeLimit.truncated"] is True
        assert info["terminal_observation"].shape == (12,)
        assert info["episode"]["l"] == 3 and info["episode"]["r"] == pytest.approx(info["episode"]["return"])
        assert "objective" in info["episode"]
    assert not np.array_equal(obs[0], infos[0]["terminal_observation"])


def test_sb3_ppo_on_the_vec_env_is_reproducible_and_logs_episodes():
    from stable_baselines3 import PPO

    def train():
        venv = SB3VecEnv("cpdrl_v0", num_envs=4, n_devices=2, max_cycles=4)
        model = PPO("MlpPolicy", venv, seed=0, n_steps=16, batch_size=32, n_epochs=1, device="cpu")
        model.learn(128)
        return model.policy.parameters_to_vector(), [e["r"] for e in model.ep_info_buffer]

    (params_a, returns_a), (params_b, returns_b) = train(), train()
    np.testing.assert_array_equal(params_a, params_b)
    assert returns_a == returns_b and len(returns_a) > 0


def test_sb3_vec_env_refuses_agents_with_different_spaces(monkeypatch):
    from mec_marl import vector

    venv = vector.make("cpdrl_v0", num_envs=2, n_devices=2)
    venv.possible_agents = ["a", "b"]
    venv.single_observation_spaces = {"a": gymnasium.spaces.Box(0, 1, (2,)), "b": gymnasium.spaces.Box(0, 1, (3,))}
    venv.single_action_spaces = {"a": gymnasium.spaces.Box(0, 1, (2,)), "b": gymnasium.spaces.Box(0, 1, (2,))}
    monkeypatch.setattr(vector, "make", lambda *a, **k: venv)
    with pytest.raises(ValueError, match="different spaces"):
        SB3VecEnv("cpdrl_v0", num_envs=2)


def test_scenarios_ship_with_the_package():
    import mec_marl.config as config

    assert config.SCENARIO_DIR.parent == config.Path(mec_marl.__file__).resolve().parent
    env = mec_marl.make("cpdrl_v0", scenario="cpdrl_kilobit")
    assert env.config.data_size_range[1] < 1e6


def test_wheel_contains_the_scenarios(tmp_path):
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    import shutil

    root = Path(__file__).resolve().parent.parent
    source = tmp_path / "src"  # a copy, so that the build leaves no build/ in the checkout
    for part in ("mec_marl", "baselines"):
        shutil.copytree(root / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(root / part, source / part)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("mec_marl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "mec_marl/scenarios/cpdrl_kilobit.yaml" in names and "mec_marl/scenarios/cpdrl.yaml" in names


def test_benchmarl_adapter_without_benchmarl_names_the_setup():
    import importlib
    import importlib.util

    if importlib.util.find_spec("benchmarl") is not None:
        pytest.skip("BenchMARL is installed: tests/test_ecosystem_benchmarl.py covers the adapter")
    with pytest.raises(ImportError, match=r"make test-benchmarl.*requirements/benchmarl.txt"):
        importlib.import_module("mec_marl.adapters.benchmarl")
