"""The semantic network's world: the problem instance, how it is drawn and checked, and the per-slot problem.

Split from :mod:`mec_marl.envs.semantic` (the env page documents the model);
everything here is pure and works over leading batch axes ``*b``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from mec_marl.physics import fading, queues, semantic
from mec_marl.solvers import lyapunov

if TYPE_CHECKING:
    from mec_marl.envs.semantic import SemanticConfig

# ------------------------------------------------------------------ world
@dataclasses.dataclass(frozen=True)
class SemanticInstance:
    """One episode of the semantic network (SI units), arrays over leading batch axes ``*b``.

    Attributes:
        position: ``(*b, I, 2)`` UE coordinates (m); the MEC is at the origin.
        mcc_position: ``(*b, 2)`` MCC base station (m).
        distance_mec: ``(*b, I)`` UE-MEC distance (m).
        distance_mcc: ``(*b, I)`` UE-MCC distance (m).
        pathloss_mec: ``(*b, I)`` large-scale power gain to the MEC (linear).
        pathloss_mcc: ``(*b, I)`` large-scale power gain to the MCC (linear).
        fading_mec: ``(*b, T+1, I)`` Rayleigh |h~^E|^2 per slot (unit mean); slot T is the final
            observation's. Sampled instances hold the fading arrays in float32 (half the memory of
            a batch's pre-drawn slots); pinned ones are converted to float64.
        fading_mcc: ``(*b, T+1, I)`` Rician |h~^C|^2 per slot (unit mean).
        shadowing_mcc: ``(*b, T+1, I)`` log-normal shadowing psi per slot (linear).
        arrivals: ``(*b, T, I)`` Poisson task arrivals per slot.
    """

    position: np.ndarray
    mcc_position: np.ndarray
    distance_mec: np.ndarray
    distance_mcc: np.ndarray
    pathloss_mec: np.ndarray
    pathloss_mcc: np.ndarray
    fading_mec: np.ndarray
    fading_mcc: np.ndarray
    shadowing_mcc: np.ndarray
    arrivals: np.ndarray

    @property
    def batch_shape(self) -> tuple:
        return self.distance_mec.shape[:-1]


@dataclasses.dataclass(frozen=True)
class SemanticState:
    """Queues and the last association, arrays over ``*b``.

    Attributes:
        queue_local, queue_edge, virtual_local, virtual_edge: ``(*b, I)`` Q^L, Q^E, Z^L, Z^E (tasks).
        rho_mec, rho_mcc: ``(*b, I)`` bool, the last slot's association.
        gain_mec, gain_mcc: ``(*b, I)`` |h^E|^2 and |h^C|^2 of slot ``t`` (from the instance;
            kept so that the observation and the next step read them once).
        t: ``(*b,)`` slots taken.
    """

    queue_local: np.ndarray
    queue_edge: np.ndarray
    virtual_local: np.ndarray
    virtual_edge: np.ndarray
    rho_mec: np.ndarray
    rho_mcc: np.ndarray
    gain_mec: np.ndarray
    gain_mcc: np.ndarray
    t: np.ndarray


def _geometry(config: SemanticConfig, position):
    mcc = np.zeros(position.shape[:-2] + (2,))
    mcc[..., 0] = config.mcc_distance
    d_mec = np.sqrt((position**2).sum(axis=-1))
    d_mcc = np.sqrt(((position - mcc[..., None, :]) ** 2).sum(axis=-1))
    return mcc, d_mec, d_mcc


def _pathloss(config: SemanticConfig, d_mec, d_mcc):
    return (
        fading.log_distance_gain(d_mec, *config.pathloss_mec_db),
        fading.log_distance_gain(d_mcc, *config.pathloss_mcc_db),
    )


def _uniform_count(config: SemanticConfig) -> tuple[int, int]:
    """(float32 uniforms, float64 uniforms) per instance: fading block, then geometry and arrivals."""
    n, slots = config.n_ues, config.max_cycles + 1
    normals = 2 * slots * n + (slots * n if config.shadowing == "slot" else n)
    normals += normals % 2  # Box-Muller pairs
    return slots * n + normals, 2 * n + config.max_cycles * n


def _draw(config: SemanticConfig, rng: np.random.Generator, batch_shape: tuple = ()):
    """The instance's randomness: two blocks of uniforms from its generator.

    Fading and shadowing come from float32 uniforms (their transforms run in
    float32 SIMD, several times faster than float64 libm calls); positions and
    the Poisson inversion from float64 uniforms (a float32 uniform would cut
    the arrival tail off beyond probability 6e-8).
    """
    n32, n64 = _uniform_count(config)
    b = tuple(batch_shape)
    return rng.random(b + (n32,), dtype=np.float32), rng.random(b + (n64,))


def _build(config: SemanticConfig, u32: np.ndarray, u64: np.ndarray) -> SemanticInstance:
    """Positions, per-slot fading, shadowing and arrivals from the uniforms (Sec. V, Table II)."""
    n, T = config.n_ues, config.max_cycles
    b, m = u64.shape[:-1], (T + 1) * n
    lo, hi = config.radius_range
    radius = np.sqrt(lo * lo + (hi * hi - lo * lo) * u64[..., :n])  # uniform over the annulus' area
    angle = 2.0 * np.pi * u64[..., n : 2 * n]
    position = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)
    arrivals = queues.poisson_counts(u64[..., 2 * n :], config.arrival_rate * config.slot).reshape(b + (T, n))
    normal = fading.standard_normal(u32[..., m:])
    fade_mec = fading.exponential(u32[..., :m]).reshape(b + (T + 1, n))
    fade_mcc = fading.rician_power(normal[..., :m], normal[..., m : 2 * m], config.rician_k).reshape(b + (T + 1, n))
    if config.shadowing == "slot":
        shadow = fading.lognormal_shadowing(normal[..., 2 * m : 3 * m], config.shadowing_std_db).reshape(b + (T + 1, n))
    else:
        once = fading.lognormal_shadowing(normal[..., 2 * m : 2 * m + n], config.shadowing_std_db)
        shadow = np.repeat(once.reshape(b + (1, n)), T + 1, axis=-2)
    mcc, d_mec, d_mcc = _geometry(config, position)
    pl_mec, pl_mcc = _pathloss(config, d_mec, d_mcc)
    return SemanticInstance(position, mcc, d_mec, d_mcc, pl_mec, pl_mcc, fade_mec, fade_mcc, shadow, arrivals)


def sample_instance(config: SemanticConfig, rng: np.random.Generator, batch_shape: tuple = ()) -> SemanticInstance:
    """Draw positions, per-slot fading and shadowing, and arrivals for one episode per batch entry."""
    return _build(config, *_draw(config, rng, batch_shape))


def sample_batch(config: SemanticConfig, rngs: list) -> SemanticInstance:
    """One instance per generator (its uniform blocks, as :func:`_draw`), transformed together."""
    n32, n64 = _uniform_count(config)
    u32, u64 = np.empty((len(rngs), n32), np.float32), np.empty((len(rngs), n64))
    for rng, row32, row64 in zip(rngs, u32, u64):  # drawn in place: no per-instance arrays to stack
        rng.random(out=row32, dtype=np.float32)
        rng.random(out=row64)
    return _build(config, u32, u64)


def check_instance(config: SemanticConfig, instance) -> SemanticInstance:
    """Validate a pinned (single) instance: shapes, finiteness, signs, and that
    distances and path losses agree with the positions; returns float arrays."""
    name = "semantic_v0"
    if not isinstance(instance, SemanticInstance):
        raise ValueError(f"{name}: options['instance'] must be a SemanticInstance, got {type(instance).__name__}")
    n, T = config.n_ues, config.max_cycles
    shapes = {
        "position": (n, 2),
        "mcc_position": (2,),
        "distance_mec": (n,),
        "distance_mcc": (n,),
        "pathloss_mec": (n,),
        "pathloss_mcc": (n,),
        "fading_mec": (T + 1, n),
        "fading_mcc": (T + 1, n),
        "shadowing_mcc": (T + 1, n),
        "arrivals": (T, n),
    }
    arrays = {}
    for field, shape in shapes.items():
        try:
            arr = np.array(getattr(instance, field), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: instance.{field} is not numeric") from None
        if arr.shape != shape:
            raise ValueError(
                f"{name}: instance.{field} has shape {arr.shape}, expected {shape} (n_ues={n}, max_cycles={T})"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: instance.{field} must be finite")
        if field.startswith(("pathloss", "fading", "shadowing")) and np.any(arr <= 0):
            raise ValueError(f"{name}: instance.{field} must be positive")
        if field in ("arrivals", "distance_mec", "distance_mcc") and np.any(arr < 0):
            raise ValueError(f"{name}: instance.{field} must be non-negative")
        arrays[field] = arr
    d_mec = np.sqrt((arrays["position"] ** 2).sum(axis=-1))
    d_mcc = np.sqrt(((arrays["position"] - arrays["mcc_position"]) ** 2).sum(axis=-1))
    for field, expected in (("distance_mec", d_mec), ("distance_mcc", d_mcc)):
        if not np.allclose(arrays[field], expected, rtol=1e-9, atol=1e-9):
            raise ValueError(f"{name}: instance.{field} disagrees with position and mcc_position")
    if np.any(d_mec <= 0) or np.any(d_mcc <= 0):
        raise ValueError(f"{name}: instance.position puts a UE on a server (zero distance)")
    for field, expected in zip(("pathloss_mec", "pathloss_mcc"), _pathloss(config, d_mec, d_mcc)):
        if not np.allclose(arrays[field], expected, rtol=1e-9, atol=0.0):
            raise ValueError(f"{name}: instance.{field} disagrees with the path-loss model for the distances")
    return SemanticInstance(**arrays)


def initial_state(config: SemanticConfig, instance: SemanticInstance) -> SemanticState:
    zeros = np.zeros(instance.distance_mec.shape)
    t = np.zeros(instance.batch_shape, dtype=np.int64)
    gain_mec, gain_mcc = channel_gains(config, instance, t)
    return SemanticState(
        queue_local=zeros,
        queue_edge=zeros,
        virtual_local=zeros,
        virtual_edge=zeros,
        rho_mec=zeros > 0,
        rho_mcc=zeros > 0,
        gain_mec=gain_mec,
        gain_mcc=gain_mcc,
        t=t,
    )


# ----------------------------------------------------------- per-slot problem
def _at_slot(array, t):
    """``array[..., t, :]`` per batch entry: ``(*b, S, I)`` at ``(*b,)`` slots -> ``(*b, I)``."""
    t = np.asarray(t)
    if array.ndim == 2:
        return array[int(t)]
    flat_t = t.reshape(-1)
    if flat_t.size and np.all(flat_t == flat_t[0]):  # batches step in lockstep: a plain slice
        return array[..., int(flat_t[0]), :]
    flat = array.reshape((-1,) + array.shape[-2:])
    return flat[np.arange(flat.shape[0]), flat_t].reshape(t.shape + array.shape[-1:])


def channel_gains(config: SemanticConfig, instance: SemanticInstance, t):
    """|h^E|^2 and |h^C|^2 of slot ``t`` (eq. 8-9: path loss x fading (x shadowing))."""
    gain_mec = instance.pathloss_mec * _at_slot(instance.fading_mec, t)
    gain_mcc = instance.pathloss_mcc * _at_slot(instance.fading_mcc, t) * _at_slot(instance.shadowing_mcc, t)
    return gain_mec, gain_mcc


def slot_problem(config: SemanticConfig, state: SemanticState, gain_mec, gain_mcc) -> lyapunov.SlotProblem:
    """The per-UE data of P3 for the current queues and channels."""
    sigma2 = config.noise_psd
    snr_min = semantic.snr_for_accuracy(
        config.eps_min, config.semantic_eps_max, config.semantic_slope_per_db, config.semantic_midpoint_db
    )
    mec_power = semantic.transmit_power_for_snr(snr_min, gain_mec, config.band_mec, sigma2)  # eq. 8, 14f
    link = semantic.semantic_capacity(config.slot, config.band_mec, config.words_per_task, config.symbols_per_word)
    bits = config.words_per_task * config.bits_per_word
    return lyapunov.SlotProblem(
        weight_local=state.queue_local + state.virtual_local,
        weight_edge=state.queue_edge + state.virtual_edge,
        queue_local=state.queue_local,
        queue_edge=state.queue_edge,
        mec_cap=np.where(mec_power <= config.p_max, link, 0.0),
        mec_power=mec_power,
        mcc_max=semantic.mcc_max_volume(config.p_max, config.slot, config.band_mcc, bits, gain_mcc, sigma2),
        mcc_scale=sigma2 * config.band_mcc / gain_mcc,
    )
