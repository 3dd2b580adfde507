"""Closed-form and dual-decomposition resource allocation for one MEC cell.

The continuous part of CPDRL's problem (eq. 10) once the binary offloading
vector ``a`` is fixed, with the SPEC's soft deadline (C1 becomes the tardiness
penalty ``w_t * max(0, T_n - tau)``, the same term as the reward's):

* :func:`sqrt_shares` / :func:`proportional_shares` -- split a budget among
  users (KKT rule of ``min sum w_n / x_n  s.t.  sum x_n = total``, and the
  plain proportional rule).
* :func:`local_cpu_optimum` -- the local CPU frequency (eq. 1-2, C3).
* :func:`offload_resources` -- the offloaders' bandwidth and transmit power
  (eq. 3, 5-6, C2, C4) with the edge delay of eq. 7 held fixed.
* :func:`offload_cost`, :func:`local_cpu_cost` -- the penalised costs that the
  two optimisers minimise, evaluated with :mod:`mec_marl.physics`.

Why :func:`offload_resources` is exact
--------------------------------------
Write ``t = D / (b L(p))`` for the upload time, ``L(p) = log2(1 + p g /
sigma^2)``. In the variables ``(b, t)`` the power is ``p = sigma^2 / g *
(2^(D / (b t)) - 1)`` and a user's cost is ``w_l t + w_e sigma^2/g *
t (2^(D/(b t)) - 1) + w_t max(0, t + T^e - tau)``. The energy term
``t phi(1/(b t))`` (``phi`` convex increasing) has Hessian determinant
``2 y^3 phi'(y) phi''(y) / b^2 >= 0`` (``y = 1/(b t)``), so it is jointly
convex; ``p <= P_max`` is ``b t >= D / L(P_max)``, a convex set. The whole
problem is therefore convex, Lagrangian duality on ``sum b = B`` is exact, and
for a bandwidth price ``mu`` each user's problem ``min_{b,p} cost + mu b`` has
one of three closed-form solutions:

* on time (``t < tau - T^e``): ``p`` minimises ``(w_l + w_e p) / L(p)``,
  ``b = sqrt(c_0 / mu)`` with ``c_0 = (w_l + w_e p) D / L(p)``;
* tardy (``t > tau - T^e``): the same with ``w_l + w_t`` in place of ``w_l``;
* at the deadline (``t = tau - T^e``, the kink): ``p`` minimises
  ``(w_l + w_e p) s + mu D / (s L(p))`` (``s = tau - T^e``), a convex 1-D
  problem whose stationarity condition ``y ln(y)^2 = mu D g ln2 / (w_e s^2
  sigma^2)`` (``y = 1 + p g / sigma^2``) is solved by a Lambert W; then
  ``b = D / (s L(p))``.

The first candidate that is self-consistent is optimal (the others are lower
bounds that it attains). ``minimise (w + w_e p) / L(p)`` is quasi-convex
(linear over concave) with the stationary point ``y (ln y - 1) = w g / (w_e
sigma^2) - 1``, i.e. ``y = exp(1 + W((w g / (w_e sigma^2) - 1) / e))``,
clipped to ``P_max``. The price ``mu`` is found by a safeguarded regula falsi
(Illinois) on ``log sum_n b_n(mu) = log B`` in ``log mu``; in the two pure
regimes ``b ~ mu^(-1/2)``, so this converges in very few steps. Finally the
bandwidths are rescaled to use exactly ``B`` and each power is re-optimised
for its bandwidth (exact, per user), so the returned pair is consistent.

No solver dependency: numpy only (``scipy.special.lambertw`` for a rare corner of
the power rule, when ``w g / (w_e sigma^2) < 1``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import lambertw

from mec_marl.physics import channel, compute

__all__ = [
    "sqrt_shares",
    "proportional_shares",
    "local_cpu_optimum",
    "local_cpu_cost",
    "offload_resources",
    "offload_cost",
]

_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #
def _broadcast_shape(name_arrays: dict, target=None) -> tuple:
    """Common broadcast shape of the named arrays; ValueError naming them if none."""
    shapes = [np.shape(v) for v in name_arrays.values()]
    if target is not None:
        shapes.append(tuple(target))
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        desc = ", ".join(f"{k}{np.shape(v)}" for k, v in name_arrays.items())
        if target is not None:
            desc += f" (target shape {tuple(target)})"
        raise ValueError(f"shape mismatch: cannot broadcast {desc}") from None
    if target is not None and shape != tuple(target):
        desc = ", ".join(f"{k}{np.shape(v)}" for k, v in name_arrays.items())
        raise ValueError(f"shape mismatch: {desc} must broadcast to {tuple(target)}")
    return shape


def _require(cond, message: str) -> None:
    if not np.all(cond):
        raise ValueError(message)


def _batch_total(total, batch_shape: tuple, name: str = "total") -> np.ndarray:
    """``total`` as an array of shape ``batch_shape + (1,)`` (scalar, per-row, or per-row with a trailing 1)."""
    t = np.asarray(total, dtype=float)
    if t.ndim == len(batch_shape) + 1 and t.shape[-1] == 1:
        t = t[..., 0]
    try:
        t = np.broadcast_to(t, batch_shape)
    except ValueError:
        raise ValueError(
            f"shape mismatch: {name} of shape {np.shape(total)} does not broadcast to the batch shape {batch_shape}"
        ) from None
    _require(~np.isnan(t), f"{name} must not be NaN")
    _require(t >= 0, f"{name} must be non-negative, got min {np.min(t) if t.size else 0}")
    return t[..., None]


def _shares(weights, total, mask, transform, rule: str) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    if w.ndim == 0:
        raise ValueError(f"{rule}: weights must have at least one axis (the users), got a scalar")
    if mask is None:
        m = np.ones(w.shape, dtype=bool)
    else:
        m = np.asarray(mask)
        if m.shape != w.shape:
            try:
                m = np.broadcast_to(m, w.shape)
            except ValueError:
                raise ValueError(
                    f"{rule}: shape mismatch: mask {np.shape(mask)} does not broadcast to weights {w.shape}"
                ) from None
        m = m.astype(bool)
    _require(~np.isnan(w), f"{rule}: weights must not be NaN")
    _require(np.where(m, w, 0.0) >= 0, f"{rule}: weights must be non-negative where mask is True")
    t = _batch_total(total, w.shape[:-1])
    s = np.where(m, transform(np.where(m, w, 0.0)), 0.0)
    denom = s.sum(axis=-1, keepdims=True)
    count = m.sum(axis=-1, keepdims=True)
    equal = np.where(m, 1.0, 0.0) / np.maximum(count, 1)
    frac = np.where(denom > 0, s / np.where(denom > 0, denom, 1.0), equal)
    return t * frac


# --------------------------------------------------------------------------- #
# shares
# --------------------------------------------------------------------------- #
def sqrt_shares(weights, total, mask=None) -> np.ndarray:
    """Square-root KKT split of a budget (CPDRL eq. 10, constraint C2).

    Solves ``min sum_n w_n / x_n  s.t.  sum_n x_n = total, x_n >= 0`` over the
    entries where ``mask`` is True: ``x_n = total sqrt(w_n) / sum_k sqrt(w_k)``
    (stationarity ``w_n / x_n^2 = mu``). With ``w_n = c_n = (l1 + l2 p_n) D_n /
    L_n`` it splits the bandwidth among offloaders (eq. 5-6); with ``w_n =
    D_n C_n`` it splits a server's CPU ``F`` (delay ``D C / f``, cf. eq. 7).

    Parameters
    ----------
    weights : array (..., n), non-negative; last axis = users.
    total : scalar or array broadcastable to the batch shape ``(...)`` (a
        trailing axis of length 1 is also accepted); non-negative.
    mask : optional bool array broadcastable to ``weights``; False entries get 0.

    Rows without any masked entry return zeros; rows whose masked weights are
    all zero split ``total`` equally among the masked entries.
    """
    return _shares(weights, total, mask, np.sqrt, "sqrt_shares")


def proportional_shares(weights, total, mask=None) -> np.ndarray:
    """Proportional split ``x_n = total w_n / sum_k w_k`` over the masked entries.

    The rule of PFR-OA's C4/C5 and of equal shares (all weights equal, CPDRL
    eq. 7). Same conventions as :func:`sqrt_shares`.
    """
    return _shares(weights, total, mask, lambda w: w, "proportional_shares")


# --------------------------------------------------------------------------- #
# local CPU
# --------------------------------------------------------------------------- #
def _check_weights(w_latency, w_energy, w_tardiness, fn: str) -> None:
    _require(np.asarray(w_latency, dtype=float) > 0, f"{fn}: w_latency must be > 0")
    _require(np.asarray(w_energy, dtype=float) >= 0, f"{fn}: w_energy must be >= 0")
    _require(np.asarray(w_tardiness, dtype=float) >= 0, f"{fn}: w_tardiness must be >= 0")


def local_cpu_cost(cycles, cpu_freq, kappa, w_latency, w_energy, tau, w_tardiness=1.0) -> np.ndarray:
    """Penalised local cost ``l1 T^l + l2 E^l + w_t max(0, T^l - tau)`` per user.

    ``T^l = D C / f`` (CPDRL eq. 1), ``E^l = kappa D C f^2`` (eq. 2); the last
    term is the SPEC's soft form of C1. Elementwise (broadcasting).
    """
    t = compute.local_latency(cycles, cpu_freq)
    e = compute.local_energy(cycles, cpu_freq, kappa)
    with np.errstate(invalid="ignore"):
        return w_latency * t + w_energy * e + w_tardiness * np.maximum(0.0, t - tau)


def local_cpu_optimum(cycles, f_max, kappa, w_latency, w_energy, tau, w_tardiness=1.0) -> np.ndarray:
    """Exact minimiser over ``f in (0, f_max]`` of the penalised local cost.

    Cost (CPDRL eq. 1-2, C3, and the SPEC's tardiness penalty for C1)::

        w_latency c / f + w_energy kappa c f^2 + w_tardiness max(0, c / f - tau),   c = D C.

    The cost is convex in ``f``. Candidates for the unconstrained minimiser:
    ``f0 = (w_l / (2 w_e kappa))^(1/3)`` if it meets the deadline
    (``c / f0 <= tau``), else ``f1 = ((w_l + w_t) / (2 w_e kappa))^(1/3)`` if it
    misses it (``c / f1 >= tau``), else the kink ``f = c / tau``. The result is
    clipped to ``f_max`` (optimal by convexity). ``w_energy = 0`` gives
    ``f_max``. All arguments broadcast; ``w_latency`` must be positive.
    """
    fn = "local_cpu_optimum"
    args = dict(cycles=cycles, f_max=f_max, kappa=kappa, w_latency=w_latency,
                w_energy=w_energy, tau=tau, w_tardiness=w_tardiness)
    shape = _broadcast_shape(args)
    c = np.broadcast_to(np.asarray(cycles, dtype=float), shape)
    fmax = np.broadcast_to(np.asarray(f_max, dtype=float), shape)
    kap = np.asarray(kappa, dtype=float)
    wl = np.asarray(w_latency, dtype=float)
    we = np.asarray(w_energy, dtype=float)
    wt = np.asarray(w_tardiness, dtype=float)
    tau_ = np.asarray(tau, dtype=float)
    _check_weights(wl, we, wt, fn)
    _require(c >= 0, f"{fn}: cycles must be non-negative")
    _require(fmax > 0, f"{fn}: f_max must be positive")
    _require(kap >= 0, f"{fn}: kappa must be non-negative")
    _require(tau_ > 0, f"{fn}: tau must be positive")
    denom = 2.0 * we * kap
    with np.errstate(divide="ignore", invalid="ignore"):
        f0 = np.cbrt(wl / denom)  # inf where w_e kappa = 0
        f1 = np.cbrt((wl + wt) / denom)
        f_kink = c / tau_
    f = np.where(f0 >= f_kink, f0, np.where(f1 <= f_kink, f1, f_kink))
    f = np.minimum(f, fmax)
    return np.broadcast_to(f, shape).astype(float, copy=True)


# --------------------------------------------------------------------------- #
# offloaders: bandwidth and power
# --------------------------------------------------------------------------- #
def _lambertw_log(lnx, iters: int = 3) -> np.ndarray:
    """Principal Lambert W of ``x = exp(lnx) > 0`` (Winitzki start + 3 Newton steps on ``w + ln w = ln x``).

    Relative error ~4e-15 over ``lnx in [-700, 700]``; works on ``ln x`` so that
    huge arguments do not overflow.
    """
    l1 = np.logaddexp(0.0, lnx)
    w = l1 * (1.0 - np.log1p(l1) / (2.0 + l1))
    for _ in range(iters):
        w = w / (1.0 + w) * (1.0 + lnx - np.log(w))
    return w


def _best_power(w, w_energy, snr_per_watt, p_max) -> np.ndarray:
    """``argmin_{0 < p <= p_max} (w + w_e p) / log2(1 + p G)`` (the energy-delay
    coefficient of eq. 5-6 per bit per Hz), ``G = g / sigma^2``.

    Quasi-convex (linear over concave); stationary point ``y (ln y - 1) =
    w G / w_e - 1`` with ``y = 1 + p G``, i.e. ``y = exp(1 + W((w G / w_e - 1)/e))``.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = w * snr_per_watt / w_energy  # w G / w_e >= 0
        finite = np.isfinite(ratio)
        ratio = np.where(finite, ratio, 2.0)
        pos = ratio > 1.0
        # W(x) for x = (ratio - 1) / e > 0 through ln x (no overflow, fast)
        lw = _lambertw_log(np.log(np.where(pos, ratio - 1.0, 2.0)) - 1.0)
        if not np.all(pos):  # -1/e <= x <= 0: rare (tiny SNR); principal branch from scipy
            x = np.maximum((ratio - 1.0) / math.e, -1.0 / math.e)
            lw = np.where(pos, lw, lambertw(np.where(pos, 0.0, x)).real)
        p = np.expm1(1.0 + lw) / snr_per_watt
    return np.where(finite, np.minimum(p, p_max), p_max)


def offload_cost(offload, data_bits, gain, edge_latency, bandwidth, power, noise_power,
                 w_latency, w_energy, tau, w_tardiness=1.0) -> np.ndarray:
    """Penalised upload cost per row, the objective of :func:`offload_resources`.

    For the offloaders of each row (``offload > 0`` on the last axis)::

        sum_n (w_l + w_e p_n) T^t_n + w_t max(0, T^t_n + T^e_n - tau)

    with ``T^t = D / (b log2(1 + p g / sigma^2))`` (CPDRL eq. 3, 5), the energy
    ``p T^t`` (eq. 6), the fixed edge delay ``T^e`` (eq. 7) and the SPEC's
    tardiness penalty for C1. The constant ``w_l T^e`` is *not* included.
    Returns shape ``offload.shape[:-1]``; ``inf`` for an offloader with zero rate.
    """
    a = np.asarray(offload)
    if a.ndim == 0:
        raise ValueError("offload_cost: offload must have a users axis")
    _broadcast_shape(dict(data_bits=data_bits, gain=gain, edge_latency=edge_latency,
                          bandwidth=bandwidth, power=power, tau=tau), a.shape)
    a = a > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = channel.shannon_rate(bandwidth, power, gain, noise_power)
        t_up = channel.upload_time(data_bits, rate)
        energy = channel.upload_energy(power, t_up)
        per_user = (w_latency * t_up + w_energy * energy
                    + w_tardiness * np.maximum(0.0, t_up + np.asarray(edge_latency, dtype=float) - tau))
    per_user = np.broadcast_to(per_user, a.shape)
    return np.where(a, per_user, 0.0).sum(axis=-1)


def offload_resources(offload, data_bits, gain, edge_latency, bandwidth_total, p_max, noise_power,
                      w_latency, w_energy, tau, w_tardiness=1.0, iters: int = 60, tol: float = 1e-13):
    """Optimal bandwidth and transmit power of the offloaders, per candidate vector.

    For each row ``v`` of ``offload`` (shape ``(..., n)``, 0/1 or bool; e.g.
    ``(V, n)`` for V candidate vectors) it solves (CPDRL eq. 3, 5-6, 10 with
    C2, C4; C1 as the SPEC's tardiness penalty; the edge delay ``T^e`` of
    eq. 7 is fixed by the vector)::

        min_{b, p}  sum_{n: a_n=1} (w_l + w_e p_n) D_n / (b_n L_n(p_n))
                                   + w_t max(0, D_n / (b_n L_n(p_n)) + T^e_n - tau)
        s.t.  sum_n b_n <= bandwidth_total,  b_n >= 0,  0 < p_n <= p_max,

    ``L(p) = log2(1 + p g / sigma^2)``. The problem is convex in (bandwidth,
    upload time); it is solved exactly by dual decomposition on the bandwidth
    price with closed-form per-user responses (see the module docstring):
    without tardiness this is the square-root rule (:func:`sqrt_shares`) with
    weights ``(w_l + w_e p_n) D_n / L_n(p_n)`` and each power minimising
    ``(w_l + w_e p) / L(p)``.

    Parameters
    ----------
    offload : (..., n) array; nonzero = offload.
    data_bits, gain, edge_latency, p_max, tau : arrays broadcastable to
        ``offload.shape`` (bits, linear gain, seconds, W, seconds).
    bandwidth_total : scalar or per-row array (shape ``offload.shape[:-1]``), Hz.
    noise_power, w_latency, w_energy, w_tardiness : scalars (W, weights);
        ``w_latency > 0``.
    iters : maximum number of regula-falsi steps on the price (each is a few
        vectorised numpy passes); ``tol`` the tolerance on ``log sum b - log B``.

    Returns
    -------
    (bandwidth, power) : two arrays of shape ``offload.shape``, zeros for local
    users. Rows whose bandwidth_total is 0 get zero bandwidth (infinite cost).
    """
    fn = "offload_resources"
    a = np.asarray(offload)
    if a.ndim == 0:
        raise ValueError(f"{fn}: offload must have a users axis (shape (..., n)), got a scalar")
    shape = a.shape
    _broadcast_shape(dict(data_bits=data_bits, gain=gain, edge_latency=edge_latency,
                          p_max=p_max, tau=tau), shape)
    a = a > 0
    for name, val in dict(noise_power=noise_power, w_latency=w_latency, w_energy=w_energy,
                          w_tardiness=w_tardiness).items():
        if np.ndim(val) != 0:
            raise ValueError(f"{fn}: {name} must be a scalar, got shape {np.shape(val)}")
    wl, we, wt = float(w_latency), float(w_energy), float(w_tardiness)
    sigma2 = float(noise_power)
    _check_weights(wl, we, wt, fn)
    _require(sigma2 > 0, f"{fn}: noise_power must be positive")
    D = np.broadcast_to(np.asarray(data_bits, dtype=float), shape)
    g = np.broadcast_to(np.asarray(gain, dtype=float), shape)
    Te = np.broadcast_to(np.asarray(edge_latency, dtype=float), shape)
    pmax = np.broadcast_to(np.asarray(p_max, dtype=float), shape)
    tau_ = np.broadcast_to(np.asarray(tau, dtype=float), shape)
    Btot = _batch_total(bandwidth_total, shape[:-1], name="bandwidth_total")
    _require(np.where(a, D, 0.0) >= 0, f"{fn}: data_bits must be non-negative")
    _require(np.where(a, g, 1.0) > 0, f"{fn}: gain must be positive for offloaders")
    _require(np.where(a, pmax, 1.0) > 0, f"{fn}: p_max must be positive for offloaders")
    _require(~np.isnan(np.where(a, Te, 0.0)), f"{fn}: edge_latency must not be NaN")

    # Users that take part in the price search: offloaders with data, in rows with bandwidth.
    active = a & (D > 0) & (Btot > 0)
    G = np.where(active, g, 1.0) / sigma2  # SNR per watt
    Dv = np.where(active, D, 1.0)
    slack = np.where(active, tau_ - Te, -1.0)  # time left for the upload
    slack = np.where(np.isnan(slack), -1.0, slack)
    umax = np.log1p(pmax * G)  # ln(1 + P_max G) = L(P_max) ln 2

    # Regime powers and coefficients (independent of the price).
    p_on = _best_power(wl, we, G, pmax)
    p_td = _best_power(wl + wt, we, G, pmax)
    L_on = channel.spectral_efficiency(p_on, G, 1.0)
    L_td = channel.spectral_efficiency(p_td, G, 1.0)
    e_on, e_td = Dv / L_on, Dv / L_td  # bandwidth * upload time
    sc_on = np.sqrt((wl + we * p_on) * e_on)  # sqrt(c_on)
    sc_td = np.sqrt((wl + wt + we * p_td) * e_td)  # sqrt(c_td), time weight w_l + w_t
    can_kink = (slack > 0) & np.isfinite(slack)
    sl_k = np.where(can_kink, slack, 1.0)
    use_w = can_kink & (we > 0)
    # ln of the Lambert argument of the kink response, minus 0.5 ln(mu)
    log_we = math.log(we) if we > 0 else 0.0
    kconst = np.where(use_w, 0.5 * (np.log(Dv) + np.log(G) + math.log(_LN2) - log_we) - np.log(sl_k) - _LN2, 0.0)
    ds = np.where(can_kink, Dv * _LN2 / sl_k, 0.0)  # kink bandwidth = ds / ln(1 + p G)

    def bandwidth_at(theta):
        """Each active user's best bandwidth at price mu = exp(theta) (theta shape (..., 1))."""
        ism = np.exp(-0.5 * theta)
        b_on = sc_on * ism
        b_td = sc_td * ism
        on_ok = e_on <= slack * b_on  # never when slack <= 0, always when slack = inf
        td_ok = e_td >= slack * b_td  # always when slack <= 0
        b = np.where(on_ok, b_on, b_td)
        kink = active & ~on_ok & ~td_ok  # implies 0 < slack < inf
        if kink.any():  # Lambert W only where needed
            ii = np.nonzero(kink)
            th = np.broadcast_to(theta, shape)[ii]
            u = np.where(use_w[ii], 2.0 * _lambertw_log(kconst[ii] + 0.5 * th), umax[ii])
            b[ii] = ds[ii] / np.minimum(u, umax[ii])
        return np.where(active, b, 0.0)

    has = active.any(axis=-1, keepdims=True)
    Bsafe = np.where(has, Btot, 1.0)
    logB = np.log(Bsafe)

    def phi(theta):
        s = bandwidth_at(theta).sum(axis=-1, keepdims=True)
        return np.where(has, np.log(np.where(has, s, 1.0)) - logB, 0.0)

    # Bracket: in the pure regimes b = sqrt(c / mu), so sum b = B at mu = (sum sqrt c / B)^2.
    th_lo = 2.0 * np.log(np.where(has, np.where(active, sc_on, 0.0).sum(-1, keepdims=True), 1.0) / Bsafe) - 1.0
    th_hi = 2.0 * np.log(np.where(has, np.where(active, sc_td, 0.0).sum(-1, keepdims=True), 1.0) / Bsafe) + 1.0
    f_lo, f_hi = phi(th_lo), phi(th_hi)
    for _ in range(200):  # expand until phi(lo) >= 0 >= phi(hi)
        bad_lo, bad_hi = f_lo < 0, f_hi > 0
        if not (bad_lo.any() or bad_hi.any()):
            break
        th_lo = np.where(bad_lo, th_lo - 4.0, th_lo)
        th_hi = np.where(bad_hi, th_hi + 4.0, th_hi)
        f_lo = np.where(bad_lo, phi(th_lo), f_lo)
        f_hi = np.where(bad_hi, phi(th_hi), f_hi)
    else:  # pragma: no cover - would need absurd inputs
        raise RuntimeError(f"{fn}: could not bracket the bandwidth price")

    # Illinois regula falsi in (log mu, log sum b); exact in one step in the pure regimes.
    pick_lo = np.abs(f_lo) <= np.abs(f_hi)
    best_th = np.where(pick_lo, th_lo, th_hi)  # best point so far and its true residual
    best_f = np.abs(np.where(pick_lo, f_lo, f_hi))
    side = np.zeros(th_lo.shape, dtype=np.int8)
    for _ in range(iters):
        if np.all((best_f <= tol) | (th_hi - th_lo <= tol)):
            break
        denom = f_lo - f_hi
        theta_rf = np.where(denom > 0, (th_lo * (-f_hi) + th_hi * f_lo) / np.where(denom > 0, denom, 1.0),
                            0.5 * (th_lo + th_hi))
        inside = (theta_rf > th_lo) & (theta_rf < th_hi)
        theta = np.where(inside, theta_rf, 0.5 * (th_lo + th_hi))
        f_th = phi(theta)
        better = np.abs(f_th) < best_f
        best_th = np.where(better, theta, best_th)
        best_f = np.where(better, np.abs(f_th), best_f)
        go_lo = f_th >= 0  # the root is above theta
        # Illinois: halve the retained end's value when the same end is kept twice
        f_hi = np.where(go_lo & (side == 1), 0.5 * f_hi, f_hi)
        f_lo = np.where(~go_lo & (side == -1), 0.5 * f_lo, f_lo)
        th_lo = np.where(go_lo, theta, th_lo)
        f_lo = np.where(go_lo, f_th, f_lo)
        th_hi = np.where(go_lo, th_hi, theta)
        f_hi = np.where(go_lo, f_hi, f_th)
        side = np.where(go_lo, np.int8(1), np.int8(-1))
    theta = best_th

    b = bandwidth_at(theta)
    s = b.sum(axis=-1, keepdims=True)
    b = np.where(active, b * (Bsafe / np.where(s > 0, s, 1.0)), 0.0)  # use all of B exactly

    # Exact best power for the final bandwidths (per user).
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bpos = np.where(b > 0, b, 1.0)
        on_ok = e_on <= slack * bpos
        td_ok = e_td >= slack * bpos
        p_kink = np.minimum(np.expm1(ds / bpos) / G, pmax)
    p = np.where(on_ok, p_on, np.where(td_ok, p_td, p_kink))
    # Inactive offloaders (no data, or no bandwidth in the row): the tardy power, zero bandwidth.
    p = np.where(active, p, np.where(a, p_td, 0.0))
    b = np.where(a, b, 0.0)
    return b, p
