"""Conformance of every registered env to PettingZoo, Gymnasium and the suite's shared contracts.

Parametrised over ``mec_marl.list_envs()`` x ``conftest.ENV_CONFIGS`` (an env
without an entry runs with its default config), so a new env is covered as
soon as it is registered.

PettingZoo 1.27 notes (see also the report in the test-suite PR):

* ``parallel_api_test`` and ``api_test`` both start with
  ``reset(seed=0, options={"options": 1})``; our envs warn about (and ignore)
  unknown reset options rather than raise, so PettingZoo's tests run unmodified.
* ``parallel_api_test`` overwrites ``par_env.max_cycles = num_cycles``; we pass
  the env's own ``max_cycles`` so the episode keeps its length.
* ``parallel_api_test`` does not check that observations lie in their space
  and ``parallel_seed_test`` checks a single step: both are covered here.
"""

from __future__ import annotations

import math
import pickle

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, parallel_api_test, state_test
from pettingzoo.utils.conversions import parallel_to_aec

import mec_marl
from conftest import (
    ENV_CONFIGS,
    PER_USER_INFO_KEYS,
    REQUIRED_STEP_INFO_KEYS,
    SEEDED_DYNAMICS,
    WALL_TIME_INFO_KEYS,
    decision_actions,
    env_params,
    episode_config,
    make_env,
    n_users,
)
from mec_marl.registry import EnvEntry

PARAMS = env_params()
GYM_PARAMS = env_params(single_agent_gymnasium=True)
API_PROBE = {"options": 1}  # what PettingZoo's api tests pass to reset


# ---------------------------------------------------------------- helpers
def seed_action_spaces(env, seed: int) -> None:
    for i, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(seed + i)


def sample_actions(env) -> dict:
    return {agent: env.action_space(agent).sample() for agent in env.agents}


def bounded_steps(env):
    """Step indices until the episode ends; fails (instead of hanging) if it outlives ``max_cycles``."""
    for t in range(env.max_cycles + 1):
        if not env.agents:
            return
        yield t
    raise AssertionError(f"episode still running after max_cycles={env.max_cycles} steps")


def run_episode(env, seed: int, action_seed: int) -> list:
    """Reset with ``seed``, step to the end with actions from spaces seeded with ``action_seed``."""
    trace = [env.reset(seed=seed)]
    seed_action_spaces(env, action_seed)
    for _ in bounded_steps(env):
        trace.append(env.step(sample_actions(env)))
    return trace


def assert_same(x, y, path="") -> None:
    """Exact equality of nested dicts / lists / arrays / scalars, ignoring wall-time keys."""
    if isinstance(x, dict):
        assert isinstance(y, dict), path
        kx = set(x) - WALL_TIME_INFO_KEYS
        ky = set(y) - WALL_TIME_INFO_KEYS
        assert kx == ky, f"{path}: keys differ: {sorted(kx ^ ky)}"
        for k in kx:
            assert_same(x[k], y[k], f"{path}/{k}")
    elif isinstance(x, (list, tuple)):
        assert isinstance(y, (list, tuple)) and len(x) == len(y), path
        for i, (a, b) in enumerate(zip(x, y)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray), path
        assert x.dtype == y.dtype and x.shape == y.shape, f"{path}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}"
        assert np.array_equal(x, y), f"{path}: arrays differ"
    else:
        assert type(x) is type(y), f"{path}: {type(x)} vs {type(y)}"
        assert x == y, f"{path}: {x!r} != {y!r}"


def assert_in_space(space, x, what: str) -> None:
    assert space.contains(x), f"{what} outside {space}: {x!r}"
    if isinstance(space, spaces.Dict):
        for key, sub in space.spaces.items():
            assert_in_space(sub, x[key], f"{what}[{key!r}]")
    elif isinstance(space, spaces.Tuple):
        for i, sub in enumerate(space.spaces):
            assert_in_space(sub, x[i], f"{what}[{i}]")
    elif isinstance(space, (spaces.Box, spaces.MultiDiscrete, spaces.MultiBinary)):
        assert isinstance(x, np.ndarray), f"{what} is a {type(x).__name__}, not an ndarray"
        assert x.dtype == space.dtype, f"{what} dtype {x.dtype} != space dtype {space.dtype}"
        assert np.all(np.isfinite(x)), f"{what} is not finite"


# ------------------------------------------------------- PettingZoo's own tests
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_parallel_api(env_id, config):
    env = make_env(env_id, episode_config(config))
    parallel_api_test(env, num_cycles=env.max_cycles)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_aec_api_through_conversion(env_id, config):
    env = make_env(env_id, episode_config(config))
    aec = parallel_to_aec(env)
    assert isinstance(aec, pettingzoo.AECEnv)
    api_test(aec, num_cycles=env.max_cycles)
    # The module's own env() is the same conversion.
    assert isinstance(mec_marl.make_aec(env_id, **episode_config(config)).unwrapped, type(env))


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_pettingzoo_state_test(env_id, config):
    cfg = episode_config(config)
    state_test(parallel_to_aec(make_env(env_id, cfg)), make_env(env_id, cfg), num_cycles=make_env(env_id, cfg).max_cycles)


# ------------------------------------------------------------ determinism
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_multi_step_determinism(env_id, config):
    cfg = episode_config(config)
    trace_a = run_episode(make_env(env_id, cfg), seed=11, action_seed=5)
    trace_b = run_episode(make_env(env_id, cfg), seed=11, action_seed=5)
    assert len(trace_a) == len(trace_b) == make_env(env_id, cfg).max_cycles + 1
    for t, (a, b) in enumerate(zip(trace_a, trace_b)):
        assert_same(a, b, f"step {t}")
    # a wall-time key may differ, everything else may not: the comparison must look at infos
    assert any(trace_a[-1][4][agent] for agent in trace_a[-1][4]), "step infos are empty"


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_different_seed_different_first_observation(env_id, config):
    obs_a, _ = make_env(env_id, config).reset(seed=0)
    obs_b, _ = make_env(env_id, config).reset(seed=1)
    assert any(not np.array_equal(obs_a[a], obs_b[a]) for a in obs_a)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_reset_seed_restarts_the_stream(env_id, config):
    env = make_env(env_id, config)
    obs_0, _ = env.reset(seed=3)
    env.reset()  # unseeded: continues the generator
    obs_again, _ = env.reset(seed=3)
    assert_same(obs_0, obs_again)


# ------------------------------------------------- spaces, observations, state
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_observations_and_state_in_space(env_id, config):
    env = make_env(env_id, episode_config(config))
    obs, _ = env.reset(seed=2)
    seed_action_spaces(env, 2)
    steps = 0
    for _ in bounded_steps(env):
        assert set(obs) >= set(env.agents)
        for agent, o in obs.items():
            assert_in_space(env.observation_space(agent), o, f"step {steps} obs[{agent}]")
        assert_in_space(env.state_space, env.state(), f"step {steps} state")
        obs, *_ = env.step(sample_actions(env))
        steps += 1
    for agent, o in obs.items():  # the final observations
        assert_in_space(env.observation_space(agent), o, f"step {steps} obs[{agent}]")
    assert_in_space(env.state_space, env.state(), f"step {steps} state")
    assert steps == env.max_cycles


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_spaces_built_once(env_id, config):
    env = make_env(env_id, config)
    before = {a: (env.observation_space(a), env.action_space(a)) for a in env.possible_agents}
    env.reset(seed=0)
    env.step(sample_actions(env))
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent) is env.action_space(agent)
        assert env.observation_space(agent) is before[agent][0]
        assert env.action_space(agent) is before[agent][1]
    assert isinstance(env.state_space, spaces.Space)


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_episode_length_is_max_cycles(env_id, config):
    env = make_env(env_id, episode_config(config))
    env.reset(seed=4)
    assert env.agents == env.possible_agents
    for t in range(1, env.max_cycles + 1):
        live = list(env.agents)
        _, rewards, terms, truncs, infos = env.step(sample_actions(env))
        assert set(rewards) == set(terms) == set(truncs) == set(infos) == set(live)
        assert not any(terms.values()), f"terminated at step {t}"
        if t < env.max_cycles:
            assert not any(truncs.values()), f"truncated early at step {t}"
            assert env.agents == live
        else:
            assert all(truncs.values()), "not truncated at max_cycles"
    assert env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
    # and reset brings every agent back
    env.reset(seed=4)
    assert env.agents == env.possible_agents


# --------------------------------------------------------------------- render
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_render_ansi(env_id, config):
    env = make_env(env_id, config, render_mode="ansi")
    assert env.unwrapped.render_mode == "ansi"
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and text.strip()
    env.step(sample_actions(env))
    text = env.render()
    assert isinstance(text, str) and text.strip()


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_render_rgb_array_shows_the_decision(env_id, config):
    env = make_env(env_id, config, render_mode="rgb_array")
    assert env.unwrapped.render_mode == "rgb_array"
    env.reset(seed=0)
    first = env.render()
    assert isinstance(first, np.ndarray) and first.dtype == np.uint8
    assert first.ndim == 3 and first.shape[2] == 3 and first.shape[0] > 0 and first.shape[1] > 0
    actions_a, actions_b = decision_actions(env_id, env)
    env.step(actions_a)
    img_a = env.render()
    env.reset(seed=0)
    env.step(actions_b)
    img_b = env.render()
    for img in (img_a, img_b):
        assert img.dtype == np.uint8 and img.shape == first.shape
    assert not np.array_equal(img_a, img_b), "the picture does not change with the decision"


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_render_modes_metadata_and_unknown_mode(env_id, config):
    env = make_env(env_id, config)
    assert {"ansi", "rgb_array"} <= set(env.metadata["render_modes"])
    assert env.metadata["name"] == env_id
    assert env.metadata.get("is_parallelizable") is True
    assert env.unwrapped.render_mode is None
    with pytest.raises(ValueError, match="render_mode"):
        make_env(env_id, config, render_mode="human_with_typo")


# --------------------------------------------------------------------- pickle
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_pickle_round_trip(env_id, config):
    env = make_env(env_id, config)
    env.reset(seed=8)
    seed_action_spaces(env, 8)
    env.step(sample_actions(env))
    clone = pickle.loads(pickle.dumps(env))
    assert clone is not env and type(clone) is type(env)
    assert_same(env.state(), clone.state())
    for _ in range(3):
        if not env.agents:
            break
        actions = sample_actions(env)
        assert_same(env.step(actions), clone.step(actions))
    # the clone's random stream continues like the original's
    assert_same(env.reset()[0], clone.reset()[0])


# ---------------------------------------------------------------- bad actions
def _bad_actions(kind, env):
    agent = env.agents[0]
    good = sample_actions(env)
    space = env.action_space(agent)
    if kind == "nan":
        bad = np.array(good[agent], dtype=np.float64)
        bad.flat[0] = np.nan
        return {**good, agent: bad if bad.shape else np.float64(np.nan)}, ("nan", agent)
    if kind == "inf":
        bad = np.array(good[agent], dtype=np.float64)
        bad.flat[0] = np.inf
        return {**good, agent: bad if bad.shape else np.float64(np.inf)}, ("inf", agent)
    if kind == "shape":
        shape = getattr(space, "shape", ()) or ()
        return {**good, agent: np.zeros(tuple(shape) + (2,))}, ("shape", agent)
    if kind == "unknown_agent":
        return {**good, "no_such_agent_42": good[agent]}, ("unknown", "no_such_agent_42")
    if kind == "missing_agent":
        return {a: v for a, v in good.items() if a != agent}, ("missing", agent)
    if kind == "not_dict":
        return [good[a] for a in env.agents], ("dict",)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["nan", "inf", "shape", "unknown_agent", "missing_agent", "not_dict"])
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_bad_actions_raise_value_error(env_id, config, kind):
    env = make_env(env_id, config)
    env.reset(seed=0)
    seed_action_spaces(env, 0)
    actions, words = _bad_actions(kind, env)
    with pytest.raises(ValueError) as err:
        env.step(actions)
    message = str(err.value).lower()
    for word in words:
        assert word.lower() in message, f"{word!r} not in {message!r}"
    # a rejected step does not advance the episode
    assert env.num_cycles == 0 and env.agents == env.possible_agents
    env.step(sample_actions(env))
    assert env.num_cycles == 1


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_out_of_bounds_actions_are_clipped_and_counted(env_id, config):
    probe = make_env(env_id, config)
    if not all(isinstance(probe.action_space(a), spaces.Box) for a in probe.possible_agents):
        pytest.skip("no Box action space: out-of-bounds actions are errors, not clipped")
    env, ref = make_env(env_id, config), make_env(env_id, config)
    env.reset(seed=6)
    ref.reset(seed=6)
    seed_action_spaces(env, 6)
    raw, clipped = {}, {}
    for agent in env.agents:
        space = env.action_space(agent)
        a = space.sample()
        a.flat[0] = space.high.flat[0] + 0.5
        a.flat[-1] = space.low.flat[-1] - 3.0
        raw[agent], clipped[agent] = a, np.clip(a, space.low, space.high)
    out = env.step(raw)
    out_ref = ref.step(clipped)
    for agent in env.possible_agents:
        expected = 2 if raw[agent].size > 1 else 1
        assert out[4][agent]["clipped_actions"] == expected
        assert out_ref[4][agent]["clipped_actions"] == 0
        out[4][agent].pop("clipped_actions")
        out_ref[4][agent].pop("clipped_actions")
    assert_same(out, out_ref)


# ----------------------------------------------------------- pinned instances
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_pinned_instance_replays_exactly(env_id, config):
    cfg = episode_config(config)
    env = make_env(env_id, cfg)
    obs, _ = env.reset(seed=21)
    instance = env.unwrapped.instance
    assert instance is not None
    replay = make_env(env_id, cfg)
    replay_seed = 21 if env_id in SEEDED_DYNAMICS else 999
    obs_r, _ = replay.reset(seed=replay_seed, options={"instance": instance})
    assert_same(obs, obs_r)
    # without the instance that seed gives a different world: the option was used
    other, _ = make_env(env_id, cfg).reset(seed=replay_seed)
    if replay_seed != 21:
        assert any(not np.array_equal(obs[a], other[a]) for a in obs)
    seed_action_spaces(env, 1)
    for _ in bounded_steps(env):
        actions = sample_actions(env)
        assert_same(env.step(actions), replay.step(actions))
    assert replay.agents == []


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_unknown_reset_option_warns_and_is_ignored(env_id, config):
    env = make_env(env_id, config)
    with pytest.warns(UserWarning, match="no_such_option"):
        obs_a, _ = env.reset(seed=0, options={"no_such_option": 1})
    obs_b, _ = env.reset(seed=0, options={})
    for a in obs_a:
        assert np.array_equal(obs_a[a], obs_b[a])
    with pytest.warns(UserWarning, match="options"):
        env.reset(seed=0, options=API_PROBE)


# ---------------------------------------------------------------------- infos
@pytest.mark.parametrize("env_id,config", PARAMS)
def test_infos_follow_the_shared_contract(env_id, config):
    env = make_env(env_id, episode_config(config))
    _, infos = env.reset(seed=13)
    assert set(infos) >= set(env.agents)
    assert all(isinstance(info, dict) for info in infos.values())
    users = n_users(env) if len(env.possible_agents) == 1 else None
    required = REQUIRED_STEP_INFO_KEYS.get(env_id, set())
    seed_action_spaces(env, 13)
    for _ in bounded_steps(env):
        _, _, _, _, infos = env.step(sample_actions(env))
        for agent, info in infos.items():
            assert isinstance(info, dict)
            missing = required - set(info)
            assert not missing, f"{agent}: missing info keys {sorted(missing)}"
            lengths = set()
            for key in PER_USER_INFO_KEYS:
                if key not in info:
                    continue
                value = info[key]
                assert isinstance(value, np.ndarray), f"{key} is a {type(value).__name__}"
                assert value.ndim >= 1, key
                lengths.add(value.shape[0])
                if value.dtype.kind == "f":
                    assert np.all(np.isfinite(value)), f"{key} not finite: {value}"
            assert len(lengths) <= 1, f"per-user arrays of different lengths {lengths}"
            if users is not None and lengths:
                assert lengths == {users}
            if "objective" in info:
                assert isinstance(info["objective"], float) and math.isfinite(info["objective"])
            if "success" in info:
                assert info["success"].dtype == bool
            assert isinstance(info.get("clipped_actions", 0), int)


# ------------------------------------------------------------------- registry
def test_env_configs_name_registered_envs():
    assert set(ENV_CONFIGS) <= set(mec_marl.list_envs())


def test_unconfigured_env_is_tested_with_defaults(monkeypatch):
    monkeypatch.setitem(mec_marl.registry.ENVS, "zz_future_v0", EnvEntry("zz_future_v0", "nowhere"))
    params = env_params()
    ids = {(p.values[0], str(p.values[1])) for p in params}
    assert ("zz_future_v0", "{}") in ids
    assert {p.values[0] for p in params} == set(mec_marl.list_envs())


@pytest.mark.parametrize("env_id,config", PARAMS)
def test_pettingzoo_registry_builds_the_same_env(env_id, config):
    entry = mec_marl.ENVS[env_id]
    ours = mec_marl.make(env_id, **config)
    theirs = pettingzoo.make("parallel", entry.pettingzoo_id, **config)
    assert type(theirs) is type(ours)
    assert theirs.config == ours.config
    aec = pettingzoo.make("aec", entry.pettingzoo_id, **config)
    assert isinstance(aec, pettingzoo.AECEnv) and type(aec.unwrapped) is type(ours)
    with pytest.raises(ValueError, match="registered envs"):
        mec_marl.make("no_such_env_v0")


def _gym_env(env_id, config):
    return gymnasium.make(mec_marl.ENVS[env_id].gymnasium_id, **episode_config(config))


@pytest.mark.parametrize("env_id,config", GYM_PARAMS)
def test_gymnasium_id_makes_the_single_agent_env(env_id, config):
    env = _gym_env(env_id, config)
    par = mec_marl.make(env_id, **episode_config(config))
    agent = par.possible_agents[0]
    assert env.observation_space == par.observation_space(agent)
    assert env.action_space == par.action_space(agent)
    obs, info = env.reset(seed=0)
    obs_par, _ = par.reset(seed=0)
    assert np.array_equal(obs, obs_par[agent]) and isinstance(info, dict)
    for steps in range(1, par.max_cycles + 1):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and isinstance(reward, float) and not terminated
        assert truncated == (steps == par.max_cycles)


@pytest.mark.parametrize("env_id,config", GYM_PARAMS)
def test_gymnasium_check_env(env_id, config):
    """The adapter drops wall-time infos, so Gymnasium's determinism check passes."""
    from gymnasium.utils.env_checker import check_env

    env = _gym_env(env_id, config)
    check_env(env.unwrapped)
    _, info = env.reset(seed=0)
    _, _, _, _, info = env.step(env.action_space.sample())
    assert not WALL_TIME_INFO_KEYS & set(info)


@pytest.mark.parametrize("env_id,config", GYM_PARAMS)
def test_gymnasium_adapter_passes_the_agents_infos(env_id, config):
    gym_env = _gym_env(env_id, config)
    par_env = mec_marl.make(env_id, **episode_config(config))
    agent = par_env.possible_agents[0]
    _, gym_info = gym_env.reset(seed=3)
    _, par_infos = par_env.reset(seed=3)
    assert_same(gym_info, par_infos[agent])
    action = gym_env.action_space.sample()
    *_, gym_info = gym_env.step(action)
    *_, par_infos = par_env.step({agent: action})
    assert_same(gym_info, par_infos[agent])


@pytest.mark.parametrize("env_id,config", GYM_PARAMS)
def test_stable_baselines3_check_env(env_id, config):
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    sb3_checker.check_env(_gym_env(env_id, config).unwrapped, warn=False)
