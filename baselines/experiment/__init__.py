"""Experiments: validated experiment files -> plan -> run (resumable) -> summary, report and figures.

    from baselines.experiment import load_experiment, plan, execute, write_summary
    exp = load_experiment("cpdrl")
    cells = plan(exp, "quick")
    execute(pending(cells, out), out, workers=2)
    write_summary(exp, "quick", out, cells)

Modules: :mod:`.schema` (the file format), :mod:`.plan` (cells),
:mod:`.run` (workers, resume, signals), :mod:`.episode` (episode metrics
from the env, decision time), :mod:`.seeds` (the evaluation-seed rule),
:mod:`.stats` (seeds as the unit, bootstrap CIs), :mod:`.summary` and
:mod:`.claims` (tables, report, verdicts), :mod:`.figures` (plots from
result files), :mod:`.io` (atomic writes, valid JSON).
"""

from baselines.experiment.episode import decision_time, evaluate, run_episode
from baselines.experiment.io import read_json, write_atomic, write_csv, write_json
from baselines.experiment.plan import Cell, cell_path, parse_values, plan, select
from baselines.experiment.run import Interrupted, execute, pending, run_cell
from baselines.experiment.schema import Experiment, ExperimentError, load_experiment, parse_experiment
from baselines.experiment.seeds import eval_seeds
from baselines.experiment.stats import across_seeds, bootstrap_ci, iqm, seed_means
from baselines.experiment.summary import write_summary

__all__ = [
    "Cell", "Experiment", "ExperimentError", "Interrupted", "across_seeds", "bootstrap_ci", "cell_path",
    "decision_time", "eval_seeds", "evaluate", "execute", "iqm", "load_experiment", "parse_experiment",
    "parse_values", "pending", "plan", "read_json", "run_cell", "run_episode", "seed_means", "select",
    "write_atomic", "write_csv", "write_json", "write_summary",
]
