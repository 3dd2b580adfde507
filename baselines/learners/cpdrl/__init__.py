"""The CPDRL paper's DDPG family, hand-written in torch (Sec. IV).

Li, Nakamura, Takase, "Consistency-Preserving Deep Reinforcement Learning for
Computation Offloading and Resource Allocation in MEC Environment". No library ships these
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
* ``cpdrl_solver`` -- beyond the paper: CPDRL's actor decides the offloading
  only, the executed resources are the exact optimum for that decision (TEM's
  allocation, :mod:`.solver`); the critic sees the decision alone.
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

Layout: :mod:`.hyper` (hyper-parameters, the defaults that differ from
Table I and why), :mod:`.model` (eq. 15, 16, 19: STE, masks, consistency
loss; actor and critic), :mod:`.transforms` (the action adjustment of
Algorithm 1 and the learner-side observation and reward transforms),
:mod:`.training` (Algorithm 1 and the registry's builders), :mod:`.policy`
(the trained actor as a checkpointed policy).
"""

from baselines.learners.cpdrl.hyper import (
    AGENT,
    ENV_ID,
    ARCHITECTURES,
    OBS_TRANSFORMS,
    PAPER_HYPER,
    REWARD_TRANSFORMS,
    SOLVER_VARIANTS,
    VARIANT_ENV,
    VARIANT_FLAGS,
    VARIANTS,
    Hyper,
    parse_budget,
)
from baselines.learners.cpdrl.model import Actor, Critic, consistency_loss, ste_binarise
from baselines.learners.cpdrl.policy import CpdrlLearnerPolicy, load
from baselines.learners.cpdrl.solver import offload_only, solver_action
from baselines.learners.cpdrl.training import (
    build_aste_ddpg,
    build_cpdrl,
    build_cpdrl_solver,
    build_ste_ddpg,
    noise_std_at,
    train,
    training_env_kwargs,
)
from baselines.learners.cpdrl.transforms import (
    adjust_action,
    permute_blocks,
    reference_cost,
    transform_obs,
    transform_reward,
)
