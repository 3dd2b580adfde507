"""Rule-based baselines.

cpdrl_v0 (CPDRL paper, Sec. V-A):

* ROM — random offloading method: each UTD offloads with probability 1/2;
  communication and computation resources random.
* FOM — fully offloading method: every UTD offloads, random communication
  resources.
* LEM — local execution method: every UTD runs locally at a random CPU
  frequency.

"Random resources" are drawn feasibly: the bandwidth B is split among the
offloaders by a uniform (Dirichlet(1)) share, powers are U(0, P_max] and local
frequencies U(0, f_max]; a random draw that broke C2 would charge the
over-use penalty and make the baselines look worse than the paper's.
"""

from __future__ import annotations

import numpy as np

from baselines.policy import RandomSource
from mec_marl.envs import cpdrl


class CpdrlRandomResources(RandomSource):
    """ROM / FOM / LEM on cpdrl_v0; ``mode`` fixes the offloading rule."""

    MODES = ("random", "full", "local")

    def __init__(self, mode: str, name: str | None = None):
        if mode not in self.MODES:
            raise ValueError(f"unknown mode {mode!r}; allowed: {self.MODES}")
        self.mode = mode
        self.name = name or mode

    def reset(self, env, seed=None):
        self._seed(seed)

    def act(self, observations, env):
        base = env.unwrapped
        inst, cfg = base.instance, base.config
        n = inst.n
        rng = self.rng
        if self.mode == "random":
            offload = rng.random(n) < 0.5
        else:
            offload = np.full(n, self.mode == "full")
        shares = rng.dirichlet(np.ones(n)) * offload
        total = shares.sum()
        bandwidth = np.where(offload, shares / total if total > 0 else 0.0, 0.0) * cfg.bandwidth
        power = np.where(offload, rng.uniform(0.0, 1.0, n) * cfg.p_max, 0.0)
        cpu_freq = np.where(offload, 0.0, rng.uniform(0.0, 1.0, n) * inst.f_max)
        action = cpdrl.encode_action(offload, bandwidth, cpu_freq, power, inst, cfg)
        return {agent: action for agent in env.agents}
