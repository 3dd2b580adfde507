"""Learning baselines.

* :mod:`baselines.learners.common` -- the toolkit every learner uses:
  hyper-parameter models and the training budget, seeding, thread pinning,
  progress bars, SB3's replay buffer and soft target update.
* :mod:`baselines.learners.nets` -- reusable networks (MLP actor/critic,
  per-device DeepSets nets, a centralised critic over ``state()``).
* :mod:`baselines.learners.cpdrl` -- the CPDRL paper's own DDPG family
  (STE-DDPG, ASTE-DDPG, CPDRL), hand-written in torch.
* :mod:`baselines.learners.sb3` -- plain DDPG through Stable-Baselines3 on the
  Gymnasium adapter (the paper's "DDPG" baseline).

Every trained object is a :class:`baselines.policy.LearnedPolicy` (``act``,
``predict``, ``save``, ``load``).
"""
