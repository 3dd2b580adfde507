"""Generated parts of the env documentation pages (module docstrings).

An env module's docstring is its page (PettingZoo's format). Its
"Arguments" and "Episode metrics" sections are generated from the config
fields and the declared metrics, so they cannot go stale:
``__doc__ = env_page(__doc__, Config, EPISODE_METRICS)`` fills the
``{arguments}`` and ``{episode_metrics}`` placeholders.
"""

from __future__ import annotations

import typing
from typing import Mapping

import annotated_types

from mec_marl.episode import Metric, metrics_table


def _bounds(field) -> str:
    parts = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            parts.append(f">= {item.ge:g}")
        elif isinstance(item, annotated_types.Gt):
            parts.append(f"> {item.gt:g}")
        elif isinstance(item, annotated_types.Le):
            parts.append(f"<= {item.le:g}")
        elif isinstance(item, annotated_types.Lt):
            parts.append(f"< {item.lt:g}")
    choices = typing.get_args(field.annotation) if typing.get_origin(field.annotation) is typing.Literal else ()
    if choices:
        parts.append(" / ".join(f"``{c!r}``" for c in choices))
    return ", ".join(parts)


def _default(value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return repr(value)


def arguments_table(config_cls) -> str:
    """Markdown rows: key, default (SI), allowed values, description."""
    rows = ["| key | default (SI) | allowed | description |", "|---|---|---|---|"]
    for name, field in config_cls.model_fields.items():
        rows.append(f"| ``{name}`` | {_default(field.default)} | {_bounds(field)} | {field.description or ''} |")
    return "\n".join(rows)


def env_page(doc: str, config_cls, metrics: Mapping[str, Metric]) -> str:
    """``doc`` with ``{arguments}`` and ``{episode_metrics}`` filled in."""
    return doc.replace("{arguments}", arguments_table(config_cls)).replace(
        "{episode_metrics}", metrics_table(metrics)
    )
