"""2r-SAE (OJRS Sec. IV-B, Alg. 1): a stacked autoencoder of the CQI with the related and
regularised loss of eq. 23 and an incremental FIFO memory.

Input: the CQI matrix rasterised row by row (N x M -> N M, Alg. 1 step 1) and
divided by ``cqi_scale``. Encoder N M -> 45 -> 30 (the paper's 60-45-30 for
N = 30, M = 2: 60 is the input), decoder mirrored, ReLU between layers. Loss::

    mean_ij (x - x_hat)^2                                          absolute term
    + gamma1 / 2  mean_ij (x_ij / max_k x_ik - x_hat_ij / max_k x_hat_ik)^2   related term, per UE row
    + gamma2 / 2  mean(theta^2)                                    regularised term (weights)

Reading of the garbled eq. 23: the related term squared and, like the
absolute term, averaged over the N M entries; the regulariser averaged over
the weights. Taken as sums, the related term (60 entries) and gamma2 = 0.08
on ~5,000 squared weights swamp the absolute term, and 500 steps reconstruct
worse than the per-entry mean (measured on table2 CQI: accuracy 0.15-0.33
vs 0.45-0.50 for this reading). Per-slot Rayleigh fading is i.i.d., so the
CQI is hard to compress: a 30-component PCA reaches 0.81 and the mean 0.70
under the accuracy below; the paper reports 0.93 for M = 2. Incremental learning: a sample enters the memory when its
reconstruction error exceeds ``error_threshold`` (the error check), the memory
is FIFO of fixed size, and each (re)training runs ``t_sae`` Adam steps on
mini-batches from it. Reconstruction accuracy (Table III "Acc") is reported as
1 - sum |x - x_hat| / sum |x| over a batch (the paper does not define it).
"""

from __future__ import annotations

import collections

import numpy as np
import torch
from torch import nn

from baselines.learners.nets import mlp


class StackedAutoencoder(nn.Module):
    def __init__(self, n: int, m: int, hidden=(45,), code: int = 30):
        super().__init__()
        self.n, self.m = n, m
        sizes = [n * m, *hidden, code]
        self.encoder = mlp(sizes)
        self.decoder = mlp(sizes[::-1])

    def forward(self, x):
        code = self.encoder(x)
        return code, self.decoder(code)


def related_term(x: torch.Tensor, x_hat: torch.Tensor, n: int, m: int) -> torch.Tensor:
    """Eq. 23's related term: squared differences of each UE row divided by its maximum."""
    rows, rows_hat = x.view(-1, n, m), x_hat.view(-1, n, m)
    rel = rows / rows.amax(-1, keepdim=True).clamp_min(1e-9)
    rel_hat = rows_hat / rows_hat.amax(-1, keepdim=True).abs().clamp_min(1e-9)
    return ((rel - rel_hat) ** 2).mean()


def sae_loss(model: StackedAutoencoder, x: torch.Tensor, gamma1: float, gamma2: float) -> torch.Tensor:
    """L_2r-SAE of eq. 23 on a batch."""
    _, x_hat = model(x)
    absolute = ((x - x_hat) ** 2).mean()
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    square = sum((p**2).sum() for p in weights) / sum(p.numel() for p in weights)
    return absolute + 0.5 * gamma1 * related_term(x, x_hat, model.n, model.m) + 0.5 * gamma2 * square


def accuracy(model: StackedAutoencoder, x: torch.Tensor) -> float:
    with torch.no_grad():
        _, x_hat = model(x)
        return float(1.0 - (x - x_hat).abs().sum() / x.abs().sum().clamp_min(1e-12))


class IncrementalSae:
    """The 2r-SAE with its FIFO memory and error check (Alg. 1)."""

    def __init__(self, n: int, m: int, hidden, code: int, gamma1: float, gamma2: float, lr: float,
                 memory: int, error_threshold: float, rng: np.random.Generator):
        self.model = StackedAutoencoder(n, m, hidden, code)
        self.optimiser = torch.optim.Adam(self.model.parameters(), lr=lr)
        self.gamma1, self.gamma2 = gamma1, gamma2
        self.memory: collections.deque = collections.deque(maxlen=int(memory))
        self.error_threshold = error_threshold
        self.rng = rng

    def offer(self, x: np.ndarray) -> bool:
        """Error check: store ``x`` when the SAE reconstructs it worse than the threshold (always while empty)."""
        if self.memory:
            with torch.no_grad():
                _, x_hat = self.model(torch.as_tensor(x, dtype=torch.float32)[None])
            if float(((x_hat[0] - torch.as_tensor(x, dtype=torch.float32)) ** 2).mean()) <= self.error_threshold:
                return False
        self.memory.append(np.asarray(x, dtype=np.float32))
        return True

    def train(self, steps: int, batch_size: int) -> float:
        """``steps`` Adam steps on mini-batches of the memory (eq. 22); returns the last loss."""
        data = np.stack(self.memory)
        loss = torch.tensor(0.0)
        for _ in range(int(steps)):
            idx = self.rng.integers(0, len(data), min(batch_size, len(data)))
            loss = sae_loss(self.model, torch.as_tensor(data[idx]), self.gamma1, self.gamma2)
            self.optimiser.zero_grad()
            loss.backward()
            self.optimiser.step()
        return float(loss.detach())

    def encode(self, x: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return self.model.encoder(torch.as_tensor(x, dtype=torch.float32))
