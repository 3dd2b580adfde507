"""PFR-OA, MCF-TD3, TD3 and DDPG per community on smart_community_v0 (Stable-Baselines3).

Each community trains its own model on its own env (``n_communities=1``,
a seed of its own): communities share no physics, only (for the federated
methods) network weights through :class:`baselines.federated.Federation`.

* ``td3`` / ``ddpg``: SB3 TD3 / DDPG per community, no collaboration.
* ``dqn``: SB3 DQN per community over a discretised action (:func:`discrete_actions`):
  one of the 2^n offloading subsets, with even bandwidth and CPU shares among
  the offloaders (the Edge heuristic's allocation).
* ``mcf_td3``: TD3 per community + FedAvg of actor and twin critics every f_p episodes.
* ``pfr_oa``: :class:`ProximalTD3` (TD3 with the proximal term of eq. 23 on the
  critics and of Alg. 1 line 18 on the actor, actor delay f_a) + partial-greedy
  selection of V models and soft merge with f_q, adaptive lambda (Sec. IV-B).

Hyper-parameters of Sec. V-A are the defaults (:data:`DEFAULTS`): gamma 0.995,
learning rate 1e-4, batch 256, rho (Polyak) 0.1, f_a 2, f_p 50, f_q 0.3.
The paper leaves out the exploration noise, networks, V and epsilon; the
defaults here are Gaussian noise 0.1, (256, 256) MLPs, V = m - 1 (at least
1) and epsilon = 0.9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import DDPG, DQN, TD3
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.common.vec_env import VecEnvWrapper
from torch.nn import functional as F

from baselines.federated import FederatedConfig, Federation, SB3Member
from mec_marl.adapters.sb3 import SB3VecEnv

ENV_ID = "smart_community_v0"
METHODS = ("td3", "ddpg", "dqn", "mcf_td3", "pfr_oa")
DEFAULTS = {
    "total_steps": 4000,  # transitions per community
    "num_envs": 4,
    "gamma": 0.995,
    "learning_rate": 1e-4,
    "batch_size": 256,
    "tau": 0.1,  # rho
    "policy_delay": 2,  # f_a
    "noise_sigma": 0.1,
    "learning_starts": 500,
    "buffer_size": 100_000,
    "net_arch": [256, 256],
    "f_p": 50,  # episodes between federated rounds
    "f_q": 0.3,
    "epsilon": 0.9,
    "participants": None,  # V; None: m - 1 (at least 1)
    "lambda_init": 0.01,
    "exploration_fraction": 0.3,  # DQN only
}
MAX_DISCRETE_DEVICES = 10  # 2^n actions


def discrete_actions(n: int) -> np.ndarray:
    """``(2^n, 3n)`` raw actions: row k offloads the EDs whose bit is set in k, with even shares."""
    if n > MAX_DISCRETE_DEVICES:
        raise ValueError(f"dqn enumerates 2^n offloading subsets; n_devices={n} exceeds {MAX_DISCRETE_DEVICES}")
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    alpha = np.where(bits > 0, 1.0, -1.0)
    return np.concatenate([alpha, np.ones_like(alpha), np.ones_like(alpha)], axis=-1).astype(np.float32)


class DiscreteOffloading(VecEnvWrapper):
    """An SB3 VecEnv with the Box action replaced by ``Discrete(2^n)`` (:func:`discrete_actions`)."""

    def __init__(self, venv, n: int):
        self.table = discrete_actions(n)
        super().__init__(venv, action_space=spaces.Discrete(len(self.table)))

    def reset(self):
        return self.venv.reset()

    def step_async(self, actions) -> None:
        self.venv.step_async(self.table[np.asarray(actions, dtype=np.int64).reshape(-1)])

    def step_wait(self):
        return self.venv.step_wait()


def _proximal(module, anchor: dict, prefix: str) -> th.Tensor:
    """||theta - theta_f||^2 over a module's parameters."""
    terms = [((p - anchor[f"{prefix}.{name}"].to(p.device)) ** 2).sum() for name, p in module.named_parameters()]
    return th.stack(terms).sum()


class ProximalTD3(TD3):
    """SB3 TD3 whose critic and actor losses carry lambda/2 ||theta - theta_f||^2 (eq. 23, Alg. 1 line 18)."""

    anchor: dict | None = None
    lam: float = 0.0
    last_critic_loss: float = float("inf")

    def set_proximal(self, anchor, lam: float) -> None:
        self.anchor, self.lam = anchor, float(lam)

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        # SB3 2.x TD3.train with the proximal terms added (marked below).
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer])
        prox = self.anchor is not None and self.lam > 0
        critic_losses = []
        for _ in range(gradient_steps):
            self._n_updates += 1
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            discounts = data.discounts if data.discounts is not None else self.gamma
            with th.no_grad():
                noise = data.actions.clone().data.normal_(0, self.target_policy_noise)
                noise = noise.clamp(-self.target_noise_clip, self.target_noise_clip)
                next_actions = (self.actor_target(data.next_observations) + noise).clamp(-1, 1)
                next_q = th.cat(self.critic_target(data.next_observations, next_actions), dim=1)
                next_q, _ = th.min(next_q, dim=1, keepdim=True)
                target_q = data.rewards + (1 - data.dones) * discounts * next_q
            current_q = self.critic(data.observations, data.actions)
            critic_loss = sum(F.mse_loss(q, target_q) for q in current_q)
            critic_losses.append(critic_loss.item())
            if prox:  # eq. 23 on both critics
                critic_loss = critic_loss + 0.5 * self.lam * _proximal(self.critic, self.anchor, "critic")
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()
            if self._n_updates % self.policy_delay == 0:  # f_a
                actor_loss = -self.critic.q1_forward(data.observations, self.actor(data.observations)).mean()
                if prox:  # Alg. 1 line 18
                    actor_loss = actor_loss + 0.5 * self.lam * _proximal(self.actor, self.anchor, "actor")
                self.actor.optimizer.zero_grad()
                actor_loss.backward()
                self.actor.optimizer.step()
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.actor.parameters(), self.actor_target.parameters(), self.tau)
                polyak_update(self.critic_batch_norm_stats, self.critic_batch_norm_stats_target, 1.0)
                polyak_update(self.actor_batch_norm_stats, self.actor_batch_norm_stats_target, 1.0)
        if critic_losses:
            self.last_critic_loss = float(np.mean(critic_losses))
        self.logger.record("train/critic_loss", self.last_critic_loss)


class CommunityPolicy:
    """Community i acts with model i (deterministic actor); a ``baselines.policy.Policy``."""

    def __init__(self, models: list, name: str = "pfr_oa", action_table: np.ndarray | None = None):
        self.models = list(models)
        self.name = name
        self.action_table = action_table  # discrete index -> raw action (dqn)

    def reset(self, env, seed=None) -> None:
        m = env.unwrapped.config.n_communities
        if m != len(self.models):
            raise ValueError(f"{self.name}: trained for {len(self.models)} communities, the env has {m}")

    def act(self, observations: dict, env) -> dict:
        agents = env.unwrapped.possible_agents
        out = {}
        for a in env.agents:
            action = self.models[agents.index(a)].predict(observations[a], deterministic=True)[0]
            out[a] = self.action_table[int(action)] if self.action_table is not None else action
        return out

    def save(self, path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for i, model in enumerate(self.models):
            model.save(path / f"community_{i}.zip")
        meta = {"name": self.name, "algo": type(self.models[0]).__name__, "communities": len(self.models)}
        if self.action_table is not None:
            meta["discrete_devices"] = self.action_table.shape[1] // 3
        (path / "meta.json").write_text(json.dumps(meta))


def load(path) -> CommunityPolicy:
    """A saved :class:`CommunityPolicy` (directory written by ``save``)."""
    path = Path(path)
    meta_file = path / "meta.json"
    if not meta_file.exists():
        raise FileNotFoundError(f"no saved smart_community policy at {path} (missing meta.json)")
    meta = json.loads(meta_file.read_text())
    algo = {"TD3": TD3, "ProximalTD3": ProximalTD3, "DDPG": DDPG, "DQN": DQN}[meta["algo"]]
    models = [algo.load(path / f"community_{i}.zip", device="cpu") for i in range(meta["communities"])]
    table = discrete_actions(meta["discrete_devices"]) if "discrete_devices" in meta else None
    return CommunityPolicy(models, meta["name"], table)


def _model(method: str, env_kwargs: dict, seed: int, hp: dict, community: int):
    venv = SB3VecEnv(ENV_ID, num_envs=hp["num_envs"], **{**env_kwargs, "n_communities": 1})
    venv.seed(seed * 1000 + community)
    if method == "dqn":
        venv = DiscreteOffloading(venv, venv.action_space.shape[0] // 3)
        return DQN(
            "MlpPolicy",
            venv,
            gamma=hp["gamma"],
            learning_rate=hp["learning_rate"],
            batch_size=hp["batch_size"],
            learning_starts=hp["learning_starts"],
            buffer_size=hp["buffer_size"],
            exploration_fraction=hp["exploration_fraction"],
            tau=hp["tau"],
            target_update_interval=1,
            policy_kwargs={"net_arch": list(hp["net_arch"])},
            seed=seed * 1000 + community,
            device="cpu",
            verbose=0,
        )
    n_actions = venv.action_space.shape[0]
    common = dict(
        gamma=hp["gamma"],
        learning_rate=hp["learning_rate"],
        batch_size=hp["batch_size"],
        tau=hp["tau"],
        learning_starts=hp["learning_starts"],
        buffer_size=hp["buffer_size"],
        action_noise=NormalActionNoise(np.zeros(n_actions), hp["noise_sigma"] * np.ones(n_actions)),
        policy_kwargs={"net_arch": list(hp["net_arch"])},
        seed=seed * 1000 + community,
        device="cpu",
        verbose=0,
    )
    if method == "ddpg":
        return DDPG("MlpPolicy", venv, **common)
    # The federated methods record their training loss (the server sorts by it); for MCF-TD3 lambda stays 0.
    cls = ProximalTD3 if method in ("pfr_oa", "mcf_td3") else TD3
    return cls("MlpPolicy", venv, policy_delay=hp["policy_delay"], **common)


def train(method: str, env_kwargs: dict | None = None, seed: int = 0, budget: dict | None = None) -> CommunityPolicy:
    """Train one model per community with ``method`` (module docstring); returns the policy."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {list(METHODS)}")
    env_kwargs = dict(env_kwargs or {})
    unknown = sorted(set(budget or {}) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown budget key(s) {unknown}; allowed: {sorted(DEFAULTS)}")
    hp = {**DEFAULTS, **(budget or {})}
    th.manual_seed(seed)
    import mec_marl

    config = mec_marl.make(ENV_ID, **env_kwargs).config
    m = config.n_communities
    models = [_model(method, env_kwargs, seed, hp, i) for i in range(m)]
    total = int(hp["total_steps"])
    if method in ("td3", "ddpg", "dqn"):
        for model in models:
            model.learn(total)
        table = discrete_actions(config.n_devices) if method == "dqn" else None
        return CommunityPolicy(models, method, table)
    if method == "mcf_td3":
        fed = FederatedConfig.fedavg(f_p=hp["f_p"])
    else:
        v = hp["participants"] or max(1, m - 1)
        fed = FederatedConfig(participants=v, epsilon=hp["epsilon"], f_q=hp["f_q"], f_p=hp["f_p"],
                              lambda_init=hp["lambda_init"])
    per_round = fed.f_p * config.episode_length
    federation = Federation([SB3Member(model) for model in models], fed, seed=seed)
    rounds, rest = divmod(total, per_round)
    federation.train(rounds, per_round)
    if rest:
        for member in federation.members:
            member.learn(rest)
    policy = CommunityPolicy(models, method)
    policy.federation_history = federation.history
    return policy
