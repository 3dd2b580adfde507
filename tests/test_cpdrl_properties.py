"""Property tests of cpdrl_v0 over its whole legal config range (hypothesis).

* C2: with ``bandwidth_overuse="rescale"`` the executed bandwidth never exceeds B,
  whatever the action (the floor comes before the rescale).
* Rewards, observations, state and infos stay finite at the extremes of every
  config bound, on sampled and on pinned far/near instances.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mec_marl
from mec_marl.envs import cpdrl

AGENT = cpdrl.AGENT
FIELDS = cpdrl.CpdrlConfig.model_fields


def _bound(name: str, which: str) -> float:
    for item in FIELDS[name].metadata:
        value = getattr(item, which, None)
        if value is not None:
            return float(value)
    raise KeyError(name)


def _extreme(name: str):
    lo = _bound(name, "ge") if any(hasattr(m, "ge") for m in FIELDS[name].metadata) else None
    hi = _bound(name, "le")
    choices = [hi] + ([lo] if lo is not None and lo > 0 else [])
    return st.sampled_from(choices + [float(FIELDS[name].default)])


EXTREME_KEYS = (
    "area_side", "min_distance", "path_loss_exponent", "edge_capacity", "bandwidth", "noise_power",
    "deadline", "p_max", "kappa", "min_resource_fraction",
)
RANGES = {
    "f_max_range": st.sampled_from([(1e6, 1e6), (1e12, 1e12), (1e9, 2e9)]),
    "data_size_range": st.sampled_from([(1.0, 1.0), (1e10, 1e10), (1.6e6, 3.2e6)]),
    "cycles_per_bit_range": st.sampled_from([(1e-3, 1e-3), (1e5, 1e5), (500.0, 1000.0)]),
}
configs = st.fixed_dictionaries(
    {**{k: _extreme(k) for k in EXTREME_KEYS}, **RANGES},
    optional={"consistency": st.sampled_from(["mask", "none"]), "observation": st.sampled_from(["full", "paper"])},
)
actions = st.lists(st.floats(-1, 1), min_size=12, max_size=12).map(lambda v: np.array(v, dtype=np.float32))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, action=actions, seed=st.integers(0, 2**16), far=st.booleans())
def test_rewards_and_observations_finite_over_the_legal_range(config, action, seed, far):
    env = mec_marl.make("cpdrl_v0", n_devices=3, max_cycles=2, **config)
    env.reset(seed=seed)
    inst = env.instance
    # Pin the UTDs at a corner (farthest) or on the server (nearest), the gain's two extremes.
    corner = np.zeros(2) if far else inst.server_position
    position = np.tile(corner, (3, 1))
    distance = np.sqrt(((position - inst.server_position) ** 2).sum(axis=-1))
    pinned = dataclasses.replace(
        inst, position=position, distance=distance,
        gain=np.maximum(distance, env.config.min_distance) ** env.config.path_loss_exponent,
    )
    for instance in (inst, pinned):
        obs, infos = env.reset(options={"instance": instance})
        assert np.all(np.isfinite(obs[AGENT])) and np.all(np.isfinite(env.state()))
        obs, rewards, *_, infos = env.step({AGENT: action})
        assert np.isfinite(rewards[AGENT]), (config, rewards)
        assert np.all(np.isfinite(obs[AGENT])) and env.observation_space(AGENT).contains(obs[AGENT])
        for key, value in infos[AGENT].items():
            if key != "episode":
                assert np.all(np.isfinite(np.asarray(value, dtype=float))), key


@settings(max_examples=200, deadline=None)
@given(
    raw=st.lists(st.floats(-1, 1), min_size=16, max_size=16),
    floor=st.sampled_from([1e-6, 1e-3, 0.1, 0.5]),
    consistency=st.sampled_from(["mask", "none"]),
)
def test_executed_bandwidth_never_exceeds_B(raw, floor, consistency):
    config = cpdrl.CpdrlConfig(n_devices=4, min_resource_fraction=floor, consistency=consistency)
    inst = cpdrl.sample_instance(config, np.random.default_rng(0))
    dec = cpdrl.decode_action(np.array(raw), inst, config)
    assert dec["exec_bandwidth"].sum() <= config.bandwidth * (1 + 1e-12)
    assert np.all(dec["exec_bandwidth"][dec["offload"]] > 0)


def test_issue_example_floor_then_rescale():
    """n = 3, all offload, b_raw = [1, -1, -1]: v0 executed 1.002 B; now exactly B."""
    config = cpdrl.CpdrlConfig(n_devices=3)
    inst = cpdrl.sample_instance(config, np.random.default_rng(0))
    raw = np.array([1, 1, 1, 1, -1, -1, 0, 0, 0, 0, 0, 0], dtype=float)
    dec = cpdrl.decode_action(raw, inst, config)
    assert dec["bandwidth_overuse"] == 0.0
    assert dec["exec_bandwidth"].sum() == np.float64(config.bandwidth) or np.isclose(
        dec["exec_bandwidth"].sum(), config.bandwidth, rtol=1e-15
    )
    assert dec["exec_bandwidth"].sum() <= config.bandwidth * (1 + 1e-15)


def test_decode_and_outcome_on_a_batch_of_instances():
    config = cpdrl.CpdrlConfig(n_devices=4)
    batch = cpdrl.sample_instance(config, np.random.default_rng(0), batch_shape=(3, 2))
    assert batch.n == 4 and batch.batch_shape == (3, 2)
    raw = np.random.default_rng(1).uniform(-1, 1, (3, 2, 16))
    dec = cpdrl.decode_action(raw, batch, config)
    assert dec["offload"].shape == (3, 2, 4)
    singles = [[cpdrl.decode_action(raw[i, j], _index(batch, i, j), config) for j in range(2)] for i in range(3)]
    for key in ("exec_bandwidth", "exec_cpu_freq", "exec_power"):
        np.testing.assert_allclose(dec[key], [[s[key] for s in row] for row in singles], rtol=1e-15)


def _index(batch, i, j):
    return dataclasses.replace(
        batch, **{f.name: getattr(batch, f.name)[i, j] for f in dataclasses.fields(batch)}
    )
