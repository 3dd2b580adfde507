"""A single-agent mec-marl env as a plain ``gymnasium.Env`` (for SB3 and friends).

``gymnasium.make("mec_marl/CPDRL-v0", n_devices=4)`` returns this adapter; the
observation and action spaces are the single agent's, ``info`` is that agent's
infos dict, and ``truncated`` comes from the env's ``max_cycles``.
"""

from __future__ import annotations

import gymnasium

from mec_marl import registry


# Infos that measure wall time: dropped by default, because Gymnasium's and other
# checkers require two identically seeded steps to return identical infos.
WALL_TIME_KEYS = frozenset({"solver_time_s"})


class SingleAgentEnv(gymnasium.Env):
    """Wrap a one-agent ParallelEnv as a Gymnasium env.

    ``keep_timing=True`` keeps wall-clock infos such as ``solver_time_s``
    (they differ between otherwise identical runs).
    """

    def __init__(self, parallel_env, keep_timing: bool = False):
        self.keep_timing = keep_timing
        if len(parallel_env.possible_agents) != 1:
            raise ValueError(
                f"{parallel_env.metadata['name']} has agents {parallel_env.possible_agents}; "
                "SingleAgentEnv needs exactly one (use the scheduler agent mode)"
            )
        self.parallel_env = parallel_env
        self.agent = parallel_env.possible_agents[0]
        self.observation_space = parallel_env.observation_space(self.agent)
        self.action_space = parallel_env.action_space(self.agent)
        self.metadata = dict(parallel_env.metadata)
        self.render_mode = parallel_env.render_mode

    @property
    def unwrapped_parallel(self):
        return self.parallel_env

    @property
    def instance(self):
        return self.parallel_env.instance

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        obs, infos = self.parallel_env.reset(seed=seed, options=options)
        return obs[self.agent], self._info(infos[self.agent])

    def _info(self, info: dict) -> dict:
        if self.keep_timing:
            return info
        return {k: v for k, v in info.items() if k not in WALL_TIME_KEYS}

    def step(self, action):
        obs, rew, term, trunc, infos = self.parallel_env.step({self.agent: action})
        a = self.agent
        return obs[a], rew[a], term[a], trunc[a], self._info(infos[a])

    def render(self):
        return self.parallel_env.render()

    def close(self):
        self.parallel_env.close()


def make_single_agent(env_id: str, render_mode=None, keep_timing: bool = False, **config) -> SingleAgentEnv:
    """Entry point of the Gymnasium ids."""
    return SingleAgentEnv(registry.make(env_id, render_mode=render_mode, **config), keep_timing=keep_timing)
