"""Reusable torch networks for the learners.

* :func:`mlp` -- Linear/ReLU stack.
* :class:`MlpActor`, :class:`MlpCritic` -- deterministic actor ``obs -> tanh
  action`` and ``Q(obs, action)`` over flat vectors (Table I-style DDPG nets).
* :class:`PerDeviceActor`, :class:`PerDeviceCritic` -- DeepSets networks for
  observations and actions laid out as blocks of ``n`` per-device entries
  (``[x_1..x_n | y_1..y_n | ...]``): the same layers for every device plus the
  mean over devices as context, so relabelling the devices permutes the
  actor's output and leaves the critic's value unchanged (CPDRL's scheduler).
* :class:`CentralisedCritic` -- ``Q(state, joint action)`` over the env's
  ``state()`` and the concatenated actions of every agent (MADDPG-style
  critics of the multi-agent papers).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def mlp(sizes: Sequence[int], out_act: nn.Module | None = None) -> nn.Sequential:
    """``Linear(sizes[0], sizes[1]), ReLU, ..., Linear(sizes[-2], sizes[-1])`` (+ ``out_act``)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


def per_device(x: torch.Tensor, n: int) -> torch.Tensor:
    """``(..., k n)`` in blocks of ``n`` -> ``(..., n, k)``: one row of ``k`` features per device."""
    return x.reshape(*x.shape[:-1], -1, n).transpose(-1, -2)


def from_per_device(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`per_device`: ``(..., n, k)`` -> ``(..., k n)`` in blocks of ``n``."""
    return x.transpose(-1, -2).reshape(*x.shape[:-2], -1)


class MlpActor(nn.Module):
    """``mu(obs) = tanh(MLP(obs))`` in ``[-1, 1]^act_dim``."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int]):
        super().__init__()
        self.net = mlp([obs_dim, *hidden, act_dim], nn.Tanh())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs)


class MlpCritic(nn.Module):
    """``Q(obs, action)``: an MLP over the concatenation."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int]):
        super().__init__()
        self.net = mlp([obs_dim + act_dim, *hidden, 1])

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([obs, action], dim=-1))


class PerDeviceActor(nn.Module):
    """Permutation-equivariant actor body (DeepSets): the same layers for every device.

    ``h_i = relu(W1 x_i)``, ``c = mean_j h_j``, ``out_i = psi([h_i, c])`` with
    ``x_i`` the device's ``k`` observation entries and ``out_i`` its
    ``outputs_per_device`` pre-activation outputs; the output is laid out in
    blocks of ``n`` like the input (CPDRL: ``[a | b | f | p]``).
    """

    def __init__(self, k: int, n: int, hidden: Sequence[int], outputs_per_device: int = 4):
        super().__init__()
        if len(hidden) < 2:
            raise ValueError(f"a per-device network needs at least two hidden sizes, got {tuple(hidden)}")
        self.n = n
        self.phi = nn.Sequential(nn.Linear(k, hidden[0]), nn.ReLU())
        self.psi = mlp([2 * hidden[0], *hidden[1:], outputs_per_device])

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.phi(per_device(obs, self.n))
        c = h.mean(dim=-2, keepdim=True).expand_as(h)
        return from_per_device(self.psi(torch.cat([h, c], dim=-1)))


class PerDeviceCritic(nn.Module):
    """Permutation-invariant critic body (DeepSets) over the devices' (observation, action) rows.

    ``z_i = relu(W1 [x_i, a_i])``, ``c = mean_j z_j``,
    ``Q = rho(mean_i relu(psi([z_i, c])))`` with ``rho`` one hidden layer.
    """

    def __init__(self, k: int, n: int, hidden: Sequence[int], actions_per_device: int = 4):
        super().__init__()
        if len(hidden) < 2:
            raise ValueError(f"a per-device network needs at least two hidden sizes, got {tuple(hidden)}")
        self.n = n
        self.phi = nn.Sequential(nn.Linear(k + actions_per_device, hidden[0]), nn.ReLU())
        self.psi = nn.Sequential(mlp([2 * hidden[0], *hidden[1:]]), nn.ReLU())
        self.rho = mlp([hidden[-1], hidden[-1], 1])

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        z = self.phi(torch.cat([per_device(obs, self.n), per_device(action, self.n)], dim=-1))
        c = z.mean(dim=-2, keepdim=True).expand_as(z)
        return self.rho(self.psi(torch.cat([z, c], dim=-1)).mean(dim=-2))


class CentralisedCritic(nn.Module):
    """``Q(s, a_1, ..., a_m)`` over the global state (``env.state()``) and every agent's action.

    ``action_dims`` fixes the agents' order (e.g. ``env.possible_agents``);
    :meth:`forward` takes the actions as one concatenated tensor or a sequence
    in that order. Used by centralised-training, decentralised-execution
    learners (MADDPG and its relatives).
    """

    def __init__(self, state_dim: int, action_dims: Sequence[int], hidden: Sequence[int]):
        super().__init__()
        self.action_dims = tuple(int(d) for d in action_dims)
        self.net = mlp([int(state_dim) + sum(self.action_dims), *hidden, 1])

    def forward(self, state: torch.Tensor, actions: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        if not isinstance(actions, torch.Tensor):
            actions = list(actions)
            dims = tuple(a.shape[-1] for a in actions)
            if dims != self.action_dims:
                raise ValueError(f"joint action dims {dims} do not match the critic's {self.action_dims}")
            actions = torch.cat(actions, dim=-1)
        elif actions.shape[-1] != sum(self.action_dims):
            raise ValueError(f"joint action has {actions.shape[-1]} entries, the critic expects {sum(self.action_dims)}")
        return self.net(torch.cat([state, actions], dim=-1))
