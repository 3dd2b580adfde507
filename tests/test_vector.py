"""The vector env (``mec_marl.vector``) against the single env, over every registered env.

The parity test steps B instances with the vector env and the same instances
with B single envs (pinned through ``options={"instance": ...}``) and requires
identical observations, rewards, terminations, truncations and infos over two
whole episodes, across an auto-reset (the single envs are re-pinned to the
vector env's new instances). A new env is covered the moment it registers.
"""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from conftest import env_params, episode_config
from mec_marl import vector

PARAMS = env_params()
RTOL = 1e-12


def _close(a, b, what: str) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    if a.dtype.kind in "fc" or b.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def _random_actions(venv, rng) -> dict:
    out = {}
    for agent in venv.agents:
        space = venv.single_action_space(agent)
        if hasattr(space, "low"):
            out[agent] = rng.uniform(np.maximum(space.low, -2), np.minimum(space.high, 2), (venv.num_envs,) + space.shape)
        elif hasattr(space, "nvec"):
            out[agent] = rng.integers(0, space.nvec, (venv.num_envs,) + space.shape)
        else:
            out[agent] = rng.integers(space.start, space.start + space.n, venv.num_envs)
    return out


def _pin_singles(env_id, cfg, venv):
    singles = [mec_marl.make(env_id, **cfg) for _ in range(venv.num_envs)]
    outs = [env.reset(options={"instance": inst}) for env, inst in zip(singles, venv.instances)]
    return singles, outs


def _compare_step(venv_out, single_outs, agents, step: int) -> None:
    obs, rewards, terms, truncs, infos = venv_out
    for i, (s_obs, s_rew, s_term, s_trunc, s_infos) in enumerate(single_outs):
        for agent in agents:
            where = f"step {step} instance {i} agent {agent}"
            ended = bool(terms[agent][i] or truncs[agent][i])
            vec_obs = infos[agent]["final_obs"][i] if ended else obs[agent][i]
            _close(vec_obs, s_obs[agent], f"{where} obs")
            _close(rewards[agent][i], s_rew[agent], f"{where} reward")
            assert bool(terms[agent][i]) == s_term[agent], f"{where} termination"
            assert bool(truncs[agent][i]) == s_trunc[agent], f"{where} truncation"
            for key, value in s_infos[agent].items():
                if key == "episode":
                    assert infos[agent]["_episode"][i], f"{where}: episode mask not set"
                    for name, metric in value.items():
                        _close(infos[agent]["episode"][name][i], metric, f"{where} episode[{name}]")
                else:
                    _close(infos[agent][key][i], value, f"{where} info[{key}]")


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_vector_env_equals_single_envs_over_two_episodes(env_id, config, batch):
    cfg = episode_config(config)
    cfg["max_cycles"] = min(cfg["max_cycles"], 4)
    venv = vector.make(env_id, num_envs=batch, **cfg)
    obs, infos = venv.reset(seed=7)
    singles, outs = _pin_singles(env_id, cfg, venv)
    for i, (s_obs, s_infos) in enumerate(outs):
        for agent in venv.agents:
            _close(obs[agent][i], s_obs[agent], f"reset instance {i} obs")
            for key, value in s_infos[agent].items():
                _close(infos[agent][key][i], value, f"reset instance {i} info[{key}]")
    rng = np.random.default_rng(0)
    autoresets = 0
    for step in range(2 * venv.config.episode_length):
        actions = _random_actions(venv, rng)
        venv_out = venv.step(actions)
        single_outs = [
            env.step({a: actions[a][i] for a in env.agents}) for i, env in enumerate(singles)
        ]
        _compare_step(venv_out, single_outs, venv.agents, step)
        ended = [not env.agents for env in singles]
        if any(ended):
            autoresets += 1
            assert all(ended), "instances of one config end together here"
            singles, outs = _pin_singles(env_id, cfg, venv)
            for i, (s_obs, _) in enumerate(outs):
                for agent in venv.agents:
                    _close(venv_out[0][agent][i], s_obs[agent], f"after auto-reset instance {i} obs")
    assert autoresets == 2


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_vector_seeding(env_id, config):
    cfg = episode_config(config)

    def trajectory(seed):
        venv = vector.make(env_id, num_envs=3, **cfg)
        obs, _ = venv.reset(seed=seed)
        rng = np.random.default_rng(1)
        out = [obs]
        for _ in range(3):
            out.append(venv.step(_random_actions(venv, rng))[0])
        return out

    a, b, c = trajectory(5), trajectory(5), trajectory(6)
    for x, y in zip(a, b):
        for agent in x:
            np.testing.assert_array_equal(x[agent], y[agent])
    assert any(not np.array_equal(a[0][agent], c[0][agent]) for agent in a[0])


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_instance_i_does_not_depend_on_the_batch_size(env_id, config):
    cfg = episode_config(config)
    small, large = vector.make(env_id, num_envs=2, **cfg), vector.make(env_id, num_envs=6, **cfg)
    small.reset(seed=3)
    large.reset(seed=3)
    # SeedSequence(s).spawn(B)[i] is the same stream for every B > i.
    for field in small.instances[0].__dataclass_fields__:
        x, y = getattr(small.instances[1], field), getattr(large.instances[1], field)
        if x is not None:
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_vector_spaces(env_id, config):
    venv = vector.make(env_id, num_envs=4, **config)
    single = mec_marl.make(env_id, **config)
    for agent in venv.possible_agents:
        assert venv.single_observation_space(agent) == single.observation_space(agent)
        assert venv.single_action_space(agent) == single.action_space(agent)
        assert venv.observation_space(agent).shape[0] == 4
        assert venv.action_space(agent).shape[0] == 4
    obs, _ = venv.reset(seed=0)
    for agent in venv.possible_agents:
        assert venv.observation_space(agent).contains(obs[agent])
    assert venv.state().shape == (4,) + single.state_space.shape


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_vector_bad_input_names_agent_and_index(env_id, config):
    venv = vector.make(env_id, num_envs=3, **config)
    venv.reset(seed=0)
    agent = venv.agents[0]
    good = _random_actions(venv, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown agent"):
        venv.step({**good, "nobody": good[agent]})
    with pytest.raises(ValueError, match="missing action"):
        venv.step({a: v for a, v in good.items() if a != agent})
    with pytest.raises(ValueError, match="shape"):
        venv.step({**good, agent: good[agent][:2]})
    bad = np.array(good[agent], dtype=float)
    bad[2] = np.nan
    with pytest.raises(ValueError, match=rf"{agent}.*NaN.*batch index 2"):
        venv.step({**good, agent: bad})
    with pytest.raises(ValueError, match="num_envs"):
        vector.make(env_id, num_envs=0, **config)
    with pytest.raises(ValueError, match="instances"):
        venv.reset(options={"instances": venv.instances[:2]})


def test_vector_unknown_env_and_key():
    with pytest.raises(ValueError, match="unknown env id"):
        vector.make("nope_v0", num_envs=2)
    with pytest.raises(mec_marl.ConfigError, match="bogus"):
        vector.make("cpdrl_v0", num_envs=2, bogus=1)
