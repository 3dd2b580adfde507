"""Hyper-parameters of the CPDRL family (:class:`Hyper`; every field can be passed in ``budget``).
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
  UTD's features, plus the mean over UTDs as context (:class:`~baselines.learners.nets.PerDeviceActor`,
  :class:`~baselines.learners.nets.PerDeviceCritic`); the actor keeps Table I's (24, 16). The system is
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

from typing import Literal, Mapping

from pydantic import Field

from baselines.learners.common import Budget, HyperParams, IntTuple, split_budget

ENV_ID = "cpdrl_v0"
AGENT = "scheduler"
VARIANTS = ("ddpg", "ste_ddpg", "aste_ddpg", "cpdrl", "cpdrl_solver")
ARCHITECTURES = ("hybrid", "deepsets", "mlp")
OBS_TRANSFORMS = ("tasks", "log", "none")
REWARD_TRANSFORMS = ("relative", "symlog", "none")
# (STE actor, masks in the actor, consistency loss) per variant.
VARIANT_FLAGS = {
    "ddpg": (False, False, False),
    "ste_ddpg": (True, False, False),
    "aste_ddpg": (True, True, False),
    "cpdrl": (True, True, True),
    "cpdrl_solver": (True, True, False),  # resources from the exact allocation (baselines.learners.cpdrl.solver)
}
# Variants whose executed resources come from the exact allocation for the actor's offloading decision.
SOLVER_VARIANTS = ("cpdrl_solver",)
# Env options each variant trains with, set on top of the caller's env_kwargs.
VARIANT_ENV = {
    "ddpg": {"consistency": "none", "consistency_bonus_weight": 0.0},
    "ste_ddpg": {"consistency": "none", "consistency_bonus_weight": 0.0},
    "aste_ddpg": {"consistency": "mask", "consistency_bonus_weight": 0.0},
    "cpdrl": {"consistency": "mask", "consistency_bonus_weight": 1.0},
    "cpdrl_solver": {"consistency": "mask", "consistency_bonus_weight": 0.0},
}

class Hyper(HyperParams):
    """Hyper-parameters of the DDPG family (Table I where the paper gives them).

    See the module docstring for the defaults that differ from Table I.
    """

    hidden_actor: IntTuple = (24, 16)  # Table I
    hidden_critic: IntTuple = (64, 64)  # Table I: (24, 16)
    architecture: Literal["hybrid", "deepsets", "mlp"] = "deepsets"  # shared per-UTD layers | the paper's | MLP actor
    mask_surrogate: bool = True  # eq. 16 masks with the STE surrogate a_n (True) or the hard a~_n (False)
    actor_lr: float = Field(1e-4, gt=0)  # Table I
    critic_lr: float = Field(1e-3, gt=0)  # Table I: 1e-4
    noise_std: float = Field(0.3, ge=0)  # Table I: 1.0 (initial Gaussian exploration noise std)
    noise_final_std: float = Field(0.05, ge=0)  # linear decay target (paper: no decay)
    noise_decay_fraction: float = Field(0.3, ge=0, le=1)  # share of the steps over which the std decays; 0 = constant
    offload_noise_min_std: float = Field(0.5, ge=0)  # floor of the std on the offload outputs (keeps flipping decisions)
    tau: float = Field(0.005, gt=0, le=1)  # Table I: soft update coefficient (eta of eq. 13-14)
    gamma: float = Field(0.0, ge=0, lt=1)  # Table I: 0.85 (see the module docstring)
    batch_size: int = Field(64, ge=1)  # Table I
    buffer_size: int = Field(100_000, ge=1)  # Table I
    learning_starts: int = Field(2000, ge=0)  # warm-up steps: no updates, random offloading decisions
    gradient_steps: int = Field(1, ge=1)  # gradient updates per env step (Algorithm 1: 1)
    lambda_c: float = Field(1e-3, ge=0)  # weight of the consistency loss (eq. 18), cpdrl only
    beta: float = Field(1.0, gt=0)  # STE sharpness (eq. 15)
    reward_transform: Literal["relative", "symlog", "none"] = "relative"
    reward_clip: float = Field(2.0, gt=0)  # "relative": lower clip of -log(cost / reference cost)
    obs_transform: Literal["tasks", "log", "none"] = "tasks"
    episode_steps: int = Field(10, ge=0)  # training episode length; 0 = the env's max_cycles
    permute_utds: bool = True  # "mlp" only: augment each sampled transition by a random UTD permutation
    preact_penalty: float = Field(1e-2, ge=0)  # weight of mean(pre-tanh^2) in the actor loss (keeps tanh out of saturation)
    init_resources: bool = True  # start the outputs at b = B/n, f = 0.9 f_max, p = 0.2 P_max, offloading


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


def parse_budget(budget: Mapping | None) -> tuple[Budget, Hyper]:
    """``{"steps": N, "progress": ..., <Hyper field>: value}`` -> ``(Budget, Hyper)``; unknown keys are errors."""
    return split_budget(budget, Hyper)
