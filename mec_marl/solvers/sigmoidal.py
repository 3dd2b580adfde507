"""Sum-of-sigmoids resource allocation: share a capacity among users whose value is a sigmoid.

The DJTCRA paper's per-server problem P2 (eq. 17, constraints C2, C3): an edge
server with capacity C splits it among its users, user i's QoE being a sigmoid
of its service latency ``c_i + a_i / x_i`` (eq. 11)::

    maximise   sum_i f_i(x_i)
    subject to sum_i x_i <= C,  x_i >= 0,
    f_i(x) = max(q_i, L_i / (1 + exp(alpha_i (c_i + a_i / x - beta_i)))).

``q_i`` is what the user gets without the server (the remote cloud's QoE, 0 if
none): taking the max keeps each f_i sigmoidal (flat, then convex, then
concave), so the problem stays a sum of sigmoids (Udell & Boyd, "Maximizing a
sum of sigmoids", Optim. Eng. 2014). It is NP-hard in general; this module is
the fast path the env runs inside ``step``, vectorised over any leading batch
axes (servers, instances):

1. per user, by safeguarded Newton: the inflection point of the sigmoid
   (where ``2x / (alpha a) = tanh(alpha (c - beta) / 2 + alpha a / (2x))``),
   the point where it overtakes ``q_i`` (closed form), and the tangent point
   ``w_i`` of its concave envelope from x = 0, whose slope ``s_i`` is the
   highest price at which the user is worth serving;
2. the dual price lambda: each user maximises its concave envelope minus
   lambda x (0 if lambda >= s_i, else f_i'(x) = lambda on [w_i, C] by
   bracketed Newton); the demand jumps at the slopes s_i, so a binary search
   over the sorted slopes (log2 of the users) finds the dual active set;
3. primal recovery: the capacity is water-filled over the active set on the
   concave parts (projected Newton with an Armijo line search, exact sum = C;
   :mod:`mec_marl.solvers.sigmoidal_waterfill`);
4. a local add/drop/swap search around the marginal users: the candidate sets
   are ranked after a few Newton steps and the best one is water-filled to
   convergence, kept if it beats the incumbent (dual rounding alone loses a
   few percent per server when the threshold user is large).

The batch is flattened to the masked users (no padding): a batch of problems
costs the users it holds, and each problem's result is bit-for-bit the one it
gets alone.

:func:`allocate` is the API; ``mec_marl.solvers.reference_djtcra`` holds the
branch-and-bound reference the tests compare against.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit, logit

from mec_marl.solvers.sigmoidal_waterfill import Users, segment_sum, starts_of, waterfill

_ROOT_STEPS = 60  # at most, per element, bracketed Newton steps of a root (most stop after ~6)
_SCREEN = 1  # Newton iterations that rank the local search's candidate sets
_TINY = 1e-12
_CHUNK = 65536  # users solved at once (memory ~1 KB per user)
_TABLE = 8192  # up to this many (user, price) pairs, the dual search's responses are solved at once


@dataclasses.dataclass(frozen=True)
class SigmoidalResult:
    """What :func:`allocate` returns, arrays over the leading axes ``*b``.

    Attributes:
        allocation: ``(*b, n)`` x_i >= 0 (capacity units), summing to at most C; 0
            for users outside the mask and for users the server leaves to q_i.
        value: ``(*b,)`` sum of f_i(x_i) over the masked users.
        served: ``(*b, n)`` bool, the server's sigmoid beats q_i at x_i.
    """

    allocation: np.ndarray
    value: np.ndarray
    served: np.ndarray


def _newton_root(fun, params, lo, hi, x, atol=0.0, f_hi=np.nan, iterations=_ROOT_STEPS):
    """Root of a decreasing ``fun(params, x) -> (value, derivative)`` on [lo, hi] with fun(lo) >= 0 >=
    fun(hi), elementwise over flat arrays (``params``: a tuple of arrays like x): Newton steps kept
    inside a shrinking bracket; a step that leaves it is replaced by the secant of the bracket's
    ends (or their midpoint while an end's value is unknown), which converges when the root sits
    at an end of the bracket. Each element stops on its own once its step is below 1e-12
    relative (+ ``atol``; quadratic convergence: the error is then ~1e-24), so its iterates never
    depend on the others; stopped elements are dropped from the working arrays once they are
    half of them. ``f_hi``: fun(hi) where known (the first step can then be a secant)."""
    x, lo, hi, f_hi = (np.array(a, dtype=float, copy=True) for a in np.broadcast_arrays(x, lo, hi, f_hi))
    out = x
    index = np.arange(x.size)
    f_lo = np.full(x.shape, np.nan)
    live = np.ones(x.shape, bool)
    for _ in range(iterations):
        n_live = np.count_nonzero(live)
        if n_live == 0:
            break
        if n_live < live.size // 2:  # compress
            out[index] = x
            keep = np.flatnonzero(live)
            index, x, lo, hi, f_lo, f_hi = (a[keep] for a in (index, x, lo, hi, f_lo, f_hi))
            params = tuple(p[keep] for p in params)
            live = np.ones(keep.size, bool)
        value, slope = fun(params, x)
        up = live & (value > 0)
        down = live & ~(value > 0)
        lo, f_lo = np.where(up, x, lo), np.where(up, value, f_lo)
        hi, f_hi = np.where(down, x, hi), np.where(down, value, f_hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = x - value / slope
            secant = lo + f_lo * (hi - lo) / (f_lo - f_hi)
        secant = np.where((secant >= lo) & (secant <= hi), secant, 0.5 * (lo + hi))
        new = np.where((slope < 0) & (step >= lo) & (step <= hi), step, secant)
        moved = np.abs(new - x) > 1e-12 * np.abs(new) + atol
        x = np.where(live, new, x)
        live &= moved & (value != 0)
    out[index] = x
    return out


def inflection_point(theta, k):
    """Inflection of x -> expit(-theta - k / x): ``x = v k / 2`` with ``v = tanh(theta / 2 + 1 / v)``, v in (0, 1).

    Since 1 / v > 1, v >= tanh(theta / 2 + 1): that bracket's left end is where Newton starts.
    """
    theta, k = np.broadcast_arrays(np.asarray(theta, float), np.asarray(k, float))
    half = 0.5 * theta.ravel()

    def gap(params, v):  # tanh(theta / 2 + 1 / v) - v: decreasing in v
        t = np.tanh(params[0] + 1.0 / v)
        return t - v, -(1.0 - t * t) / (v * v) - 1.0

    lo = np.maximum(np.tanh(half + 1.0), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # v -> 0: a bisection step
        v = _newton_root(gap, (half,), lo, 1.0, np.where(lo > 1e-3, lo, 0.5 * (lo + 1.0)))
    return 0.5 * v.reshape(theta.shape) * k


def _concave_start(users: Users):
    """``(viable, z)``: whether the sigmoid can beat q at all, and where f turns concave."""
    z = inflection_point(users.theta, users.k)
    qmax = users.L * expit(-users.theta)
    viable = qmax > users.q + _TINY * users.L
    ratio = np.clip(users.q / users.L, 1e-300, 1.0 - 1e-16)
    den = -users.theta - logit(ratio)  # Q(x) = q at x = k / den
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(viable & (users.q > 0), users.k / np.where(den > 0, den, 1.0), 0.0)
    return viable, np.maximum(z, cross)


def _tangent(users: Users, start, viable):
    """Tangent point w in [start, 1] of f's concave envelope from (0, q), and its slope (viable users)."""
    lo = np.minimum(start, 1.0)
    one = np.ones_like(lo)
    Q1, g1, _ = users.terms(one, second=False)
    chord = ~viable | (g1 - (Q1 - users.q) >= 0)  # f still steep at the capacity: the chord to x = 1
    w = one.copy()
    todo = np.flatnonzero(~chord)
    sub = users.take(todo)

    def gap(params, t):  # -F(t), F = g(w) / (L e) = expit(t) (t - theta) - 1 + r (1 + e^t): increasing in t
        theta, r = params
        e_t = np.exp(t)
        s = expit(t)
        return -(s * (t - theta) - 1.0 + r * (1.0 + e_t)), -(s * (1.0 - s) * (t - theta) + s + r * e_t)

    # In t = theta + k / w the tangent condition Q'(w) w = Q(w) - q is F(t) = 0 with F increasing and
    # convex, so Newton from the right end (the concave start) converges from one side.
    theta, k = sub.theta, sub.k
    t_small = theta + k  # w = 1
    with np.errstate(over="ignore", divide="ignore"):
        t_large = np.minimum(theta + k / lo[todo], 700.0)
        t = _newton_root(gap, (theta, sub.q / sub.L), t_small, t_large, t_large, atol=1e-14)
    w[todo] = np.clip(k / (t - theta), lo[todo], 1.0)
    return w, (users.f(w) - users.q) / w


def _response(users: Users, w, price):
    """Maximiser on [w, 1] of Q(x) - ``price * x`` for users below their tangent slope (flat arrays):
    log Q'(e^y) = log(price) by bracketed Newton in y = log x; x = 1 where Q'(1) >= price."""
    log_lk = np.log(users.L * users.k)
    target = np.log(price) - log_lk

    def residual(params, y):  # log Q'(e^y) - log price: log(e (1 - e)) = -|s| - 2 log(1 + exp(-|s|))
        theta, k, target = params
        u = k * np.exp(-y)
        s = theta + u
        a = np.abs(s)
        ea = np.exp(-a)
        tanh_half = np.copysign((1.0 - ea) / (1.0 + ea), s)  # 1 - 2 expit(-s)
        return -a - 2.0 * np.log1p(ea) - 2.0 * y - target, tanh_half * u - 2.0

    at_cap = residual((users.theta, users.k, target), np.zeros_like(w))[0] >= 0
    y = np.zeros_like(w)
    todo = np.flatnonzero(~at_cap)
    if todo.size:
        lo = np.log(w[todo])
        y[todo] = _newton_root(residual, (users.theta[todo], users.k[todo], target[todo]), lo, 0.0, 0.5 * lo,
                               atol=1e-13)
    return np.exp(y)


def _dual_active_set(users: Users, seg, P, viable, w, slope):
    """The dual active set: the users above the smallest price whose best responses fit.

    The best responses at price lambda total D(lambda), decreasing, with a jump
    down at each user's tangent slope. With the slopes sorted, D at the j-th
    slope (the top j users active) rises with j, so a binary search over j
    (log2 of the users, not a bisection on the price) finds the largest j
    that fits; the next user joins when it still fits at its tangent point
    (D crosses 1 between two slopes) and is left out otherwise (D jumps over
    1: the dual solution is fractional there). Returns ``(active, x)``, x
    the best responses at that price (the waterfill's start).
    """
    E = seg.size
    s = np.where(viable, slope, -np.inf)
    order = np.lexsort((-s, seg))  # by problem, then slope descending (stable: ties by user)
    size = np.bincount(seg, minlength=P)
    first = np.cumsum(size) - size
    rank = np.empty(E, dtype=np.int64)
    rank[order] = np.arange(E) - first[seg[order]]
    sorted_s = s[order]
    count = np.bincount(seg, weights=viable, minlength=P).astype(np.int64)
    lo, hi = np.zeros(P, dtype=np.int64), count + 1  # j = lo fits, j = hi does not (j = count: price 0+)
    # An active user takes at least its tangent point (x >= w below its slope), so the top j users
    # cannot fit once their w's exceed the capacity: a smaller hi, fewer probes.
    taken = np.zeros(P)
    for j in range(int(count.max(initial=0))):
        has = j < count
        taken = taken + np.where(has, w[order[np.minimum(first + j, E - 1)]], 0.0)
        hi = np.where(has & (taken > 1.0 + 1e-12), np.minimum(hi, j + 1), hi)
        if not (has & (hi > j + 1)).any():
            break
    demand, guess = np.zeros(P), np.zeros(E)
    # Few problems (the single env, one server): every response the search may ask for, in one
    # Newton solve instead of one per probe (each probe's arithmetic is the same, element by element).
    pairs = np.where(viable, np.maximum(hi[seg] - 1 - rank, 0), 0)
    table = None
    if pairs.sum() <= _TABLE:
        at = np.cumsum(pairs) - pairs
        pe = np.repeat(np.arange(E), pairs)
        pj = rank[pe] + 1 + np.arange(pe.size) - at[pe]
        table = np.ones(pe.size)
        priced = np.flatnonzero(pj < count[seg[pe]])
        table[priced] = _response(users.take(pe[priced]), w[pe[priced]],
                                  sorted_s[first[seg[pe[priced]]] + pj[priced]])
    while True:
        open_ = hi - lo > 1
        if not open_.any():
            break
        mid = (lo + hi) // 2
        idx = np.flatnonzero(open_[seg] & (rank < mid[seg]))
        p = seg[idx]
        price = sorted_s[np.minimum(first + mid, E - 1)]
        if table is not None:
            x = table[at[idx] + mid[p] - rank[idx] - 1]
        else:
            x = np.ones(idx.size)
            priced = np.flatnonzero(mid[p] < count[p])  # j = count: every viable user at price 0+ takes x = 1
            x[priced] = _response(users.take(idx[priced]), w[idx[priced]], price[p[priced]])
        total = segment_sum(p, x, P)
        fits = open_ & (total <= 1.0)
        lo, hi = np.where(fits, mid, lo), np.where(open_ & ~fits, mid, hi)
        demand = np.where(fits, total, demand)
        guess[fits[seg]] = 0.0
        keep = fits[p]
        guess[idx[keep]] = x[keep]
    marginal = order[np.minimum(first + lo, E - 1)]
    joins = (lo < count) & (demand + w[marginal] <= 1.0)
    guess[marginal[joins]] = w[marginal[joins]]
    return viable & (rank < (lo + joins)[seg]), guess


def _best_two(seg, key, P):
    """Per problem, the entries with the largest and second-largest finite ``key`` (-1: none)."""
    out = []
    key = key.copy()
    starts = starts_of(seg)
    for _ in range(2):
        top = np.full(P, -np.inf)
        top[seg[starts]] = np.maximum.reduceat(key, starts)
        hit = np.flatnonzero((key == top[seg]) & (key > -np.inf))
        pick = np.full(P, -1, dtype=np.int64)
        first = np.r_[True, seg[hit][1:] != seg[hit][:-1]] if hit.size else np.zeros(0, bool)
        pick[seg[hit[first]]] = hit[first]  # the first entry on ties
        out.append(pick)
        key[pick[pick >= 0]] = -np.inf
    return out


def _candidates(users: Users, seg, P, viable, active, x, price, slope):
    """Active sets near ``active`` (flat bool per problem): add one of the best two outsiders (by
    tangent slope), drop one of the weakest two members (by their surplus at the price), or swap
    one of those outsiders for one of those members."""
    entry = np.arange(seg.size)
    add = _best_two(seg, np.where(viable & ~active, slope, -np.inf), P)
    drop = _best_two(seg, np.where(active, -(users.f(x) - users.q - price[seg] * x), -np.inf), P)
    a1, a2, d1, d2 = (entry == a[seg] for a in (*add, *drop))  # -1 (no such user) never equals an entry
    sets = [active | a1, active | a2, active & ~d1, active & ~d2]
    for out_, in_ in ((d1, a1), (d1, a2), (d2, a1), (d2, a2)):
        ok = (np.bincount(seg, weights=out_, minlength=P) > 0) & (np.bincount(seg, weights=in_, minlength=P) > 0)
        sets.append(np.where(ok[seg], (active & ~out_) | in_, active))
    return sets


def _local_search(users, seg, P, viable, lower, w, active, x, gain, price, slope, base, rounds):
    """Rounds of add/drop/swap over the problems that still improve (``active``, ``x``, ``gain``,
    ``price`` updated in place): the candidates are ranked after a few Newton steps, the best
    one converged and kept if it beats the incumbent."""
    todo = np.zeros(P, bool)
    todo[seg[viable]] = True
    for _ in range(rounds):
        # Certified optimal (Lagrangian bound = value at the price): no outsider beats the price
        # and every member sits on its concave envelope; such problems need no search.
        loose = (viable & ~active & (slope > price[seg] * (1.0 + 1e-12))) | (active & (x < w * (1.0 - 1e-12)))
        todo &= np.bincount(seg, weights=loose, minlength=P) > 0
        rows = np.flatnonzero(todo[seg])
        if rows.size == 0:
            break
        sub, r_seg = users.take(rows), seg[rows]
        sets = _candidates(sub, r_seg, P, viable[rows], active[rows], x[rows], price, slope[rows])
        member = np.concatenate([np.flatnonzero(c) for c in sets])  # grouped by candidate, then problem
        c_seg = np.concatenate([c * P + r_seg[np.flatnonzero(m)] for c, m in enumerate(sets)])
        start = np.where(active[rows], x[rows], w[rows])[member]  # a newcomer starts at its tangent point
        xs, gains, _ = waterfill(sub.take(member), c_seg, len(sets) * P, lower[rows][member], start,
                                 np.tile(base, len(sets)), steps=_SCREEN)
        gains = np.where(np.tile(todo, len(sets)), gains, -np.inf).reshape(len(sets), P)
        best = np.argmax(gains, axis=0)
        chosen = np.flatnonzero(best[r_seg[member]] * P + r_seg[member] == c_seg)
        chosen = chosen[np.argsort(c_seg[chosen] % P, kind="stable")]  # segments by problem again
        pick, p_seg = member[chosen], c_seg[chosen] % P
        new_x, new_gain, new_price = waterfill(sub.take(pick), p_seg, P, lower[rows][pick], xs[chosen], base)
        improves = todo & (new_gain > gain + 1e-12 * (1.0 + np.abs(base + gain)))
        reset = rows[improves[r_seg]]
        active[reset], x[reset] = False, 0.0
        won = improves[p_seg]
        active[rows[pick[won]]], x[rows[pick[won]]] = True, new_x[won]
        gain[improves], price[improves] = new_gain[improves], new_price[improves]
        todo = improves


def allocate(alpha, base_latency, work, beta, capacity, ceiling=1.0, floor=0.0, mask=None, rounds=4):
    """Share ``capacity`` among users to maximise the sum of sigmoid QoEs (module docstring).

    Every argument broadcasts to ``(*b, n)`` (users on the last axis) except
    ``capacity``, ``(*b,)``. Units are the caller's as long as they agree:
    latency ``c_i + work_i / x_i`` in the units of ``1 / alpha`` and ``beta``
    (e.g. s, cycles, cycles/s).

    Args:
        alpha: sigmoid steepness (> 0). base_latency: latency not depending on x.
        work: latency numerator a_i > 0 (processing latency a_i / x_i).
        beta: reference latency (the sigmoid's midpoint). capacity: C > 0.
        ceiling: L_i > 0, the QoE at zero latency. floor: q_i in [0, L_i), what
            the user gets if the server leaves it (e.g. the cloud's QoE).
        mask: bool, which users belong to the problem (default all).
        rounds: rounds of the add/drop/swap search after the dual rounding.

    Returns:
        :class:`SigmoidalResult` (allocation in capacity units, value, served).
    """
    alpha, base_latency, work, beta, ceiling, floor = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (alpha, base_latency, work, beta, ceiling, floor))
    )
    shape = alpha.shape
    capacity = np.broadcast_to(np.asarray(capacity, dtype=float), shape[:-1])
    mask = np.ones(shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), shape)
    if np.any(alpha[mask] <= 0) or np.any(work[mask] <= 0) or np.any(capacity <= 0):
        raise ValueError("allocate: alpha, work and capacity must be positive")
    n = shape[-1]
    P = int(np.prod(shape[:-1], dtype=np.int64))
    cap = np.broadcast_to(capacity[..., None], shape)
    theta, k = (alpha * (base_latency - beta)).reshape(P, n), (alpha * work / cap).reshape(P, n)
    L, q, mask = ceiling.reshape(P, n), np.minimum(floor, ceiling).reshape(P, n), mask.reshape(P, n)
    x, served, value = np.zeros((P, n)), np.zeros((P, n), bool), np.zeros(P)
    # Problems are independent: solving them in chunks of about _CHUNK users bounds the memory.
    counts = np.cumsum(mask.sum(axis=-1))
    bounds = np.searchsorted(counts, np.arange(_CHUNK, counts[-1] if P else 0, _CHUNK), side="right")
    for lo, hi in zip(np.r_[0, bounds], np.r_[bounds, P]):
        if hi > lo:
            rows = slice(lo, hi)
            x[rows], served[rows], value[rows] = _solve(theta[rows], k[rows], L[rows], q[rows], mask[rows], rounds)
    return SigmoidalResult(allocation=x.reshape(shape) * capacity[..., None], value=value.reshape(shape[:-1]),
                           served=served.reshape(shape))


def _solve(theta, k, L, q, mask, rounds):
    """:func:`allocate` on normalised problems ``(P, n)`` (capacity 1): ``(x, served, value)``."""
    P, n = mask.shape
    entries = np.flatnonzero(mask)  # the masked users, problem by problem
    x_out, won = np.zeros((P, n)), np.zeros((P, n), bool)
    if entries.size == 0:
        return x_out, won, np.zeros(P)
    seg = entries // n
    users = Users(theta=theta.ravel()[entries], k=k.ravel()[entries], L=L.ravel()[entries], q=q.ravel()[entries])
    viable, start = _concave_start(users)
    w, slope = _tangent(users, start, viable)
    active, guess = _dual_active_set(users, seg, P, viable, w, slope)
    lower = np.where(viable, np.minimum(start, 1.0), 0.0)
    base = segment_sum(seg, users.q, P)
    rows = np.flatnonzero(active)
    x = np.zeros(seg.size)
    x[rows], gain, price = waterfill(users.take(rows), seg[rows], P, lower[rows], guess[rows], base)
    _local_search(users, seg, P, viable, lower, w, active, x, gain, price, slope, base, rounds)
    served = active & (users.Q(x) > users.q)
    x = np.where(served, x, 0.0)
    x_out.ravel()[entries], won.ravel()[entries] = x, served
    return x_out, won, segment_sum(seg, users.f(x), P)
