"""Action validation shared by the single env and the vector env.

Rules (every env): ``actions`` maps each live agent to one action; an unknown
or missing agent, a wrong shape, a non-numeric value or a NaN/inf raises
``ValueError`` naming the env, the agent (and, batched, the batch index) and
the problem. Finite values outside a ``Box`` are clipped to it and counted;
Discrete / MultiDiscrete actions must be in range (no clipping).
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def check_agents(name: str, actions, live: list[str]) -> None:
    if not isinstance(actions, dict):
        raise ValueError(f"{name}: actions must be a dict agent -> action, got {type(actions).__name__}")
    unknown = [a for a in actions if a not in live]
    if unknown:
        raise ValueError(f"{name}: unknown agent(s) {unknown} in actions; live agents are {live}")
    missing = [a for a in live if a not in actions]
    if missing:
        raise ValueError(f"{name}: missing action for agent(s) {missing}")


def _where(bad: np.ndarray, batch_shape: tuple) -> str:
    if not batch_shape:
        return ""
    index = np.argwhere(bad.reshape(batch_shape + (-1,)).any(axis=-1))[0]
    return f" at batch index {tuple(int(i) for i in index) if len(index) > 1 else int(index[0])}"


def check_action(name: str, agent: str, action, space: spaces.Space, batch_shape: tuple = ()):
    """Validate one agent's action (with leading ``batch_shape``).

    Returns ``(array, clipped)``: the float64 (Box) or int64 (discrete) action
    and the number of clipped entries, an int or an int array over the batch.
    """
    try:
        arr = np.asarray(action, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: action for agent {agent!r} is not numeric: {action!r}") from None
    if isinstance(space, spaces.Box):
        expected = batch_shape + space.shape
        if arr.shape != expected:
            raise ValueError(f"{name}: action for agent {agent!r} has shape {arr.shape}, expected {expected}")
        clipped = np.clip(arr, space.low, space.high)
        changed = clipped != arr  # also True for NaN
        if not changed.any():
            return clipped, np.zeros(batch_shape, dtype=np.int64) if batch_shape else 0
        finite = np.isfinite(arr)
        if not finite.all():
            raise ValueError(f"{name}: action for agent {agent!r} contains NaN or inf{_where(~finite, batch_shape)}")
        count = changed.reshape(batch_shape + (-1,)).sum(axis=-1)
        return clipped, count if batch_shape else int(count)
    if isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
        expected = batch_shape + (() if isinstance(space, spaces.Discrete) else space.shape)
        if arr.shape != expected:
            raise ValueError(f"{name}: action for agent {agent!r} has shape {arr.shape}, expected {expected}")
        finite = np.isfinite(arr)
        if not finite.all():
            raise ValueError(f"{name}: action for agent {agent!r} contains NaN or inf{_where(~finite, batch_shape)}")
        integral = arr == np.round(arr)
        if not integral.all():
            raise ValueError(f"{name}: action for agent {agent!r} must be integer{_where(~integral, batch_shape)}")
        ints = arr.astype(np.int64)
        if isinstance(space, spaces.Discrete):
            low, high = space.start, space.start + space.n - 1
        else:
            low, high = space.start, space.start + space.nvec - 1
        inside = (ints >= low) & (ints <= high)
        if not inside.all():
            raise ValueError(
                f"{name}: action for agent {agent!r} is outside {space}{_where(~inside, batch_shape)}"
            )
        return ints, np.zeros(batch_shape, dtype=np.int64) if batch_shape else 0
    raise TypeError(f"{name}: unsupported action space {space}")


def check_actions(name: str, actions, live: list[str], action_spaces: dict, batch_shape: tuple = ()):
    """Validate a whole actions dict; returns ``(checked, clipped)`` dicts."""
    check_agents(name, actions, live)
    checked, clipped = {}, {}
    for agent in live:
        checked[agent], clipped[agent] = check_action(name, agent, actions[agent], action_spaces[agent], batch_shape)
    return checked, clipped
