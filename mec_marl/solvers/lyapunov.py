"""Per-slot resource allocation of the DRLH paper: P3.1-P3.4 closed forms and an exact solver.

Given the association rho = (rho^E, rho^C), the drift-plus-penalty G(X(t))
of eq. 22 separates into one problem per UE (bandwidth is split equally
among exactly chi associated UEs), over the MEC offloading volume u^E, the
MCC volume u^C, the local clock f^L (local volume u^L = tau n^L f^L / l) and
the MEC clock f^E, with the weights w^L = Q^L + Z^L and w^E = Q^E + Z^E:

    min  -w^L (u^L + u^E + u^C) - w^E (mu^E - u^E)
         + v [alpha^L ((f^L)^3 + (f^en)^3) + alpha^E (f^E)^3 + p^tx,C(u^C) + p^tx,E 1(u^E > 0)]
    s.t. u^L + u^E + u^C <= Q^L (14i),  f^L + f^en <= f^L_max (14g),
         mu^E <= Q^E (14j),  f^E <= f^E_max (14h),  0 <= u^E <= rho^E u^E_cap,  0 <= u^C <= rho^C u^C_max.

* :func:`closed_form` is the paper's sequential P3.1 -> P3.2 -> P3.3 -> P3.4
  (Sec. IV-B) with the weights of eq. 22 (the printed P3.2-P3.4 drop Z). It
  is optimal while (14i) and (14g) are slack; otherwise feasible but not
  optimal.
* :func:`exact` solves the per-UE problem: f^E in closed form (it decouples),
  (u^L, u^E, u^C) by bisection on the multipliers of (14g) (outer) and (14i)
  (inner), each variable then a closed-form function of them; the fixed
  semantic power p^tx,E makes u^E = 0 a separate case, compared explicitly.

Everything broadcasts over leading axes (instances, candidate actions).
:func:`cost_table` gives each UE's cost for the four (rho^E, rho^C) pairs, so
a critic scores any number of candidate actions by a gather and a sum.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mec_marl.physics import semantic

LN2 = semantic.LN2


@dataclasses.dataclass(frozen=True)
class Hardware:
    """Scalars of the per-slot problem (SI; volumes in tasks per slot)."""

    slot: float  # tau (s)
    v: float  # Lyapunov factor
    flops_local: float  # n^L, FLOP per cycle of a UE's GPU
    flops_edge: float  # n^E, FLOP per cycle of the MEC GPU
    flops_encode: float  # l^en, FLOP per task
    flops_decode: float  # l^de, FLOP per task
    alpha_local: float  # alpha^L (W/Hz^3)
    alpha_edge: float  # eta^E alpha^E (W/Hz^3)
    f_local_max: float  # f^L_max (Hz)
    f_edge_max: float  # f^E_max (Hz), per UE's MEC queue
    mcc_exponent: float  # c = S k0 / (tau b^C): p^tx,C = K (2^(c u^C) - 1)

    @property
    def encode_clock(self) -> float:
        """a = l^en / (tau n^L): Hz of encoding clock per task per slot (eq. 6)."""
        return self.flops_encode / (self.slot * self.flops_local)

    @property
    def local_clock(self) -> float:
        """Hz of local clock per task per slot, l / (tau n^L) (eq. 5)."""
        return (self.flops_encode + self.flops_decode) / (self.slot * self.flops_local)

    @property
    def edge_clock(self) -> float:
        """Hz of MEC clock per task per slot, l^de / (tau n^E) (eq. 7)."""
        return self.flops_decode / (self.slot * self.flops_edge)


@dataclasses.dataclass(frozen=True)
class SlotProblem:
    """One slot's per-UE data, arrays broadcasting over ``(*b, I)``.

    Attributes:
        weight_local: w^L = Q^L + Z^L.
        weight_edge: w^E = Q^E + Z^E.
        queue_local: Q^L (bound of 14i).
        queue_edge: Q^E (bound of 14j).
        mec_cap: largest u^E the semantic link carries (0 where eps_min needs more than p_max).
        mec_power: p^tx,E (W), paid in a slot with u^E > 0.
        mcc_max: u^C_max at p_max (P3.2).
        mcc_scale: K = sigma^2 b^C / |h^C|^2 (W), p^tx,C = K (2^(c u^C) - 1) (eq. 12).
    """

    weight_local: np.ndarray
    weight_edge: np.ndarray
    queue_local: np.ndarray
    queue_edge: np.ndarray
    mec_cap: np.ndarray
    mec_power: np.ndarray
    mcc_max: np.ndarray
    mcc_scale: np.ndarray

    def expand(self, *axes: int) -> "SlotProblem":
        """The same arrays with new axes (e.g. ``expand(-1, -1)`` for a (2, 2) rho table)."""
        out = {}
        for f in dataclasses.fields(self):
            value = np.asarray(getattr(self, f.name))
            for ax in axes:
                value = np.expand_dims(value, ax)
            out[f.name] = value
        return SlotProblem(**out)


def _edge(problem: SlotProblem, hw: Hardware):
    """P3.4: f^E = min(stationary, f^E_max, Q^E l^de / (tau n^E)), exact (it decouples)."""
    w_e = np.maximum(problem.weight_edge, 0.0)
    stationary = np.sqrt(w_e / (3.0 * hw.v * hw.alpha_edge * hw.edge_clock))
    f_edge = np.minimum(np.minimum(stationary, hw.f_edge_max), problem.queue_edge * hw.edge_clock)
    return np.maximum(f_edge, 0.0)


def _mcc_stationary(w, problem: SlotProblem, hw: Hardware):
    """u^C where -w + v dp^tx,C/du = 0: (1/c) log2(w / (v ln2 c K)); -inf where w <= 0."""
    with np.errstate(divide="ignore"):
        return np.log2(np.maximum(w, 0.0) / (hw.v * LN2 * hw.mcc_exponent * problem.mcc_scale)) / hw.mcc_exponent


def _finish(problem: SlotProblem, hw: Hardware, u_local, u_mec, u_mcc, f_edge) -> dict:
    """Clocks, rates, power terms and each UE's cost of an allocation."""
    f_local = u_local * hw.local_clock
    f_encode = u_mec * hw.encode_clock
    mu_edge = f_edge / hw.edge_clock
    p_local = semantic.cubic_power(hw.alpha_local, f_local) + semantic.cubic_power(hw.alpha_local, f_encode)
    p_edge = semantic.cubic_power(hw.alpha_edge, f_edge)
    p_mcc = problem.mcc_scale * np.expm1(hw.mcc_exponent * u_mcc * LN2)  # eq. 12
    p_mec = np.where(u_mec > 0.0, problem.mec_power, 0.0)
    served = u_local + u_mec + u_mcc
    power = p_local + p_edge + p_mcc + p_mec
    cost = -problem.weight_local * served - problem.weight_edge * (mu_edge - u_mec) + hw.v * power
    return {
        "u_local": u_local,
        "u_mec": u_mec,
        "u_mcc": u_mcc,
        "f_local": f_local,
        "f_encode": f_encode,
        "f_edge": f_edge,
        "mu_local": served,
        "mu_edge": mu_edge,
        "p_local": p_local,
        "p_edge": p_edge,
        "p_mcc": p_mcc,
        "p_mec": p_mec,
        "power": power,
        "cost": cost,
    }


def _mec_bound(problem: SlotProblem, hw: Hardware, rho_mec):
    return rho_mec * np.minimum(np.minimum(problem.queue_local, problem.mec_cap), hw.f_local_max / hw.encode_clock)


def closed_form(problem: SlotProblem, hw: Hardware, rho_mec, rho_mcc) -> dict:
    """P3.1-P3.4 in closed form (Sec. IV-B), sequentially; see the module docstring."""
    a, q_l = hw.encode_clock, problem.queue_local
    w_l = problem.weight_local
    diff = w_l - problem.weight_edge
    # P3.1: stationary point of -(w^L - w^E) u + v alpha^L (a u)^3, the p^tx,E derivative omitted.
    u_mec_bar = np.sqrt(np.maximum(diff, 0.0) / (3.0 * hw.v * hw.alpha_local * a**3))
    u_mec = np.where(diff > 0.0, np.minimum(u_mec_bar, _mec_bound(problem, hw, rho_mec)), 0.0)
    # P3.2: stationary point of eq. 27, clipped to [0, min(Q^L - u^E, u^C_max)].
    room = np.maximum(np.minimum(q_l - u_mec, problem.mcc_max), 0.0)
    u_mcc = rho_mcc * np.clip(_mcc_stationary(w_l, problem, hw), 0.0, room)
    # P3.3: stationary clock, then the f_max and backlog bounds.
    f_bar = np.sqrt(np.maximum(w_l, 0.0) / (3.0 * hw.v * hw.alpha_local * hw.local_clock))
    f_local = np.minimum(f_bar, hw.f_local_max - a * u_mec)
    f_local = np.maximum(np.minimum(f_local, (q_l - u_mec - u_mcc) * hw.local_clock), 0.0)
    return _finish(problem, hw, f_local / hw.local_clock, u_mec, u_mcc, _edge(problem, hw))


def _exact_volumes(problem: SlotProblem, hw: Hardware, rho_mec, rho_mcc, iterations: int):
    """(u^L, u^E, u^C) minimising the per-UE problem (no p^tx,E term), by nested bisection."""
    a, b = hw.encode_clock, hw.local_clock
    w_l, w_e, q_l = problem.weight_local, problem.weight_edge, problem.queue_local
    shape = np.broadcast_shapes(*(np.shape(x) for x in (w_l, w_e, q_l, rho_mec, rho_mcc, problem.mcc_scale)))
    k_local = 3.0 * hw.v * hw.alpha_local * b**3
    k_mec = 3.0 * hw.v * hw.alpha_local * a**3
    u_mec_max = np.broadcast_to(_mec_bound(problem, hw, rho_mec), shape)
    u_mcc_max = np.broadcast_to(rho_mcc * np.maximum(np.minimum(problem.mcc_max, q_l), 0.0), shape)

    def primal(lam, nu):
        # Each variable minimises the Lagrangian with multipliers lam (14i) and nu (14g).
        x = np.sqrt(np.maximum(w_l - lam - nu * b, 0.0) / k_local)
        u_e = np.minimum(np.sqrt(np.maximum(w_l - w_e - lam - nu * a, 0.0) / k_mec), u_mec_max)
        u_c = np.clip(_mcc_stationary(w_l - lam, problem, hw), 0.0, u_mcc_max)
        return x, u_e, u_c

    def inner(nu):
        """lam(nu): 0 if the backlog is slack, else the root of u^L + u^E + u^C = Q^L."""
        x, u_e, u_c = primal(0.0, nu)
        tight = x + u_e + u_c > q_l
        lo = np.zeros(shape)
        hi = np.where(tight, np.broadcast_to(np.maximum(w_l, 0.0), shape), 0.0)
        if tight.any():
            for _ in range(iterations):
                mid = 0.5 * (lo + hi)
                x, u_e, u_c = primal(mid, nu)
                over = x + u_e + u_c > q_l
                lo, hi = np.where(over, mid, lo), np.where(over, hi, mid)
        return hi  # the feasible end of the bracket

    nu_lo = np.zeros(shape)
    lam = inner(nu_lo)
    x, u_e, _ = primal(lam, nu_lo)
    tight = b * x + a * u_e > hw.f_local_max
    nu_hi = np.where(tight, np.broadcast_to(np.maximum(w_l, 0.0), shape) / a, 0.0)
    if tight.any():
        # The dual's derivative in nu (the 14g residual at lam(nu)) is non-increasing: bisect on its sign.
        for _ in range(iterations):
            mid = 0.5 * (nu_lo + nu_hi)
            x, u_e, _ = primal(inner(mid), mid)
            over = b * x + a * u_e > hw.f_local_max
            nu_lo, nu_hi = np.where(over, mid, nu_lo), np.where(over, nu_hi, mid)
        lam = inner(nu_hi)
    x, u_e, u_c = primal(lam, nu_hi)
    # Guard the last ulp: never exceed the backlog or the clock.
    x = np.minimum(x, np.maximum(q_l - u_e - u_c, 0.0))
    x = np.minimum(x, np.maximum(hw.f_local_max - a * u_e, 0.0) / b)
    return x, u_e, u_c


def exact(problem: SlotProblem, hw: Hardware, rho_mec, rho_mcc, iterations: int = 50) -> dict:
    """The per-UE optimum of eq. 22 given rho (module docstring); matches a convex solver."""
    f_edge = _edge(problem, hw)
    with_mec = _finish(problem, hw, *_exact_volumes(problem, hw, rho_mec, rho_mcc, iterations), f_edge)
    rho_off = np.zeros_like(np.asarray(rho_mec, dtype=float))
    without = _finish(problem, hw, *_exact_volumes(problem, hw, rho_off, rho_mcc, iterations), f_edge)
    # u^E > 0 pays the fixed semantic power p^tx,E: keep whichever case costs less.
    pick = without["cost"] < with_mec["cost"]
    return {k: np.where(pick, without[k], with_mec[k]) for k in with_mec}


SOLVERS = {"closed_form": closed_form, "exact": exact}


def solve(problem: SlotProblem, hw: Hardware, rho_mec, rho_mcc, solver: str = "closed_form") -> dict:
    """The allocation for association ``rho`` with ``solver`` (``closed_form`` or ``exact``)."""
    try:
        fn = SOLVERS[solver]
    except KeyError:
        raise ValueError(f"unknown solver {solver!r}; allowed: {sorted(SOLVERS)}") from None
    return fn(problem, hw, np.asarray(rho_mec, dtype=float), np.asarray(rho_mcc, dtype=float))


# rho pairs of the cost table, axis -2 = rho^E, axis -1 = rho^C.
_RHO_MEC = np.array([[0.0, 0.0], [1.0, 1.0]])
_RHO_MCC = np.array([[0.0, 1.0], [0.0, 1.0]])


def cost_table(problem: SlotProblem, hw: Hardware, solver: str = "closed_form") -> np.ndarray:
    """``(*b, I, 2, 2)``: each UE's cost for (rho^E, rho^C) in {0, 1}^2 (the critic's table)."""
    return solve(problem.expand(-1, -1), hw, _RHO_MEC, _RHO_MCC, solver)["cost"]


def action_costs(table: np.ndarray, rho_mec: np.ndarray, rho_mcc: np.ndarray) -> np.ndarray:
    """Sum over UEs of ``table`` at each candidate's (rho^E_i, rho^C_i).

    ``table`` is ``(*b, I, 2, 2)``; ``rho_mec`` / ``rho_mcc`` are ``(..., N, I)``
    0/1 arrays broadcasting against ``(*b, N, I)``. Returns ``(*b, N)``: the
    per-slot objective of each candidate up to the arrival term, which no
    decision changes.
    """
    index = 2 * np.asarray(rho_mec, dtype=np.int64) + np.asarray(rho_mcc, dtype=np.int64)
    flat = table.reshape(table.shape[:-2] + (4,))  # (*b, I, 4)
    flat = np.expand_dims(flat, -3)  # (*b, 1, I, 4)
    index = np.broadcast_to(index, np.broadcast_shapes(index.shape, flat.shape[:-1]))
    flat = np.broadcast_to(flat, index.shape + (4,))
    return np.take_along_axis(flat, index[..., None], axis=-1)[..., 0].sum(axis=-1)
