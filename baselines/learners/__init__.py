"""Learning baselines.

* :mod:`baselines.learners.cpdrl` -- the CPDRL paper's own DDPG family
  (STE-DDPG, ASTE-DDPG, CPDRL), hand-written in torch.
* :mod:`baselines.learners.sb3` -- plain DDPG through Stable-Baselines3 on the
  Gymnasium adapter (the paper's "DDPG" baseline).

Every trained object implements :class:`baselines.policy.Policy` plus
``save(path)`` and a ``load(path)`` classmethod.
"""
