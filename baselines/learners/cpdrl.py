"""The CPDRL paper's DDPG family, hand-written in torch (paper 000, Sec. IV).

Li, Nakamura, Takase, "Consistency-Preserving Deep Reinforcement Learning for
Computation Offloading and Resource Allocation in MEC Environment"
(``shared/papers/000_138f3a7c34bc9218.txt``). No library ships these
algorithms; they are DDPG (Lillicrap et al.) with a modified actor, reward and
actor loss. All run on ``cpdrl_v0`` (agent ``scheduler``, action
``Box[-1, 1]^(4n)`` laid out ``[a_raw | b_raw | f_raw | p_raw]``).

Variants (``VARIANTS``; the env options each one trains with are in
``VARIANT_ENV``):

* ``ste_ddpg`` -- STE-DDPG: the actor's last layer is tanh; its offloading
  part is binarised by the straight-through estimator of eq. (15): forward
  ``round(sigmoid(beta a_raw))``, backward through the sigmoid. No masks, no
  consistency terms: env ``consistency="none"``, ``consistency_bonus_weight=0``.
* ``aste_ddpg`` -- ASTE-DDPG: STE plus "action control": the binarised offload
  masks the resources inside the actor (eq. 16, applied to the resources
  scaled to [0, 1] and mapped back to [-1, 1] for the env). Env
  ``consistency="mask"``, ``consistency_bonus_weight=0``; no consistency loss.
* ``cpdrl`` -- CPDRL: STE + masks + the consistency bonus in the reward
  (eq. 17; env ``consistency_bonus_weight=1``) + the consistency loss in the
  actor loss (eq. 18-19, weight ``lambda_c``).
* ``ddpg`` -- the same code with a plain tanh actor (no STE, no masks), a
  reference for ablations; the registry's "DDPG" baseline is the
  Stable-Baselines3 one in :mod:`baselines.learners.sb3`.

Eq. (19) on the *pre-mask* outputs: with the masks of eq. (16) in the actor,
the masked resources satisfy ``a f = 0`` and ``(1 - a) b = (1 - a) p = 0``
exactly, so eq. (19) evaluated on the actor's final output is identically zero
and has no gradient. It is therefore computed on the resource outputs before
the mask (scaled to [0, 1]), with ``a`` the STE surrogate of eq. (15): it pulls
the unused raw resources towards 0 and, through ``a``, rewards offload
decisions that agree with the raw resources (``dL/da = f^2 - b^2 - p^2``).

Algorithm 1, per env step: act ``mu(s) + N`` (Gaussian), apply the
consistency-preserving adjustment (re-binarise the offload to +-1, re-mask,
clip), execute, store ``(s, a, r, s')`` with the adjusted action, sample a
batch, update the critic by eq. (12) with ``y = r + gamma Q'(s', mu'(s'))``,
update the actor by eq. (18), soft-update both targets by eq. (13)-(14) with
``eta = tau``. Each episode's best objective (Alg. 1 line 18) and final
objective are kept in ``policy.history``.

Training on random instances: the training env draws a new instance at every
reset (observation ``full``, the env default, so that the policy sees the
tasks and generalises); ``env.reset(seed=seed)`` is called once and then
without seed. The trained policy acts deterministically (the actor without
noise, offload binarised, masks applied for the masked variants).

Hyper-parameters (:class:`Hyper`; every field can be passed in ``budget``).
Kept from Table I: actor hidden layers (24, 16), actor learning rate 1e-4,
Gaussian exploration noise, tau 0.005 (eq. 13-14), batch 64, replay buffer
1e5, one gradient step per env step (Algorithm 1). ``PAPER_HYPER`` holds the
literal settings. With them CPDRL's quick budget (8000 steps, seeds 0-2,
20 fresh instances) ended at objective +10.6 % of TEM at n = 2 (every seed:
one saturated action, full power and bandwidth), +9 / +9 / +37 % at n = 4,
+15 / +16 / +47 % at n = 6 and +13 / +14 / +15 % at n = 8 (the MLP actor
learns one fixed subset of UTD indices to keep local, whatever the
instance). With the defaults below: about +1 % at n = 2 and 4, +5..7 % at
n = 6, +20 % at n = 8 on every seed tried (at n = 8 every UTD offloads: the
instance-dependent choice of local UTDs is not learned within the quick
budget). At 30000 steps (seed 0) CPDRL was at -0.3 / +4.4 / +18.4 % for
n = 4 / 6 / 8 (still all-offload at n = 8) while STE-DDPG reached +3.4 % at
n = 8 with instance-dependent decisions: without masks its critic sees the
resources of both modes for every UTD, so the STE gradient of a decision is
taken with the resources the other mode would use. The defaults that differ,
and why:

* ``architecture="deepsets"``: actor and critic apply the same layers to every
  UTD's features, plus the mean over UTDs as context (:class:`SetActorNet`,
  :class:`SetCriticNet`); the actor keeps Table I's (24, 16). The system is
  invariant to relabelling the UTDs; on 8000 random transitions at n = 8 an
  MLP critic (64, 64) reached a test R^2 of 0.10, the per-UTD critic 0.95.
  ``"mlp"`` is the paper's (then ``permute_utds`` augments each batch by a
  random UTD permutation instead); ``"hybrid"`` pairs the MLP actor with the
  per-UTD critic (at n = 8 it learned instance-dependent decisions, +10..19 %,
  but it was +60..190 % at n = 4 and 6).
* critic hidden (64, 64) and critic learning rate 1e-3 (Table I: (24, 16),
  1e-4): the critic must rank single offloading flips, a 1-2 % change of the
  cost; the small, slow critic does not within the quick budget.
* ``gamma = 0`` (Table I: 0.85): the env is a contextual bandit (the instance
  is fixed within an episode, the next observation depends only on the
  current action), and the paper says "the Q value used for updating the
  networks corresponds to the immediate reward".
* ``reward_transform="relative"``: the critic regresses
  ``max(-2, -log(cost / reference))``, the log-improvement over the all-local
  decision of the first observation (monotone in the reward for a fixed
  instance, so the best action per instance is unchanged). Raw rewards span
  1e-1 .. 1e4 (a resource at its floor costs thousands of seconds) and vary
  by instance; without the transform the outliers dominate the regression.
* ``obs_transform="tasks"``: the networks see only the task features of the
  ``full`` observation (D, C, SNR, f_max per UTD), not the previous step's
  delays and energies: in a bandit they carry no extra information, and
  feeding them back made the deterministic policy a feedback loop that
  settled on different decisions than the ones it was trained on.
* exploration: the std starts at 0.3 (Table I: 1.0) and decays linearly to
  0.05 over the first 30 % of the steps (the paper: constant). With std 1.0
  about a third of the exploratory offloaders had their bandwidth or power
  clipped to the floor (a thousand-second upload), the critic learned that
  offloading is risky, and the actor drifted to all-local (+57 to +100 % at
  n = 6 and 8 on two of three seeds). The offload outputs keep a std of at
  least 0.5 (a flip probability of 2.3 % per UTD and step) so that the
  critic keeps seeing the other decision; the first ``learning_starts =
  2000`` steps use uniformly random offloading decisions and no updates (a
  critic warm-up).
* ``mask_surrogate=True``: eq. (16) multiplies the resources by the STE
  surrogate a_n (forward value a~_n, the same action) instead of the detached
  a~_n. With the detached mask the offload output's gradient holds the masked
  resources at 0, i.e. asks the critic about "offload with no bandwidth and
  no power", and every decision froze at its first value; with the surrogate
  the gradient follows the switch to the other mode with its own resources.
* ``init_resources=True`` and ``preact_penalty=0.01``: the actor's output
  layer starts with its weights divided by 10 and biases that put the
  resources at B/n, 0.9 f_max and 0.2 P_max and every UTD on the offload side
  (pre-activation +0.5). With the default random biases the per-UTD layers
  give every UTD the sign of one shared bias: the runs that started all-local
  stayed there (+69 % at n = 4 and 8); starting undecided (bias 0) collapsed
  to all-local at n = 8 on every seed. A small penalty on the pre-tanh values
  keeps the outputs out of tanh saturation, where the STE gradient vanishes.
* ``lambda_c = 1e-3`` (not given by the paper): with the surrogate masks,
  eq. (19) drives the pre-mask resources of the unused mode to 0, which makes
  every switch of decision look catastrophic to the actor gradient; at
  ``lambda_c`` >= 0.01 CPDRL collapsed to all-local at n = 8 (at 1.0 also at
  n = 4; measured with the initial noise std at 1.0). ``lambda_c`` is a
  budget key.
* ``episode_steps = 10`` (env: 50): more distinct instances per training step.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Sequence

import numpy as np
import torch
from torch import nn

import mec_marl

ENV_ID = "cpdrl_v0"
AGENT = "scheduler"
VARIANTS = ("ddpg", "ste_ddpg", "aste_ddpg", "cpdrl")
ARCHITECTURES = ("hybrid", "deepsets", "mlp")
OBS_TRANSFORMS = ("tasks", "log", "none")
REWARD_TRANSFORMS = ("relative", "symlog", "none")
# (STE actor, masks in the actor, consistency loss) per variant.
VARIANT_FLAGS = {
    "ddpg": (False, False, False),
    "ste_ddpg": (True, False, False),
    "aste_ddpg": (True, True, False),
    "cpdrl": (True, True, True),
}
# Env options each variant trains with, set on top of the caller's env_kwargs.
VARIANT_ENV = {
    "ddpg": {"consistency": "none", "consistency_bonus_weight": 0.0},
    "ste_ddpg": {"consistency": "none", "consistency_bonus_weight": 0.0},
    "aste_ddpg": {"consistency": "mask", "consistency_bonus_weight": 0.0},
    "cpdrl": {"consistency": "mask", "consistency_bonus_weight": 1.0},
}
CHECKPOINT_FORMAT = "mec_marl.baselines.learners.cpdrl/1"


@dataclasses.dataclass
class Hyper:
    """Hyper-parameters of the DDPG family (Table I where the paper gives them).

    See the module docstring for the defaults that differ from Table I.
    """

    hidden_actor: tuple = (24, 16)  # Table I
    hidden_critic: tuple = (64, 64)  # Table I: (24, 16)
    architecture: str = "deepsets"  # "deepsets" (shared per-UTD layers) | "mlp" (the paper's) | "hybrid"
    mask_surrogate: bool = True  # eq. 16 masks with the STE surrogate a_n (True) or the hard a~_n (False)
    actor_lr: float = 1e-4  # Table I
    critic_lr: float = 1e-3  # Table I: 1e-4
    noise_std: float = 0.3  # Table I: 1.0 (initial Gaussian exploration noise std)
    noise_final_std: float = 0.05  # linear decay target (paper: no decay)
    noise_decay_fraction: float = 0.3  # share of the steps over which the std decays; 0 = constant
    offload_noise_min_std: float = 0.5  # floor of the std on the offload outputs (keeps flipping decisions)
    tau: float = 0.005  # Table I: soft update coefficient (eta of eq. 13-14)
    gamma: float = 0.0  # Table I: 0.85 (see the module docstring)
    batch_size: int = 64  # Table I
    buffer_size: int = 100_000  # Table I
    learning_starts: int = 2000  # warm-up steps: no updates, random offloading decisions
    gradient_steps: int = 1  # gradient updates per env step (Algorithm 1: 1)
    lambda_c: float = 1e-3  # weight of the consistency loss (eq. 18), cpdrl only
    beta: float = 1.0  # STE sharpness (eq. 15)
    reward_transform: str = "relative"  # "relative" | "symlog" | "none"
    reward_clip: float = 2.0  # "relative": lower clip of -log(cost / reference cost)
    obs_transform: str = "tasks"  # "tasks" | "log" | "none"
    episode_steps: int = 10  # training episode length; 0 = the env's max_cycles
    permute_utds: bool = True  # "mlp" only: augment each sampled transition by a random UTD permutation
    preact_penalty: float = 1e-2  # weight of mean(pre-tanh^2) in the actor loss (keeps tanh out of saturation)
    init_resources: bool = True  # start the outputs at b = B/n, f = 0.9 f_max, p = 0.2 P_max, offloading

    def __post_init__(self):
        self.hidden_actor = tuple(int(h) for h in self.hidden_actor)
        self.hidden_critic = tuple(int(h) for h in self.hidden_critic)
        if self.reward_transform not in REWARD_TRANSFORMS:
            raise ValueError(f"reward_transform must be one of {list(REWARD_TRANSFORMS)}, got {self.reward_transform!r}")
        if self.reward_clip <= 0:
            raise ValueError(f"reward_clip must be positive, got {self.reward_clip}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {list(ARCHITECTURES)}, got {self.architecture!r}")
        if self.obs_transform not in OBS_TRANSFORMS:
            raise ValueError(f"obs_transform must be one of {list(OBS_TRANSFORMS)}, got {self.obs_transform!r}")
        for key in ("batch_size", "buffer_size", "gradient_steps"):
            if int(getattr(self, key)) < 1:
                raise ValueError(f"{key} must be >= 1, got {getattr(self, key)}")
        if not 0.0 <= self.gamma < 1.0:
            raise ValueError(f"gamma must be in [0, 1), got {self.gamma}")
        if not 0.0 < self.tau <= 1.0:
            raise ValueError(f"tau must be in (0, 1], got {self.tau}")
        if self.noise_std < 0 or self.noise_final_std < 0:
            raise ValueError("noise stds must be >= 0")
        if not 0.0 <= self.noise_decay_fraction <= 1.0:
            raise ValueError(f"noise_decay_fraction must be in [0, 1], got {self.noise_decay_fraction}")
        if self.beta <= 0:
            raise ValueError(f"beta must be positive, got {self.beta}")
        if self.lambda_c < 0:
            raise ValueError(f"lambda_c must be >= 0, got {self.lambda_c}")
        if self.episode_steps < 0 or self.learning_starts < 0:
            raise ValueError("episode_steps and learning_starts must be >= 0")

    def as_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["hidden_actor"] = list(self.hidden_actor)
        out["hidden_critic"] = list(self.hidden_critic)
        return out


# The paper's literal settings: Table I (networks (24, 16), learning rates
# 1e-4, constant noise std 1.0, gamma 0.85), the MLP actor and critic of Fig. 3,
# eq. 16 with the hard decision, the raw reward and observation, full-length
# episodes and no warm-up beyond one batch. ``lambda_c`` is not given by the
# paper and keeps its default. Train with ``{"steps": N, **PAPER_HYPER}``.
PAPER_HYPER = {
    "hidden_actor": (24, 16),
    "hidden_critic": (24, 16),
    "architecture": "mlp",
    "mask_surrogate": False,
    "actor_lr": 1e-4,
    "critic_lr": 1e-4,
    "noise_std": 1.0,
    "noise_final_std": 1.0,
    "noise_decay_fraction": 0.0,
    "offload_noise_min_std": 0.0,
    "gamma": 0.85,
    "learning_starts": 64,
    "reward_transform": "none",
    "obs_transform": "none",
    "episode_steps": 0,
    "permute_utds": False,
    "preact_penalty": 0.0,
    "init_resources": False,
}

BUDGET_KEYS = ("steps", "progress") + tuple(f.name for f in dataclasses.fields(Hyper))


def split_budget(budget: dict | None, allowed: Sequence[str]) -> tuple[int, bool, dict]:
    """``{"steps": N, "progress": bool, ...}`` -> ``(steps, progress, the other keys)``.

    Unknown keys raise ``ValueError`` naming them and the allowed ones.
    """
    budget = dict(budget or {})
    unknown = sorted(set(budget) - set(allowed))
    if unknown:
        raise ValueError(f"unknown budget key(s) {unknown}; allowed: {sorted(allowed)}")
    if "steps" not in budget:
        raise ValueError("budget needs 'steps' (number of env steps)")
    steps = int(budget.pop("steps"))
    if steps < 1:
        raise ValueError(f"budget steps must be >= 1, got {steps}")
    return steps, bool(budget.pop("progress", False)), budget


def read_checkpoint(path: str, expected_format: str) -> dict:
    """A torch checkpoint dict, refused with a clear error if it is not of ``expected_format``."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != expected_format:
        raise ValueError(f"{path}: not a checkpoint of format {expected_format!r}")
    return ckpt


def coerce_like(default, value):
    """``value`` converted to the type of ``default`` (so command-line strings work)."""
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [v for v in value.strip("()[] ").split(",") if v.strip()]
        return tuple(int(v) for v in value)
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    return type(default)(value)


def parse_budget(budget: dict | None) -> tuple[int, Hyper, bool]:
    """``{"steps": N, <Hyper field>: value, "progress": bool}`` -> ``(steps, Hyper, progress)``."""
    steps, progress, rest = split_budget(budget, BUDGET_KEYS)
    defaults = Hyper()
    return steps, Hyper(**{k: coerce_like(getattr(defaults, k), v) for k, v in rest.items()}), progress


# ----------------------------------------------------------------- networks
def mlp(sizes: Sequence[int], out_act: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


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
    them the loss is identically zero; see the module docstring).
    """
    return torch.mean(a * f.pow(2) + (1.0 - a) * (b.pow(2) + p.pow(2)))


class Actor(nn.Module):
    """mu(s): a network with a tanh output layer, then the variant's output control (Fig. 3).

    The network is an MLP over the whole observation (``"mlp"``, ``"hybrid"``)
    or :class:`SetActorNet` (``"deepsets"``).

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
            self.net = SetActorNet(obs_dim // n, n, hidden)
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
        bias = last.bias.view(4, -1) if isinstance(self.net, nn.Sequential) else last.bias.view(4, 1)
        bias[0] = offload
        for row, frac in zip(range(1, 4), fractions):
            bias[row] = math.atanh(2.0 * min(max(frac, 0.02), 0.98) - 1.0)


class Critic(nn.Module):
    """Q(s, a): an MLP over the concatenated observation and action (``"mlp"``) or
    :class:`SetCriticNet` (``"deepsets"``, ``"hybrid"``)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: Sequence[int], architecture: str = "mlp"):
        super().__init__()
        self.architecture = "deepsets" if architecture == "hybrid" else architecture
        if architecture == "mlp":
            self.net = mlp([obs_dim + act_dim, *hidden, 1])
        elif architecture in ("deepsets", "hybrid"):
            n = act_dim // 4
            self.net = SetCriticNet(obs_dim // n, n, hidden)
        else:
            raise ValueError(f"unknown architecture {architecture!r}; allowed: {list(ARCHITECTURES)}")

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        if self.architecture == "mlp":
            return self.net(torch.cat([obs, action], dim=-1))
        return self.net(obs, action)


def _per_utd(x: torch.Tensor, n: int) -> torch.Tensor:
    """``(..., k n)`` in blocks of n -> ``(..., n, k)``: one row of k features per UTD."""
    return x.reshape(*x.shape[:-1], -1, n).transpose(-1, -2)


class SetActorNet(nn.Module):
    """Permutation-equivariant actor body (DeepSets): the same two hidden layers for every UTD.

    ``h_i = relu(W1 x_i)``, ``c = mean_j h_j``, ``out_i = W3 relu(W2 [h_i, c])``
    with ``x_i`` the UTD's k observation entries and ``out_i`` its four
    pre-tanh outputs (a, b, f, p); the output is laid out ``[a | b | f | p]``.
    """

    def __init__(self, k: int, n: int, hidden: Sequence[int]):
        super().__init__()
        if len(hidden) < 2:
            raise ValueError(f"the deepsets architecture needs at least two hidden sizes, got {tuple(hidden)}")
        self.n = n
        self.phi = nn.Sequential(nn.Linear(k, hidden[0]), nn.ReLU())
        self.psi = mlp([2 * hidden[0], *hidden[1:], 4])

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = self.phi(_per_utd(obs, self.n))
        c = h.mean(dim=-2, keepdim=True).expand_as(h)
        out = self.psi(torch.cat([h, c], dim=-1))  # (..., n, 4)
        return out.transpose(-1, -2).reshape(*obs.shape[:-1], 4 * self.n)


class SetCriticNet(nn.Module):
    """Permutation-invariant critic body (DeepSets) over the UTDs' (observation, action) rows.

    ``z_i = relu(W1 [x_i, a_i])``, ``c = mean_j z_j``,
    ``Q = rho(mean_i relu(W2 [z_i, c]))`` with ``rho`` one hidden layer.
    """

    def __init__(self, k: int, n: int, hidden: Sequence[int]):
        super().__init__()
        if len(hidden) < 2:
            raise ValueError(f"the deepsets architecture needs at least two hidden sizes, got {tuple(hidden)}")
        self.n = n
        self.phi = nn.Sequential(nn.Linear(k + 4, hidden[0]), nn.ReLU())
        self.psi = nn.Sequential(mlp([2 * hidden[0], *hidden[1:]]), nn.ReLU())
        self.rho = mlp([hidden[-1], hidden[-1], 1])

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        z = self.phi(torch.cat([_per_utd(obs, self.n), _per_utd(action, self.n)], dim=-1))
        c = z.mean(dim=-2, keepdim=True).expand_as(z)
        return self.rho(self.psi(torch.cat([z, c], dim=-1)).mean(dim=-2))


def adjust_action(action: np.ndarray, n: int, ste: bool, mask: bool) -> np.ndarray:
    """Algorithm 1 line 9, the consistency-preserving adjustment of a noisy action.

    Clips to [-1, 1]; with the STE re-binarises the offload part to +-1 (eq. 15
    forward); with masks sets the unused resources to -1 (0 in [0, 1], eq. 16).
    """
    out = np.clip(np.asarray(action, dtype=np.float32), -1.0, 1.0)
    if ste:
        out[..., :n] = np.where(out[..., :n] > 0, 1.0, -1.0)
    if mask:
        off = out[..., :n] > 0
        out[..., n : 2 * n] = np.where(off, out[..., n : 2 * n], -1.0)
        out[..., 2 * n : 3 * n] = np.where(off, -1.0, out[..., 2 * n : 3 * n])
        out[..., 3 * n :] = np.where(off, out[..., 3 * n :], -1.0)
    return out


def transform_obs(obs: np.ndarray, n: int, mode: str) -> np.ndarray:
    """Learner-side observation normalisation.

    ``"log"``: ``log(1 + x)`` on the delays and energies (the first 2n
    entries), the rest unchanged; ``"tasks"``: only the task features of the
    ``full`` observation (the last 4n entries: D, C, SNR, f_max, normalised);
    ``"none"``: the observation as the env gives it.
    """
    obs = np.asarray(obs, dtype=np.float32)
    if mode == "none":
        return obs
    if mode == "tasks":
        if obs.shape[-1] != 6 * n:
            raise ValueError(f"obs_transform='tasks' needs the 'full' observation (6n = {6 * n} entries), got {obs.shape[-1]}")
        return obs[..., 2 * n :].copy()
    out = obs.copy()
    out[..., : 2 * n] = np.log1p(np.maximum(out[..., : 2 * n], 0.0))
    return out


def transform_reward(reward: float, mode: str, reference: float = 1.0, bonus: float = 0.0, clip: float = 2.0) -> float:
    """Learner-side reward scaling (all monotone in the reward for a fixed instance).

    * ``"symlog"``: ``sign(r) log(1 + |r|)``;
    * ``"relative"``: ``max(-clip, -log((bonus - r) / reference))`` where
      ``bonus - r >= 0`` is the cost the reward charges (eq. 17 with the
      consistency bonus at its maximum ``bonus``) and ``reference`` the
      instance's cost of the first observation (every UTD local at f_max, the
      sum of the observed T and E plus ``bonus``): the log-improvement over
      the reference decision, clipped below so that catastrophic exploratory
      actions (a resource at its floor costs thousands of seconds) do not
      dominate the critic's regression;
    * ``"none"``: the raw reward.
    """
    if mode == "none":
        return float(reward)
    if mode == "symlog":
        return math.copysign(math.log1p(abs(reward)), reward)
    cost = max(bonus - float(reward), 1e-9)
    return max(-clip, -math.log(cost / max(reference, 1e-9)))


def reference_cost(raw_obs: np.ndarray, n: int, bonus: float) -> float:
    """Scale of the "relative" reward: sum of the first observation's T and E, plus the bonus weight."""
    return float(np.sum(np.asarray(raw_obs, dtype=float)[: 2 * n])) + bonus


# ------------------------------------------------------------------- policy
class CpdrlLearnerPolicy:
    """A trained actor of the DDPG family as a :class:`~baselines.policy.Policy`.

    ``act`` is deterministic: the actor's output (STE binarised, masked for the
    masked variants), without exploration noise.
    """

    def __init__(self, variant: str, actor: Actor, hyper: Hyper, env_kwargs: dict, obs_dim: int,
                 critic: Critic | None = None, history: dict | None = None, seed: int | None = None):
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; allowed: {list(VARIANTS)}")
        self.variant = variant
        self.name = variant
        self.actor = actor.eval()
        self.critic = critic
        self.hyper = hyper
        self.env_kwargs = dict(env_kwargs)
        # The env options this variant acts under (masks or not); evaluation applies them too.
        self.env_options = dict(VARIANT_ENV[variant])
        self.obs_dim = int(obs_dim)
        self.n = actor.n
        self.history = history or {}
        self.seed = seed

    def reset(self, env, seed=None) -> None:
        """Nothing to prepare: the actor is deterministic and reads only observations."""

    def predict(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic action(s) for one observation or a batch (env units, [-1, 1])."""
        x = transform_obs(obs, self.n, self.hyper.obs_transform)
        if x.shape[-1] != self.obs_dim:
            raise ValueError(
                f"{self.name}: observation has {x.shape[-1]} entries, the policy was trained on {self.obs_dim} "
                f"(n_devices={self.n}, observation mode of {self.env_kwargs.get('observation', 'full')!r})"
            )
        with torch.no_grad():
            action = self.actor(torch.as_tensor(x)).numpy()
        ste, mask, _ = VARIANT_FLAGS[self.variant]
        return adjust_action(action, self.n, ste, mask)

    def act(self, observations: dict, env) -> dict:
        return {agent: self.predict(observations[agent]) for agent in env.agents}

    def save(self, path: str) -> None:
        """One file: actor and critic state dicts, hyper-parameters, env_kwargs, history."""
        torch.save(
            {
                "format": CHECKPOINT_FORMAT,
                "variant": self.variant,
                "hyper": self.hyper.as_dict(),
                "env_kwargs": self.env_kwargs,
                "obs_dim": self.obs_dim,
                "n": self.n,
                "seed": self.seed,
                "actor": self.actor.state_dict(),
                "critic": None if self.critic is None else self.critic.state_dict(),
                "history": self.history,
            },
            path,
        )

    @classmethod
    def load(cls, path: str) -> "CpdrlLearnerPolicy":
        ckpt = read_checkpoint(path, CHECKPOINT_FORMAT)
        hyper = Hyper(**ckpt["hyper"])
        variant = ckpt["variant"]
        ste, mask, _ = VARIANT_FLAGS[variant]
        actor = Actor(ckpt["obs_dim"], ckpt["n"], hyper.hidden_actor, ste, mask, hyper.beta, hyper.architecture, hyper.mask_surrogate)
        actor.load_state_dict(ckpt["actor"])
        critic = None
        if ckpt.get("critic") is not None:
            critic = Critic(ckpt["obs_dim"], 4 * ckpt["n"], hyper.hidden_critic, hyper.architecture)
            critic.load_state_dict(ckpt["critic"])
        return cls(variant, actor, hyper, ckpt["env_kwargs"], ckpt["obs_dim"], critic, ckpt.get("history"), ckpt.get("seed"))


def load(path: str) -> CpdrlLearnerPolicy:
    """Load a policy saved by :meth:`CpdrlLearnerPolicy.save` (the registry's loader)."""
    return CpdrlLearnerPolicy.load(path)


# ----------------------------------------------------------------- training
class _Replay:
    """A fixed-size ring buffer of (s, a, r, s', done), float32."""

    def __init__(self, size: int, obs_dim: int, act_dim: int):
        self.size, self.pos, self.full = int(size), 0, False
        self.obs = np.zeros((size, obs_dim), np.float32)
        self.act = np.zeros((size, act_dim), np.float32)
        self.rew = np.zeros((size, 1), np.float32)
        self.next_obs = np.zeros((size, obs_dim), np.float32)
        self.done = np.zeros((size, 1), np.float32)

    def __len__(self):
        return self.size if self.full else self.pos

    def add(self, obs, act, rew, next_obs, done):
        i = self.pos
        self.obs[i], self.act[i], self.rew[i, 0], self.next_obs[i], self.done[i, 0] = obs, act, rew, next_obs, done
        self.pos = (i + 1) % self.size
        self.full = self.full or self.pos == 0

    def sample(self, rng: np.random.Generator, batch: int, n_permute: int = 0):
        """A uniform batch; with ``n_permute = n`` each transition's UTDs are randomly re-ordered."""
        idx = rng.integers(0, len(self), size=batch)
        obs, act, rew, nxt, done = (x[idx] for x in (self.obs, self.act, self.rew, self.next_obs, self.done))
        if n_permute:
            perm = np.argsort(rng.random((batch, n_permute)), axis=1)
            obs, nxt = permute_blocks(obs, perm), permute_blocks(nxt, perm)
            act = permute_blocks(act, perm)
        return tuple(torch.from_numpy(np.ascontiguousarray(x)) for x in (obs, act, rew, nxt, done))


def permute_blocks(x: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Re-order the UTDs of vectors made of blocks of n per-UTD entries.

    ``x`` is ``(batch, k n)`` (k blocks such as [T | E | D | ...] or [a | b | f | p]),
    ``perm`` is ``(batch, n)``; block j of row i becomes ``x[i, j n + perm[i]]``.
    The env is invariant to relabelling the UTDs (the reward sums over them,
    eq. 7 and C2 are symmetric), so permuted transitions are valid ones.
    """
    n = perm.shape[1]
    k = x.shape[1] // n
    index = (perm[:, None, :] + n * np.arange(k)[None, :, None]).reshape(x.shape[0], k * n)
    return np.take_along_axis(x, index, axis=1)


def training_env_kwargs(variant: str, env_kwargs: dict | None, hyper: Hyper | None = None) -> dict:
    """The caller's env_kwargs with the variant's env options (and training episode length) on top."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; allowed: {list(VARIANTS)}")
    out = {**dict(env_kwargs or {}), **VARIANT_ENV[variant]}
    out.pop("render_mode", None)
    if hyper is not None and hyper.episode_steps > 0:
        out["max_cycles"] = int(hyper.episode_steps)
    return out


def noise_std_at(step: int, steps: int, hyper: Hyper) -> float:
    """Linear decay of the exploration std from ``noise_std`` to ``noise_final_std``."""
    if hyper.noise_decay_fraction <= 0:
        return hyper.noise_std
    frac = min(1.0, step / max(1.0, hyper.noise_decay_fraction * steps))
    return hyper.noise_std + frac * (hyper.noise_final_std - hyper.noise_std)


def train(variant: str, env_kwargs: dict | None, seed: int | None, budget: dict, progress: bool = False,
          callback=None) -> CpdrlLearnerPolicy:
    """Train one variant (Algorithm 1) and return the deterministic policy.

    ``budget``: ``{"steps": N}`` env steps, plus any :class:`Hyper` field
    (e.g. ``lambda_c``, ``noise_std``, ``gamma``) and ``progress``; unknown
    keys raise ``ValueError``. Everything random derives from ``seed``
    (torch.manual_seed, one seeded env reset, a numpy Generator for the noise
    and the replay sampling): the same seed gives the same policy.
    ``callback(step, policy)``, if given, is called after every tenth of the
    steps with the policy as it stands (e.g. for learning curves); it must not
    consume the training's random streams.
    """
    steps, hyper, budget_progress = parse_budget(budget)
    progress = progress or budget_progress
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; allowed: {list(VARIANTS)}")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (2**31))
    seed = int(seed)
    saved_kwargs = training_env_kwargs(variant, env_kwargs)
    train_kwargs = training_env_kwargs(variant, env_kwargs, hyper)
    ste, mask, use_lc = VARIANT_FLAGS[variant]

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        env = mec_marl.make(ENV_ID, **train_kwargs)
        n = env.config.n_devices
        obs_dim = transform_obs(np.zeros(env.observation_space(AGENT).shape), n, hyper.obs_transform).shape[-1]
        act_dim = env.action_space(AGENT).shape[0]
        arch = hyper.architecture
        actor = Actor(obs_dim, n, hyper.hidden_actor, ste, mask, hyper.beta, arch, hyper.mask_surrogate)
        critic = Critic(obs_dim, act_dim, hyper.hidden_critic, arch)
        actor_t = Actor(obs_dim, n, hyper.hidden_actor, ste, mask, hyper.beta, arch, hyper.mask_surrogate)
        critic_t = Critic(obs_dim, act_dim, hyper.hidden_critic, arch)
        # a permutation-invariant critic makes the UTD-permutation augmentation a no-op
        n_permute = n if hyper.permute_utds and arch == "mlp" else 0
        if hyper.init_resources:
            actor.init_resource_outputs()
        actor_t.load_state_dict(actor.state_dict())
        critic_t.load_state_dict(critic.state_dict())
        for p in (*actor_t.parameters(), *critic_t.parameters()):
            p.requires_grad_(False)
        opt_a = torch.optim.Adam(actor.parameters(), lr=hyper.actor_lr, foreach=True)
        opt_c = torch.optim.Adam(critic.parameters(), lr=hyper.critic_lr, foreach=True)
        params = list(actor.parameters()) + list(critic.parameters())
        target_params = list(actor_t.parameters()) + list(critic_t.parameters())
        critic_params = list(critic.parameters())
        buffer = _Replay(min(hyper.buffer_size, steps), obs_dim, act_dim)
        history = {"best_objective": [], "final_objective": [], "episode_reward": [], "critic_loss": [], "actor_loss": []}

        bonus = float(env.config.consistency_bonus_weight)
        obs_raw, _ = env.reset(seed=seed)
        ref = reference_cost(obs_raw[AGENT], n, bonus)
        obs = transform_obs(obs_raw[AGENT], n, hyper.obs_transform)
        ep_best, ep_reward, ep_obj = math.inf, 0.0, math.nan
        losses_c, losses_a = [], []
        start = time.perf_counter()
        report_every = max(1, steps // 10)
        for step in range(steps):
            std = noise_std_at(step, steps, hyper)
            with torch.no_grad():
                mu = actor(torch.from_numpy(obs)).numpy()
            stds = np.full(act_dim, std, dtype=np.float32)
            stds[:n] = max(std, hyper.offload_noise_min_std)
            noisy = mu + rng.normal(0.0, 1.0, size=act_dim).astype(np.float32) * stds
            if step < hyper.learning_starts:  # warm-up: uniformly random offloading decisions
                noisy[:n] = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n)
            action = adjust_action(noisy, n, ste, mask)
            obs2_raw, rew, term, trunc, infos = env.step({AGENT: action})
            info = infos[AGENT]
            obs2 = transform_obs(obs2_raw[AGENT], n, hyper.obs_transform)
            done = bool(term[AGENT])
            r_t = transform_reward(rew[AGENT], hyper.reward_transform, ref, bonus, hyper.reward_clip)
            buffer.add(obs, action, r_t, obs2, float(done))
            ep_reward += rew[AGENT]
            ep_obj = info["objective"]
            ep_best = min(ep_best, ep_obj)
            obs = obs2

            if len(buffer) >= max(hyper.learning_starts, hyper.batch_size):
                for _ in range(hyper.gradient_steps):
                    s, a, r, s2, d = buffer.sample(rng, hyper.batch_size, n_permute)
                    with torch.no_grad():
                        y = r
                        if hyper.gamma > 0:
                            y = r + hyper.gamma * (1.0 - d) * critic_t(s2, actor_t(s2))
                    loss_c = torch.mean((y - critic(s, a)) ** 2)  # eq. 12
                    opt_c.zero_grad(set_to_none=True)
                    loss_c.backward()
                    opt_c.step()
                    for p in critic_params:
                        p.requires_grad_(False)
                    out = actor.parts(s)
                    loss_a = -critic(s, out["action"]).mean()  # eq. 18, first term
                    if hyper.preact_penalty > 0:
                        loss_a = loss_a + hyper.preact_penalty * out["pre"].pow(2).mean()
                    if use_lc and hyper.lambda_c > 0:
                        loss_a = loss_a + hyper.lambda_c * consistency_loss(out["a"], out["b"], out["f"], out["p"])
                    opt_a.zero_grad(set_to_none=True)
                    loss_a.backward()
                    opt_a.step()
                    for p in critic_params:
                        p.requires_grad_(True)
                    with torch.no_grad():  # eq. 13-14
                        torch._foreach_lerp_(target_params, params, hyper.tau)
                    losses_c.append(float(loss_c.detach()))
                    losses_a.append(float(loss_a.detach()))

            if term[AGENT] or trunc[AGENT]:  # Algorithm 1 line 18: record the episode's best objective
                history["best_objective"].append(float(ep_best))
                history["final_objective"].append(float(ep_obj))
                history["episode_reward"].append(float(ep_reward))
                history["critic_loss"].append(float(np.mean(losses_c)) if losses_c else math.nan)
                history["actor_loss"].append(float(np.mean(losses_a)) if losses_a else math.nan)
                losses_c, losses_a = [], []
                ep_best, ep_reward = math.inf, 0.0
                obs_raw, _ = env.reset()
                ref = reference_cost(obs_raw[AGENT], n, bonus)
                obs = transform_obs(obs_raw[AGENT], n, hyper.obs_transform)
            if callback is not None and ((step + 1) % report_every == 0 or step + 1 == steps):
                callback(step + 1, CpdrlLearnerPolicy(variant, actor, hyper, saved_kwargs, obs_dim, critic, history, seed))
                actor.train()
            if progress and ((step + 1) % report_every == 0 or step + 1 == steps):
                recent = history["final_objective"][-50:]
                print(
                    f"[{variant}] step {step + 1}/{steps}  episodes {len(history['final_objective'])}  "
                    f"noise {std:.3f}  final objective (last 50 ep.) {np.mean(recent) if recent else math.nan:.4g}  "
                    f"{time.perf_counter() - start:.1f} s",
                    flush=True,
                )
        history["train_time_s"] = time.perf_counter() - start
        history["steps"] = steps
        env.close()
    finally:
        torch.set_num_threads(threads)
    return CpdrlLearnerPolicy(variant, actor, hyper, saved_kwargs, obs_dim, critic, history, seed)


# ----------------------------------------------------------------- builders
def _builder(variant: str):
    def build(env_id, env_kwargs, seed, budget):
        if env_id != ENV_ID:
            raise ValueError(f"{variant} runs on {ENV_ID!r} only, got {env_id!r}")
        return train(variant, env_kwargs, seed, budget)

    build.__name__ = f"build_{variant}"
    build.__doc__ = f"Registry builder: train ``{variant}`` on the caller's env_kwargs (see :func:`train`)."
    return build


build_ste_ddpg = _builder("ste_ddpg")
build_aste_ddpg = _builder("aste_ddpg")
build_cpdrl = _builder("cpdrl")
build_ddpg_torch = _builder("ddpg")
