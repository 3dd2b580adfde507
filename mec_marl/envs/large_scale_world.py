"""The large scale world: the problem instance, how it is drawn and checked, and per-slot lookups.

Split from :mod:`mec_marl.envs.large_scale` (the env page documents the model);
everything here is pure and works over leading batch axes ``*b``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from mec_marl.physics import channel
from mec_marl.solvers import multi_mec

if TYPE_CHECKING:
    from mec_marl.envs.large_scale import LargeScaleConfig


# ------------------------------------------------------------------ world
@dataclasses.dataclass(frozen=True)
class LargeScaleInstance:
    """One episode's world (SI), arrays over leading batch axes ``*b``.

    Attributes:
        ue_position: ``(*b, N, 2)`` UE coordinates (m).
        mec_position: ``(*b, M, 2)`` MEC coordinates (m).
        fading: ``(*b, T, N, M)`` small-scale fading power l_ij of each slot (eq. 11), Exp(1).
        weights: ``(*b, N)`` w_i before ``weight_change_slot``.
        weights_after: ``(*b, N)`` w_i from ``weight_change_slot`` on (drawn even when it is 0).
        distance: ``(*b, N, M)`` R_ij (eq. 10); derived (``None`` in a hand-built instance).
        path_gain: ``(*b, N, M)`` beta0 / max(R_ij, d_min)^2; derived.
    """

    ue_position: np.ndarray
    mec_position: np.ndarray
    fading: np.ndarray
    weights: np.ndarray
    weights_after: np.ndarray
    distance: np.ndarray | None = None
    path_gain: np.ndarray | None = None

    @property
    def batch_shape(self) -> tuple:
        return self.weights.shape[:-1]


@dataclasses.dataclass(frozen=True)
class LargeScaleState:
    """The current slot, arrays over ``*b``.

    Attributes:
        t: ``(*b,)`` slots taken.
        cqi: ``(*b, N, M)`` log2(1 + P_max h_ij / sigma^2) of the current slot.
        weights: ``(*b, N)`` w_i of the current slot.
        offload: ``(*b, N)`` the last executed decision (0 at reset).
    """

    t: np.ndarray
    cqi: np.ndarray
    weights: np.ndarray
    offload: np.ndarray


def _derive(config: LargeScaleConfig, instance: LargeScaleInstance) -> LargeScaleInstance:
    distance = channel.distance_matrix(instance.ue_position, instance.mec_position)  # eq. 10
    gain = channel.path_gain(distance, config.beta0, config.min_distance)
    return dataclasses.replace(instance, distance=distance, path_gain=gain)


def _draw(config: LargeScaleConfig, rng: np.random.Generator, batch_shape: tuple = ()):
    n, m, b = config.n_ues, config.n_mecs, tuple(batch_shape)
    position = rng.uniform(0.0, config.area_side, size=b + (n, 2))
    weights = rng.uniform(*config.weight_range, size=b + (n,))
    after = rng.uniform(*config.weight_range, size=b + (n,))
    # float32 halves the memory of a batch of episodes; Exp(1) draws need no more precision.
    fading = rng.standard_exponential(size=b + (config.max_cycles, n, m), dtype=np.float32)
    return position, weights, after, fading


def _build(config, position, weights, after, fading) -> LargeScaleInstance:
    mec = np.broadcast_to(config.mec_positions, position.shape[:-2] + (config.n_mecs, 2)).copy()
    inst = LargeScaleInstance(
        ue_position=position, mec_position=mec, fading=fading, weights=weights, weights_after=after
    )
    return _derive(config, inst)


def sample_instance(config: LargeScaleConfig, rng: np.random.Generator, batch_shape: tuple = ()) -> LargeScaleInstance:
    """UEs uniform in the square, weights U(weight_range) twice, T slots of Exp(1) fading."""
    return _build(config, *_draw(config, rng, batch_shape))


def sample_batch(config: LargeScaleConfig, rngs: list) -> LargeScaleInstance:
    draws = [_draw(config, rng) for rng in rngs]
    return _build(config, *(np.stack(parts) for parts in zip(*draws)))


def check_instance(config: LargeScaleConfig, instance) -> LargeScaleInstance:
    """Validate a pinned (single) instance: shapes, finiteness, signs, and that the derived
    distance and path gain agree with the positions (eq. 10-11)."""
    name = "large_scale_v0"
    if not isinstance(instance, LargeScaleInstance):
        raise ValueError(f"{name}: options['instance'] must be a LargeScaleInstance, got {type(instance).__name__}")
    n, m, T = config.n_ues, config.n_mecs, config.max_cycles
    shapes = {
        "ue_position": (n, 2), "mec_position": (m, 2), "fading": (T, n, m),
        "weights": (n,), "weights_after": (n,), "distance": (n, m), "path_gain": (n, m),
    }
    arrays = {}
    for field, shape in shapes.items():
        value = getattr(instance, field)
        if value is None and field in ("distance", "path_gain"):
            continue
        try:
            arr = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: instance.{field} is not numeric") from None
        if arr.shape != shape:
            raise ValueError(f"{name}: instance.{field} has shape {arr.shape}, expected {shape} "
                             f"(n_ues={n}, n_mecs={m}, max_cycles={T})")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: instance.{field} must be finite")
        if field in ("weights", "weights_after") and np.any(arr <= 0):
            raise ValueError(f"{name}: instance.{field} must be positive")
        if field in ("fading", "distance", "path_gain") and np.any(arr < 0):
            raise ValueError(f"{name}: instance.{field} must be non-negative")
        arrays[field] = arr
    given = {k: v for k, v in arrays.items() if k not in ("distance", "path_gain")}
    derived = _derive(config, LargeScaleInstance(**given))
    for field in ("distance", "path_gain"):
        if field in arrays and not np.allclose(arrays[field], getattr(derived, field), rtol=1e-9, atol=0.0):
            raise ValueError(f"{name}: instance.{field} disagrees with the positions (eq. 10-11, "
                             f"beta0_db={config.beta0_db}, min_distance={config.min_distance})")
    return derived


# ------------------------------------------------------------ the slots
def _slot_fading(instance: LargeScaleInstance, t: np.ndarray) -> np.ndarray:
    """``(*b, N, M)``: the fading of slot ``t`` (``(*b,)``) of each instance."""
    fading = instance.fading
    b = fading.shape[:-3]
    if not b:
        return fading[int(t)]
    t = np.asarray(t)
    first = int(t.flat[0])
    if np.all(t == first):  # batches step in lockstep: a strided view, no gather
        return fading[..., first, :, :]
    flat = fading.reshape((-1,) + fading.shape[-3:])
    return flat[np.arange(flat.shape[0]), t.reshape(-1)].reshape(b + fading.shape[-2:])


def slot_gain(config: LargeScaleConfig, instance: LargeScaleInstance, t) -> np.ndarray:
    """``(*b, N, M)`` channel gains h_ij of slot ``t`` (clamped to the last slot), eq. 11."""
    t = np.minimum(np.asarray(t), config.max_cycles - 1)
    return channel.rayleigh_gain(instance.path_gain, _slot_fading(instance, t))


def slot_channel(config: LargeScaleConfig, instance: LargeScaleInstance, t) -> tuple[np.ndarray, np.ndarray]:
    """``(cqi, weights)`` of slot ``t`` (clamped to the last slot): cqi = log2(1 + P_max h / sigma^2)."""
    t = np.minimum(np.asarray(t), config.max_cycles - 1)
    gain = slot_gain(config, instance, t)
    cqi = channel.spectral_efficiency(config.p_max, gain, config.noise_power)  # eq. 12 per Hz at P_max
    k = config.weight_change_slot
    if k > 0:
        weights = np.where((t >= k)[..., None], instance.weights_after, instance.weights)
    else:
        weights = instance.weights
    return cqi, weights


def slot_problem(config: LargeScaleConfig, instance: LargeScaleInstance, state: LargeScaleState):
    """The current slot's :class:`~mec_marl.solvers.multi_mec.P21Problem` (what baselines search over)."""
    return multi_mec.p21_problem_from_efficiency(
        state.cqi, state.weights, data_size=config.data_size, cycles=config.task_cycles,
        bandwidth=config.bandwidth, p_max=config.p_max, f_local_max=config.f_local_max,
        mec_cpu=config.f_mec_max, kappa=config.kappa, exponent=config.power_exponent,
    )


def initial_state(config: LargeScaleConfig, instance: LargeScaleInstance) -> LargeScaleState:
    t = np.zeros(instance.batch_shape, dtype=np.int64)
    cqi, weights = slot_channel(config, instance, t)
    return LargeScaleState(t=t, cqi=cqi, weights=weights, offload=np.zeros(weights.shape, dtype=np.int64))
