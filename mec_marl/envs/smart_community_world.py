"""The smart community world: the problem instance, how it is drawn and checked, and per-slot lookups.

Split from :mod:`mec_marl.envs.smart_community` (the env page documents the model);
everything here is pure and works over leading batch axes ``*b``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from mec_marl.physics import queues

if TYPE_CHECKING:
    from mec_marl.envs.smart_community import SmartCommunityConfig


# ------------------------------------------------------------------ world
@dataclasses.dataclass(frozen=True)
class SmartCommunityInstance:
    """One episode's world (SI), arrays over leading batch axes ``*b``; m communities, n EDs, K task slots.

    Attributes:
        distance: ``(*b, m, n)`` ED-AP distance l (m).
        gain: ``(*b, m, n)`` channel gain g_0 l^-alpha (derived from ``distance``).
        cpu_freq: ``(*b, m, n)`` ED CPU f (Hz).
        power: ``(*b, m, n)`` ED transmit power P (W).
        weights: ``(*b, m, 3)`` personal weights (q_t, q_e, q_p) per community.
        arrival_time: ``(*b, m, n, K)`` task arrival times (s), non-decreasing per ED;
            ``inf`` for unused slots.
        data_size: ``(*b, m, n, K)`` D (bits).
        cycles: ``(*b, m, n, K)`` C (cycles).
        ready_count: ``(*b, m, n, L + 1)`` tasks arrived before boundary s (s = 0 .. L, L the
            episode length); derived from ``arrival_time`` (``None`` in a hand-built instance).
        stale_count: ``(*b, m, n, L + 1)`` tasks that have waited >= T_d at boundary s; derived.
        arrival_prefix: ``(*b, m, n, K + 1)`` sums of the first k arrival times; derived.
    """

    distance: np.ndarray
    gain: np.ndarray
    cpu_freq: np.ndarray
    power: np.ndarray
    weights: np.ndarray
    arrival_time: np.ndarray
    data_size: np.ndarray
    cycles: np.ndarray
    ready_count: np.ndarray | None = None
    stale_count: np.ndarray | None = None
    arrival_prefix: np.ndarray | None = None

    @property
    def batch_shape(self) -> tuple:
        return self.distance.shape[:-2]


@dataclasses.dataclass(frozen=True)
class SmartCommunityState:
    """Queues, batteries and busy times, arrays over ``*b``.

    Attributes:
        head: ``(*b, m, n)`` index of each ED's head-of-queue task (tasks before it left).
        tail: ``(*b, m, n)`` tasks arrived before the current boundary; the buffer is ``[head, tail)``.
        head_arrival, head_data, head_cycles: ``(*b, m, n)`` the head task's arrival time (s), D
            and C (the instance's entries at ``head``, kept so that a step re-reads only the heads that moved).
        busy_until: ``(*b, m, n)`` time (s) at which each ED is free again.
        battery: ``(*b, m, n)`` b (J) at the start of the sub-slot.
        offload: ``(*b, m, n)`` bool, the last decision alpha (for rendering).
        case: ``(*b, m, n)`` battery case (8-13) of the last sub-slot.
        t: ``(*b,)`` sub-slots taken.
    """

    head: np.ndarray
    tail: np.ndarray
    head_arrival: np.ndarray
    head_data: np.ndarray
    head_cycles: np.ndarray
    busy_until: np.ndarray
    battery: np.ndarray
    offload: np.ndarray
    case: np.ndarray
    t: np.ndarray


def gain_of(distance, config: SmartCommunityConfig) -> np.ndarray:
    """g = g_0 l^-alpha: eq. (1)'s g / l as one path-loss law (SPEC's constants)."""
    return config.gain_constant * np.asarray(distance, dtype=float) ** (-config.path_loss_exponent)


def _draw(config: SmartCommunityConfig, rng: np.random.Generator, batch_shape: tuple = ()) -> dict:
    b, m, n, k = tuple(batch_shape), config.n_communities, config.n_devices, config.task_capacity
    out = {
        "distance": rng.uniform(*config.distance_range, size=b + (m, n)),
        "cpu_freq": rng.uniform(*config.cpu_freq_range, size=b + (m, n)),
        "power": rng.uniform(*config.power_range, size=b + (m, n)),
        "weights": np.stack(
            [
                rng.uniform(*config.time_weight_range, size=b + (m,)),
                rng.uniform(*config.energy_weight_range, size=b + (m,)),
                rng.uniform(*config.failure_penalty_range, size=b + (m,)),
            ],
            axis=-1,
        ),
        "arrival_time": queues.poisson_arrivals(rng, config.arrival_rate, k, b + (m, n)),
        "data_size": rng.uniform(*config.data_size_range, size=b + (m, n, k)),
        "cycles": rng.uniform(*config.cycles_range, size=b + (m, n, k)),
    }
    return out


def with_tables(instance: SmartCommunityInstance, config: SmartCommunityConfig) -> SmartCommunityInstance:
    """``instance`` with the per-boundary queue tables derived from its arrivals (the step's fast path)."""
    ready, stale, prefix = queues.arrival_tables(
        instance.arrival_time, config.sub_slot_length, config.deadline, config.episode_length + 1
    )
    return dataclasses.replace(instance, ready_count=ready, stale_count=stale, arrival_prefix=prefix)


def _build(config: SmartCommunityConfig, parts: dict) -> SmartCommunityInstance:
    return with_tables(SmartCommunityInstance(gain=gain_of(parts["distance"], config), **parts), config)


def sample_instance(config, rng: np.random.Generator, batch_shape: tuple = ()) -> SmartCommunityInstance:
    """Draw distances, CPUs, powers, weights and the episode's arrivals."""
    return _build(config, _draw(config, rng, batch_shape))


def sample_batch(config, rngs: list) -> SmartCommunityInstance:
    """One instance per generator, stacked; the gain derived once for the batch."""
    draws = [_draw(config, rng) for rng in rngs]
    return _build(config, {key: np.stack([d[key] for d in draws]) for key in draws[0]})


def check_instance(config: SmartCommunityConfig, instance) -> SmartCommunityInstance:
    """Validate a pinned instance: shapes, finiteness, signs, sorted arrivals, gain = g_0 l^-alpha."""
    name = "smart_community_v0"
    if not isinstance(instance, SmartCommunityInstance):
        raise ValueError(f"{name}: options['instance'] must be a SmartCommunityInstance, got {type(instance).__name__}")
    m, n = config.n_communities, config.n_devices
    arrays = {}
    for field in ("distance", "gain", "cpu_freq", "power", "weights", "arrival_time", "data_size", "cycles"):
        try:
            arr = np.array(getattr(instance, field), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: instance.{field} is not numeric") from None
        tasks = field in ("arrival_time", "data_size", "cycles")
        expected = (m, 3) if field == "weights" else (m, n)
        if (arr.shape[:2] != expected or arr.ndim != 3 or arr.shape[2] < 1) if tasks else arr.shape != expected:
            want = f"({m}, {n}, K >= 1)" if tasks else str(expected)
            raise ValueError(f"{name}: instance.{field} has shape {arr.shape}, expected {want} (m={m}, n={n})")
        finite = np.isfinite(arr) | ((arr == np.inf) if field == "arrival_time" else False)
        if not np.all(finite):
            allowed = "finite or +inf" if field == "arrival_time" else "finite"
            raise ValueError(f"{name}: instance.{field} must be {allowed}")
        if field == "weights" and np.any(arr < 0):
            raise ValueError(f"{name}: instance.weights must be non-negative")
        if field == "arrival_time" and (np.any(arr < 0) or np.any(arr[..., 1:] < arr[..., :-1])):
            raise ValueError(f"{name}: instance.arrival_time must be non-negative and non-decreasing per ED")
        if field not in ("weights", "arrival_time") and np.any(arr <= 0):
            raise ValueError(f"{name}: instance.{field} must be positive")
        arrays[field] = arr
    if not (arrays["arrival_time"].shape == arrays["data_size"].shape == arrays["cycles"].shape):
        raise ValueError(f"{name}: instance.arrival_time, data_size and cycles must have the same shape")
    if not np.allclose(arrays["gain"], gain_of(arrays["distance"], config), rtol=1e-9, atol=0.0):
        raise ValueError(
            f"{name}: instance.gain disagrees with g_0 l^-alpha for the distances "
            f"(gain_constant={config.gain_constant:g}, path_loss_exponent={config.path_loss_exponent:g})"
        )
    return with_tables(SmartCommunityInstance(**arrays), config)
