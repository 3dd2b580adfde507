"""RLlib on every registered env: the MultiAgentEnv adapter's conventions, and PPO
(new API stack) training with a shared and a per-agent policy on two local env runners.

Runs in its own venv (``make test-rllib``): ``ray[rllib]`` pins Gymnasium 1.2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ray.rllib")
import ray  # noqa: E402

import mec_marl  # noqa: E402
from conftest import configs_for, env_params  # noqa: E402
from mec_marl.adapters.rllib import MecMultiAgentEnv  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import train_rllib  # noqa: E402

CYCLES = 3


@pytest.mark.parametrize("env_id,config", env_params())
def test_adapter_conventions(env_id, config):
    env = MecMultiAgentEnv({"env_id": env_id, **config, "max_cycles": CYCLES, "render_mode": "ansi"})
    raw = mec_marl.make(env_id, **config)
    assert env.possible_agents == raw.possible_agents == env.agents  # before any reset
    assert env.observation_spaces == raw.observation_spaces and env.action_spaces == raw.action_spaces
    obs_a, _ = env.reset(seed=3)
    first_obs = {a: o.copy() for a, o in obs_a.items()}
    assert set(obs_a) == set(env.possible_agents)
    assert all(env.observation_spaces[a].contains(o) for a, o in obs_a.items())
    assert isinstance(env.render(), str)
    for agent, space in env.action_spaces.items():
        space.seed(0)
    for t in range(1, CYCLES + 1):
        actions = {a: env.action_spaces[a].sample() for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        done = t == CYCLES
        assert truncs["__all__"] == done and terms["__all__"] is False
        assert set(obs) == set(rewards) == set(env.possible_agents)  # final observations and rewards included
    assert env.agents == [] and all("episode" in infos[a] for a in env.possible_agents)
    obs_b, _ = env.reset(seed=3)
    assert all(np.array_equal(first_obs[a], obs_b[a]) for a in env.possible_agents)


def test_adapter_needs_an_env_id():
    with pytest.raises(ValueError, match="needs 'env_id'"):
        MecMultiAgentEnv({})


def test_rllib_env_checker_accepts_the_adapter():
    from ray.rllib.utils.pre_checks.env import check_multiagent_environments

    check_multiagent_environments(MecMultiAgentEnv({"env_id": "cpdrl_v0", "n_devices": 2, "max_cycles": CYCLES}))


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


def _flat(env_id: str) -> bool:
    """RLlib's default model catalog encodes 1-D vectors (and images), not djtcra's (users x 9) matrices."""
    env = mec_marl.make(env_id, **configs_for(env_id)[0])
    return all(len(env.observation_space(a).shape) == 1 for a in env.possible_agents)


def _training_params() -> list:
    """Shared policy on every env with flat observations; one policy per agent on the first
    multi-agent one (each run ~25 s)."""
    envs = [e for e in mec_marl.list_envs() if _flat(e)]
    params = [pytest.param(e, "shared", id=f"{e}-shared") for e in envs]
    multi = [e for e in envs if len(mec_marl.make(e).possible_agents) > 1]
    params += [pytest.param(e, "per-agent", id=f"{e}-per-agent") for e in multi[:1]]
    return params


@pytest.mark.parametrize("env_id,policy", _training_params())
def test_ppo_trains_with_two_env_runners(env_id, policy, local_ray):
    env_kwargs = {**configs_for(env_id)[0], "max_cycles": CYCLES}
    config = train_rllib.build_config(env_id, env_kwargs, policy, env_runners=2, seed=0,
                                      train_batch=4 * CYCLES * 2, minibatch=CYCLES * 2, epochs=1)
    algo = config.build_algo()
    try:
        row = train_rllib.summarise(algo.train(), 1.0)
        modules = set(algo.learner_group.get_weights())  # the trained RLModules, by module id
    finally:
        algo.stop()
    assert np.isfinite(row["episode_return_mean"])
    assert row["agent_steps"] >= 4 * CYCLES
    agents = mec_marl.make(env_id, **env_kwargs).possible_agents
    assert modules == ({"shared"} if policy == "shared" else set(agents))


def test_script_errors_are_one_line(capsys):
    assert train_rllib.main(["no_such_env"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown env id 'no_such_env'") and err.count("\n") == 1
    assert train_rllib.main(["cpdrl_v0", "--set", "bogus=1"]) == 2
    assert "unknown config key" in capsys.readouterr().err


def test_script_writes_checkpoint_and_metrics(tmp_path, local_ray):
    out = tmp_path / "run"
    code = train_rllib.main(["cpdrl_v0", "--set", "n_devices=2", "--set", f"max_cycles={CYCLES}", "--iterations", "1",
                             "--train-batch", str(4 * CYCLES), "--minibatch", str(2 * CYCLES), "--epochs", "1",
                             "--out", str(out)])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["env"] == "cpdrl_v0" and len(metrics["iterations"]) == 1
    assert (out / "checkpoint").is_dir()
