"""The interface every method implements, and the base class of trained policies.

A *policy* maps the live agents' observations to actions. Heuristics and
searches may read the privileged problem instance through ``env.unwrapped``;
learners see only observations. ``reset`` is called right after each
``env.reset`` so a policy can precompute per-instance work (TEM enumerates
once per instance, not once per step).

:class:`LearnedPolicy` is the one checkpoint format for learners: a torch
file holding a small header (format tag, the method name, the class that
restores it, package versions) and the subclass's own ``state`` dict. Loading
checks the header, so a file that is not a checkpoint, or a checkpoint of one
method loaded under another method's name, is refused in one line.
"""

from __future__ import annotations

import importlib
import os
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

CHECKPOINT_FORMAT = "mec_marl.policy/1"


@runtime_checkable
class Policy(Protocol):
    name: str

    def reset(self, env, seed: int | None = None) -> None:
        """Called after ``env.reset``; ``env`` is the ParallelEnv."""

    def act(self, observations: dict, env) -> dict:
        """Actions for ``env.agents``."""


class RandomSource:
    """Mixin: a policy-owned generator, seeded only through ``reset(seed=...)``."""

    _rng: np.random.Generator | None = None

    def _seed(self, seed):
        if seed is not None or self._rng is None:
            self._rng = np.random.default_rng(seed)

    @property
    def rng(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = np.random.default_rng()
        return self._rng


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable, or of another method."""


class LearnedPolicy:
    """Base of trained policies: ``act`` from observations, ``save`` / ``load`` one file.

    Subclasses set ``name`` (the registry's method name) and ``env_options``
    (the env options the policy acts under, e.g. no masks), implement
    :meth:`predict` (one observation or a batch -> actions),
    :meth:`checkpoint_state` (a dict of tensors, numbers, strings, lists) and
    the classmethod :meth:`from_checkpoint_state`.
    """

    name: str = "learned"
    env_options: dict = {}
    deterministic: ClassVar[bool] = True

    def reset(self, env, seed: int | None = None) -> None:
        """Nothing to prepare by default: the policy reads only observations."""

    def predict(self, obs: np.ndarray) -> np.ndarray:
        # Part of the subclass contract (class docstring); a policy that overrides act() may skip it.
        raise NotImplementedError(f"{type(self).__name__} must implement predict() or override act()")

    def act(self, observations: dict, env) -> dict:
        return {agent: self.predict(observations[agent]) for agent in env.agents}

    # ------------------------------------------------------------ checkpoints
    def checkpoint_state(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must implement checkpoint_state() to be saved")

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "LearnedPolicy":
        raise NotImplementedError(f"{cls.__name__} must implement from_checkpoint_state() to be loaded")

    def save(self, path: str | os.PathLike) -> None:
        """Write the checkpoint atomically (readers never see half a file), mode 0644."""
        import io

        import torch

        from baselines.experiment.io import write_atomic

        header = {
            "format": CHECKPOINT_FORMAT,
            "method": self.name,
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "versions": _versions(),
            "state": self.checkpoint_state(),
        }
        buf = io.BytesIO()
        torch.save(header, buf)
        write_atomic(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike, method: str | None = None) -> "LearnedPolicy":
        """Restore a saved policy; ``method`` (if given) must be the name it was saved under."""
        ckpt = read_checkpoint(path)
        if method is not None and ckpt["method"] != method:
            raise CheckpointError(f"{path}: a checkpoint of method {ckpt['method']!r}, not {method!r}")
        module, _, qualname = ckpt["class"].partition(":")
        try:
            klass = getattr(importlib.import_module(module), qualname)
        except (ImportError, AttributeError):
            raise CheckpointError(f"{path}: its policy class {ckpt['class']!r} cannot be imported") from None
        if not (isinstance(klass, type) and issubclass(klass, cls)):
            raise CheckpointError(f"{path}: holds a {ckpt['class']}, not a {cls.__qualname__}")
        return klass.from_checkpoint_state(ckpt["state"])


def read_checkpoint(path: str | os.PathLike) -> dict:
    """The checkpoint's header dict; :class:`CheckpointError` naming the problem otherwise."""
    import torch

    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises several types for non-torch or non-weights files
        raise CheckpointError(f"{path}: not a mec-marl checkpoint (unreadable by torch.load)") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a mec-marl checkpoint (format {CHECKPOINT_FORMAT!r} expected)")
    return ckpt


def _versions() -> dict:
    from importlib import metadata

    out = {}
    for dist in ("mec-marl", "numpy", "torch", "stable-baselines3"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out
