"""The PFR-OA experiment files (Table III, Fig. 8, Fig. 9) validate and plan."""

import pytest

from baselines.experiment.plan import plan
from baselines.experiment.schema import load_experiment

METHODS = {"pfr_oa", "mcf_td3", "sc_td3", "sc_ddpg", "sc_dqn", "sc_greedy", "sc_local", "sc_edge"}


def test_table3_plans_every_method_at_three_bandwidths():
    exp = load_experiment("pfr_oa")
    quick, paper = plan(exp, "quick"), plan(exp, "paper")
    assert {c.method_id for c in quick} == METHODS
    assert {c.point["bandwidth"] for c in quick} == {5_000_000, 15_000_000, 25_000_000}
    assert {c.variant for c in quick} == {"realistic"}
    assert {c.variant for c in paper} == {"realistic", "paper_power"}
    assert len({c.seed for c in quick}) >= 3
    pfr = next(c for c in paper if c.method_id == "pfr_oa" and c.variant == "paper_power")
    assert pfr.env_kwargs["scenario"] == "smart_community_paper_power" and pfr.train == {"total_steps": 40000}
    greedy = next(c for c in quick if c.method_id == "sc_greedy")
    assert greedy.train == {} and greedy.env_kwargs["bandwidth"] == greedy.point["bandwidth"]


def test_table3_reports_the_papers_values_for_every_cell():
    exp = load_experiment("pfr_oa")
    cells = {(r.variant, r.method, r.metric, r.at["bandwidth"]) for r in exp.reported}
    assert len(cells) == len(exp.reported) == 2 * 8 * 3 * 4
    pfr = next(r for r in exp.reported if (r.variant, r.method, r.metric, r.at["bandwidth"])
               == ("realistic", "pfr_oa", "success_rate", 15_000_000))
    assert pfr.value == 0.90


@pytest.mark.parametrize("name, axis", [("pfr_oa_cycles", "cycles_range"), ("pfr_oa_capacity", "edge_capacity")])
def test_sweep_files_plan(name, axis):
    exp = load_experiment(name)
    quick, paper = plan(exp, "quick"), plan(exp, "paper")
    assert list(exp.axes) == [axis]
    assert {c.method_id for c in quick} == METHODS
    assert len({repr(c.point[axis]) for c in paper}) == 5
    assert all(c.env_kwargs[axis] == c.point[axis] for c in quick)


def test_a_range_valued_axis_summarises_in_order():
    from baselines.experiment.summary import summarise

    exp = load_experiment("pfr_oa_cycles")
    results = [{"cell": {"variant": "realistic", "point": {"cycles_range": [lo, lo + 2]}, "method_id": "sc_local"},
                "episodes": [{}], "seed_means": {"success_rate": s}}
               for lo, s in ((14, 0.2), (6, 0.6), (10, 0.4))]
    rows = summarise(exp, results)
    assert [r["cycles_range"] for r in rows] == [(6, 8), (10, 12), (14, 16)]
    assert [r["success_rate"] for r in rows] == [0.6, 0.4, 0.2]
