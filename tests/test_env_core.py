"""The env core's contracts over every registered env: episode metrics, deterministic
infos (PettingZoo's own seed tests), reset infos, pinned-instance validation,
the base config's episode_length / n_users, and the documentation page."""

from __future__ import annotations

import dataclasses
import importlib
import pydoc

import numpy as np
import pytest
from pettingzoo.test import parallel_seed_test, seed_test
from pettingzoo.utils.conversions import parallel_to_aec

import mec_marl
from conftest import env_params, episode_config, make_env
from mec_marl.episode import EpisodeAccumulator, Metric
from mec_marl.vector import model_of

PARAMS = env_params()


def _sample(env) -> dict:
    return {a: env.action_space(a).sample() for a in env.agents}


# ------------------------------------------------------------ episode metrics
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_episode_metrics_at_the_last_step_only(env_id, config):
    env = make_env(env_id, episode_config(config))
    _, reset_infos = env.reset(seed=1)
    for agent in env.possible_agents:
        env.action_space(agent).seed(1)
        assert "episode" not in reset_infos[agent]
    returns = {a: 0.0 for a in env.possible_agents}
    steps = []
    while env.agents:
        _, rewards, terms, truncs, infos = env.step(_sample(env))
        steps.append(infos)
        for agent, r in rewards.items():
            returns[agent] += r
        ended = {a for a in terms if terms[a] or truncs[a]}
        for agent, info in infos.items():
            assert ("episode" in info) == (agent in ended), f"step {len(steps)} agent {agent}"
    metrics = model_of(env_id).episode_metrics
    for agent, info in steps[-1].items():
        episode = info["episode"]
        assert set(episode) == set(metrics) | {"return", "length"}
        assert episode["length"] == len(steps)
        assert episode["return"] == pytest.approx(returns[agent], rel=1e-12)
        for name, metric in metrics.items():
            series = [float(s[agent][metric.source or name]) for s in steps]
            expected = {
                "last": lambda: series[-1],
                "mean": lambda: float(np.mean(series)),
                "sum": lambda: float(np.sum(series)),
                "min": lambda: min(series),
                "max": lambda: max(series),
                "ratio": lambda: float(np.sum(series))
                / float(np.sum([float(s[agent][metric.denominator]) for s in steps])),
            }[metric.kind]()
            assert episode[name] == pytest.approx(expected, rel=1e-12, nan_ok=True), name


def test_accumulator_by_hand_with_per_index_reset():
    metrics = {
        "latest": Metric("last", "x"),
        "avg": Metric("mean", "x"),
        "total": Metric("sum", "x"),
        "low": Metric("min", "x"),
        "rate": Metric("ratio", "hits", "tasks"),
    }
    acc = EpisodeAccumulator(metrics, ["a"], (2,))
    for x, hits, tasks in ((1.0, 1, 2), (3.0, 0, 2), (2.0, 2, 4)):
        acc.update({"a": np.array([1.0, 2.0])}, {"a": {"x": np.array([x, -x]), "hits": np.full(2, hits), "tasks": np.full(2, tasks)}})
    out = acc.result("a")
    np.testing.assert_allclose(out["latest"], [2.0, -2.0])
    np.testing.assert_allclose(out["avg"], [2.0, -2.0])
    np.testing.assert_allclose(out["total"], [6.0, -6.0])
    np.testing.assert_allclose(out["low"], [1.0, -3.0])
    np.testing.assert_allclose(out["rate"], [3 / 8, 3 / 8])
    np.testing.assert_allclose(out["return"], [3.0, 6.0])
    acc.reset(np.array([1]))
    acc.update({"a": np.array([1.0, 5.0])}, {"a": {"x": np.array([9.0, 7.0]), "hits": np.ones(2), "tasks": np.ones(2)}})
    out = acc.result("a")
    np.testing.assert_allclose(out["low"], [1.0, 7.0])  # index 1 restarted, index 0 continued
    np.testing.assert_allclose(out["total"], [15.0, 7.0])
    np.testing.assert_array_equal(out["length"], [4, 1])
    np.testing.assert_allclose(out["rate"], [4 / 9, 1.0])


def test_metric_declarations_are_checked():
    with pytest.raises(ValueError, match="unknown metric kind"):
        Metric("median")
    with pytest.raises(ValueError, match="denominator"):
        Metric("ratio", "x")
    with pytest.raises(ValueError, match="reserved"):
        EpisodeAccumulator({"return": Metric("sum")}, ["a"])


# ------------------------------------------------------ determinism of infos
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_pettingzoo_seed_tests(env_id, config):
    cfg = episode_config(config)
    parallel_seed_test(lambda: make_env(env_id, cfg))
    seed_test(lambda: parallel_to_aec(make_env(env_id, cfg)), num_cycles=5)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_reset_infos_carry_the_step_info_keys(env_id, config):
    env = make_env(env_id, config)
    _, reset_infos = env.reset(seed=0)
    _, _, _, _, step_infos = env.step(_sample(env))
    for agent in step_infos:
        missing = set(step_infos[agent]) - {"episode"} - set(reset_infos[agent])
        assert not missing, f"reset infos of {agent} lack {sorted(missing)}"
        for key, value in reset_infos[agent].items():
            assert np.shape(value) == np.shape(step_infos[agent][key]), key


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_space_dicts_for_skrl(env_id, config):
    env = make_env(env_id, config)
    assert set(env.observation_spaces) == set(env.action_spaces) == set(env.possible_agents)
    for agent in env.possible_agents:
        assert env.observation_spaces[agent] is env.observation_space(agent)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_base_config_names_episode_length_and_users(env_id, config):
    env = make_env(env_id, episode_config(config))
    assert env.config.episode_length == env.max_cycles
    assert isinstance(env.config.n_users, int) and env.config.n_users >= 1


# ----------------------------------------------------- pinned instances
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_pinned_instance_as_lists_is_converted(env_id, config):
    env = make_env(env_id, config)
    env.reset(seed=0)
    instance = env.instance
    as_lists = dataclasses.replace(
        instance,
        **{f.name: np.asarray(getattr(instance, f.name)).tolist() for f in dataclasses.fields(instance)
           if getattr(instance, f.name) is not None},
    )
    obs_a, _ = env.reset(options={"instance": instance})
    obs_b, _ = env.reset(options={"instance": as_lists})
    for agent in obs_a:
        np.testing.assert_array_equal(obs_a[agent], obs_b[agent])


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_bad_pinned_instance_leaves_the_env_as_it_was(env_id, config):
    env = make_env(env_id, config)
    env.reset(seed=0)
    before, state_before = env.instance, env.state()
    first = dataclasses.fields(before)[0].name
    bad = dataclasses.replace(before, **{first: np.full_like(np.asarray(getattr(before, first), dtype=float), np.nan)})
    with pytest.raises(ValueError, match=first):
        env.reset(options={"instance": bad})
    assert env.instance is before and env.agents == env.possible_agents
    np.testing.assert_array_equal(env.state(), state_before)
    env.step(_sample(env))  # still usable


# --------------------------------------------------------------- docs
@pytest.mark.parametrize("env_id", mec_marl.list_envs())
def test_env_page_lists_every_argument_and_metric(env_id):
    module = importlib.import_module(mec_marl.ENVS[env_id].module)
    page = module.__doc__
    for key in module.MODEL.config_cls.model_fields:
        assert f"``{key}``" in page, key
    for name in module.MODEL.episode_metrics:
        assert f"``{name}``" in page, name
    assert "{arguments}" not in page and "shared/papers" not in page
    text = pydoc.render_doc(module, renderer=pydoc.plaintext)
    assert "model_dump" not in text  # pydantic's BaseModel methods stay out of help()
