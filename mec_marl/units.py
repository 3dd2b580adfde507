"""Unit conversion: the only place where the papers' units become SI.

Everything inside the package is SI (bits, Hz, W, J, s, m, cycles). Scenario
files and ``key=value`` overrides may write quantities in the papers' units as
strings, e.g. ``"15 GHz"``, ``"300 KB"``, ``"23 dBm"``, ``"0.5 s"``; the config
layer converts them with :func:`to_si`, checking that the unit has the dimension
the config key expects (a ``KB`` value for a frequency is an error).

Data sizes follow SPEC: ``1 KB = 8 * 1024`` bits, ``1 MB = 8 * 1024**2`` bits;
``Kb``/``Mb`` (lower-case b) are decimal kilo/mega *bits* (1 Kb = 1000 bits).
"""

from __future__ import annotations

import math
import re

import numpy as np

BITS_PER_BYTE = 8
KB = 8 * 1024  # bits
MB = 8 * 1024**2  # bits
KILOBIT = 1000  # bits
MEGABIT = 1000**2  # bits

# unit -> (dimension, factor to SI). Affine/log units (dBm, dB) are handled separately.
_LINEAR_UNITS: dict[str, tuple[str, float]] = {
    # data
    "bit": ("bits", 1.0),
    "bits": ("bits", 1.0),
    "Kb": ("bits", KILOBIT),
    "kb": ("bits", KILOBIT),
    "Mb": ("bits", MEGABIT),
    "B": ("bits", BITS_PER_BYTE),
    "KB": ("bits", KB),
    "kB": ("bits", KB),
    "MB": ("bits", MB),
    # frequency / bandwidth / clock
    "Hz": ("Hz", 1.0),
    "kHz": ("Hz", 1e3),
    "MHz": ("Hz", 1e6),
    "GHz": ("Hz", 1e9),
    # power, energy
    "W": ("W", 1.0),
    "mW": ("W", 1e-3),
    "J": ("J", 1.0),
    "mJ": ("J", 1e-3),
    # time
    "s": ("s", 1.0),
    "ms": ("s", 1e-3),
    # length
    "m": ("m", 1.0),
    "km": ("m", 1e3),
    # compute intensity
    "cycles/bit": ("cycles/bit", 1.0),
    "cycles": ("cycles", 1.0),
    "Gcycles": ("cycles", 1e9),
    "Mbps": ("bits/s", 1e6),
    "bps": ("bits/s", 1.0),
}

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/]+)\s*$")


class UnitError(ValueError):
    """A quantity string that cannot be converted to the expected dimension."""


def dbm_to_watt(dbm):
    """dBm -> W: ``P = 10^(dBm/10) / 1000``."""
    return 10.0 ** (np.asarray(dbm, dtype=float) / 10.0) / 1000.0


def watt_to_dbm(watt):
    """W -> dBm."""
    return 10.0 * np.log10(np.asarray(watt, dtype=float) * 1000.0)


def db_to_linear(db):
    """dB -> linear power ratio."""
    return 10.0 ** (np.asarray(db, dtype=float) / 10.0)


def linear_to_db(x):
    """Linear power ratio -> dB."""
    return 10.0 * np.log10(np.asarray(x, dtype=float))


def kilobytes(x):
    """KB (8 * 1024 bits, SPEC) -> bits."""
    return np.asarray(x, dtype=float) * KB


def megabytes(x):
    """MB (8 * 1024**2 bits, SPEC) -> bits."""
    return np.asarray(x, dtype=float) * MB


def gigahertz(x):
    """GHz -> Hz."""
    return np.asarray(x, dtype=float) * 1e9


def megahertz(x):
    """MHz -> Hz."""
    return np.asarray(x, dtype=float) * 1e6


def parse_quantity(text: str) -> tuple[float, str]:
    """Split ``"15 GHz"`` into ``(15.0, "GHz")``; raises :class:`UnitError`."""
    m = _QUANTITY.match(text)
    if not m:
        raise UnitError(f"cannot read {text!r} as '<number> <unit>'")
    return float(m.group(1)), m.group(2)


def to_si(value, dimension: str) -> float:
    """Convert a number (already SI) or a quantity string to SI in ``dimension``.

    ``dimension`` is one of the SI dimension names above (``"Hz"``, ``"W"``,
    ``"bits"``, ``"s"``, ``"m"``, ``"J"``, ``"cycles/bit"``, ``"cycles"``,
    ``"bits/s"``). Power also accepts ``dBm``.
    """
    if isinstance(value, bool):
        raise UnitError(f"expected a {dimension} quantity, got a boolean")
    if isinstance(value, (int, float, np.floating, np.integer)):
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a number or a '<number> <unit>' string, got {value!r}")
    try:  # a bare number in SI: YAML 1.1 reads "25e6" (no dot) as a string, as a --set override gives it
        return float(value)
    except ValueError:
        pass
    number, unit = parse_quantity(value)
    if unit == "dBm":
        if dimension != "W":
            raise UnitError(f"unit dBm is a power, but this key is in {dimension}")
        return float(dbm_to_watt(number))
    if unit not in _LINEAR_UNITS:
        known = sorted(u for u, (d, _) in _LINEAR_UNITS.items() if d == dimension)
        raise UnitError(f"unknown unit {unit!r}; for {dimension} use one of {known}")
    dim, factor = _LINEAR_UNITS[unit]
    if dim != dimension:
        known = sorted(u for u, (d, _) in _LINEAR_UNITS.items() if d == dimension)
        raise UnitError(f"unit {unit!r} is {dim}, but this key is in {dimension}; use one of {known}")
    out = number * factor
    if not math.isfinite(out):
        raise UnitError(f"{value!r} is not finite")
    return out
