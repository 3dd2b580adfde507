"""The CPDRL actor and critic: eq. (15) STE, eq. (16) masks, eq. (19) consistency loss (Fig. 3)."""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn

from baselines.learners.cpdrl.hyper import ARCHITECTURES
from baselines.learners.nets import MlpCritic, PerDeviceActor, PerDeviceCritic, mlp


def ste_binarise(a_raw: torch.Tensor, beta: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq. (15): ``(a, a_tilde)``.

    ``a_tilde = round(sigmoid(beta a_raw))`` (0/1, no gradient; torch rounds
    0.5 to 0 like the env) and the surrogate ``a = a_tilde + (s - stop_grad(s))``
    with ``s = sigmoid(beta a_raw)``: its value is exactly ``a_tilde`` and its
    gradient is the sigmoid's, ``beta s (1 - s)``.
    """
    soft = torch.sigmoid(beta * a_raw)
    hard = torch.round(soft).detach()
    return hard + (soft - soft.detach()), hard


def consistency_loss(a: torch.Tensor, b: torch.Tensor, f: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Eq. (19): ``mean_n [a_n f_n^2 + (1 - a_n)(b_n^2 + p_n^2)]`` (also averaged over the batch).

    ``a`` is the offload decision (the STE surrogate in training), ``b, f, p``
    the resources scaled to [0, 1], taken *before* the masks of eq. (16) (after
    them the loss is identically zero; see the package docstring).
    """
    return torch.mean(a * f.pow(2) + (1.0 - a) * (b.pow(2) + p.pow(2)))


class Actor(nn.Module):
    """mu(s): a network with a tanh output layer, then the variant's output control (Fig. 3).

    The network is an MLP over the whole observation (``"mlp"``, ``"hybrid"``)
    or :class:`~baselines.learners.nets.PerDeviceActor` (``"deepsets"``).

    ``forward`` returns the env action in [-1, 1]^(4n); :meth:`parts` also
    returns the STE surrogate and the pre-mask resources in [0, 1] (eq. 19).
    """

    def __init__(self, obs_dim: int, n: int, hidden: Sequence[int], ste: bool, mask: bool, beta: float,
                 architecture: str = "mlp", mask_surrogate: bool = False):
        super().__init__()
        self.n, self.ste, self.mask, self.beta = int(n), bool(ste), bool(mask), float(beta)
        self.mask_surrogate = bool(mask_surrogate)
        if architecture in ("mlp", "hybrid"):
            self.net = mlp([obs_dim, *hidden, 4 * n])
        elif architecture == "deepsets":
            self.net = PerDeviceActor(obs_dim // n, n, hidden, outputs_per_device=4)
        else:
            raise ValueError(f"unknown architecture {architecture!r}; allowed: {list(ARCHITECTURES)}")

    def parts(self, obs: torch.Tensor) -> dict:
        pre = self.net(obs)
        raw = torch.tanh(pre)
        n = self.n
        a_raw, b_raw, f_raw, p_raw = raw[..., :n], raw[..., n : 2 * n], raw[..., 2 * n : 3 * n], raw[..., 3 * n :]
        b01, f01, p01 = (b_raw + 1.0) / 2.0, (f_raw + 1.0) / 2.0, (p_raw + 1.0) / 2.0
        if self.ste:
            a, hard = ste_binarise(a_raw, self.beta)  # eq. 15
            a_out = 2.0 * a - 1.0
        else:
            a, hard, a_out = (a_raw + 1.0) / 2.0, (a_raw > 0).to(raw.dtype), a_raw
        if self.mask:  # eq. 16 on [0, 1] resources (read b, f, p; the paper prints b_raw thrice)
            m = a if self.mask_surrogate else hard
            b_out, f_out, p_out = m * b01, (1.0 - m) * f01, m * p01
        else:
            b_out, f_out, p_out = b01, f01, p01
        action = torch.cat([a_out, 2.0 * b_out - 1.0, 2.0 * f_out - 1.0, 2.0 * p_out - 1.0], dim=-1)
        return {"action": action, "a": a, "b": b01, "f": f01, "p": p01, "pre": pre}

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.parts(obs)["action"]

    @torch.no_grad()
    def init_resource_outputs(self, bandwidth: float | None = None, cpu: float = 0.9, power: float = 0.2,
                              offload: float = 0.5) -> None:
        """Shrink the output layer's weights by 10 and set its biases so that the resources start
        at the given fractions (bandwidth B/n by default) and the offload pre-activation at
        ``offload`` (0.5: every UTD starts offloading, with a margin the critic can move)."""
        fractions = (1.0 / self.n if bandwidth is None else bandwidth, cpu, power)
        last = [m for m in self.net.modules() if isinstance(m, nn.Linear)][-1]
        last.weight.mul_(0.1)
        # the MLP's last layer has the 4n outputs laid out [a | b | f | p]; the per-UTD one has 4
        bias = last.bias.view(4, -1) if isinstance(self.net, nn.Sequential) else last.bias.view(4, 1)
        bias[0] = offload
        for row, frac in zip(range(1, 4), fractions):
            bias[row] = math.atanh(2.0 * min(max(frac, 0.02), 0.98) - 1.0)


class Critic(nn.Module):
    """Q(s, a): :class:`~baselines.learners.nets.MlpCritic` (``"mlp"``) or
    :class:`~baselines.learners.nets.PerDeviceCritic` (``"deepsets"``, ``"hybrid"``)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], architecture: str = "mlp"):
        super().__init__()
        if architecture == "mlp":
            self.net = MlpCritic(obs_dim, act_dim, hidden)
        elif architecture in ("deepsets", "hybrid"):
            n = act_dim // 4
            self.net = PerDeviceCritic(obs_dim // n, n, hidden, actions_per_device=4)
        else:
            raise ValueError(f"unknown architecture {architecture!r}; allowed: {list(ARCHITECTURES)}")

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.net(obs, action)
