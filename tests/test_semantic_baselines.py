"""semantic_v0 methods: feasibility, the exhaustive optimum, the two critics, DRLH seeding and checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

import mec_marl
from baselines.semantic import ExhaustivePolicy, GreedyPolicy, LongestQueuePolicy, RandomAssociationPolicy
from baselines.semantic.drlh import DrlhPolicy
from baselines.semantic.heuristics import all_actions, candidate_costs


def run(policy, seed=0, **config):
    env = mec_marl.make("semantic_v0", **{"max_cycles": 60, **config})
    obs, _ = env.reset(seed=seed)
    policy.reset(env, seed=seed)
    rewards, infos = [], None
    while env.agents:
        obs, r, _, _, infos = env.step(policy.act(obs, env))
        rewards.append(next(iter(r.values())))
        info = next(iter(infos.values()))
        assert info["rho_mec"].sum() == env.unwrapped.config.chi_mec
        assert info["rho_mcc"].sum() == env.unwrapped.config.chi_mcc
    return np.array(rewards), next(iter(infos.values()))["episode"]


@pytest.mark.parametrize(
    "policy",
    [RandomAssociationPolicy(), ExhaustivePolicy(), GreedyPolicy(), LongestQueuePolicy()],
    ids=lambda p: p.name,
)
@pytest.mark.parametrize("mode", ["controller", "users"])
def test_heuristics_run_in_both_agent_modes(policy, mode):
    rewards, episode = run(policy, agent_mode=mode)
    assert np.all(np.isfinite(rewards)) and episode["length"] == 60


def test_exhaustive_beats_every_other_action_each_slot():
    env = mec_marl.make("semantic_v0", max_cycles=5, arrival_rate=750.0, q_local_max=None, q_edge_max=None)
    env.reset(seed=4)
    policy = ExhaustivePolicy()
    rho_mec, rho_mcc = all_actions(env.unwrapped.config)
    for _ in range(5):
        table = candidate_costs(env, rho_mec, rho_mcc, "table")
        direct = candidate_costs(env, rho_mec, rho_mcc, "direct")
        np.testing.assert_allclose(table, direct, rtol=1e-10)
        choice = policy.choose(env)
        k = np.flatnonzero((rho_mec == choice[0]).all(1) & (rho_mcc == choice[1]).all(1))[0]
        assert table[k] == table.min()
        # The critic's score is the env's -reward up to the arrival term (which no decision changes).
        state, inst = env.unwrapped.model_state, env.unwrapped.instance
        arrival_term = ((state.queue_local + state.virtual_local) * inst.arrivals[int(state.t)]).sum()
        _, r, _, _, _ = env.step(policy.act(None, env))
        assert -r["controller"] == pytest.approx(table[k] + arrival_term, rel=1e-9, abs=1e-9)


def test_exhaustive_beats_random_on_power_and_queues():
    _, ex = run(ExhaustivePolicy(), max_cycles=300)
    _, rnd = run(RandomAssociationPolicy(), max_cycles=300)
    assert ex["system_power"] < rnd["system_power"] and ex["queue_local"] < rnd["queue_local"]


def test_drlh_is_seeded_and_checkpoints_round_trip(tmp_path):
    a, b = DrlhPolicy(8, batch_size=32, seed=3), DrlhPolicy(8, batch_size=32, seed=3)
    ra, _ = run(a, seed=1, max_cycles=50)
    rb, _ = run(b, seed=1, max_cycles=50)
    np.testing.assert_array_equal(ra, rb)
    assert len(a.losses) > 5 and all(np.isfinite(a.losses))
    a.save(tmp_path / "drlh.pt")
    c = DrlhPolicy(8, batch_size=32, seed=99, learn=False)
    c.load(tmp_path / "drlh.pt")
    x = np.random.default_rng(0).random(48).astype(np.float32)
    np.testing.assert_array_equal(a.relaxed(x), c.relaxed(x))
    with pytest.raises(ValueError, match="hidden layers"):
        DrlhPolicy(8, hidden=(16,)).load(tmp_path / "drlh.pt")


def test_drlh_acts_in_users_mode():
    rewards, episode = run(DrlhPolicy(4, batch_size=8), agent_mode="users", max_cycles=20)
    assert np.all(np.isfinite(rewards)) and episode["length"] == 20


def test_drlh_with_every_candidate_is_exhaustive():
    """N_A = 1960 evaluates every feasible action: the same choices as exhaustive search."""
    r_all, _ = run(DrlhPolicy(1960, learn=False), max_cycles=40)
    r_ex, _ = run(ExhaustivePolicy(), max_cycles=40)
    np.testing.assert_allclose(r_all, r_ex, rtol=1e-12)


def test_levels_script_prints_a_row_per_method_and_names_bad_input():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def script(*args):
        return subprocess.run([sys.executable, "scripts/semantic_levels.py", *args], cwd=root,
                              capture_output=True, text=True, timeout=300)

    ok = script("--slots", "10", "--methods", "random", "exhaustive", "--gap")
    assert ok.returncode == 0, ok.stderr
    rows = [line for line in ok.stdout.splitlines() if line.startswith("| random") or line.startswith("| exhaustive")]
    assert len(rows) == 2 and "gap" in rows[1]
    bad = script("--methods", "nope")
    assert bad.returncode == 2 and "unknown method 'nope'" in bad.stderr
    bad = script("--set", "chi_mec=99")
    assert bad.returncode == 2 and "chi_mec" in bad.stderr


def test_methods_are_registered_and_drlh_trains_through_the_registry(tmp_path):
    from baselines import registry

    names = {"sem_exhaustive", "sem_random", "sem_greedy", "sem_longest_queue", "drlh_64", "drlh_16", "drlh_8"}
    assert names <= set(registry.list_methods("semantic_v0"))
    method = registry.get("drlh_8", "semantic_v0")
    policy = method.build("semantic_v0", {"n_ues": 4, "chi_mec": 2, "chi_mcc": 1}, seed=1,
                          budget={"steps": 60, "batch_size": 16})
    assert policy.name == "drlh_8" and not policy.learn
    assert policy.history["slot"] == [60.0] and len(policy.history["system_power"]) == 1
    rewards, _ = run(policy, n_ues=4, chi_mec=2, chi_mcc=1, max_cycles=10)
    policy.save(tmp_path / "p.pt")
    loaded = method.load(str(tmp_path / "p.pt"))
    assert loaded.name == "drlh_8" and loaded.n_candidates == 8
    np.testing.assert_array_equal(run(loaded, n_ues=4, chi_mec=2, chi_mcc=1, max_cycles=10)[0], rewards)
    exhaustive = registry.get("sem_exhaustive").build("semantic_v0", {}, seed=0)
    assert exhaustive.name == "sem_exhaustive"


@pytest.mark.parametrize("name,quick_cells", [("drlh", 75), ("drlh_v", 36)])
def test_experiment_files_validate_and_plan(name, quick_cells):
    from baselines.experiment.plan import plan
    from baselines.experiment.schema import load_experiment

    exp = load_experiment(name)
    cells = plan(exp, "quick")
    assert len(cells) == quick_cells
    assert {c.method for c in cells} <= {"sem_exhaustive", "sem_random", "drlh_64", "drlh_16", "drlh_8"}
    assert all(c.train == {"steps": 3000} for c in cells if c.method.startswith("drlh"))
