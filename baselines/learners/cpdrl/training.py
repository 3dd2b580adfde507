"""Algorithm 1 of the CPDRL paper (DDPG with the variant's actor, reward and loss) and the registry's builders."""

from __future__ import annotations

import math
import time
from typing import Mapping

import numpy as np
import torch

import mec_marl
from baselines.learners.common import (
    SeededReplayBuffer,
    polyak_update,
    progress_bar,
    resolve_seed,
    seed_everything,
    torch_threads,
)
from baselines.learners.cpdrl.hyper import (
    AGENT,
    ENV_ID,
    SOLVER_VARIANTS,
    VARIANT_ENV,
    VARIANT_FLAGS,
    VARIANTS,
    Hyper,
    parse_budget,
)
from baselines.learners.cpdrl.model import Actor, Critic, consistency_loss
from baselines.learners.cpdrl.policy import CpdrlLearnerPolicy
from baselines.learners.cpdrl.solver import offload_only, solver_action
from baselines.learners.cpdrl.transforms import (
    adjust_action,
    permute_blocks,
    reference_cost,
    transform_obs,
    transform_reward,
)


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


class _Nets:
    """Actor, critic, their targets and optimisers (Algorithm 1 lines 1-3)."""

    def __init__(self, variant: str, obs_dim: int, act_dim: int, n: int, hyper: Hyper):
        ste, mask, _ = VARIANT_FLAGS[variant]
        self.n, self.solver = n, variant in SOLVER_VARIANTS
        arch = hyper.architecture
        self.actor = Actor(obs_dim, n, hyper.hidden_actor, ste, mask, hyper.beta, arch, hyper.mask_surrogate)
        self.critic = Critic(obs_dim, act_dim, hyper.hidden_critic, arch)
        self.actor_t = Actor(obs_dim, n, hyper.hidden_actor, ste, mask, hyper.beta, arch, hyper.mask_surrogate)
        self.critic_t = Critic(obs_dim, act_dim, hyper.hidden_critic, arch)
        if hyper.init_resources:
            self.actor.init_resource_outputs()
        self.actor_t.load_state_dict(self.actor.state_dict())
        self.critic_t.load_state_dict(self.critic.state_dict())
        for p in (*self.actor_t.parameters(), *self.critic_t.parameters()):
            p.requires_grad_(False)
        self.opt_a = torch.optim.Adam(self.actor.parameters(), lr=hyper.actor_lr, foreach=True)
        self.opt_c = torch.optim.Adam(self.critic.parameters(), lr=hyper.critic_lr, foreach=True)
        self.params = list(self.actor.parameters()) + list(self.critic.parameters())
        self.target_params = list(self.actor_t.parameters()) + list(self.critic_t.parameters())

    def update(self, batch, hyper: Hyper, use_lc: bool) -> tuple[float, float]:
        """One gradient step of critic (eq. 12) and actor (eq. 18), then the soft target update (eq. 13-14)."""
        s, a, s2, d, r = batch
        with torch.no_grad():
            y = r
            if hyper.gamma > 0:
                a2 = self.actor_t(s2)
                y = r + hyper.gamma * (1.0 - d) * self.critic_t(s2, offload_only(a2, self.n) if self.solver else a2)
        loss_c = torch.mean((y - self.critic(s, a)) ** 2)  # eq. 12
        self.opt_c.zero_grad(set_to_none=True)
        loss_c.backward()
        self.opt_c.step()
        critic_params = list(self.critic.parameters())
        for p in critic_params:  # the actor's loss must not move the critic
            p.requires_grad_(False)
        out = self.actor.parts(s)
        act = offload_only(out["action"], self.n) if self.solver else out["action"]
        loss_a = -self.critic(s, act).mean()  # eq. 18, first term
        if hyper.preact_penalty > 0:
            loss_a = loss_a + hyper.preact_penalty * out["pre"].pow(2).mean()
        if use_lc and hyper.lambda_c > 0:
            loss_a = loss_a + hyper.lambda_c * consistency_loss(out["a"], out["b"], out["f"], out["p"])
        self.opt_a.zero_grad(set_to_none=True)
        loss_a.backward()
        self.opt_a.step()
        for p in critic_params:
            p.requires_grad_(True)
        polyak_update(self.params, self.target_params, hyper.tau)  # eq. 13-14
        return float(loss_c.detach()), float(loss_a.detach())


def _permuted(batch, rng: np.random.Generator, n: int):
    """The batch with each transition's UTDs re-ordered by a random permutation (valid transitions)."""
    s, a, s2, d, r = batch
    perm = np.argsort(rng.random((s.shape[0], n)), axis=1)
    s, s2, a = (torch.from_numpy(permute_blocks(x.numpy(), perm)) for x in (s, s2, a))
    return s, a, s2, d, r


def train(variant: str, env_kwargs: dict | None, seed: int | None, budget: Mapping,
          progress: bool | None = None, callback=None) -> CpdrlLearnerPolicy:
    """Train one variant (Algorithm 1) and return the deterministic policy.

    ``budget``: ``{"steps": N}`` env steps, plus any :class:`Hyper` field
    (e.g. ``lambda_c``, ``noise_std``, ``gamma``) and ``progress``; unknown
    keys raise ``ValueError``. Everything random derives from ``seed``
    (torch, one seeded env reset, a numpy Generator for the noise and the
    replay sampling): the same seed gives the same policy.
    ``callback(step, policy)``, if given, is called after every tenth of the
    steps with the policy as it stands (e.g. for learning curves); it must not
    consume the training's random streams.
    """
    plan, hyper = parse_budget(budget)
    steps = plan.steps
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; allowed: {list(VARIANTS)}")
    seed = resolve_seed(seed)
    saved_kwargs = training_env_kwargs(variant, env_kwargs)
    train_kwargs = training_env_kwargs(variant, env_kwargs, hyper)
    ste, mask, use_lc = VARIANT_FLAGS[variant]

    with torch_threads(1):
        rng = seed_everything(seed)
        env = mec_marl.make(ENV_ID, **train_kwargs)
        n = env.config.n_devices
        obs_dim = transform_obs(np.zeros(env.observation_space(AGENT).shape), n, hyper.obs_transform).shape[-1]
        act_dim = env.action_space(AGENT).shape[0]
        nets = _Nets(variant, obs_dim, act_dim, n, hyper)
        solver, base = nets.solver, getattr(env, "unwrapped", env)
        actor = nets.actor
        # a permutation-invariant critic makes the UTD-permutation augmentation a no-op
        n_permute = n if hyper.permute_utds and hyper.architecture == "mlp" else 0
        buffer = SeededReplayBuffer(min(hyper.buffer_size, steps), obs_dim, act_dim, rng)
        history = {"best_objective": [], "final_objective": [], "episode_reward": [], "critic_loss": [], "actor_loss": []}

        bonus = float(env.config.consistency_bonus_weight)
        obs_raw, _ = env.reset(seed=seed)
        ref = reference_cost(obs_raw[AGENT], n, bonus)
        obs = transform_obs(obs_raw[AGENT], n, hyper.obs_transform)
        ep_best, ep_reward, ep_obj = math.inf, 0.0, math.nan
        losses_c, losses_a = [], []
        start = time.perf_counter()
        report_every = max(1, steps // 10)
        bar = progress_bar(steps, variant, plan.progress if progress is None else progress)
        for step in range(steps):
            std = noise_std_at(step, steps, hyper)
            with torch.no_grad():
                mu = actor(torch.from_numpy(obs)).numpy()
            stds = np.full(act_dim, std, dtype=np.float32)
            stds[:n] = max(std, hyper.offload_noise_min_std)
            noisy = mu + rng.normal(0.0, 1.0, size=act_dim).astype(np.float32) * stds
            if step < hyper.learning_starts:  # warm-up: uniformly random offloading decisions
                noisy[:n] = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=n)
            action = adjust_action(noisy, n, ste, mask)  # Algorithm 1 line 9
            executed = action
            if solver:  # the executed resources are the optimum for the decision; the critic sees the decision
                executed = solver_action(action[:n] > 0, base.instance, base.config)
                action = offload_only(action, n)
            obs2_raw, rew, term, trunc, infos = env.step({AGENT: executed})
            obs2 = transform_obs(obs2_raw[AGENT], n, hyper.obs_transform)
            r_t = transform_reward(rew[AGENT], hyper.reward_transform, ref, bonus, hyper.reward_clip)
            buffer.add_transition(obs, action, r_t, obs2, bool(term[AGENT]))
            ep_reward += rew[AGENT]
            ep_obj = infos[AGENT]["objective"]
            ep_best = min(ep_best, ep_obj)
            obs = obs2

            if len(buffer) >= max(hyper.learning_starts, hyper.batch_size):
                for _ in range(hyper.gradient_steps):
                    b = buffer.sample(hyper.batch_size)
                    batch = (b.observations, b.actions, b.next_observations, b.dones, b.rewards)
                    if n_permute:
                        batch = _permuted(batch, rng, n_permute)
                    loss_c, loss_a = nets.update(batch, hyper, use_lc)
                    losses_c.append(loss_c)
                    losses_a.append(loss_a)

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
            bar.update(1)
            if (step + 1) % report_every == 0 or step + 1 == steps:
                recent = history["final_objective"][-50:]
                bar.set_postfix(noise=f"{std:.3f}", objective=f"{np.mean(recent) if recent else math.nan:.4g}")
                if callback is not None:
                    callback(step + 1, CpdrlLearnerPolicy(variant, actor, hyper, saved_kwargs, obs_dim, nets.critic,
                                                          history, seed))
                    actor.train()
        bar.close()
        history["train_time_s"] = time.perf_counter() - start
        history["steps"] = steps
        env.close()
    return CpdrlLearnerPolicy(variant, actor, hyper, saved_kwargs, obs_dim, nets.critic, history, seed)


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
build_cpdrl_solver = _builder("cpdrl_solver")
