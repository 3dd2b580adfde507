"""The sum-of-sigmoids allocation (fast path) against branch and bound and grid search."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from mec_marl.solvers import sigmoidal
from mec_marl.solvers.reference_djtcra import SigmoidProblem, branch_and_bound, grid_search

KB = 8192.0


def random_problem(rng, n, capacity=None, cloud=True):
    """DJTCRA-like users: alpha ~ N(15, 4^2) 1/s, beta ~ N(0.35, 0.01^2) s, eta V^T kappa cycles."""
    alpha = np.maximum(rng.normal(15, 4, n), 0.5)
    beta = rng.normal(0.35, 0.01, n)
    base = rng.uniform(0.005, 0.2, n)
    work = rng.uniform(0.5, 8, n) * rng.uniform(200, 800, n) * KB * rng.uniform(228, 328, n)
    floor = expit(-alpha * (rng.uniform(0.45, 0.6, n) - beta)) if cloud else np.zeros(n)
    capacity = capacity if capacity is not None else rng.choice([60e9, 100e9, 160e9])
    return alpha, base, work, beta, capacity, floor


def check(rng, n, **kw):
    alpha, base, work, beta, capacity, floor = random_problem(rng, n, **kw)
    fast = sigmoidal.allocate(alpha, base, work, beta, capacity, floor=floor)
    x = fast.allocation
    assert np.all(x >= 0) and x.sum() <= capacity * (1 + 1e-12)
    problem = SigmoidProblem(alpha, base, work, beta, capacity, floor=floor)
    assert float(fast.value) == pytest.approx(problem.value(x), rel=1e-12)
    _, best, upper, _ = branch_and_bound(problem)
    assert upper - best <= 1e-6 * best  # the reference certified its optimum
    return (best - problem.value(x)) / best


@pytest.mark.parametrize("n", [2, 3])
def test_branch_and_bound_agrees_with_grid_search(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        alpha, base, work, beta, capacity, floor = random_problem(rng, n, capacity=20e9)
        problem = SigmoidProblem(alpha, base, work, beta, capacity, floor=floor)
        _, best, _, _ = branch_and_bound(problem)
        _, grid = grid_search(problem)
        assert grid <= best + 1e-9  # the grid never beats the certified optimum
        assert best - grid <= 2e-3 * best  # and gets close to it


@pytest.mark.parametrize("n,seed", [(5, 0), (12, 1), (25, 2), (40, 3)])
def test_fast_path_within_1e_3_of_branch_and_bound(n, seed):
    gap = check(np.random.default_rng(seed), n)
    assert gap <= 1e-3


def test_fast_path_without_a_cloud_and_short_capacity():
    rng = np.random.default_rng(5)
    for _ in range(2):
        assert check(rng, 20, capacity=15e9, cloud=False) <= 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("n", [100, 200])
def test_fast_path_at_scale(n):
    assert check(np.random.default_rng(n), n) <= 1e-3


def test_near_hopeless_users_get_nothing_when_resources_are_short():
    n = 8
    alpha, base, beta = np.full(n, 15.0), np.full(n, 0.05), np.full(n, 0.35)
    work = np.array([2e9] * 4 + [2e11] * 4)  # the last four need ~1 THz to reach their midpoint
    x = sigmoidal.allocate(alpha, base, work, beta, 40e9).allocation
    assert np.all(x[4:] == 0) and np.all(x[:4] > 0)
    assert x.sum() == pytest.approx(40e9)


def test_users_whose_cloud_wins_get_nothing():
    alpha, base, work, beta = np.full(3, 15.0), np.array([0.05, 0.05, 0.9]), np.full(3, 5e9), np.full(3, 0.35)
    floor = np.full(3, expit(-15.0 * (0.5 - 0.35)))  # the cloud's QoE at 0.5 s
    result = sigmoidal.allocate(alpha, base, work, beta, 50e9, floor=floor)
    assert result.allocation[2] == 0 and not result.served[2]  # 0.9 s before processing: never beats 0.5 s
    assert result.served[:2].all()


def test_batched_problems_equal_single_ones_bit_for_bit():
    rng = np.random.default_rng(9)
    problems = [random_problem(rng, int(k)) for k in rng.integers(1, 9, 6)]
    K = 10
    stacked = [np.ones((6, K)) for _ in range(4)] + [np.zeros((6, K))]
    mask = np.zeros((6, K), bool)
    caps = np.zeros(6)
    for i, (alpha, base, work, beta, cap, floor) in enumerate(problems):
        n = len(alpha)
        for arr, val in zip(stacked, (alpha, base, work, beta, floor)):
            arr[i, :n] = val
        mask[i, :n], caps[i] = True, cap
    batched = sigmoidal.allocate(*stacked[:4], caps, floor=stacked[4], mask=mask).allocation
    for i, (alpha, base, work, beta, cap, floor) in enumerate(problems):
        single = sigmoidal.allocate(alpha, base, work, beta, cap, floor=floor).allocation
        np.testing.assert_array_equal(batched[i, : len(alpha)], single)
        assert np.all(batched[i, len(alpha):] == 0)


def test_a_large_ragged_batch_equals_its_problems_solved_alone():
    # Enough problems that the local search's candidate sets interleave across problems.
    rng = np.random.default_rng(11)
    sizes = rng.integers(3, 25, 60)
    K = int(sizes.max())
    arrays = [np.ones((60, K)) for _ in range(4)] + [np.zeros((60, K))]
    mask, caps = np.zeros((60, K), bool), np.zeros(60)
    for i, n in enumerate(sizes):
        *cols, cap, floor = random_problem(rng, int(n))
        for arr, val in zip(arrays, (*cols, floor)):
            arr[i, :n] = val
        mask[i, :n], caps[i] = True, cap
    batched = sigmoidal.allocate(*arrays[:4], caps, floor=arrays[4], mask=mask)
    for i, n in enumerate(sizes):
        alone = sigmoidal.allocate(*(a[i, :n] for a in arrays[:4]), caps[i], floor=arrays[4][i, :n])
        np.testing.assert_array_equal(batched.allocation[i, :n], alone.allocation)
        assert batched.value[i] == alone.value


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="positive"):
        sigmoidal.allocate([15.0, -1.0], [0.1, 0.1], [1e9, 1e9], [0.35, 0.35], 10e9)


def test_inflection_point_zeroes_the_second_derivative():
    theta, k = np.array([-3.0, 0.0, 2.0]), np.array([0.5, 1.0, 2.0])
    z = sigmoidal.inflection_point(theta, k)
    for t, kk, zz in zip(theta, k, z):
        f = lambda x: expit(-t - kk / x)  # noqa: E731
        h = 1e-4 * zz
        second = lambda x: (f(x + h) - 2 * f(x) + f(x - h)) / h**2  # noqa: E731
        assert second(zz * 0.98) > 0 > second(zz * 1.02)  # convex before, concave after
