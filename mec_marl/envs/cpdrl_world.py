"""The CPDRL world: the problem instance, how it is drawn and checked, and its derived constants.

Split from :mod:`mec_marl.envs.cpdrl` (the env page documents the model);
everything here is pure and works over leading batch axes ``*b``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from mec_marl.physics import channel, compute

if TYPE_CHECKING:
    from mec_marl.envs.cpdrl import CpdrlConfig


# ------------------------------------------------------------------ world
@dataclasses.dataclass(frozen=True)
class CpdrlInstance:
    """One CPDRL problem instance (SI units), arrays over leading batch axes ``*b``.

    Attributes:
        position: ``(*b, n, 2)`` UTD coordinates (m); the server is at ``server_position``.
        server_position: ``(*b, 2)`` server coordinates (m).
        distance: ``(*b, n)`` UTD-server distance (m).
        gain: ``(*b, n)`` channel gain g_n = max(distance, d_min)^alpha (eq. 4).
        data_size: ``(*b, n)`` D_n (bits).
        cycles_per_bit: ``(*b, n)`` C_n (cycles/bit).
        f_max: ``(*b, n)`` local CPU capacity (Hz).
        resource_scale: ``(*b, 3, n)`` maxima of (bandwidth, local CPU, power) that
            [-1, 1] maps onto; derived (``None`` in a hand-built instance, filled by the env).
        task_features: ``(*b, 4n)`` normalised task parameters of the ``full``
            observation; derived like ``resource_scale``.
    """

    position: np.ndarray
    server_position: np.ndarray
    distance: np.ndarray
    gain: np.ndarray
    data_size: np.ndarray
    cycles_per_bit: np.ndarray
    f_max: np.ndarray
    resource_scale: np.ndarray | None = None
    task_features: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.data_size.shape[-1]

    @property
    def batch_shape(self) -> tuple:
        return self.data_size.shape[:-1]

    @property
    def cycles(self) -> np.ndarray:
        return compute.task_cycles(self.data_size, self.cycles_per_bit)


@dataclasses.dataclass(frozen=True)
class CpdrlState:
    """The last decision's outcome, arrays over ``*b``.

    Attributes:
        latency: ``(*b, n)`` T_n (s) of the last decision (reference decision at reset).
        energy: ``(*b, n)`` E_n (J).
        offload: ``(*b, n)`` bool, the last offloading decision.
        t: ``(*b,)`` steps taken.
    """

    latency: np.ndarray
    energy: np.ndarray
    offload: np.ndarray
    t: np.ndarray


def resource_scale(instance: CpdrlInstance, config: CpdrlConfig) -> np.ndarray:
    """``(*b, 3, n)`` maxima of (bandwidth, local CPU, power) that [-1, 1] maps onto."""
    f_max = np.asarray(instance.f_max, dtype=float)
    return np.stack([np.full_like(f_max, config.bandwidth), f_max, np.full_like(f_max, config.p_max)], axis=-2)


def task_features(instance: CpdrlInstance, config: CpdrlConfig) -> np.ndarray:
    """``(*b, 4n)`` [D / D_hi, C / C_hi, max(0, log10(P_max g / sigma^2) / 10), f_max / f_hi]."""
    snr = np.log10(config.p_max * instance.gain / config.noise_power) / 10.0
    return np.concatenate(
        [
            instance.data_size / config.data_size_range[1],
            instance.cycles_per_bit / config.cycles_per_bit_range[1],
            np.maximum(snr, 0.0),
            instance.f_max / config.f_max_range[1],
        ],
        axis=-1,
    )


def with_constants(instance: CpdrlInstance, config: CpdrlConfig) -> CpdrlInstance:
    """``instance`` with its derived per-instance constants filled in."""
    return dataclasses.replace(
        instance, resource_scale=resource_scale(instance, config), task_features=task_features(instance, config)
    )


def _draw(config: CpdrlConfig, rng: np.random.Generator, batch_shape: tuple = ()):
    """The random part of an instance: positions and tasks per Table I (v0's draw order)."""
    n, b = config.n_devices, tuple(batch_shape)
    position = rng.uniform(0.0, config.area_side, size=b + (n, 2))
    data_size = rng.uniform(*config.data_size_range, size=b + (n,))
    cycles_per_bit = rng.uniform(*config.cycles_per_bit_range, size=b + (n,))
    f_max = rng.uniform(*config.f_max_range, size=b + (n,))
    return position, data_size, cycles_per_bit, f_max


def _build(config: CpdrlConfig, position, data_size, cycles_per_bit, f_max) -> CpdrlInstance:
    """An instance from its random part: distance, gain (eq. 4) and constants derived, batched."""
    side = config.area_side
    server = np.broadcast_to(np.array([side / 2, side / 2]), position.shape[:-2] + (2,)).copy()
    distance = np.sqrt(((position - server[..., None, :]) ** 2).sum(axis=-1))
    instance = CpdrlInstance(
        position=position,
        server_position=server,
        distance=distance,
        gain=channel.power_law_gain(distance, config.path_loss_exponent, config.min_distance),
        data_size=data_size,
        cycles_per_bit=cycles_per_bit,
        f_max=f_max,
    )
    return with_constants(instance, config)


def sample_instance(config: CpdrlConfig, rng: np.random.Generator, batch_shape: tuple = ()) -> CpdrlInstance:
    """Draw UTD positions and tasks per Table I; ``batch_shape`` instances from one generator."""
    return _build(config, *_draw(config, rng, batch_shape))


def sample_batch(config: CpdrlConfig, rngs: list) -> CpdrlInstance:
    """One instance from each generator, stacked (what the vector env's seeding rule needs)."""
    draws = [_draw(config, rng) for rng in rngs]
    return _build(config, *(np.stack(parts) for parts in zip(*draws)))


def check_instance(config: CpdrlConfig, instance) -> CpdrlInstance:
    """Validate a pinned (single) instance: shapes, finiteness, positivity, and
    that distance and gain agree with the positions (eq. 4); returns it as float
    arrays with the derived constants filled in."""
    if not isinstance(instance, CpdrlInstance):
        raise ValueError(f"cpdrl_v0: options['instance'] must be a CpdrlInstance, got {type(instance).__name__}")
    n = config.n_devices
    arrays = {}
    for field, shape in (
        ("position", (n, 2)),
        ("server_position", (2,)),
        *((f, (n,)) for f in ("distance", "gain", "data_size", "cycles_per_bit", "f_max")),
    ):
        try:
            arr = np.array(getattr(instance, field), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"cpdrl_v0: instance.{field} is not numeric") from None
        if arr.shape != shape:
            raise ValueError(f"cpdrl_v0: instance.{field} has shape {arr.shape}, expected {shape} for n_devices={n}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"cpdrl_v0: instance.{field} must be finite")
        if field == "distance" and np.any(arr < 0):
            raise ValueError("cpdrl_v0: instance.distance must be non-negative")
        if field not in ("position", "server_position", "distance") and np.any(arr <= 0):
            raise ValueError(f"cpdrl_v0: instance.{field} must be positive")
        arrays[field] = arr
    distance = np.sqrt(((arrays["position"] - arrays["server_position"]) ** 2).sum(axis=-1))
    if not np.allclose(arrays["distance"], distance, rtol=1e-9, atol=1e-9):
        raise ValueError("cpdrl_v0: instance.distance disagrees with position and server_position")
    gain = channel.power_law_gain(distance, config.path_loss_exponent, config.min_distance)
    if not np.allclose(arrays["gain"], gain, rtol=1e-9, atol=0.0):
        raise ValueError(
            "cpdrl_v0: instance.gain disagrees with eq. 4 for the positions "
            f"(path_loss_exponent={config.path_loss_exponent}, min_distance={config.min_distance})"
        )
    return with_constants(CpdrlInstance(**arrays), config)
