"""FIFO task buffers over pre-drawn arrivals (PFR-OA Sec. III: tasks that enter first run first).

An ED's tasks for the whole episode are drawn at reset, in arrival order, into
arrays ``(..., K)`` (arrival time, data volume, cycles); unused slots hold an
arrival time of ``inf``. The buffer of an ED is then the window ``[head, tail)``
of that array: ``tail`` counts the tasks that have arrived, ``head`` the tasks
that left (started or dropped). It is a ring buffer that never wraps, because
the episode's arrivals are known, so pushing is free and popping is ``head += 1``.
Every function works on all EDs at once through the last axis; none loops.

The second part (below the "slot queues" line) holds the real-valued task
queues of a slotted Lyapunov model (DRLH paper, eq. 1-2, 15-16, 22): backlogs
as task counts per UE, virtual queues, Poisson counts per slot; ``None`` for
a queue bound means "no bound" (the virtual queue stays at zero). LyDROO's
data queues (bits) and virtual energy queues use the same two updates.
"""

from __future__ import annotations

import numpy as np


def poisson_arrivals(rng: np.random.Generator, rate: float, capacity: int, shape: tuple) -> np.ndarray:
    """Arrival times (s) of a Poisson process of ``rate`` tasks/s, ``shape + (capacity,)``.

    Cumulated exponential gaps: inside any sub-slot the arrivals are uniform,
    as a Poisson process has them. ``capacity`` must exceed what an episode can
    plausibly hold (the caller sizes it); later arrivals fall off the episode.
    """
    gaps = rng.exponential(1.0 / rate, size=tuple(shape) + (capacity,))
    return np.cumsum(gaps, axis=-1)


def arrived(arrival_time, now) -> np.ndarray:
    """``tail``: how many tasks arrived strictly before ``now`` (broadcastable to the per-ED shape)."""
    now = np.asarray(now, dtype=float)
    return np.count_nonzero(np.asarray(arrival_time) < now[..., None], axis=-1)


def head_value(values, head) -> np.ndarray:
    """The head-of-queue entry of ``values`` (``(..., K)``) at index ``head`` (``(...)``), clipped to K - 1."""
    values = np.asarray(values)
    index = np.minimum(np.asarray(head), values.shape[-1] - 1)
    flat = values.reshape(-1, values.shape[-1])  # flat indexing: ~2x faster than take_along_axis here
    return flat[np.arange(flat.shape[0]), index.reshape(-1)].reshape(index.shape)


def length(arrival_time, head, now) -> np.ndarray:
    """Tasks waiting in the buffer at ``now``: ``tail - head`` (never negative)."""
    return np.maximum(arrived(arrival_time, now) - np.asarray(head), 0)


def expire(arrival_time, head, now, deadline: float):
    """Drop every queued task whose waiting time has reached ``deadline`` at ``now``.

    Arrival order makes the expired tasks a prefix of the buffer, so the new
    head is ``max(head, #tasks that arrived at or before now - deadline)``.
    Returns ``(new_head, dropped)``.
    """
    head = np.asarray(head)
    cutoff = np.asarray(now, dtype=float)[..., None] - deadline
    stale = np.count_nonzero(np.asarray(arrival_time) <= cutoff, axis=-1)
    new_head = np.maximum(head, stale)
    return new_head, new_head - head


def window_sum(values, start, stop) -> np.ndarray:
    """Sum of ``values[..., k]`` over ``start <= k < stop`` per ED (e.g. the arrival times of dropped tasks)."""
    k = np.arange(np.shape(values)[-1])
    inside = (k >= np.asarray(start)[..., None]) & (k < np.asarray(stop)[..., None])
    return np.where(inside, values, 0.0).sum(axis=-1)


# ---- Per-boundary count tables: the fast path of ``arrived`` and ``expire`` (tests hold them equal).
def boundary_slots(times, thresholds, strict: bool) -> np.ndarray:
    """First index s of the shared, increasing ``thresholds`` at which each time counts:
    ``time < thresholds[s]`` (``strict``) or ``time <= thresholds[s]``."""
    return np.searchsorted(np.asarray(thresholds), np.asarray(times), side="right" if strict else "left")


def counts_by_boundary(slots, n_boundaries: int) -> np.ndarray:
    """``(..., K)`` slots -> ``(..., n_boundaries)`` with ``out[..., s] = #(slots <= s)``.

    A cumulative histogram: one ``bincount`` over all rows at once (row r's
    bins offset by r (n_boundaries + 1); slots past the last boundary land in
    a spill bin that is dropped), then a cumulative sum along the boundaries.
    """
    slots = np.asarray(slots)
    lead, k = slots.shape[:-1], slots.shape[-1]
    flat = np.minimum(slots, n_boundaries).reshape(-1, k)
    rows = flat.shape[0]
    width = n_boundaries + 1
    keys = (np.arange(rows)[:, None] * width + flat).ravel()
    hist = np.bincount(keys, minlength=rows * width).reshape(rows, width)[:, :n_boundaries]
    return np.cumsum(hist, axis=-1).reshape(lead + (n_boundaries,))


def arrival_tables(arrival_time, sub_slot: float, deadline: float, n_boundaries: int):
    """``(ready, stale, prefix)`` for boundaries s = 0 .. n_boundaries - 1 at times s tau:
    ``ready[..., s] = arrived(arrival_time, s tau)``, ``stale[..., s]`` = tasks that have waited
    >= ``deadline`` at s tau, and ``prefix[..., k]`` = sum of the first k (finite) arrival times."""
    arrival_time = np.asarray(arrival_time, dtype=float)
    boundaries = np.arange(n_boundaries) * sub_slot  # the same float expression as the step's clock
    ready = counts_by_boundary(boundary_slots(arrival_time, boundaries, strict=True), n_boundaries)
    stale = counts_by_boundary(boundary_slots(arrival_time, boundaries - deadline, strict=False), n_boundaries)
    finite = np.where(np.isfinite(arrival_time), arrival_time, 0.0)
    prefix = np.concatenate([np.zeros(arrival_time.shape[:-1] + (1,)), np.cumsum(finite, axis=-1)], axis=-1)
    return ready, stale, prefix


def at_boundary(table, t) -> np.ndarray:
    """``table[..., t]`` per batch entry: ``table`` is ``(*b, m, n, S)``, ``t`` is ``(*b,)``."""
    table = np.asarray(table)
    index = np.asarray(t)[..., None, None, None]
    index = np.broadcast_to(index, table.shape[:-1] + (1,))
    return np.take_along_axis(table, index, axis=-1)[..., 0]


def refresh(values, head, changed, current) -> np.ndarray:
    """``current`` with ``values[..., head]`` read only where ``changed`` (the head moved).

    Cheaper than :func:`head_value` over a whole batch when few heads move in a sub-slot.
    """
    out = np.array(current, copy=True)
    where = np.nonzero(changed)
    if where[0].size:
        index = np.minimum(np.asarray(head)[where], np.shape(values)[-1] - 1)
        out[where] = np.asarray(values)[where + (index,)]
    return out


# ---- Slot queues (DRLH paper; LyDROO): real-valued backlogs per device, updated once per slot.
def local_queue_update(queue, served, arrivals):
    """Q(t+1) = max(Q(t) - served(t), 0) + arrivals(t): a slot queue served before its arrivals join.

    DRLH eq. 1 (Q^L in tasks, mu^L served, Lambda arrivals); LyDROO's data
    queue Q_i(t+1) = max(Q_i(t) - r_i(t) T, 0) + A_i(t) in bits.
    """
    return np.maximum(np.asarray(queue, dtype=float) - served, 0.0) + arrivals


def edge_queue_update(queue, served, offloaded):
    """Q^E(t+1) = max(Q^E(t) - mu^E(t), 0) + u^E(t) (DRLH eq. 2)."""
    return np.maximum(np.asarray(queue, dtype=float) - served, 0.0) + offloaded


def virtual_queue_update(virtual, next_queue, bound):
    """Z(t+1) = max(Z(t) + x(t) - bound, 0): a virtual queue that grows while x exceeds its bound.

    DRLH eq. 15 (x = Q^L(t+1), bound Q^L_max) and eq. 16 (Q^E); LyDROO's energy
    queue Y_i(t+1) = max(Y_i(t) + nu (e_i(t) - gamma_i), 0) with x = nu e_i and
    bound nu gamma_i. ``bound=None`` (no constraint) keeps the virtual queue at zero.
    """
    virtual = np.asarray(virtual, dtype=float)
    if bound is None:
        return np.zeros_like(virtual)
    return np.maximum(virtual + next_queue - bound, 0.0)


def drift_plus_penalty(weight_local, weight_edge, local_rate, arrivals, edge_rate, offloaded_edge, power, v):
    """G(X(t)) of DRLH eq. 22, summed over the last (UE) axis.

    ``weight_local`` = Q^L + Z^L, ``weight_edge`` = Q^E + Z^E, ``local_rate`` =
    mu^L = u^L + u^E + u^C, ``edge_rate`` = mu^E, ``power`` the per-UE power
    terms of p(t) (W), ``v`` the Lyapunov factor.
    """
    per_ue = -weight_local * (local_rate - arrivals) - weight_edge * (edge_rate - offloaded_edge) + v * power
    return per_ue.sum(axis=-1)


def poisson_counts(uniform, mean: float):
    """Poisson(``mean``) task counts per slot by inverting the CDF at uniforms on [0, 1) (DRLH's Lambda(t))."""
    u = np.asarray(uniform, dtype=float)
    if mean <= 0.0:
        return np.zeros(u.shape)
    top = int(np.ceil(mean + 12.0 * np.sqrt(mean) + 20.0))  # P(N > top) < 1e-20
    k = np.arange(top + 1)
    log_pmf = k * np.log(mean) - mean - np.cumsum(np.log(np.maximum(k, 1)))
    cdf = np.cumsum(np.exp(log_pmf))
    return np.minimum(np.searchsorted(cdf, u, side="right"), top).astype(float)
