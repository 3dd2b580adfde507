"""The experiment file: a validated description of one paper's figures and tables.

An experiment lists env *variants* (env id + scenario + overrides, each with
the methods it compares), *methods* (a registry name or ``package.module:build``
with options and env options), sweep *axes*, *budgets* (seeds, swept values,
evaluation episodes, training budget; ``quick`` and ``paper``), the *metrics*
to report, *tables* (each with its reference method), *figures*, the paper's
*reported* values and its *claims* (each with a check that gives a measured
verdict). Unknown keys are errors naming the key. See
``configs/experiments/cpdrl.yaml`` for a complete example.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mec_marl.config import CONFIG_ROOT

EXPERIMENT_DIR = CONFIG_ROOT / "experiments"
# Metrics every cell has besides the env's episode metrics.
RUNNER_METRICS = ("return", "length", "decision_time_s", "train_time_s")


class ExperimentError(ValueError):
    """An experiment file (or a request against it) is invalid; the message names the problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Variant(_Model):
    """One env configuration (a table or a panel of the paper)."""

    env: str | None = None  # defaults to the experiment's env
    scenario: str | None = None
    overrides: dict[str, Any] = {}
    methods: list[str]  # ids from the experiment's `methods`
    label: str = ""
    description: str = ""


class MethodSpec(_Model):
    """A method as this experiment runs it."""

    method: str | None = None  # registry name or "package.module:build"; defaults to the entry's id
    label: str = ""
    options: dict[str, Any] = {}  # passed to the builder
    env_options: dict[str, Any] = {}  # env options the method trains and is evaluated under
    train: dict[str, Any] = {}  # training budget keys over the budget's `train`


class Axis(_Model):
    """A swept quantity; ``target`` says where each value goes."""

    label: str = ""
    target: Literal["env", "train", "options"] = "env"
    log: bool = False  # plot on a log x axis


class Budget(_Model):
    seeds: list[Annotated[int, Field(ge=0, lt=2**32)]] = Field(min_length=1)
    variants: list[str] = []  # the variants this budget runs ([] = all)
    sweep: dict[str, list[Any]] = {}  # axis -> values (the product is swept)
    eval_episodes: int = Field(ge=1)
    train: dict[str, Any] = {}  # training budget for every learner ({} = each method's registered default)
    method_train: dict[str, dict[str, Any]] = {}  # method id -> its keys in this budget only (over `train` and its own)
    decision_samples: int = Field(default=20, ge=1)  # timed decisions per cell, after the warm-up
    decision_warmup: int = Field(default=3, ge=0)
    trace: bool = False  # write per-step CSV traces of the evaluation episodes
    save_policies: bool = False  # save each learner's trained policy as <cell>.pt (for later analysis)

    @model_validator(mode="after")
    def _unique(self):
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds repeat: {self.seeds}")
        for axis, values in self.sweep.items():
            if not values:
                raise ValueError(f"sweep axis {axis!r} has no values")
            if len(set(map(repr, values))) != len(values):
                raise ValueError(f"sweep axis {axis!r} repeats a value: {values}")
        return self


class Table(_Model):
    name: str
    title: str = ""
    variants: list[str] = []  # [] = all
    metrics: list[str] = []  # [] = the experiment's metrics
    reference: str | None = None  # method id; adds ratio_to_<reference> of the first metric


class Figure(_Model):
    name: str  # file stem: <out>/<name>.png
    title: str = ""
    kind: Literal["line", "bar", "curve"] = "line"  # curve: a learner's training history
    metric: str
    x: str | None = None  # axis for "line" (default: the first axis)
    variants: list[str] = []
    methods: list[str] = []
    ylabel: str = ""
    log_y: bool = False


class Reported(_Model):
    """A number the paper prints (or one read off its figure), shown beside ours."""

    variant: str
    method: str
    metric: str
    at: dict[str, Any] = {}  # axis values, e.g. {n_devices: 4}
    value: float
    source: str = ""


class Below(_Model):
    """``method``'s metric is below (above, if ``higher_is_better``) every one of ``others`` at every point."""

    kind: Literal["below"]
    method: str
    others: list[str] = Field(min_length=1)
    metric: str
    higher_is_better: bool = False


class WithinRatio(_Model):
    """``method``'s metric is at most ``max_ratio`` times ``reference``'s at every point."""

    kind: Literal["within_ratio"]
    method: str
    reference: str
    metric: str
    max_ratio: float = Field(gt=0)


class GrowsSlower(_Model):
    """From the smallest to the largest value of ``axis``, ``method``'s metric grows by a smaller factor than ``than``'s."""

    kind: Literal["grows_slower"]
    method: str
    than: str
    metric: str
    axis: str | None = None


Check = Annotated[Union[Below, WithinRatio, GrowsSlower], Field(discriminator="kind")]


class Claim(_Model):
    claim: str  # the paper's words
    check: Check
    variants: list[str] = []  # [] = all


class Experiment(_Model):
    paper: str
    title: str = ""
    env: str | None = None
    variants: dict[str, Variant] = Field(min_length=1)
    methods: dict[str, MethodSpec] = Field(min_length=1)
    axes: dict[str, Axis] = {}
    budgets: dict[str, Budget] = Field(min_length=1)
    metrics: list[str] = Field(min_length=1)
    tables: list[Table] = []
    figures: list[Figure] = []
    reported: list[Reported] = []
    claims: list[Claim] = []

    @model_validator(mode="after")
    def _cross_references(self):
        for name, variant in self.variants.items():
            if variant.env is None and self.env is None:
                raise ValueError(f"variant {name!r} names no env and the experiment has no default `env`")
            _known(variant.methods, self.methods, f"variant {name!r} method")
        for bname, budget in self.budgets.items():
            _known(budget.sweep, self.axes, f"budget {bname!r} sweep axis")
            _known(budget.variants, self.variants, f"budget {bname!r} variant")
            _known(budget.method_train, self.methods, f"budget {bname!r} method_train method")
            missing = sorted(set(self.axes) - set(budget.sweep))
            if missing:
                raise ValueError(f"budget {bname!r} gives no values for axis {missing}")
        for table in self.tables:
            _known(table.variants, self.variants, f"table {table.name!r} variant")
            if table.reference is not None:
                _known([table.reference], self.methods, f"table {table.name!r} reference")
        for fig in self.figures:
            _known(fig.variants, self.variants, f"figure {fig.name!r} variant")
            _known(fig.methods, self.methods, f"figure {fig.name!r} method")
            if fig.x is not None:
                _known([fig.x], self.axes, f"figure {fig.name!r} x axis")
        for rep in self.reported:
            _known([rep.variant], self.variants, "reported variant")
            _known([rep.method], self.methods, "reported method")
            _known(rep.at, self.axes, "reported axis")
        for claim in self.claims:
            c = claim.check
            _known(claim.variants, self.variants, "claim variant")
            names = [c.method] + list(getattr(c, "others", [])) + [getattr(c, "reference", c.method), getattr(c, "than", c.method)]
            _known(names, self.methods, "claim method")
            if getattr(c, "axis", None):
                _known([c.axis], self.axes, "claim axis")
        return self

    # ------------------------------------------------------------- helpers
    def env_of(self, variant: str) -> str:
        return self.variants[variant].env or self.env

    def method_of(self, method_id: str) -> str:
        """The registry name (or ``module:build`` path) behind an experiment's method id."""
        return self.methods[method_id].method or method_id

    def label_of(self, method_id: str) -> str:
        return self.methods[method_id].label or method_id

    def axis_label(self, axis: str) -> str:
        return self.axes[axis].label or axis


def axis_value(value: Any) -> Any:
    """A swept value as a dict key: a list (a [low, high] range, or one read back from JSON) becomes a tuple."""
    return tuple(value) if isinstance(value, list) else value


def _known(names, allowed, what: str) -> None:
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; known: {sorted(allowed)}")


def _format_error(err: ValidationError, source: str) -> str:
    msgs = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            msgs.append(f"unknown key {loc!r}")
        elif e["type"] == "missing":
            msgs.append(f"missing key {loc!r}")
        else:
            where = f"{loc}: " if loc else ""
            msgs.append(where + e["msg"].removeprefix("Value error, "))
    return f"{source}: " + "; ".join(msgs)


def experiment_path(name: str | Path) -> Path:
    """A YAML path, or a name under ``configs/experiments``."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ExperimentError(f"no such experiment file: {path}")
        return path
    candidate = EXPERIMENT_DIR / f"{name}.yaml"
    if candidate.is_file():
        return candidate
    known = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml"))
    raise ExperimentError(f"unknown experiment {str(name)!r}; known: {known} (or give a .yaml path)")


def parse_experiment(data: Any, source: str = "experiment") -> Experiment:
    if not isinstance(data, dict):
        raise ExperimentError(f"{source}: an experiment file must be a mapping, got {type(data).__name__}")
    try:
        return Experiment.model_validate(data)
    except ValidationError as err:
        raise ExperimentError(_format_error(err, source)) from None


def load_experiment(name: str | Path) -> Experiment:
    path = experiment_path(name)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ExperimentError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    return parse_experiment(data, str(path))
