"""DROO ``.mat`` channel files: read, validate, cache.

A DROO data file (public DROO repository, ``data/data_N.mat``) holds S frames of
N channel gains ``input_h`` (S, N) and, optionally, the exhaustively computed
optimal labels ``output_mode`` (S, N), ``output_a`` (S, 1), ``output_tau``
(S, N) and ``output_obj`` (S, 1). :func:`load` reads one with
``scipy.io.loadmat`` and raises :class:`ChannelFileError` with one line naming
the file and the problem (missing, not a MATLAB file, missing or malformed
field).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import numpy as np


class ChannelFileError(ValueError):
    """A channel file that is missing or malformed."""


@dataclasses.dataclass(frozen=True)
class ChannelFile:
    """The arrays of one DROO file (read-only).

    Attributes:
        path: the resolved file path.
        gain: ``(S, N)`` channel gains.
        optimal_rate: ``(S,)`` ``output_obj`` (bits/s), or ``None`` without labels.
        optimal_decision: ``(S, N)`` bool ``output_mode``, or ``None``.
    """

    path: str
    gain: np.ndarray
    optimal_rate: np.ndarray | None
    optimal_decision: np.ndarray | None

    @property
    def n_frames(self) -> int:
        return self.gain.shape[0]

    @property
    def n_devices(self) -> int:
        return self.gain.shape[1]


def load(path: str | os.PathLike) -> ChannelFile:
    """The validated contents of ``path`` (cached per path and modification time)."""
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise ChannelFileError(f"channel_file {str(path)!r} not found")
    return _load(str(resolved), resolved.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int) -> ChannelFile:
    import scipy.io

    try:
        data = scipy.io.loadmat(path)
    except Exception as err:  # scipy raises several types for a non-MATLAB file
        raise ChannelFileError(f"channel_file {path!r} is not a readable MATLAB .mat file ({err})") from None
    if "input_h" not in data:
        fields = sorted(k for k in data if not k.startswith("__"))
        raise ChannelFileError(f"channel_file {path!r} has no 'input_h' field; fields: {fields}")
    gain = _numeric(path, data, "input_h")
    if gain.ndim != 2 or gain.shape[0] < 1 or gain.shape[1] < 1:
        raise ChannelFileError(f"channel_file {path!r}: 'input_h' must be (frames, devices), got shape {gain.shape}")
    if not np.all(np.isfinite(gain)) or np.any(gain < 0):
        raise ChannelFileError(f"channel_file {path!r}: 'input_h' must be finite and non-negative")
    frames, n = gain.shape
    optimal_rate = optimal_decision = None
    if "output_obj" in data:
        optimal_rate = _numeric(path, data, "output_obj").reshape(-1)
        if optimal_rate.shape != (frames,):
            raise ChannelFileError(
                f"channel_file {path!r}: 'output_obj' has {optimal_rate.size} entries for {frames} frames"
            )
        if not np.all(np.isfinite(optimal_rate)) or np.any(optimal_rate <= 0):
            raise ChannelFileError(f"channel_file {path!r}: 'output_obj' must be finite and positive")
    if "output_mode" in data:
        mode = _numeric(path, data, "output_mode")
        if mode.shape != (frames, n) or not np.all((mode == 0) | (mode == 1)):
            raise ChannelFileError(f"channel_file {path!r}: 'output_mode' must be a ({frames}, {n}) array of 0/1")
        optimal_decision = mode > 0
    for arr in (gain, optimal_rate, optimal_decision):
        if arr is not None:
            arr.setflags(write=False)
    return ChannelFile(path, gain, optimal_rate, optimal_decision)


def _numeric(path: str, data: dict, key: str) -> np.ndarray:
    try:
        return np.array(data[key], dtype=float)
    except (TypeError, ValueError):
        raise ChannelFileError(f"channel_file {path!r}: {key!r} is not numeric") from None
