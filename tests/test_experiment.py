"""The experiment package: files, statistics, seeds, schema, plan, episode metrics, claims."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import yaml

from baselines.experiment import claims, io, seeds, stats
from baselines.experiment.episode import run_episode
from baselines.experiment.plan import Cell, cell_path, parse_values, plan, select
from baselines.experiment.schema import ExperimentError, load_experiment, parse_experiment
from baselines.experiment.summary import summarise


def small_experiment(**changes) -> dict:
    exp = {
        "paper": "t",
        "env": "cpdrl_v0",
        "variants": {"a": {"scenario": "cpdrl", "overrides": {"max_cycles": 2}, "methods": ["tem", "lem", "ddpg"]}},
        "methods": {"tem": {"label": "TEM"}, "lem": {}, "ddpg": {"env_options": {"max_cycles": 2}}},
        "axes": {"n_devices": {"label": "n"}},
        "budgets": {"q": {"seeds": [0, 1], "sweep": {"n_devices": [2, 3]}, "eval_episodes": 2}},
        "metrics": ["objective"],
        "tables": [{"name": "t", "reference": "tem"}],
    }
    exp.update(changes)
    return exp


# ----------------------------------------------------------------------- io
def test_json_writes_are_atomic_valid_and_world_readable(tmp_path):
    path = tmp_path / "sub" / "x.json"
    io.write_json(path, {"a": np.arange(3), "nan": float("nan"), "inf": np.float64(np.inf), "b": np.bool_(True)})
    assert json.loads(path.read_text()) == {"a": [0, 1, 2], "nan": None, "inf": None, "b": True}
    assert path.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]
    with pytest.raises(TypeError):
        io.write_json(path, {"bad": object()})
    assert json.loads(path.read_text())["a"] == [0, 1, 2]  # the old file survives a failed write


def test_csv_and_markdown_show_missing_values():
    rows = [{"m": "x", "v": float("nan")}, {"m": "y", "v": 0.5}]
    assert io.csv_text(rows, ["m", "v"]).splitlines() == ["m,v", "x,", "y,0.5"]
    md = io.markdown_table(rows, ["m", "v"])
    assert "| x | - |" in md and "| y | 0.5 |" in md


def test_markdown_escapes_bars_in_labels():
    md = io.markdown_table([{"u": "|U| = 100", "v": 1.0}], ["u", "v"], headers=["users |U|", "v"])
    header, _, row = md.splitlines()
    assert header == "| users \\|U\\| | v |" and row == "| \\|U\\| = 100 | 1 |"
    assert all(line.replace("\\|", "").count("|") == 3 for line in (header, row))  # two cells each


# -------------------------------------------------------------------- stats
def test_seed_is_the_unit_not_the_episode():
    per_seed = [stats.seed_means([{"x": 1.0}, {"x": 3.0}]), stats.seed_means([{"x": 10.0}])]
    assert [s["x"] for s in per_seed] == [2.0, 10.0]
    agg = stats.across_seeds(s["x"] for s in per_seed)
    assert agg["mean"] == 6.0 and agg["seeds"] == 2  # pooled episodes would give 14/3


def test_iqm_by_hand():
    assert stats.iqm([1, 2, 3, 4, 100, 5, 6, 7]) == pytest.approx(4.5)  # mean of 3, 4, 5, 6


@pytest.mark.parametrize("values", [[1.0, 2.0, 6.0], [0.5, 1.0, 1.5, 4.0, 9.0]])
def test_bootstrap_ci_against_the_exact_bootstrap_distribution(values):
    # By hand: every resample with replacement is equally likely; enumerate them all.
    n = len(values)
    means = np.sort([np.mean(c) for c in itertools.product(values, repeat=n)])
    lo, hi = np.quantile(means, [0.025, 0.975], method="inverted_cdf")  # quantiles of the exact distribution
    got = stats.bootstrap_ci(values)
    tol = 0.05 * (max(values) - min(values))
    assert got[0] == pytest.approx(lo, abs=tol) and got[1] == pytest.approx(hi, abs=tol)
    assert stats.bootstrap_ci(values) == got  # fixed random_state
    assert stats.bootstrap_ci([3.0]) == (3.0, 3.0)


# -------------------------------------------------------------------- seeds
def test_eval_seeds_are_disjoint_from_training_seeds_and_each_other():
    train = [0, 1, 2, 7, seeds.MAX_TRAIN_SEED]
    evals = {s: seeds.eval_seeds(s, 1000) for s in train}
    flat = [e for v in evals.values() for e in v]
    assert len(set(flat)) == len(flat)  # no two seeds share an evaluation instance
    assert min(flat) > seeds.MAX_TRAIN_SEED  # no evaluation seed is a training seed
    assert seeds.eval_seeds(3, 5) == seeds.eval_seeds(3, 5)
    with pytest.raises(ValueError, match="seed must be"):
        seeds.eval_seeds(-1, 5)
    with pytest.raises(ValueError, match="episodes"):
        seeds.eval_seeds(0, 0)


def test_first_evaluation_instance_differs_from_first_training_instance():
    import mec_marl

    env = mec_marl.make("cpdrl_v0", n_devices=3)
    env.reset(seed=0)
    train_instance = env.unwrapped.instance.data_size.copy()
    env.reset(seed=seeds.eval_seeds(0, 1)[0])
    assert not np.allclose(train_instance, env.unwrapped.instance.data_size)


# ------------------------------------------------------------------- schema
@pytest.mark.parametrize("change, message", [
    ({"bogus": 1}, "unknown key 'bogus'"),
    ({"variants": {"a": {"methods": ["tem"], "scenrio": "x"}}}, "unknown key 'variants.a.scenrio'"),
    ({"variants": {"a": {"methods": ["nope"]}}}, "unknown variant 'a' method 'nope'"),
    ({"budgets": {"q": {"seeds": [0], "sweep": {"m": [1]}, "eval_episodes": 1}}}, "sweep axis 'm'"),
    ({"budgets": {"q": {"seeds": [0], "sweep": {"n_devices": [2]}, "eval_episodes": 0}}}, "eval_episodes"),
    ({"budgets": {"q": {"seeds": [0, 0], "sweep": {"n_devices": [2]}, "eval_episodes": 1}}}, "seeds repeat"),
    ({"tables": [{"name": "t", "reference": "pso"}]}, "reference 'pso'"),
    ({"budgets": {"q": {"seeds": [0], "sweep": {"n_devices": [2]}, "eval_episodes": 1, "method_train": {"zz": {}}}}},
     "method_train method 'zz'"),
    ({"claims": [{"claim": "x", "check": {"kind": "below", "method": "tem", "others": ["zz"], "metric": "o"}}]},
     "claim method 'zz'"),
])
def test_schema_errors_name_the_problem(change, message):
    with pytest.raises(ExperimentError, match=message):
        parse_experiment(small_experiment(**change))


def test_shipped_experiment_files_validate_and_plan():
    exp = load_experiment("cpdrl")
    quick = plan(exp, "quick")
    assert {c.seed for c in quick} == {0, 1, 2}
    assert {c.point["n_devices"] for c in quick} == {2, 4, 8}  # the quick sweep keeps make demo under 10 minutes
    assert {c.method_id for c in plan(exp, "paper")} == set(exp.methods)
    full = plan(exp, "quick_full")  # issue 21: the quick training budget at the paper's n = 2..10
    assert {c.point["n_devices"] for c in full} == set(range(2, 11))
    assert all(c.save_policy == (c.method_id not in ("tem", "fom", "rom", "lem")) for c in full)
    with pytest.raises(ExperimentError, match="unknown experiment 'nope'"):
        load_experiment("nope")
    with pytest.raises(ExperimentError, match="no such experiment file"):
        load_experiment("/nonexistent.yaml")


# --------------------------------------------------------------------- plan
def test_plan_applies_axes_and_env_options_and_select_refuses_strangers():
    exp = parse_experiment(small_experiment())
    cells = plan(exp, "q")
    assert len(cells) == 3 * 2 * 2
    ddpg = [c for c in cells if c.method_id == "ddpg"][0]
    assert ddpg.env_kwargs["consistency"] == "none" and ddpg.env_kwargs["n_devices"] == 2  # registered env options
    assert all(c.train == {} for c in cells if c.method_id != "ddpg")
    sub = select(exp, "q", cells, ["lem"], parse_values(["3"], exp))
    assert [(c.method_id, c.point["n_devices"]) for c in sub] == [("lem", 3), ("lem", 3)]
    with pytest.raises(ExperimentError, match="unknown method 'bogus'"):
        select(exp, "q", cells, ["bogus"])
    with pytest.raises(ExperimentError, match="n_devices='abc' is not a value"):
        select(exp, "q", cells, values=parse_values(["abc"], exp))
    with pytest.raises(ExperimentError, match="unknown budget"):
        plan(exp, "paper")
    assert cell_path("out", cells[0]).as_posix() == "out/cells/a/tem/n_devices=2_s0.json"
    assert Cell.from_dict(cells[0].as_dict()) == cells[0]
    assert [c.seed for c in select(exp, "q", cells, ["tem"], seeds=[1])] == [1, 1]
    with pytest.raises(ExperimentError, match="seed 5 is not a seed of budget 'q'"):
        select(exp, "q", cells, seeds=[5])


def test_save_policies_saves_each_learner_next_to_its_result(tmp_path):
    from baselines import registry
    from baselines.experiment.run import run_cell

    exp = parse_experiment(small_experiment(budgets={"q": {
        "seeds": [0], "sweep": {"n_devices": [2]}, "eval_episodes": 1, "decision_samples": 1,
        "train": {"steps": 20}, "save_policies": True}}))
    cells = {c.method_id: c for c in plan(exp, "q")}
    assert not cells["tem"].save_policy and cells["ddpg"].save_policy  # learners only
    run_cell(cells["ddpg"], tmp_path)
    saved = cell_path(tmp_path, cells["ddpg"]).with_suffix(".pt")
    assert registry.get("ddpg").load(saved).name == "ddpg"


def test_a_budgets_method_train_reaches_that_method_in_that_budget_only():
    budgets = {"q": {"seeds": [0], "sweep": {"n_devices": [2]}, "eval_episodes": 1, "train": {"steps": 10},
                     "method_train": {"ddpg": {"steps": 20, "lr": 0.5}}},
               "p": {"seeds": [0], "sweep": {"n_devices": [2]}, "eval_episodes": 1, "train": {"steps": 10}}}
    exp = parse_experiment(small_experiment(budgets=budgets))
    assert [c.train for c in plan(exp, "q") if c.method_id == "ddpg"] == [{"steps": 20, "lr": 0.5}]
    assert [c.train for c in plan(exp, "p") if c.method_id == "ddpg"] == [{"steps": 10}]


# ------------------------------------------------------------------ episode
class _EpisodeEnv:
    """Two agents, three steps; the last step's infos disagree with the episode dict on purpose."""

    possible_agents = ["a", "b"]

    def reset(self, seed=None, options=None):
        self.agents, self.t = list(self.possible_agents), 0
        return {a: np.zeros(1) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self.t += 1
        done = self.t == 3
        infos = {a: {"objective": 99.0} for a in self.agents}
        if done:
            infos["a"]["episode"] = {"objective": 1.0, "return": 3.0, "length": 3.0}
            infos["b"]["episode"] = {"objective": 3.0, "return": 5.0, "length": 3.0}
        obs = {a: np.zeros(1) for a in self.agents}
        if done:
            self.agents = []
        keys = self.possible_agents
        return obs, {a: 1.0 for a in keys}, {a: done for a in keys}, {a: False for a in keys}, infos


class _Nop:
    def reset(self, env, seed=None):
        pass

    def act(self, observations, env):
        return {a: 0 for a in env.agents}


def test_metrics_come_from_the_episode_dict_not_the_last_step():
    trace: list = []
    metrics = run_episode(_EpisodeEnv(), _Nop(), seed=0, trace=trace)
    assert metrics == {"objective": 2.0, "return": 4.0, "length": 3.0}  # mean over the agents' episode dicts
    assert [r["step"] for r in trace] == [1, 2, 3] and trace[0]["objective"] == 99.0


# ------------------------------------------------------------ summary, claims
def _rows():
    exp = parse_experiment(small_experiment(claims=[
        {"claim": "TEM below LEM", "check": {"kind": "below", "method": "tem", "others": ["lem"], "metric": "objective"}},
        {"claim": "LEM near TEM", "check": {"kind": "within_ratio", "method": "lem", "reference": "tem",
                                            "metric": "objective", "max_ratio": 1.5}},
        {"claim": "TEM grows slower", "check": {"kind": "grows_slower", "method": "tem", "than": "lem",
                                               "metric": "objective"}},
    ]))
    values = {("tem", 2): [1.0, 1.2], ("tem", 3): [2.0, 2.2], ("lem", 2): [2.0, 2.0], ("lem", 3): [8.0, 8.0]}
    results = [{"cell": {"variant": "a", "point": {"n_devices": n}, "method_id": m}, "episodes": [{}, {}],
                "seed_means": {"objective": v}} for (m, n), vs in values.items() for v in vs]
    return exp, summarise(exp, results)


def test_summary_rows_and_reference_ratio():
    exp, rows = _rows()
    tem2 = next(r for r in rows if r["method"] == "tem" and r["n_devices"] == 2)
    lem2 = next(r for r in rows if r["method"] == "lem" and r["n_devices"] == 2)
    assert tem2["objective"] == pytest.approx(1.1) and tem2["seeds"] == 2
    assert tem2["objective_ci_low"] <= 1.1 <= tem2["objective_ci_high"]
    assert lem2["ratio_to_tem"] == pytest.approx(2.0 / 1.1)
    assert [r["method"] for r in rows] == ["tem", "lem", "tem", "lem"]  # the experiment's order


def test_claims_get_a_measured_verdict_with_numbers():
    exp, rows = _rows()
    below, within, grows = (claims.verdict(exp, c, rows) for c in exp.claims)
    assert below["verdict"] == claims.HOLDS and "2 of 2" in below["evidence"]
    assert within["verdict"] == claims.FAILS and "3.81" in within["evidence"]  # 8 / 2.1
    assert grows["verdict"] == claims.HOLDS and "x1.91" in grows["evidence"] and "x4" in grows["evidence"]
    assert below["claim"] == "TEM below LEM"


def test_reproduce_experiment_yaml_round_trips(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(yaml.safe_dump(small_experiment()))
    assert load_experiment(path).paper == "t"
    assert math.isclose(stats.across_seeds([1.0, 3.0])["mean"], 2.0)


def test_report_prints_claims_apart_from_verdicts_and_the_papers_values():
    from baselines.experiment.summary import report

    exp, rows = _rows()
    exp = parse_experiment({**exp.model_dump(exclude_defaults=True), "reported": [
        {"variant": "a", "method": "tem", "at": {"n_devices": 2}, "metric": "objective", "value": 1.05, "source": "Fig. 4"},
        {"variant": "a", "method": "tem", "at": {"n_devices": 9}, "metric": "objective", "value": 7.0},
    ]})
    verdicts = [claims.verdict(exp, c, rows) for c in exp.claims]
    text = report(exp, "q", rows, verdicts, 8, 8)
    assert "- Paper: LEM near TEM\n  - Measured: **does not hold**" in text
    assert "| a | n_devices=2 | TEM | objective | 1.05 | 1.1 [" in text and "| not run |" in text
    assert "| n | method | objective | objective / TEM |" in text


def test_figures_are_drawn_from_result_files_alone(tmp_path):
    from baselines.experiment import figures
    from baselines.experiment.io import write_json

    exp, rows = _rows()
    exp = parse_experiment({**exp.model_dump(exclude_defaults=True), "figures": [
        {"name": "line", "metric": "objective", "log_y": True},
        {"name": "bars", "kind": "bar", "metric": "objective"},
        {"name": "curve", "kind": "curve", "metric": "final_objective"},
    ]})
    write_json(tmp_path / "summary.json", {"experiment": exp.model_dump(mode="json"), "rows": rows})
    for seed in (0, 1):  # training curves live in the cells
        cell = {"variant": "a", "point": {"n_devices": 3}, "method_id": "ddpg", "seed": seed}
        write_json(tmp_path / "cells" / f"c{seed}.json", {"cell": cell, "history": {"final_objective": [5.0, 4.0, 3.0 + seed]}})
    paths = figures.draw(tmp_path)
    assert [p.name for p in paths] == ["line.png", "bars.png", "curve.png"]
    assert all(p.stat().st_size > 0 and p.stat().st_mode & 0o777 == 0o644 for p in paths)
    with pytest.raises(ValueError, match="unknown figure 'nope'"):
        figures.draw(tmp_path, ["nope"])


def test_plan_checks_metrics_and_env_config_against_the_env():
    with pytest.raises(ExperimentError, match="metric 'objectiv' is not an episode metric of cpdrl_v0"):
        plan(parse_experiment(small_experiment(metrics=["objectiv"])), "q")
    bad = small_experiment(variants={"a": {"scenario": "nope", "methods": ["tem"]}})
    with pytest.raises(ExperimentError, match="variant 'a': unknown scenario 'nope'"):
        plan(parse_experiment(bad), "q")
