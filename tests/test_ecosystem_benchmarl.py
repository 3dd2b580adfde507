"""BenchMARL on every registered env: the task entry's specs and refusals, the episode
metrics it logs, and short MAPPO / QMIX runs (reproducible by seed) through the script.

Runs in its own venv (``make test-benchmarl``): BenchMARL 1.5.2 needs torchrl 0.11,
the main venv has 0.14.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("benchmarl")
import torch  # noqa: E402
from gymnasium import spaces  # noqa: E402
from torchrl.envs import Compose, TransformedEnv  # noqa: E402
from torchrl.envs.utils import check_env_specs  # noqa: E402

import mec_marl  # noqa: E402
from conftest import env_params  # noqa: E402
from mec_marl.adapters.benchmarl import IterationLog, MecTask  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import train_benchmarl  # noqa: E402

CYCLES = 4


def _flat_action(space) -> bool:
    return (isinstance(space, spaces.Box) and len(space.shape) == 1) or isinstance(space, spaces.Discrete)


def test_one_task_per_registered_env():
    assert sorted(task.name.lower() for task in MecTask) == sorted(mec_marl.list_envs())
    assert MecTask.env_name() == "mec_marl"


@pytest.mark.parametrize("env_id,config", env_params())
def test_task_specs_or_refusal(env_id, config):
    raw = mec_marl.make(env_id, **config)
    action_space = raw.action_space(raw.possible_agents[0])
    if not _flat_action(action_space):
        with pytest.raises(ValueError, match=r"BenchMARL's policies emit a 1-D Box or a Discrete action"):
            MecTask[env_id.upper()].get_task(config)
        return
    task = MecTask[env_id.upper()].get_task(config)
    assert task.supports_continuous_actions() == isinstance(action_space, spaces.Box)
    assert task.supports_discrete_actions() == isinstance(action_space, spaces.Discrete)
    base = task.get_env_fun(num_envs=2, continuous_actions=True, seed=0, device="cpu")()
    env = TransformedEnv(base, Compose(*task.get_env_transforms(base)))
    check_env_specs(env)
    group_map = task.group_map(env)
    assert sorted(a for agents in group_map.values() for a in agents) == sorted(raw.possible_agents)
    assert task.max_steps(env) == raw.config.episode_length
    observation, state = task.observation_spec(env), task.state_spec(env)
    for group, agents in group_map.items():
        size = int(np.prod(raw.observation_space(agents[0]).shape))
        assert observation[group, "observation"].shape == (len(agents), size)  # one feature dimension
        assert set(observation[group].keys()) == {"observation"}
        assert "episode_return" in task.info_spec(env)[group, "info"].keys()
    assert state["state"].shape == (int(np.prod(raw.state_space.shape)),)
    rollout = env.rollout(2)
    assert rollout["state"].shape == (2, 2, int(np.prod(raw.state_space.shape)))


def test_unknown_config_key_fails_at_the_task():
    with pytest.raises(Exception, match="unknown config key"):
        MecTask.CPDRL_V0.get_task({"bogus": 1})


def test_log_info_means_the_episode_metrics_of_ended_episodes():
    task = MecTask.SMART_COMMUNITY_V0.get_task({"max_cycles": CYCLES})
    env = task.get_env_fun(num_envs=3, continuous_actions=True, seed=0, device="cpu")()
    rollout = env.rollout(CYCLES + 1, break_when_any_done=False)  # every instance ends at step CYCLES
    logged = task.log_info(rollout)
    rewards = rollout["next", "agents", "reward"][:, :CYCLES]  # (B, T, agents, 1)
    expected = rewards.sum(dim=1).mean().item()  # each agent's episode return, averaged over agents and instances
    assert logged["collection/agents/episode/return"] == pytest.approx(expected, rel=1e-5)
    assert logged["collection/agents/episode/length"] == CYCLES


def _run(tmp_path, env_id, env_kwargs, algorithm="mappo", seed=0, iterations=1, num_envs=4):
    config = train_benchmarl.experiment_config(iterations, frames=num_envs * CYCLES * 2, num_envs=num_envs,
                                               minibatch=num_envs * CYCLES, epochs=1, save_folder=tmp_path, log=False)
    log = IterationLog(verbose=False)
    experiment = train_benchmarl.build_experiment(env_id, env_kwargs, algorithm, seed, config, callbacks=[log])
    before = [p.detach().clone() for p in experiment.policy.parameters()]
    experiment.run()
    after = [p.detach().clone() for p in experiment.policy.parameters()]
    return log.rows, before, after


@pytest.mark.parametrize("env_id", ["cpdrl_v0", "smart_community_v0"])
def test_mappo_trains_one_iteration(env_id, tmp_path):
    torch.set_num_threads(1)
    kwargs = {"max_cycles": CYCLES}
    rows, before, after = _run(tmp_path, env_id, kwargs)
    n_agents = len(mec_marl.make(env_id, **kwargs).possible_agents)
    assert len(rows) == 1 and np.isfinite(rows[0]["episode_return_mean"])
    assert rows[0]["agent_steps"] == 4 * CYCLES * 2 * n_agents
    assert any(not torch.equal(b, a) for b, a in zip(before, after)), "an optimiser step changed the policy"


def test_same_seed_same_run(tmp_path):
    torch.set_num_threads(1)
    kwargs = {"n_devices": 3, "max_cycles": CYCLES}
    rows_a, _, params_a = _run(tmp_path / "a", "cpdrl_v0", kwargs, seed=3, iterations=2)
    rows_b, _, params_b = _run(tmp_path / "b", "cpdrl_v0", kwargs, seed=3, iterations=2)
    rows_c, _, params_c = _run(tmp_path / "c", "cpdrl_v0", kwargs, seed=4, iterations=2)
    assert [r["episode_return_mean"] for r in rows_a] == [r["episode_return_mean"] for r in rows_b]
    assert all(torch.equal(a, b) for a, b in zip(params_a, params_b))
    assert not all(torch.equal(a, c) for a, c in zip(params_a, params_c))


def test_qmix_on_discrete_user_actions(tmp_path):
    torch.set_num_threads(1)
    rows, before, after = _run(tmp_path, "wireless_powered_v0",
                               {"agent_mode": "users", "n_devices": 3, "max_cycles": CYCLES}, algorithm="qmix")
    assert len(rows) == 1 and rows[0]["agent_steps"] == 4 * CYCLES * 2 * 3
    assert any(not torch.equal(b, a) for b, a in zip(before, after))


def test_script_errors_are_one_line(capsys):
    assert train_benchmarl.main(["no_such_env"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown env id 'no_such_env'") and err.count("\n") == 1
    assert train_benchmarl.main(["cpdrl_v0", "--set", "bogus=1"]) == 2
    assert "unknown config key" in capsys.readouterr().err
    assert train_benchmarl.main(["djtcra_v0"]) == 2  # ES mode: users x servers action matrix
    err = capsys.readouterr().err
    assert "1-D Box or a Discrete" in err and "agent_mode='users'" in err and err.count("\n") == 1
    assert train_benchmarl.main(["cpdrl_v0", "--algorithm", "ppo"]) == 2
    assert "unknown algorithm 'ppo'" in capsys.readouterr().err


def test_script_trains_two_envs_and_writes_metrics(tmp_path):
    out = tmp_path / "run"
    code = train_benchmarl.main(["cpdrl_v0", "smart_community_v0", "--set", f"max_cycles={CYCLES}",
                                 "--iterations", "1", "--num-envs", "2", "--frames", str(2 * CYCLES),
                                 "--minibatch", str(2 * CYCLES), "--epochs", "1", "--eval-every", "1", "--eval-episodes", "2",
                                 "--out", str(out)])
    assert code == 0
    for env_id, n_agents in (("cpdrl_v0", 1), ("smart_community_v0", 3)):
        metrics = json.loads((out / env_id / "metrics.json").read_text())
        assert metrics["env"] == env_id and metrics["algorithm"] == "mappo" and metrics["seed"] == 0
        assert [r["agent_steps"] for r in metrics["iterations"]] == [2 * CYCLES * n_agents]
        assert list((out / env_id).glob("mappo_*/checkpoints/*.pt")), "BenchMARL's final checkpoint"
        evaluation = list((out / env_id).glob("mappo_*/*/scalars/eval_reward_episode_len_mean.csv"))
        assert evaluation and evaluation[0].read_text().split(",")[-1].strip() == f"{float(CYCLES)}"
