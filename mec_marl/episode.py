"""Episode metrics: how each scalar metric aggregates over an episode.

Each env declares, per metric, how the paper reports it over an episode
(:class:`Metric`): the ``last`` step's value, the ``mean`` over steps, the
``sum``, the ``min`` or ``max``, or a ``ratio`` of sums (successes / tasks,
or 1 / mean latency as tasks / latency sum). At the step that ends an episode
the env puts the aggregates in ``infos[agent]["episode"]``, together with
``return`` (the agent's summed reward) and ``length`` (steps). One
:class:`EpisodeAccumulator` serves the single env (batch shape ``()``) and the
vector env (``(B,)``, per-index resets), so the two cannot disagree.
"""

from __future__ import annotations

import dataclasses
from typing import Literal, Mapping

import numpy as np

Kind = Literal["last", "mean", "sum", "min", "max", "ratio"]
KINDS = ("last", "mean", "sum", "min", "max", "ratio")
RESERVED = ("return", "length")


@dataclasses.dataclass(frozen=True)
class Metric:
    """How one episode metric is computed from the steps' scalar infos.

    Attributes:
        kind: ``last``, ``mean``, ``sum``, ``min``, ``max`` of ``source`` over the
            episode's steps, or ``ratio`` = sum(``source``) / sum(``denominator``).
        source: the step-info key read (default: the metric's own name).
        denominator: for ``ratio``, the step-info key summed below the line.
        description: what the metric means, for docs and tables.
    """

    kind: Kind
    source: str | None = None
    denominator: str | None = None
    description: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown metric kind {self.kind!r}; allowed: {list(KINDS)}")
        if (self.kind == "ratio") != (self.denominator is not None):
            raise ValueError("a 'ratio' metric needs a denominator, and only a ratio takes one")


def check_metrics(metrics: Mapping[str, Metric]) -> None:
    clash = sorted(set(metrics) & set(RESERVED))
    if clash:
        raise ValueError(f"episode metric names {clash} are reserved (the base adds {list(RESERVED)})")


class EpisodeAccumulator:
    """Running aggregates of one env's episode metrics, per agent, over a batch shape."""

    def __init__(self, metrics: Mapping[str, Metric], agents: list[str], batch_shape: tuple = ()):
        check_metrics(metrics)
        self.metrics = dict(metrics)
        self.agents = list(agents)
        self.batch_shape = tuple(batch_shape)
        self._values = {a: {} for a in self.agents}  # agent -> metric -> array
        self._extra = {a: {} for a in self.agents}  # ratio denominators
        self._return = {a: np.zeros(self.batch_shape) for a in self.agents}
        self._length = np.zeros(self.batch_shape, dtype=np.int64)

    def reset(self, index=None) -> None:
        """Start new episodes: all (``index=None``) or the batch entries ``index``."""
        if index is None:
            for a in self.agents:
                self._values[a], self._extra[a] = {}, {}
                self._return[a] = np.zeros(self.batch_shape)
            self._length = np.zeros(self.batch_shape, dtype=np.int64)
            return
        for a in self.agents:
            self._return[a][index] = 0.0
        self._length[index] = 0
        # Per-metric arrays are re-seeded on the next update where length == 0.

    def update(self, rewards: Mapping[str, np.ndarray], infos: Mapping[str, Mapping[str, np.ndarray]]) -> None:
        if not self.batch_shape:
            return self._update_single(rewards, infos)
        fresh = self._length == 0
        self._length = self._length + 1
        for a in self.agents:
            self._return[a] = self._return[a] + np.asarray(rewards[a], dtype=float)
            info = infos[a]
            for name, metric in self.metrics.items():
                value = np.asarray(info[metric.source or name], dtype=float)
                self._values[a][name] = self._fold(metric.kind, self._values[a].get(name), value, fresh)
                if metric.kind == "ratio":
                    den = np.asarray(info[metric.denominator], dtype=float)
                    self._extra[a][name] = self._fold("sum", self._extra[a].get(name), den, fresh)

    def _update_single(self, rewards, infos) -> None:
        """Batch shape ``()``: the same folds on Python floats (the single env's hot path)."""
        fresh = self._length == 0
        self._length = self._length + 1
        for a in self.agents:
            self._return[a] = self._return[a] + float(rewards[a])
            info, values, extra = infos[a], self._values[a], self._extra[a]
            for name, metric in self.metrics.items():
                value, kind = float(info[metric.source or name]), metric.kind
                old = None if fresh else values.get(name)
                if old is None or kind == "last":
                    values[name] = value
                elif kind in ("sum", "mean", "ratio"):
                    values[name] = old + value
                elif kind == "min":
                    values[name] = min(old, value)
                else:
                    values[name] = max(old, value)
                if kind == "ratio":
                    den = float(info[metric.denominator])
                    extra[name] = den if fresh else extra.get(name, 0.0) + den

    @staticmethod
    def _fold(kind: str, old, value, fresh):
        if old is None or kind == "last":
            return value
        if kind in ("sum", "mean", "ratio"):
            return np.where(fresh, value, old + value)
        if kind == "min":
            return np.where(fresh, value, np.minimum(old, value))
        return np.where(fresh, value, np.maximum(old, value))

    def result(self, agent: str) -> dict[str, np.ndarray]:
        """The aggregates so far for ``agent`` (arrays over the batch shape)."""
        length = np.maximum(self._length, 1)
        if not self.batch_shape:
            return {k: np.asarray(v) for k, v in self._result_values(agent, length).items()}
        return self._result_values(agent, length)

    def _result_values(self, agent: str, length) -> dict:
        out = {}
        for name, metric in self.metrics.items():
            value = self._values[agent].get(name)
            if value is None:
                value = np.full(self.batch_shape, np.nan)
            elif metric.kind == "mean":
                value = value / length
            elif metric.kind == "ratio":
                den = self._extra[agent][name]
                with np.errstate(divide="ignore", invalid="ignore"):
                    value = np.where(den != 0, value / np.where(den != 0, den, 1.0), np.nan)
            out[name] = value
        out["return"] = self._return[agent].copy()
        out["length"] = self._length.copy()
        return out


def metrics_table(metrics: Mapping[str, Metric]) -> str:
    """Markdown rows describing an env's episode metrics (for its documentation page)."""
    rows = ["| metric | aggregation | description |", "|---|---|---|"]
    for name, m in metrics.items():
        how = f"{m.kind}({m.source or name})" if m.kind != "ratio" else f"sum({m.source or name}) / sum({m.denominator})"
        rows.append(f"| ``{name}`` | {how} | {m.description} |")
    rows.append("| ``return`` | sum(reward) | the agent's episode return |")
    rows.append("| ``length`` | steps | steps in the episode |")
    return "\n".join(rows)
