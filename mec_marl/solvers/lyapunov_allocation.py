"""LyDROO's per-slot resource allocation for a given binary decision (problem P4, Algorithm 1).

Bi, Huang, Wang & Zhang, "Lyapunov-guided deep reinforcement learning for
stable online computation offloading in mobile-edge computing networks",
IEEE TWC 2021, Sec. IV-B. Given the offloading decision x, the data queues
Q_i (bits) and the virtual energy queues Y_i, the slot's drift-plus-penalty
bound is maximised by

    max  sum_i b_i d_i - y_i e_i,   b_i = (Q_i / D + V w_i) / D,  y_i = c_Y Y_i,

over the bits d_i each device processes this slot and the energy e_i it
spends (D = ``data_unit``: LyDROO measures Q and r in Mbit; c_Y = LyDROO's
``Y_factor``). A local device runs its CPU at f for the slot: d = f T / phi,
e = kappa f^3 T, 0 <= f <= min(phi Q / T, f_max); the objective is concave in
f, so

    f* = min(sqrt(b / (3 phi kappa y)), phi Q / T, f_max)      (y = 0: the upper bound).

Offloading devices share the slot (sum tau_i <= T) and transmit at power
P <= P_max: rate R = (W / v_u) log2(1 + P h / N_0), d = R tau <= Q, e = P tau.
In (d, tau) the energy tau P(d / tau) is the perspective of a convex function,
so the problem is convex. With the price mu of the time constraint each
device's Lagrangian is linear in d at a fixed rate R = d / tau: the profit
per bit is b - (mu + y P(R)) / R, whose best rate solves
y P'(R) R = mu + y P(R), i.e.

    R*(mu) = W / (v_u ln 2) (1 + W_0((mu h / (y N_0) - 1) / e)),   capped at R_max = R(P_max)

(the per-bit cost is unimodal in R, so the cap is a clip; y = 0: R_max).
A device sends its whole queue if its profit is positive, nothing otherwise,
so the time used falls with mu: bisection on mu finds the smallest price
whose time fits in T (geometric steps: mu* spans many decades). At mu* the
rates are fixed and the bits come from a linear program,

    max sum p_i d_i  s.t.  sum d_i / R_i <= T,  0 <= d_i <= Q_i,   p_i = b_i - y_i P(R_i) / R_i,

which LyDROO hands to ``linprog``. It is a fractional knapsack and the greedy
is exact: fill devices with p_i > 0 in decreasing p_i R_i (value per second of
slot) until T is used up. Proof: for any feasible d, moving dt seconds from a
device of lower density to one of higher density that is not yet full changes
the objective by (p_j R_j - p_i R_i) dt >= 0, so an optimum exists in which no
such move is possible, i.e. every device before the first unfilled one is
full and every device after it is empty -- the greedy solution; devices with
p_i <= 0 only lose value. Everything is numpy over a flat batch of rows
(instances x candidate decisions); the only loop is over bisection steps.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mec_marl.physics.compute import execution_power
from mec_marl.physics.wireless_power import transmit_power, transmit_rate

BISECTION_STEPS = 24  # geometric steps over MU_DECADES: mu* within ~2e-6 relative; the exact LP absorbs the rest
MU_DECADES = 15.0
HALLEY_STEPS = 2  # from a guess within ~2 %: ~1e-16
CHUNK = 32768  # rows solved at a time: bounds the temporaries' memory


@dataclasses.dataclass(frozen=True)
class LyapunovSystem:
    """Constants of the per-slot problem (SI; LyDROO's values by default).

    Attributes:
        cycles_per_bit: phi. kappa: energy efficiency (J / cycle^3 s^2).
        bandwidth: W (Hz). overhead: v_u. noise_power: N_0 (W).
        max_power: P_max (W). max_cpu_freq: f_max (Hz). slot: T (s).
        lyapunov_v: V. energy_queue_weight: c_Y (LyDROO's ``Y_factor``).
        data_unit: D (bits) in which Q and the served bits enter the objective.
    """

    cycles_per_bit: float = 100.0
    kappa: float = 1e-26
    bandwidth: float = 2e6
    overhead: float = 1.1
    noise_power: float = 2e6 * 10 ** (-17.4) * 1e-3
    max_power: float = 0.1
    max_cpu_freq: float = 300e6
    slot: float = 1.0
    lyapunov_v: float = 20.0
    energy_queue_weight: float = 10.0
    data_unit: float = 1e6


@dataclasses.dataclass(frozen=True)
class QueuedAllocation:
    """The optimum of P4 per (instance, decision) row, arrays over the batch shape ``*b``.

    Attributes:
        objective: ``(*b,)`` sum_i b_i d_i - y_i e_i (module docstring).
        bits: ``(*b, N)`` bits processed this slot (locally or offloaded), <= Q_i.
        energy: ``(*b, N)`` energy spent (J).
        cpu_freq: ``(*b, N)`` local CPU frequency (Hz; 0 for offloaders).
        time: ``(*b, N)`` transmission time tau_i (s; 0 for local devices).
        power: ``(*b, N)`` transmit power (W; 0 where nothing is sent).
        dual: ``(*b,)`` mu*, the price of the slot's time (objective per second).
    """

    objective: np.ndarray
    bits: np.ndarray
    energy: np.ndarray
    cpu_freq: np.ndarray
    time: np.ndarray
    power: np.ndarray
    dual: np.ndarray


def bit_value(system: LyapunovSystem, queue, weights):
    """b_i = (Q_i / D + V w_i) / D: the objective's value of one processed bit."""
    return (np.asarray(queue, dtype=float) / system.data_unit + system.lyapunov_v * np.asarray(weights)) / system.data_unit


def local_frequency(system: LyapunovSystem, queue, value, energy_price):
    """f* = min(sqrt(b / (3 phi kappa y)), phi Q / T, f_max) (module docstring); y = 0: the upper bound."""
    top = np.minimum(system.cycles_per_bit * np.asarray(queue, dtype=float) / system.slot, system.max_cpu_freq)
    y = np.asarray(energy_price, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        free = np.sqrt(value / (3.0 * system.cycles_per_bit * system.kappa * np.where(y > 0, y, 1.0)))
    return np.where(y > 0, np.minimum(free, top), top)


def lambert_w0(z, steps: int = HALLEY_STEPS):
    """Real principal-branch Lambert W for z >= -1/e (smaller z is read as -1/e; z = inf gives inf).

    scipy.special.lambertw works in complex arithmetic (~0.5 us per value) and
    dominates a bisection over many candidate decisions; here the branch-point
    series (z < -1/4) or Winitzki's approximation (elsewhere, within ~2 %) is
    polished by Halley steps (cubic convergence). Tested against scipy.
    """
    x = np.maximum(np.asarray(z, dtype=float), -1.0 / np.e)
    infinite = np.isinf(x)
    if infinite.any():
        x = np.where(infinite, 0.0, x)
    p = np.sqrt(np.maximum(2.0 * (np.e * x + 1.0), 0.0))
    l1 = np.log1p(x)
    w = np.where(x < -0.25, -1.0 + p * (1.0 - p * (1.0 / 3.0 - 11.0 / 72.0 * p)), l1 * (1.0 - np.log1p(l1) / (2.0 + l1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(steps):
            ew = np.exp(w)
            f = w * ew - x
            wp1 = w + 1.0
            new = w - f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1))
            w = np.where(np.isfinite(new), np.maximum(new, -1.0), w)  # w = -1 exactly at z = -1/e
    return np.where(infinite, np.inf, w) if infinite.any() else w


class _Offloaders:
    """The active offloaders of a chunk, flattened: each bisection step touches nothing else."""

    def __init__(self, system: LyapunovSystem, gain, queue, value, y, rate_max, active):
        self.rows = active.shape[0]
        self.row, self.col = row, col = np.nonzero(active)
        self.queue, self.value, self.y = queue[row, col], value[row, col], y[row, col]
        self.rate_max = rate_max[row, col]
        self.k = system.noise_power / gain[row, col]  # P = k (2^(R v_u / W) - 1)
        self.priced = self.y > 0
        self.inv_yk = np.where(self.priced, 1.0 / np.where(self.priced, self.y * self.k, 1.0), 0.0)
        self.nats_per_bit = system.overhead * np.log(2.0) / system.bandwidth
        self.slot = system.slot

    def rate(self, mu_rows):
        """R*(mu) of each offloader (module docstring); mu is per row."""
        z = (mu_rows[self.row] * self.inv_yk - 1.0) / np.e
        free = (1.0 + lambert_w0(z)) / self.nats_per_bit
        return np.where(self.priced, np.minimum(free, self.rate_max), self.rate_max)

    def time_used(self, mu_rows):
        """Per row: the time the offloaders whose profit is positive at price mu need for their queues."""
        rate = self.rate(mu_rows)
        ok = rate > 0
        safe = np.where(ok, rate, 1.0)
        power = self.k * np.expm1(self.nats_per_bit * safe)
        profit = self.value - (mu_rows[self.row] + self.y * power) / safe
        tau = np.where(ok & (profit > 0), self.queue / safe, 0.0)
        return np.bincount(self.row, tau, minlength=self.rows)

    def price(self, hi):
        """The smallest price whose time fits in the slot, by geometric bisection below ``hi``."""
        lo = hi * 10.0 ** (-MU_DECADES)
        fits_at_lo = self.time_used(lo) <= self.slot
        for _ in range(BISECTION_STEPS):
            mid = np.sqrt(lo * hi)
            fits = self.time_used(mid) <= self.slot
            hi, lo = np.where(fits, mid, hi), np.where(fits, lo, mid)
        return np.where(fits_at_lo, lo, hi)


def _greedy_bits(system, queue, rate, per_bit, usable):
    """The exact LP solution (module docstring): fill by p_i R_i until the slot is used."""
    density = np.where(usable, per_bit * rate, -np.inf)
    order = np.argsort(-density, axis=-1, kind="stable")
    q = np.take_along_axis(np.where(usable, queue, 0.0), order, axis=-1)
    r = np.take_along_axis(np.where(usable, rate, 1.0), order, axis=-1)
    full_time = q / r
    before = np.cumsum(full_time, axis=-1) - full_time
    sorted_bits = np.minimum(q, np.maximum(system.slot - before, 0.0) * r)
    bits = np.empty_like(sorted_bits)
    np.put_along_axis(bits, order, sorted_bits, axis=-1)
    return bits


def _solve_rows(system: LyapunovSystem, gain, offload, queue, energy_queue, weights):
    value = bit_value(system, queue, weights)
    y = system.energy_queue_weight * energy_queue
    # Local devices: closed form.
    f = np.where(offload, 0.0, local_frequency(system, queue, value, y))
    local_bits = f * system.slot / system.cycles_per_bit
    local_energy = execution_power(f, system.kappa) * system.slot
    # Offloading devices: bisection on mu, then the greedy LP at mu's rates.
    rate_max = transmit_rate(gain, system.max_power, system.bandwidth, system.overhead, system.noise_power)
    active = offload & (queue > 0) & (rate_max > 0)
    hi = np.max(np.where(active, value * rate_max, 0.0), axis=-1)
    hi = np.maximum(hi, np.finfo(float).tiny)  # at mu >= max b R_max no device profits
    offloaders = _Offloaders(system, gain, queue, value, y, rate_max, active)
    mu = offloaders.price(hi)
    rate = np.zeros_like(gain)
    rate[offloaders.row, offloaders.col] = offloaders.rate(mu)
    usable = active & (rate > 0)
    power = np.where(usable, transmit_power(gain, rate, system.bandwidth, system.overhead, system.noise_power), 0.0)
    per_bit = value - y * power / np.where(usable, rate, 1.0)
    usable &= per_bit > 0
    sent = _greedy_bits(system, queue, rate, per_bit, usable)
    tau = np.where(usable, sent / np.where(usable, rate, 1.0), 0.0)
    power = np.where(sent > 0, power, 0.0)
    bits = np.where(offload, sent, local_bits)
    energy = np.where(offload, power * tau, local_energy)
    objective = (value * bits - y * energy).sum(axis=-1)
    return objective, bits, energy, f, tau, power, mu


def allocate(system: LyapunovSystem, gain, offload, queue, energy_queue, weights) -> QueuedAllocation:
    """The optimum of P4 for every row: ``gain``, ``offload``, ``queue``, ``energy_queue`` broadcast
    to ``(*b, N)`` (e.g. candidates ``(*b, K, N)`` against states ``(*b, 1, N)``); ``weights`` ``(N,)``."""
    offload = np.asarray(offload) > 0
    arrays = np.broadcast_arrays(np.asarray(gain, dtype=float), offload, np.asarray(queue, dtype=float),
                                 np.asarray(energy_queue, dtype=float))
    shape = arrays[0].shape
    n = shape[-1]
    flat = [a.reshape(-1, n) for a in arrays]
    rows = flat[0].shape[0]
    weights = np.asarray(weights, dtype=float)
    out = [np.empty(rows), *(np.empty((rows, n)) for _ in range(5)), np.empty(rows)]
    for start in range(0, rows, CHUNK):
        sl = slice(start, min(start + CHUNK, rows))
        for buf, part in zip(out, _solve_rows(system, *(a[sl] for a in flat), weights)):
            buf[sl] = part
    batch = shape[:-1]
    objective, bits, energy, f, tau, power, mu = out
    return QueuedAllocation(objective.reshape(batch), bits.reshape(shape), energy.reshape(shape),
                            f.reshape(shape), tau.reshape(shape), power.reshape(shape), mu.reshape(batch))


def best_decision(system: LyapunovSystem, gain, queue, energy_queue, candidates, weights):
    """The best of K candidate decisions per state (ties: the first).

    ``gain``, ``queue``, ``energy_queue`` ``(*b, N)``; ``candidates`` ``(*b, K, N)`` or ``(K, N)``.
    Returns ``(decision (*b, N) bool, objective (*b,), index (*b,))``.
    """
    cand = np.asarray(candidates) > 0
    gain = np.asarray(gain, dtype=float)
    if cand.ndim == 2:
        cand = np.broadcast_to(cand, gain.shape[:-1] + cand.shape)
    value = allocate(system, gain[..., None, :], cand, np.asarray(queue)[..., None, :],
                     np.asarray(energy_queue)[..., None, :], weights).objective
    index = np.argmax(value, axis=-1)
    decision = np.take_along_axis(cand, index[..., None, None], axis=-2)[..., 0, :]
    return decision, np.take_along_axis(value, index[..., None], axis=-1)[..., 0], index
