"""Configuration: YAML scenario files -> frozen, validated config objects.

A scenario file under ``configs/scenarios/`` holds a paper's parameter table in
the paper's units (``"15 GHz"``, ``"[200 KB, 400 KB]"``); each env's ``Config``
(a frozen pydantic model) converts them to SI through :mod:`mec_marl.units`.
Overrides come as keyword arguments or as ``"key=value"`` strings (CLI
``--set``; nested keys as ``"a.b=value"``; values parsed as YAML). An unknown key,
a wrong type or an out-of-range value raises :class:`ConfigError` naming the key
and what is allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Iterable, Mapping

import yaml
import math

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, field_validator

from mec_marl import units

CONFIG_ROOT = Path(__file__).resolve().parent.parent / "configs"
# Package data, so that scenario="cpdrl_kilobit" works from a wheel;
# configs/scenarios in the repository is a link to it.
SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
# Keys a scenario file may carry that describe it rather than configure the env.
METADATA_KEYS = ("env", "description", "source")


class ConfigError(ValueError):
    """A configuration that names an unknown key or holds a bad value."""


class UnknownConfigKeyError(ConfigError, TypeError):
    """Unknown config key(s). Also a ``TypeError``: a config key is a keyword argument of
    ``make``, and callers that probe optional keywords (TorchRL's ``GymEnv`` passes
    ``frameskip``) fall back on Python's convention for an unexpected keyword."""

    def __init__(self, message: str, keys: Iterable[str] = ()):  # one-argument form: Gymnasium re-raises type(e)(text)
        super().__init__(message)
        self.keys = list(keys)


def _si(dimension: str):
    def convert(value):
        try:
            return units.to_si(value, dimension)
        except units.UnitError as err:
            raise ValueError(str(err)) from None

    return BeforeValidator(convert)


def _si_range(dimension: str):
    def convert(value):
        if isinstance(value, str):  # "[1 GHz, 2 GHz]" from a --set override
            value = yaml.safe_load(value)
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError(f"expected a [low, high] pair in {dimension}, got {value!r}")
        try:
            lo, hi = (units.to_si(v, dimension) for v in value)
        except units.UnitError as err:
            raise ValueError(str(err)) from None
        if lo > hi:
            raise ValueError(f"range low {lo} exceeds high {hi}")
        return (lo, hi)

    return BeforeValidator(convert)


def _reject_bool(value):
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got the boolean {value}")
    return value


# Integers: pydantic would read True as 1; a count given as a boolean is a mistake.
Integer = Annotated[int, BeforeValidator(_reject_bool)]

# SI-typed fields: accept a number (SI) or a "<number> <unit>" string.
Hertz = Annotated[float, _si("Hz")]
Watt = Annotated[float, _si("W")]
Joule = Annotated[float, _si("J")]
Seconds = Annotated[float, _si("s")]
Meters = Annotated[float, _si("m")]
Bits = Annotated[float, _si("bits")]
CyclesPerBit = Annotated[float, _si("cycles/bit")]
Cycles = Annotated[float, _si("cycles")]
HertzRange = Annotated[tuple[float, float], _si_range("Hz")]
BitsRange = Annotated[tuple[float, float], _si_range("bits")]
CyclesPerBitRange = Annotated[tuple[float, float], _si_range("cycles/bit")]
CyclesRange = Annotated[tuple[float, float], _si_range("cycles")]
MetersRange = Annotated[tuple[float, float], _si_range("m")]
WattRange = Annotated[tuple[float, float], _si_range("W")]
BitsPerSecond = Annotated[float, _si("bits/s")]
BitsPerSecondRange = Annotated[tuple[float, float], _si_range("bits/s")]
SecondsRange = Annotated[tuple[float, float], _si_range("s")]


class EnvConfig(BaseModel):
    """Base of every env's config: frozen, unknown keys forbidden."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _finite_input(cls, value):
        # Before the bounds, so that NaN is named as such rather than as out of range.
        return cls._finite(value)

    @field_validator("*", mode="after")
    @classmethod
    def _finite(cls, value):
        # inf or NaN would pass a gt=0 bound (inf) or every bound (NaN) and poison the physics.
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise ValueError(f"must be finite, got {value!r}")
        return value

    @property
    def episode_length(self) -> int:
        """Steps per episode (truncation); envs name their own field."""
        return int(getattr(self, "max_cycles"))

    @property
    def n_users(self) -> int:
        """Number of users (devices, UEs, EDs) the per-user info arrays have."""
        raise NotImplementedError(f"{type(self).__name__} does not define n_users")

    def replace(self, **changes) -> "EnvConfig":
        """A validated copy with some keys changed."""
        return build_config(type(self), base=self.model_dump(), **changes)


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["n_devices=4", "a.b=1 GHz"]`` -> nested dict (values parsed as YAML)."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"override {item!r} has an empty key")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node = out
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def merge_dicts(base: dict, extra: Mapping) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge_dicts(dict(out[key]), value)
        else:
            out[key] = value
    return out


def scenario_path(name: str | Path) -> Path:
    """Path of a scenario: a file path, or a name under ``configs/scenarios``."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return path
    candidate = SCENARIO_DIR / f"{name}.yaml"
    if candidate.exists():
        return candidate
    known = sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    raise ConfigError(f"unknown scenario {str(name)!r}; known scenarios: {known}")


def load_scenario(name: str | Path) -> dict[str, Any]:
    """Read a scenario YAML file into a dict (metadata keys kept)."""
    with open(scenario_path(name)) as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"scenario {name!r} must be a mapping of keys to values")
    return data


def _describe(model: type[BaseModel], loc: tuple) -> str:
    key = ".".join(str(p) for p in loc)
    return key


def build_config(
    config_cls: type[EnvConfig],
    scenario: str | Path | None = None,
    overrides: Iterable[str] | None = None,
    base: Mapping[str, Any] | None = None,
    env_id: str | None = None,
    **kwargs,
) -> EnvConfig:
    """Validate ``base`` <- ``scenario`` file <- ``overrides`` <- ``kwargs`` into ``config_cls``.

    Later sources win. Raises :class:`ConfigError` naming the offending key.
    """
    data: dict[str, Any] = dict(base or {})
    if scenario is not None:
        loaded = load_scenario(scenario)
        declared = loaded.get("env")
        if env_id and declared and declared != env_id:
            raise ConfigError(f"scenario {str(scenario)!r} is for env {declared!r}, not {env_id!r}")
        data = merge_dicts(data, {k: v for k, v in loaded.items() if k not in METADATA_KEYS})
    if overrides:
        data = merge_dicts(data, parse_overrides(overrides))
    data = merge_dicts(data, kwargs)
    allowed = sorted(config_cls.model_fields)
    unknown = sorted(set(data) - set(allowed))
    where = f"{env_id}: " if env_id else ""
    if unknown:
        raise UnknownConfigKeyError(f"{where}unknown config key(s) {unknown}; allowed keys: {allowed}", unknown)
    try:
        return config_cls(**data)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            key = _describe(config_cls, e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"config key {key!r}: {msg} (got {e.get('input')!r})")
        raise ConfigError(where + "; ".join(lines)) from None
