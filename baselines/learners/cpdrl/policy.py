"""A trained actor of the CPDRL family as a checkpointed, deterministic policy."""

from __future__ import annotations

import os

import numpy as np
import torch

from baselines.learners.common import LearnedPolicy, torch_threads
from baselines.learners.cpdrl.hyper import SOLVER_VARIANTS, VARIANT_ENV, VARIANT_FLAGS, VARIANTS, Hyper
from baselines.learners.cpdrl.model import Actor, Critic
from baselines.learners.cpdrl.transforms import adjust_action, transform_obs


class CpdrlLearnerPolicy(LearnedPolicy):
    """A trained actor of the DDPG family as a :class:`~baselines.policy.Policy`.

    ``act`` is deterministic: the actor's output (STE binarised, masked for the
    masked variants), without exploration noise. The checkpoint holds actor
    and critic state dicts, hyper-parameters, env_kwargs and the training history.
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

    def predict(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic action(s) for one observation or a batch (env units, [-1, 1])."""
        x = transform_obs(obs, self.n, self.hyper.obs_transform)
        if x.shape[-1] != self.obs_dim:
            raise ValueError(
                f"{self.name}: observation has {x.shape[-1]} entries, the policy was trained on {self.obs_dim} "
                f"(n_devices={self.n}, observation mode of {self.env_kwargs.get('observation', 'full')!r})"
            )
        # one thread: a forward pass of these small networks is ~0.3 ms alone, ~10 ms when two
        # threads contend with other work (what decision_time_s then measured)
        with torch.no_grad(), torch_threads(1):
            action = self.actor(torch.as_tensor(x)).numpy()
        ste, mask, _ = VARIANT_FLAGS[self.variant]
        return adjust_action(action, self.n, ste, mask)

    def act(self, observations: dict, env) -> dict:
        """The actor's action; for ``cpdrl_solver`` its offloading with the optimal resources of the env's instance."""
        if self.variant not in SOLVER_VARIANTS:
            return super().act(observations, env)
        from baselines.learners.cpdrl.solver import solver_action

        base = env.unwrapped
        return {agent: solver_action(self.predict(observations[agent])[: self.n] > 0, base.instance, base.config)
                for agent in env.agents}

    def checkpoint_state(self) -> dict:
        return {
            "variant": self.variant,
            "hyper": self.hyper.as_dict(),
            "env_kwargs": self.env_kwargs,
            "obs_dim": self.obs_dim,
            "n": self.n,
            "seed": self.seed,
            "actor": self.actor.state_dict(),
            "critic": None if self.critic is None else self.critic.state_dict(),
            "history": self.history,
        }

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "CpdrlLearnerPolicy":
        hyper = Hyper(**state["hyper"])
        variant = state["variant"]
        ste, mask, _ = VARIANT_FLAGS[variant]
        actor = Actor(state["obs_dim"], state["n"], hyper.hidden_actor, ste, mask, hyper.beta, hyper.architecture,
                      hyper.mask_surrogate)
        actor.load_state_dict(state["actor"])
        critic = None
        if state.get("critic") is not None:
            critic = Critic(state["obs_dim"], 4 * state["n"], hyper.hidden_critic, hyper.architecture)
            critic.load_state_dict(state["critic"])
        return cls(variant, actor, hyper, state["env_kwargs"], state["obs_dim"], critic, state.get("history"),
                   state.get("seed"))


def load(path: str | os.PathLike, method: str | None = None) -> CpdrlLearnerPolicy:
    """Load a saved policy (the registry's loader); ``method``, if given, must be the variant it was saved as."""
    return CpdrlLearnerPolicy.load(path, method=method)
