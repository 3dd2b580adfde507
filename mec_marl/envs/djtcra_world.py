"""The DJTCRA world: the problem instance, how it is drawn and checked, and per-slot lookups.

Split from :mod:`mec_marl.envs.djtcra` (the env page documents the model);
everything here is pure and works over leading batch axes ``*b``.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from mec_marl import units
from mec_marl.physics import channel, compute
from mec_marl.physics import qoe as qoe_lib

SLOT_FIELDS = (
    "ran",
    "distance",
    "noise",
    "bandwidth",
    "task_volume",
    "result_volume",
    "cycles_per_bit",
    "alpha",
    "beta",
)
DERIVED_FIELDS = ("radio", "cloud_latency", "cloud_qoe")


@dataclasses.dataclass(frozen=True)
class DjtcraInstance:
    """One DJTCRA episode (SI units), arrays over leading batch axes ``*b``; T slots, U users, H ESs.

    Attributes:
        eta: ``(*b, U, H)`` processing factors eta_u^h (eq. 8), after the swap.
        link_rate: ``(*b, H, H)`` symmetric inter-RAN rates B_ij (bit/s); the diagonal is unused.
        link_delay: ``(*b, H, H)`` symmetric propagation delays delta_ij (s); the diagonal is unused.
        ran: ``(*b, T, U)`` connected RAN per slot (0-based).
        distance: ``(*b, T, U)`` 2D distance to it (m).
        noise: ``(*b, T, U)`` in-band noise power N_u (W).
        bandwidth: ``(*b, T, U)`` B_u (Hz).
        task_volume: ``(*b, T, U)`` V^T (bits).
        result_volume: ``(*b, T, U)`` V^R (bits).
        cycles_per_bit: ``(*b, T, U)`` kappa_u.
        alpha: ``(*b, T, U)`` QoE steepness (1/s), > 0.
        beta: ``(*b, T, U)`` QoE reference latency (s), > 0.
        radio: ``(*b, T, U)`` derived: wireless latency d^c (eq. 1-5), s.
        cloud_latency: ``(*b, T, U)`` derived: latency through the cloud (s).
        cloud_qoe: ``(*b, T, U)`` derived: QoE through the cloud (eq. 11).
    """

    eta: np.ndarray
    link_rate: np.ndarray
    link_delay: np.ndarray
    ran: np.ndarray
    distance: np.ndarray
    noise: np.ndarray
    bandwidth: np.ndarray
    task_volume: np.ndarray
    result_volume: np.ndarray
    cycles_per_bit: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    radio: np.ndarray | None = None
    cloud_latency: np.ndarray | None = None
    cloud_qoe: np.ndarray | None = None

    @property
    def batch_shape(self) -> tuple:
        return self.ran.shape[:-2]


# ------------------------------------------------------------------ draws
def _positive_normal(rng, mean, std, size):
    """N(mean, std^2) redrawn until positive (SPEC: else some episodes hold alpha < 0)."""
    x = rng.normal(mean, std, size)
    bad = x <= 0
    while bad.any():
        x[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = x <= 0
    return x


def swap_eta(eta, rng, concentration: float):
    """The unbalancing swap of Sec. VI-A: n ~ Multinomial(U, Dirichlet(c 1_H)) disjoint users
    per ES h get their row minimum moved into column h (the displaced value takes its place)."""
    U, H = eta.shape
    counts = rng.multinomial(U, rng.dirichlet(np.full(H, concentration)))
    target = np.empty(U, dtype=np.int64)
    target[rng.permutation(U)] = np.repeat(np.arange(H), counts)
    rows = np.arange(U)
    low = eta.argmin(axis=-1)
    out = eta.copy()
    out[rows, target], out[rows, low] = eta[rows, low], eta[rows, target]
    return out


def _symmetric(rng, lo, hi, H):
    m = np.triu(rng.uniform(lo, hi, (H, H)), 1)
    return m + m.T


def _draw_world(config, rng):
    U, H = config.num_users, config.n_servers
    eta = rng.uniform(*config.eta_range, size=(U, H))
    if config.eta_swap:
        eta = swap_eta(eta, rng, config.eta_swap_concentration)
    return eta, _symmetric(rng, *config.link_rate_range, H), _symmetric(rng, *config.link_delay_range, H)


@functools.lru_cache(maxsize=16)
def _fixed_world(config):
    return _draw_world(config, np.random.default_rng(config.world_seed))


def _draw_slots(config, rng, shape):
    """Per-slot user draws (Table III), in a fixed order."""
    T, U = config.max_cycles, config.num_users
    size = tuple(shape) + (T, U)
    noise_dbm = None
    out = {"ran": rng.integers(0, config.n_servers, size=size)}
    out["distance"] = rng.uniform(*config.distance_range, size=size)
    noise_dbm = rng.uniform(*config.noise_dbm_range, size=size)
    out["noise"] = units.dbm_to_watt(noise_dbm)
    out["bandwidth"] = rng.uniform(*config.bandwidth_range, size=size)
    out["task_volume"] = rng.uniform(*config.task_volume_range, size=size)
    out["result_volume"] = rng.uniform(*config.result_volume_range, size=size)
    out["cycles_per_bit"] = rng.uniform(*config.cycles_per_bit_range, size=size)
    out["alpha"] = _positive_normal(rng, config.alpha_mean, config.alpha_std, size)
    out["beta"] = _positive_normal(rng, config.beta_mean, config.beta_std, size)
    return out


def _one(config, rng):
    """(world arrays, slot dict) of one instance from one generator."""
    if config.world_seed is None:
        w = _draw_world(config, rng)
    else:
        w = _fixed_world(config)
    return w, _draw_slots(config, rng, ())


def derived(config, slots: dict) -> dict:
    """Wireless latency (eq. 1-5) and the cloud's latency and QoE (eq. 11) of every slot and user."""
    path_loss = channel.rural_macro_path_loss_db(
        slots["distance"], config.bs_height, config.ut_height, config.carrier_frequency, config.building_height
    )
    radio = channel.radio_latency(
        slots["task_volume"], slots["result_volume"], slots["bandwidth"], config.tx_power,
        channel.db_to_gain(path_loss), slots["noise"],
    )
    cycles = compute.task_cycles(slots["task_volume"], slots["cycles_per_bit"])
    cloud = compute.remote_cloud_latency(
        radio, slots["task_volume"], slots["result_volume"], cycles, config.cloud_rate, config.cloud_delay, config.cloud_cpu
    )
    return {
        "radio": radio,
        "cloud_latency": cloud,
        "cloud_qoe": qoe_lib.sigmoid_qoe(cloud, slots["alpha"], slots["beta"], config.qoe_ceiling),
    }


def _build(config, worlds, slots) -> DjtcraInstance:
    eta, rate, delay = worlds
    return DjtcraInstance(eta=eta, link_rate=rate, link_delay=delay, **slots, **derived(config, slots))


def sample_instance(config, rng: np.random.Generator, batch_shape: tuple = ()) -> DjtcraInstance:
    """Draw an episode (world per ``world_seed``, slots per Table III); ``batch_shape`` from one generator."""
    b = tuple(batch_shape)
    if not b:
        return _build(config, *_one(config, rng))
    count = int(np.prod(b))
    worlds = [_draw_world(config, rng) if config.world_seed is None else _fixed_world(config) for _ in range(count)]
    stacked = tuple(np.stack([w[i] for w in worlds]).reshape(b + worlds[0][i].shape) for i in range(3))
    return _build(config, stacked, _draw_slots(config, rng, b))


def sample_batch(config, rngs: list) -> DjtcraInstance:
    """One instance from each generator, stacked; the physics is derived once for the batch."""
    worlds, slots = None, None
    for i, rng in enumerate(rngs):  # filled in place: a list of B draws and np.stack cost twice the copies
        world, slot = _one(config, rng)
        if worlds is None:
            worlds = tuple(np.empty((len(rngs),) + a.shape, a.dtype) for a in world)
            slots = {k: np.empty((len(rngs),) + slot[k].shape, slot[k].dtype) for k in SLOT_FIELDS}
        for out, a in zip(worlds, world):
            out[i] = a
        for k in SLOT_FIELDS:
            slots[k][i] = slot[k]
    return _build(config, worlds, slots)


def check_instance(config, instance) -> DjtcraInstance:
    """Validate a pinned (single) instance: shapes, finiteness, ranges (alpha, beta > 0, RAN
    indices in [0, H)) and that the derived fields agree with eq. (1)-(5), (11) and the cloud."""
    name = "djtcra_v0"
    if not isinstance(instance, DjtcraInstance):
        raise ValueError(f"{name}: options['instance'] must be a DjtcraInstance, got {type(instance).__name__}")
    T, U, H = config.max_cycles, config.num_users, config.n_servers
    shapes = {"eta": (U, H), "link_rate": (H, H), "link_delay": (H, H), **{k: (T, U) for k in SLOT_FIELDS}}
    arrays = {}
    for field, shape in shapes.items():
        try:
            arr = np.array(getattr(instance, field), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: instance.{field} is not numeric") from None
        if arr.shape != shape:
            raise ValueError(f"{name}: instance.{field} has shape {arr.shape}, expected {shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: instance.{field} must be finite")
        arrays[field] = arr
    off = ~np.eye(H, dtype=bool)
    checks = (
        ("eta", arrays["eta"] > 0, "positive"),
        ("link_rate", arrays["link_rate"][off] > 0, "positive off the diagonal"),
        ("link_delay", arrays["link_delay"] >= 0, "non-negative"),
        ("ran", (arrays["ran"] >= 0) & (arrays["ran"] < H) & (arrays["ran"] == np.round(arrays["ran"])),
         f"integers in [0, {H})"),
        ("distance", (arrays["distance"] >= 10) & (arrays["distance"] <= 1e4), "in [10, 10000] m (eq. 2)"),
        ("noise", arrays["noise"] > 0, "positive"),
        ("bandwidth", arrays["bandwidth"] > 0, "positive"),
        ("task_volume", arrays["task_volume"] > 0, "positive"),
        ("result_volume", arrays["result_volume"] >= 0, "non-negative"),
        ("cycles_per_bit", arrays["cycles_per_bit"] > 0, "positive"),
        ("alpha", arrays["alpha"] > 0, "positive (eq. 10 needs alpha > 0)"),
        ("beta", arrays["beta"] > 0, "positive"),
    )
    for field, ok, what in checks:
        if not np.all(ok):
            raise ValueError(f"{name}: instance.{field} must be {what}")
    for field in ("link_rate", "link_delay"):
        if not np.allclose(arrays[field], arrays[field].T):
            raise ValueError(f"{name}: instance.{field} must be symmetric")
    arrays["ran"] = arrays["ran"].astype(np.int64)
    slots = {k: arrays[k] for k in SLOT_FIELDS}
    fresh = derived(config, slots)
    for field in DERIVED_FIELDS:
        given = getattr(instance, field)
        if given is None:
            continue
        try:
            given = np.array(given, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: instance.{field} is not numeric") from None
        if given.shape != (T, U) or not np.allclose(given, fresh[field], rtol=1e-9, atol=0.0):
            raise ValueError(f"{name}: instance.{field} disagrees with the physics for the given users")
    return DjtcraInstance(eta=arrays["eta"], link_rate=arrays["link_rate"], link_delay=arrays["link_delay"], **slots, **fresh)


# ---------------------------------------------------------- slot lookups
def at_slot(array, t):
    """``array[..., t, :]`` per batch entry (``t`` is ``(*b,)``)."""
    t = np.asarray(t)
    return np.take_along_axis(array, t[..., None, None], axis=-2)[..., 0, :]


def slot(instance: DjtcraInstance, t) -> dict:
    """The ``(*b, U)`` arrays of slot ``t``."""
    return {k: at_slot(getattr(instance, k), t) for k in SLOT_FIELDS + DERIVED_FIELDS}


def forwarding(instance: DjtcraInstance, s: dict, assignment):
    """``(*b, U)`` forwarding latency d^f from the connected RAN to the chosen ES (eq. 6); 0 if the same."""
    H = instance.link_rate.shape[-1]
    flat = (s["ran"] * H + assignment)
    lead = instance.link_rate.shape[:-2]
    rate = np.take_along_axis(instance.link_rate.reshape(lead + (H * H,)), flat, axis=-1)
    delay = np.take_along_axis(instance.link_delay.reshape(lead + (H * H,)), flat, axis=-1)
    same = s["ran"] == assignment
    fwd = channel.forwarding_latency(s["task_volume"], s["result_volume"], np.where(same, 1.0, rate), delay)
    return np.where(same, 0.0, fwd)


def work(instance: DjtcraInstance, s: dict, assignment):
    """``(*b, U)`` eta_u^h V^T kappa (cycles) at the chosen ES: d^p = work / p (eq. 8)."""
    eta = np.take_along_axis(instance.eta, assignment[..., None], axis=-1)[..., 0]
    return eta * compute.task_cycles(s["task_volume"], s["cycles_per_bit"])


def rows(config, instance: DjtcraInstance, t) -> np.ndarray:
    """``(*b, U, 9)`` float32 rows [h, V^T, V^R, kappa, alpha, beta, distance, B_u, N_u] (eq. 18-19)."""
    s = {k: at_slot(getattr(instance, k), t) for k in SLOT_FIELDS}
    h = s["ran"] + 1.0
    if config.observation_scale == "si":
        cols = [h, s["task_volume"], s["result_volume"], s["cycles_per_bit"], s["alpha"], s["beta"],
                s["distance"], s["bandwidth"], s["noise"]]
    else:
        lo, hi = config.noise_dbm_range
        noise = np.clip((units.watt_to_dbm(s["noise"]) - lo) / max(hi - lo, 1e-9), 0.0, None)
        cols = [
            h / config.n_servers,
            s["task_volume"] / config.task_volume_range[1],
            s["result_volume"] / max(config.result_volume_range[1], 1.0),
            s["cycles_per_bit"] / config.cycles_per_bit_range[1],
            s["alpha"] / config.alpha_mean,
            s["beta"] / config.beta_mean,
            s["distance"] / config.distance_range[1],
            s["bandwidth"] / config.bandwidth_range[1],
            noise,
        ]
    return np.stack(cols, axis=-1).astype(np.float32)


def layout(config, instance: DjtcraInstance, t):
    """Positions for the picture: RAN 0 in the middle, the others on a ring; users around their RAN."""
    H, U = config.n_servers, config.num_users
    ring = 4.0 * config.distance_range[1]
    angle = 2 * np.pi * np.arange(H) / max(H - 1, 1)
    servers = np.stack([np.cos(angle), np.sin(angle)], axis=-1) * ring
    servers[0] = 0.0
    s = {k: at_slot(getattr(instance, k), t) for k in ("ran", "distance")}
    phi = 2 * np.pi * ((np.arange(U) * 0.6180339887) % 1.0)
    users = servers[s["ran"]] + s["distance"][..., None] * np.stack([np.cos(phi), np.sin(phi)], axis=-1)
    shift = ring + 1.5 * config.distance_range[1]
    return servers + shift, users + shift, (2 * shift, 2 * shift)
