"""RLlib (Ray) on mec-marl envs: a ``MultiAgentEnv`` over one env of the registry.

RLlib's own ``ParallelPettingZooEnv`` reads the agent ids from ``agents`` after a
reset and its ``render()`` passes an argument a ParallelEnv does not take
(DESIGN.md, "Known traps"). :class:`MecMultiAgentEnv` instead:

* takes the agent ids from ``possible_agents`` and keeps per-agent spaces
  (``observation_spaces`` / ``action_spaces``), available before any reset;
* passes RLlib's seeds to ``reset(seed=...)`` (``config.debugging(seed=s)``
  seeds every env runner's env);
* returns, at the step that ends an episode, every agent's final observation and
  reward with ``"__all__"`` set in terminations and truncations (agents of one
  instance end together), and the env's infos (``"episode"`` included);
* renders with the env's own ``render_mode`` (``env_config["render_mode"]``).

``env_config`` is ``{"env_id": ..., <config keys>}``; RLlib builds one env per
env runner from it::

    from ray.rllib.algorithms.ppo import PPOConfig
    from mec_marl.adapters.rllib import MecMultiAgentEnv
    config = PPOConfig().environment(MecMultiAgentEnv, env_config={"env_id": "cpdrl_v0", "n_devices": 4})

``scripts/train_rllib.py`` trains PPO from the command line.
"""

from __future__ import annotations

from ray.rllib.env.multi_agent_env import MultiAgentEnv

from mec_marl import registry


class MecMultiAgentEnv(MultiAgentEnv):
    """One mec-marl env as an RLlib ``MultiAgentEnv`` (module docstring)."""

    def __init__(self, config: dict | None = None):
        super().__init__()
        config = dict(config or {})
        if "env_id" not in config:
            raise ValueError(f"env_config needs 'env_id' (one of {registry.list_envs()})")
        self.env_id = config.pop("env_id")
        self.env = registry.make(self.env_id, **config)
        self.possible_agents = list(self.env.possible_agents)
        self.agents = list(self.possible_agents)
        self.observation_spaces = {a: self.env.observation_space(a) for a in self.possible_agents}
        self.action_spaces = {a: self.env.action_space(a) for a in self.possible_agents}
        self.render_mode = self.env.render_mode
        self.metadata = dict(self.env.metadata)

    def reset(self, *, seed=None, options=None):
        observations, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.env.agents)
        return observations, infos

    def step(self, action_dict):
        observations, rewards, terminations, truncations, infos = self.env.step(action_dict)
        terminations = dict(terminations)
        truncations = dict(truncations)
        self.agents = list(self.env.agents)
        ended = not self.agents
        terminations["__all__"] = ended and all(terminations.values())
        truncations["__all__"] = ended and not terminations["__all__"]
        return observations, rewards, terminations, truncations, infos

    def render(self):
        return self.env.render()

    def close(self):
        self.env.close()


def shared_policy_spec() -> tuple[set[str], object]:
    """``(policies, policy_mapping_fn)`` for one policy ``"shared"`` acting for every agent."""
    return {"shared"}, lambda agent_id, episode, **kwargs: "shared"


def per_agent_policy_spec(env_id: str, **config) -> tuple[set[str], object]:
    """``(policies, policy_mapping_fn)`` for one policy per agent, named after the agent."""
    agents = registry.make(env_id, **config).possible_agents
    return set(agents), lambda agent_id, episode, **kwargs: agent_id
