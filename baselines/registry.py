"""Method registry: a method name -> how to build it, its options, and which envs it supports.

Every method is built by ``build(env_id, env_kwargs, seed, budget)`` (plus
``options=...`` when the method declares options) and returns a
:class:`~baselines.policy.Policy`. For learners ``build`` trains (with the
budget, e.g. ``{"steps": 20000}``) and the result can be saved and loaded;
heuristics and searches ignore the budget.

Methods register themselves from their env's module: the baselines of env
``<family>_vN`` live in ``baselines/<family>.py`` (or a ``baselines/<family>/``
package), which calls :func:`register` on import; the registry imports those
modules the first time a method is looked up. A researcher's own method comes
in without editing the repository, either

* on the command line as ``package.module:build`` (a builder function, or a
  :class:`Method` object at that path), or
* through the entry-point group ``mec_marl.methods`` in their package's
  ``pyproject.toml``: ``[project.entry-points."mec_marl.methods"]
  my_method = "my_pkg.methods:METHOD"`` (a :class:`Method`, a list of them,
  or a module that calls :func:`register`).
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable, Literal

Kind = Literal["heuristic", "search", "learner"]
ENTRY_POINT_GROUP = "mec_marl.methods"
ANY_ENV = "*"


@dataclass(frozen=True)
class Method:
    name: str
    envs: tuple[str, ...]  # env ids, or ("*",) for any env
    kind: Kind
    factory: str | Callable  # "module:callable" or the callable: build(env_id, env_kwargs, seed, budget[, options])
    description: str = ""
    paper_label: str = ""  # the name in the paper's figures/tables
    default_budget: dict = field(default_factory=dict)
    loader: str = ""  # "module:callable" -> load(path) -> Policy; "" = LearnedPolicy.load
    options: dict = field(default_factory=dict)  # builder options and their defaults
    env_options: dict = field(default_factory=dict)  # env options the method trains and acts under
    # Decisions depend on the instance only (no randomness, no training). Recorded with each
    # result; such methods still run on every seed, since each seed has its own evaluation instances.
    deterministic: bool = False

    def supports(self, env_id: str) -> bool:
        return ANY_ENV in self.envs or env_id in self.envs

    def check_options(self, options: dict | None) -> dict:
        """The method's options with ``options`` over them; unknown keys are errors."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise ValueError(f"method {self.name!r}: unknown option(s) {unknown}; allowed: {sorted(self.options)}")
        return {**self.options, **options}

    def build(self, env_id: str, env_kwargs: dict | None = None, seed: int | None = None,
              budget: dict | None = None, options: dict | None = None):
        """Build (train, for a learner) the policy; ``env_kwargs`` get the method's env options on top."""
        if not self.supports(env_id):
            raise ValueError(f"method {self.name!r} does not support env {env_id!r}; it supports {list(self.envs)}")
        builder = _resolve(self.factory)
        merged = {**self.default_budget, **(budget or {})}
        kwargs = dict(env_id=env_id, env_kwargs={**dict(env_kwargs or {}), **self.env_options}, seed=seed, budget=merged)
        opts = self.check_options(options)
        if opts or "options" in inspect.signature(builder).parameters:
            kwargs["options"] = opts
        return builder(**kwargs)

    def load(self, path: str):
        """Load a saved policy of this method; a checkpoint of another method is refused."""
        import os

        from baselines.policy import CheckpointError, LearnedPolicy

        if self.kind != "learner":
            raise ValueError(f"method {self.name!r} ({self.kind}) has no saved policies to load")
        if not os.path.exists(path):  # a file, or a directory for methods that save one
            raise CheckpointError(f"{path}: no such checkpoint file")
        if not self.loader:
            return LearnedPolicy.load(path, method=self.name)
        try:
            policy = _resolve(self.loader)(path)
        except ValueError:
            raise
        except Exception:  # e.g. torch.load on a file that is not a checkpoint
            raise CheckpointError(f"{path}: not a checkpoint of method {self.name!r}") from None
        saved = getattr(policy, "name", None)
        if saved != self.name:
            raise CheckpointError(f"{path}: a checkpoint of method {saved!r}, not {self.name!r}")
        return policy


def _resolve(target: str | Callable) -> Callable:
    if callable(target):
        return target
    module, _, attr = str(target).partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


METHODS: dict[str, Method] = {}
_discovered = False


def register(method: Method) -> Method:
    METHODS[method.name] = method
    return method


def _discover() -> None:
    """Import each env's baselines module and the installed entry points, once."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    from mec_marl.registry import list_envs

    for family in sorted({env_id.rsplit("_v", 1)[0] for env_id in list_envs()}):
        try:
            importlib.import_module(f"baselines.{family}")
        except ModuleNotFoundError as err:
            if err.name != f"baselines.{family}":
                raise  # a broken import inside the module is a bug, not "no baselines"
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        for obj in loaded if isinstance(loaded, (list, tuple)) else [loaded]:
            if isinstance(obj, Method):
                register(obj)


def from_path(spec: str) -> Method:
    """``package.module:attr`` -> a Method (the object itself, or a builder wrapped as one)."""
    try:
        obj = _resolve(spec)
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueError(f"cannot import method {spec!r}: {err}") from None
    if isinstance(obj, Method):
        return obj
    if not callable(obj):
        raise ValueError(f"method {spec!r} is neither a Method nor a builder function")
    # A bare builder: assumed random (run on every seed) and not loadable from checkpoints.
    return Method(spec, (ANY_ENV,), "heuristic", obj, description=(obj.__doc__ or "").strip().split("\n")[0])


def get(name: str, env_id: str | None = None) -> Method:
    """A registered method by name, or a ``package.module:build`` path."""
    if ":" in name:
        method = from_path(name)
    else:
        _discover()
        try:
            method = METHODS[name]
        except KeyError:
            raise ValueError(f"unknown method {name!r}; known methods: {list_methods(env_id)}") from None
    if env_id is not None and not method.supports(env_id):
        raise ValueError(f"method {name!r} does not support env {env_id!r}; methods for it: {list_methods(env_id)}")
    return method


def list_methods(env_id: str | None = None) -> list[str]:
    _discover()
    return sorted(m.name for m in METHODS.values() if env_id is None or m.supports(env_id))
