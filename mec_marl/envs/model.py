"""The env model: what every environment module provides, and the helpers both adapters share.

An env module reads like its paper's system-model section: a frozen config, an
``Instance`` dataclass of arrays (the world, per-instance constants and the
episode's pre-drawn exogenous randomness), a ``State`` dataclass of arrays, and
pure functions over leading batch axes. :class:`EnvModel` bundles them so that
:class:`~mec_marl.envs.base.MecParallelEnv` (batch shape ``()``) and
:mod:`mec_marl.vector` (batch shape ``(B,)``) run one copy of the physics.

The functions (``*b`` is the batch shape, ``()`` for one instance):

* ``sample_instance(config, rng, batch_shape=()) -> Instance``;
* ``sample_batch(config, rngs) -> Instance`` (optional): one instance from each
  generator, stacked; the vector env's (auto-)resets use it. The default
  stacks ``sample_instance(config, rng)``; an env overrides it to draw per
  generator and derive the rest once for the batch;
* ``check_instance(config, instance) -> Instance``: validate a user-given
  (single, unbatched) instance and return it with arrays converted and derived
  fields filled; raises ``ValueError`` naming the field, before any env state changes;
* ``initial_state(config, instance, **reset_options) -> State``; every ``State``
  has ``t`` (``*b`` ints), the number of steps taken;
* ``step(config, instance, state, actions) -> (State, Outcome)``: ``actions``
  maps each agent to an array ``(*b, *action_shape)`` already validated; draws
  nothing, reads no clock;
* ``observe(config, instance, state) -> {agent: (*b, *obs_shape)}``;
* ``global_state(config, instance, state) -> (*b, *state_shape)``;
* ``reset_infos(config, instance, state) -> {agent: {key: array}}``: the infos of
  ``reset``, with the keys of a step's infos where they are defined;
* ``agents(config)`` and ``spaces(config) -> (observation_spaces, action_spaces, state_space)``;
* ``topology(config, instance, state)`` and ``summary(config, instance, state)``
  for ``render``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

import numpy as np

from mec_marl.episode import Metric


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one ``step`` produced, arrays over the batch shape ``*b``.

    Attributes:
        rewards: agent -> ``(*b,)`` rewards.
        infos: agent -> {key: array}; scalar metrics are ``(*b,)``, per-user
            arrays ``(*b, n_users)``.
        terminated: ``(*b,)`` bool, episodes that ended before ``episode_length``
            (e.g. the end of a replayed channel file).
    """

    rewards: dict[str, np.ndarray]
    infos: dict[str, dict[str, np.ndarray]]
    terminated: np.ndarray


@dataclasses.dataclass(frozen=True)
class EnvModel:
    """One env's config class, episode metrics and pure functions (module docstring)."""

    name: str
    config_cls: type
    instance_cls: type
    sample_instance: Callable
    check_instance: Callable
    initial_state: Callable
    step: Callable
    observe: Callable
    global_state: Callable
    reset_infos: Callable
    agents: Callable
    spaces: Callable
    topology: Callable
    summary: Callable
    episode_metrics: Mapping[str, Metric]
    sample_batch: Callable | None = None
    # Reset options besides "instance", name -> description; passed to initial_state.
    reset_options: Mapping[str, str] = dataclasses.field(default_factory=dict)


def sample_batch(model: EnvModel, config, rngs: list) -> Any:
    """One instance per generator, stacked (``model.sample_batch`` or the generic loop)."""
    if model.sample_batch is not None:
        return model.sample_batch(config, rngs)
    return stack([model.sample_instance(config, rng) for rng in rngs])


def stack(instances: list) -> Any:
    """Stack single instances (or states) of one dataclass into one with a leading batch axis."""
    first = instances[0]
    fields = {}
    for f in dataclasses.fields(first):
        values = [getattr(inst, f.name) for inst in instances]
        fields[f.name] = None if values[0] is None else np.stack([np.asarray(v) for v in values])
    return type(first)(**fields)


def unstack(batched: Any, size: int) -> list:
    """Inverse of :func:`stack`: a list of ``size`` single dataclasses (arrays copied)."""
    out = []
    for i in range(size):
        fields = {}
        for f in dataclasses.fields(batched):
            value = getattr(batched, f.name)
            fields[f.name] = None if value is None else np.array(value[i])
        out.append(type(batched)(**fields))
    return out


def scatter(target: Any, index: np.ndarray, source: Any) -> Any:
    """``target`` with the batch entries ``index`` replaced by ``source``'s (same dataclass)."""
    index = np.asarray(index)
    names = [f.name for f in dataclasses.fields(target)]
    present = [n for n in names if getattr(target, n) is not None]
    if (present and all((getattr(source, n) is None) == (getattr(target, n) is None) for n in names)
            and np.shape(getattr(target, present[0]))[:1] == (index.size,)
            and np.array_equal(index, np.arange(index.size))):
        return source  # every entry replaced (episodes end together): no copy of the old batch
    fields = {}
    for f in dataclasses.fields(target):
        value = getattr(target, f.name)
        if value is None:
            fields[f.name] = None
            continue
        new = np.array(value)
        new[index] = getattr(source, f.name)
        fields[f.name] = new
    return type(target)(**fields)


def as_python(value):
    """A 0-d array or numpy scalar as a Python scalar (bool, int or float); other arrays unchanged."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and not value.ndim):
        return value.item()
    return value


def single_infos(infos: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, dict]:
    """Per-agent infos of one instance: scalars as Python numbers, arrays kept."""
    return {agent: {k: as_python(v) for k, v in info.items()} for agent, info in infos.items()}
