"""Fast sub-solvers against the slow references of :mod:`mec_marl.solvers.reference`.

Each case times the fast solver and the reference on the same random
instances and reports median times, the speed-up and the relative objective
gap ``(fast - ref) / |ref|`` (> 0: the fast solver is worse). A new env's
sub-solver is one more function in :func:`cases`.
"""

from __future__ import annotations

import time

import numpy as np

from baselines.benchmark import report
from baselines.benchmark.timing import median, rel_gap, time_calls


def _row(name, reference, problem, t_fast, t_ref, gaps) -> dict:
    fast, ref = median(t_fast), median(t_ref)
    return {
        "solver": name,
        "reference": reference,
        "problem": problem,
        "instances": len(t_fast),
        "fast_s": fast,
        "reference_s": ref,
        "speedup": ref / fast if fast > 0 else None,
        "max_rel_gap": float(max(gaps)),
        "min_rel_gap": float(min(gaps)),
    }


def sqrt_shares(instances: int, rng: np.random.Generator, n: int) -> dict:
    """``sqrt_shares`` vs cvxpy on ``min sum w/x s.t. sum x = total`` (w ~ U[0.1, 10], total ~ U[1, 10])."""
    from mec_marl.solvers import allocation, reference

    problem = reference.SqrtSharesProblem(n)
    problem.solve(np.ones(n), 1.0)  # warm-up: DPP canonicalisation is cached after the first solve
    allocation.sqrt_shares(np.ones(n), 1.0)
    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        w, total = rng.uniform(0.1, 10.0, size=n), float(rng.uniform(1.0, 10.0))
        t_fast.append(time_calls(lambda: allocation.sqrt_shares(w, total), calls=20))
        t_ref.append(time_calls(lambda: problem.solve(w, total), calls=1))
        fast, ref = allocation.sqrt_shares(w, total), problem.solve(w, total)
        gaps.append(rel_gap(float(np.sum(w / fast)), float(np.sum(w / ref))))
    return _row("sqrt_shares", "cvxpy (DPP, cached canonicalisation)", f"n={n}", t_fast, t_ref, gaps)


def local_cpu(instances: int, rng: np.random.Generator, config) -> dict:
    """``local_cpu_optimum`` (all n users at once) vs grid + bounded Brent per user."""
    from mec_marl.envs import cpdrl
    from mec_marl.solvers import allocation, reference

    args = (config.kappa, config.latency_weight, config.energy_weight, config.deadline, config.tardiness_weight)
    warm = cpdrl.sample_instance(config, rng)
    allocation.local_cpu_optimum(warm.cycles, warm.f_max, *args)
    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        inst = cpdrl.sample_instance(config, rng)
        t_fast.append(time_calls(lambda: allocation.local_cpu_optimum(inst.cycles, inst.f_max, *args), calls=20))
        t_ref.append(time_calls(lambda: reference.local_cpu_reference(inst.cycles, inst.f_max, *args), calls=1))
        f = allocation.local_cpu_optimum(inst.cycles, inst.f_max, *args)
        _, ref_cost = reference.local_cpu_reference(inst.cycles, inst.f_max, *args)
        gaps.append(rel_gap(float(np.sum(reference.local_cost(inst.cycles, f, *args))), float(np.sum(ref_cost))))
    return _row("local_cpu_optimum", "grid + bounded Brent per user", f"n={config.n_devices}", t_fast, t_ref, gaps)


def offload(instances: int, rng: np.random.Generator, config, k: int = 3) -> dict:
    """``offload_resources`` on one row (k of n UTDs offload) vs SLSQP on the same k users."""
    from mec_marl.envs import cpdrl
    from mec_marl.solvers import allocation, reference

    weights = (config.latency_weight, config.energy_weight, config.deadline, config.tardiness_weight)
    radio = (config.bandwidth, config.p_max, config.noise_power)

    def problem():
        inst = cpdrl.sample_instance(config, rng)
        a = np.zeros(inst.n, dtype=bool)
        a[rng.choice(inst.n, size=k, replace=False)] = True
        te = np.where(a, inst.cycles * k / config.edge_capacity, 0.0)  # eq. 7, equal shares
        return inst, a, te

    def fast(inst, a, te):
        return allocation.offload_resources(a, inst.data_size, inst.gain, te, *radio, *weights)

    def ref(inst, a, te):
        return reference.offload_slsqp(inst.data_size[a], inst.gain[a], te[a], *radio, *weights)

    def fast_cost(inst, a, te):
        b, p = fast(inst, a, te)
        cost = reference.offload_user_cost(b[a], p[a], inst.data_size[a], inst.gain[a], te[a], config.noise_power,
                                           *weights)
        return float(np.sum(cost))

    warm = problem()
    fast(*warm), ref(*warm)
    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        prob = problem()
        t_fast.append(time_calls(lambda: fast(*prob), calls=5))
        t_ref.append(time_calls(lambda: ref(*prob), calls=1))
        gaps.append(rel_gap(fast_cost(*prob), ref(*prob)[0]))
    return _row("offload_resources", "scipy SLSQP (epigraph of the deadline hinge)",
                f"one row, {k} of {config.n_devices} offload", t_fast, t_ref, gaps)


def tem(instances: int, rng: np.random.Generator, config) -> dict:
    """TEM (``cpdrl_exhaustive``) vs the same enumeration with the references per vector."""
    from baselines.search import cpdrl_exhaustive
    from mec_marl.envs import cpdrl
    from mec_marl.solvers import reference

    cpdrl_exhaustive(cpdrl.sample_instance(config, rng), config)
    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        inst = cpdrl.sample_instance(config, rng)
        t_fast.append(time_calls(lambda: cpdrl_exhaustive(inst, config), calls=3))
        t0 = time.perf_counter()
        ref = reference.cpdrl_exhaustive_reference(inst, config)
        t_ref.append(time.perf_counter() - t0)
        gaps.append(rel_gap(cpdrl_exhaustive(inst, config)["penalised_cost"], ref["penalised_cost"]))
    return _row("TEM (cpdrl_exhaustive)", "enumeration + references per vector",
                f"n={config.n_devices}, {2 ** config.n_devices} vectors", t_fast, t_ref, gaps)


def p21(instances: int, rng: np.random.Generator, n: int) -> dict:
    """large_scale_v0's P2.1 closed form (``p21_solve``) vs cvxpy (``p21_cvxpy``), table2 preset, M = 2."""
    from mec_marl.envs import large_scale
    from mec_marl.solvers import multi_mec, reference

    config = large_scale.LargeScaleConfig(n_ues=n, p_max=1.0, noise_density_dbm=-101.0, weight_range=(1.0, 2.0),
                                          max_cycles=1)  # the table2 preset
    kw = dict(data_size=config.data_size, cycles=config.task_cycles, bandwidth=config.bandwidth,
              noise_power=config.noise_power, p_max=config.p_max, f_local_max=config.f_local_max,
              mec_cpu=config.f_mec_max, kappa=config.kappa, exponent=config.power_exponent)

    def problem():
        inst = large_scale.sample_instance(config, rng)
        gain = large_scale.slot_gain(config, inst, 0)
        return gain, inst.weights, rng.integers(0, config.n_mecs + 1, n)

    def fast(gain, w, a):
        return multi_mec.p21_solve(multi_mec.p21_problem(gain, w, **kw), a, fallback=False)["objective"]

    warm = problem()
    fast(*warm), reference.p21_cvxpy(warm[2], warm[0], warm[1], **kw)
    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        prob = problem()
        t_fast.append(time_calls(lambda: fast(*prob), calls=20))
        t0 = time.perf_counter()
        ref = reference.p21_cvxpy(prob[2], prob[0], prob[1], **kw)["objective"]
        t_ref.append(time.perf_counter() - t0)
        gaps.append(rel_gap(float(fast(*prob)), ref))
    return _row("p21_solve (large_scale_v0)", "cvxpy, Clarabel (SOCP form)", f"N={n}, M=2", t_fast, t_ref, gaps)

def wpt_time_allocation(instances: int, rng: np.random.Generator, n: int = 10, batch: int = 1024) -> dict:
    """wireless_powered_v0's critic (optimal a, tau of DROO's P2) vs cvxpy, per decision.

    The fast path is timed on ``batch`` (channel, decision) pairs in one call and
    reported per decision (how DROO's K candidates and exhaustive search use it);
    the reference solves one decision per call. Gap on the rate (maximised):
    (reference - fast) / reference, > 0 when the fast path is worse.
    """
    from mec_marl.envs import wireless_powered
    from mec_marl.solvers import reference, time_allocation

    config = wireless_powered.WirelessPoweredConfig(n_devices=n)
    system, w, mean = config.system, config.device_weights, wireless_powered.mean_gain(config)
    reference.time_allocation_cvxpy(system, mean, np.ones(n, bool), w)  # warm-up
    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        h = mean * rng.exponential(1.0, size=(batch, n))
        x = rng.random((batch, n)) < 0.5
        t_fast.append(time_calls(lambda: time_allocation.optimal_time_allocation(system, h, x, w), calls=3) / batch)
        fast = time_allocation.optimal_time_allocation(system, h[0], x[0], w).rate
        t0 = time.perf_counter()
        ref = reference.time_allocation_cvxpy(system, h[0], x[0], w)[0]
        t_ref.append(time.perf_counter() - t0)
        gaps.append(rel_gap(-float(fast), -ref))
    return _row("time_allocation (DROO critic)", "cvxpy + Clarabel (exp./power cones)",
                f"N={n}, per decision (fast: batches of {batch})", t_fast, t_ref, gaps)

def lyapunov_allocation(instances: int, rng: np.random.Generator, n: int = 10, batch: int = 1024) -> dict:
    """wireless_powered_v0(queues=True)'s critic (LyDROO's P4 for a decision) vs the exp-cone reference.

    States drawn as the env sees them (LyDROO's gains, queues up to 30 Mbit,
    energy queues up to 300); timed per decision on ``batch`` decisions in one
    call. Gap on the objective (maximised), > 0 when the fast path is worse.
    """
    from mec_marl.envs.wireless_powered_config import WirelessPoweredConfig, mean_gain
    from mec_marl.solvers import reference
    from mec_marl.solvers.lyapunov_allocation import allocate

    config = WirelessPoweredConfig(queues=True, n_devices=n)
    system, w, mean = config.lyapunov_system, config.device_weights, mean_gain(config)
    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        h = mean * rng.exponential(1.0, size=(batch, n))
        q, y = rng.uniform(0, 3e7, (batch, n)), rng.uniform(0, 300, (batch, n))
        x = rng.random((batch, n)) < 0.5
        t_fast.append(time_calls(lambda: allocate(system, h, x, q, y, w), calls=3) / batch)
        fast = float(allocate(system, h[0], x[0], q[0], y[0], w).objective)
        t0 = time.perf_counter()
        ref = reference.lyapunov_allocation_reference(system, h[0], x[0], q[0], y[0], w)["objective"]
        t_ref.append(time.perf_counter() - t0)
        gaps.append(rel_gap(-fast, -ref))
    return _row("lyapunov_allocation (LyDROO critic)", "cvxpy + Clarabel (exp. cone) + Brent",
                f"N={n}, per decision (fast: batches of {batch})", t_fast, t_ref, gaps)


def sigmoidal(instances: int, rng: np.random.Generator, n: int = 100) -> dict:
    """djtcra_v0's per-ES sum-of-sigmoids allocation vs Udell & Boyd's branch and bound.

    Users as the env draws them (alpha ~ N(15, 4^2) 1/s, beta ~ N(350, 10^2) ms,
    eta V^T kappa cycles, a cloud floor), one ES of the paper's capacities.
    """
    from scipy.special import expit

    from mec_marl.solvers import reference
    from mec_marl.solvers.sigmoidal import allocate

    t_fast, t_ref, gaps = [], [], []
    for _ in range(instances):
        alpha = np.maximum(rng.normal(15, 4, n), 0.5)
        beta = rng.normal(0.35, 0.01, n)
        base = rng.uniform(0.005, 0.2, n)
        work = rng.uniform(0.5, 8, n) * rng.uniform(200, 800, n) * 8192 * rng.uniform(228, 328, n)
        floor = expit(-alpha * (rng.uniform(0.45, 0.6, n) - beta))
        cap = float(rng.choice([60e9, 100e9, 160e9]))
        args = (alpha, base, work, beta, cap)
        problem = reference.SigmoidProblem(*args, floor=floor)
        t_fast.append(time_calls(lambda: allocate(*args, floor=floor), calls=3))
        start = time.perf_counter()
        _, best, _, _ = reference.sigmoid_branch_and_bound(problem)
        t_ref.append(time.perf_counter() - start)
        gaps.append(rel_gap(-problem.value(allocate(*args, floor=floor).allocation), -best))
    return _row("sigmoidal.allocate", "branch and bound (Udell & Boyd)", f"{n} users on one ES (maximise)",
                t_fast, t_ref, gaps)


def cases(instances: int, tem_instances: int, tem_n: int) -> list:
    """``(name, run(rng) -> row)`` per sub-solver; a new env appends its own."""
    from mec_marl.envs import cpdrl

    paper = cpdrl.CpdrlConfig()
    return [
        ("sqrt_shares", lambda rng: sqrt_shares(instances, rng, n=paper.n_devices)),
        ("local_cpu_optimum", lambda rng: local_cpu(instances, rng, paper)),
        ("offload_resources", lambda rng: offload(instances, rng, paper, k=min(3, paper.n_devices))),
        ("tem", lambda rng: tem(tem_instances, rng, cpdrl.CpdrlConfig(n_devices=tem_n))),
        *((f"p21_n{n}", lambda rng, n=n: p21(instances, rng, n)) for n in (30, 200, 1000)),
        ("time_allocation", lambda rng: wpt_time_allocation(instances, rng)),
        ("lyapunov_allocation", lambda rng: lyapunov_allocation(instances, rng)),
        ("sigmoidal", lambda rng: sigmoidal(max(1, instances // 4), rng, n=100)),
    ]


def measure(instances: int, tem_instances: int, tem_n: int, seed: int) -> list[dict]:
    # One stream per case, so adding a case never changes another case's instances.
    runs = cases(instances, tem_instances, tem_n)
    streams = np.random.SeedSequence(seed).spawn(len(runs))
    return [run(np.random.default_rng(stream)) for (_, run), stream in zip(runs, streams)]


def markdown(rows: list[dict]) -> list[str]:
    lines = [
        "## Fast sub-solvers vs reference solvers",
        "",
        "Median wall time per instance; gap = (fast − reference) / |reference| of the objective "
        "(> 0: fast is worse, < 0: fast is better).",
        "",
        "| solver | problem | reference | instances | fast | reference | speed-up | max gap | min gap |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| `{row['solver']}` | {row['problem']} | {row['reference']} | {row['instances']} | "
            f"{report.fmt_time(row['fast_s'])} | {report.fmt_time(row['reference_s'])} | "
            f"{report.fmt_ratio(row['speedup'], 0)} | {row['max_rel_gap']:.2e} | {row['min_rel_gap']:.2e} |")
    return lines
