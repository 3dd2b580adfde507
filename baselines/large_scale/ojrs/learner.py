"""OJRS (Alg. 3): 2r-SAE state, a DNN offloading policy, ASA action search, 2p-ER replay.

Per epoch (one env slot, scheduler mode, ``observation="full"``):

1. x_t = CQI / ``cqi_scale`` (the observation's first N M entries); the SAE
   memory is offered x_t (error check); s_t = encoder(x_t);
2. a_t = the DNN's per-UE argmax (the decision the env executes, eq. 24);
3. a*_t = ASA from a_t for T_SA(t) iterations (Alg. 2, eq. 26-29), each
   candidate scored by P2.1 built from the observation (CQI and weights) and
   the system constants, i.e. what the paper's scheduler knows;
4. (x_t, a*_t) enters the 2p-ER buffer (eq. 31 preserve);
5. every ``train_interval`` (phi) epochs: a priority batch (eq. 32), one Adam
   step of the regularised cross-entropy (eq. 25), Delta delta_t = the change of
   the batch loss since the last training, which sets the priorities of the
   batch and T_SA(t+1) (eq. 30).

The SAE is trained offline on the first ``sae_warmup`` slots (the paper's
offline incremental stage; those slots execute "all local") and retrained
every ``sae_interval`` epochs on its memory. Paper sizes (Sec. V-A) are the
defaults: encoder 60-45-30, DNN 30-120-80-(N x (M+1) logits: the paper's last
layer of 30 read as one M+1-way head per UE), T_SAE 500, gamma1 0.5, gamma2
0.08, lambda 0.02, T_SA 20, eps 0.02, rho_max 1.2, priority eps 0.001; the
priority exponent tau is not given (0.6, PER's usual value).

Protocol: the paper trains and reports on one placement for 10,000 epochs;
here training runs over the env's episodes (a new placement per episode,
``max_cycles`` slots each) and the trained DNN is evaluated frozen on unseen
placements, the harder task the experiment runner measures. The loss (eq. 25)
is the softmax cross-entropy per UE summed over UEs (the paper's one-hot
vector per sample), averaged over the batch.
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field

from baselines import search
from baselines.large_scale.ojrs.replay import PreservedPrioritizedReplay
from baselines.large_scale.ojrs.sae import IncrementalSae, accuracy
from baselines.learners.common import (
    HyperParams,
    IntTuple,
    LearnedPolicy,
    progress_bar,
    resolve_seed,
    seed_everything,
    split_budget,
    torch_threads,
)
from baselines.learners.nets import mlp
from mec_marl.solvers import multi_mec


class OjrsHyper(HyperParams):
    code_size: int = Field(30, ge=1, description="SAE code (DNN input) size")
    sae_hidden: IntTuple = Field((45,), description="SAE encoder hidden layers")
    t_sae: int = Field(500, ge=1, description="SAE Adam steps per (re)training (T_SAE)")
    gamma1: float = Field(0.5, ge=0, description="related term weight (eq. 23)")
    gamma2: float = Field(0.08, ge=0, description="SAE weight regularisation (eq. 23)")
    sae_lr: float = Field(3e-3, gt=0)
    sae_memory: int = Field(1024, ge=1, description="SAE FIFO memory size")
    sae_error_threshold: float = Field(1e-4, ge=0, description="error check: MSE above which x enters the memory")
    sae_warmup: int = Field(256, ge=1, description="slots of the offline SAE stage")
    sae_interval: int = Field(2000, ge=1, description="epochs between SAE retrainings")
    dnn_hidden: IntTuple = Field((120, 80), description="policy DNN hidden layers")
    lam: float = Field(0.02, ge=0, description="lambda of eq. 25")
    lr: float = Field(1e-3, gt=0)
    batch_size: int = Field(128, ge=1)
    buffer_size: int = Field(1024, ge=1)
    train_interval: int = Field(10, ge=1, description="phi: epochs between DNN trainings")
    updates_per_train: int = Field(1, ge=1, description="Adam steps per training (each on a fresh priority batch)")
    t_sa: int = Field(20, ge=1, description="initial ASA iterations T_SA")
    eps: float = Field(0.02, ge=0, description="threshold of eq. 30")
    t_sa_min: int = Field(1, ge=1, description="floor of T_SA (eq. 30 has 1)")
    rho_max: float = Field(1.2, gt=1, description="preserve bound of eq. 31")
    priority_eps: float = Field(1e-3, gt=0, description="epsilon of eq. 32")
    tau: float = Field(0.6, ge=0, description="priority exponent of eq. 32")
    sa_t0_fraction: float = Field(0.02, gt=0, description="ASA T(0) as a fraction of the start's cost")
    sa_cooling: float = Field(0.97, gt=0, lt=1, description="ASA cooling factor phi")
    cqi_scale: float = Field(16.0, gt=0, description="CQI (bit/s/Hz) divisor of the SAE input")


class OjrsNet(torch.nn.Module):
    """Encoder (from the SAE) followed by the policy DNN: x -> per-UE logits (N, M+1)."""

    def __init__(self, encoder: torch.nn.Module, code: int, hidden, n: int, m: int):
        super().__init__()
        self.encoder, self.n, self.m = encoder, n, m
        self.dnn = mlp([code, *hidden, n * (m + 1)])

    def forward(self, x):
        return self.dnn(self.encoder(x)).view(-1, self.n, self.m + 1)


class OjrsPolicy(LearnedPolicy):
    """The trained OJRS decision maker: CQI -> SAE code -> DNN -> per-UE argmax (scheduler mode)."""

    name = "ojrs"
    env_options = {"agent_mode": "scheduler", "observation": "full"}

    def __init__(self, net: OjrsNet, hyper: OjrsHyper, log: dict | None = None):
        self.net, self.hyper, self.log = net, hyper, log or {}

    @property
    def history(self) -> dict:
        """Training curves for the experiment runner: per-epoch reward and objective, DNN losses."""
        return {k: list(self.log.get(k, [])) for k in ("reward", "objective", "loss", "t_sa")}

    def predict(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        x = obs[..., : self.net.n * self.net.m] / self.hyper.cqi_scale
        with torch.no_grad():
            logits = self.net(torch.as_tensor(x).reshape(-1, self.net.n * self.net.m))
        return logits.argmax(-1).numpy().reshape(obs.shape[:-1] + (self.net.n,))

    def checkpoint_state(self) -> dict:
        return {"hyper": self.hyper.as_dict(), "n": self.net.n, "m": self.net.m,
                "weights": self.net.state_dict(), "log": {k: list(map(float, v)) for k, v in self.log.items()}}

    @classmethod
    def from_checkpoint_state(cls, state: dict) -> "OjrsPolicy":
        hyper = OjrsHyper(**state["hyper"])
        sae = IncrementalSae(state["n"], state["m"], hyper.sae_hidden, hyper.code_size, 0, 0, 1e-3, 1, 0, None)
        net = OjrsNet(sae.model.encoder, hyper.code_size, hyper.dnn_hidden, state["n"], state["m"])
        net.load_state_dict(state["weights"])
        return cls(net, hyper, state.get("log"))


def _problem(obs: np.ndarray, config) -> multi_mec.P21Problem:
    """P2.1 of the slot from the observation (CQI, weights) and the system constants."""
    n, m = config.n_ues, config.n_mecs
    obs = np.asarray(obs, dtype=float)
    return multi_mec.p21_problem_from_efficiency(
        obs[: n * m].reshape(n, m), obs[n * m: n * m + n], data_size=config.data_size, cycles=config.task_cycles,
        bandwidth=config.bandwidth, p_max=config.p_max, f_local_max=config.f_local_max, mec_cpu=config.f_mec_max,
        kappa=config.kappa, exponent=config.power_exponent,
    )


def _weight_norm(net: torch.nn.Module) -> float:
    return float(sum((p.detach() ** 2).sum() for p in net.dnn.parameters()))


def train(env, hyper: OjrsHyper, steps: int, seed: int, progress: bool | None = None) -> OjrsPolicy:
    """Alg. 3 on ``env`` (a large_scale_v0 ParallelEnv in scheduler mode, full observation) for ``steps`` slots."""
    config = env.unwrapped.config
    if config.agent_mode != "scheduler" or config.observation != "full":
        raise ValueError("ojrs trains in agent_mode='scheduler' with observation='full' (CQI and weights)")
    n, m = config.n_ues, config.n_mecs
    rng = seed_everything(seed)
    sae = IncrementalSae(n, m, hyper.sae_hidden, hyper.code_size, hyper.gamma1, hyper.gamma2, hyper.sae_lr,
                         hyper.sae_memory, hyper.sae_error_threshold, rng)
    net = OjrsNet(sae.model.encoder, hyper.code_size, hyper.dnn_hidden, n, m)
    optimiser = torch.optim.Adam(net.dnn.parameters(), lr=hyper.lr)  # the encoder is the SAE's
    replay = PreservedPrioritizedReplay(hyper.buffer_size, n * m, n, hyper.rho_max, hyper.tau, hyper.priority_eps, rng)
    log = {"reward": [], "objective": [], "loss": [], "t_sa": [], "sae_accuracy": []}
    obs = env.reset(seed=seed)[0]["scheduler"]
    t_sa, last_loss, done_steps = hyper.t_sa, None, 0
    bar = progress_bar(steps, "ojrs", progress)

    def advance(action):
        nonlocal obs, done_steps
        o, _, terms, truncs, infos = env.step({"scheduler": action})
        done_steps += 1
        bar.update(1)
        obs = env.reset()[0]["scheduler"] if (terms["scheduler"] or truncs["scheduler"]) else o["scheduler"]
        return infos["scheduler"]

    with torch_threads(1):
        while done_steps < min(hyper.sae_warmup, steps):  # offline stage: collect CQI, act locally
            sae.memory.append(np.asarray(obs[: n * m], dtype=np.float32) / hyper.cqi_scale)
            advance(np.zeros(n, dtype=np.int64))
        sae.train(hyper.t_sae, hyper.batch_size)
        while done_steps < steps:
            x = np.asarray(obs[: n * m], dtype=np.float32) / hyper.cqi_scale
            sae.offer(x)
            with torch.no_grad():
                action = net(torch.as_tensor(x)[None]).argmax(-1).numpy()[0]
            problem = _problem(obs, config)
            gain = np.expm1(np.log(2.0) * np.asarray(obs[: n * m], dtype=float)).reshape(n, m)  # proportional to h
            found = search.adaptive_simulated_annealing(
                lambda c: multi_mec.p21_objective(problem, c, fallback=config.outage_fallback), action, gain, rng,
                t_sa, hyper.sa_t0_fraction, hyper.sa_cooling,
            )
            replay.add(x, found["decision"], _weight_norm(net))
            info = advance(action)
            log["reward"].append(1.0 / info["objective"])
            log["objective"].append(info["objective"])
            log["t_sa"].append(t_sa)
            if done_steps % hyper.train_interval == 0 and len(replay) >= min(hyper.batch_size, 32):
                for _ in range(hyper.updates_per_train):
                    index = replay.sample(hyper.batch_size)
                    logits = net(torch.as_tensor(replay.x[index]))
                    target = torch.as_tensor(replay.action[index])
                    # eq. 25 sums over the one-hot entries of a sample (all UEs) and averages over the batch
                    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, m + 1), target.reshape(-1),
                                                           reduction="sum") / len(index)
                    loss = ce + 0.5 * hyper.lam * sum((p**2).sum() for p in net.dnn.parameters())  # eq. 25
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                value = float(loss.detach())
                change = 0.0 if last_loss is None else last_loss - value
                last_loss = value
                replay.update_priorities(index, change)
                t_sa = max(search.adaptive_iterations(t_sa, change, hyper.eps), hyper.t_sa_min)  # eq. 30
                log["loss"].append(value)
            if done_steps % hyper.sae_interval == 0:
                sae.train(hyper.t_sae, hyper.batch_size)
        if sae.memory:
            log["sae_accuracy"].append(accuracy(sae.model, torch.as_tensor(np.stack(sae.memory))))
    bar.close()
    return OjrsPolicy(net, hyper, log)


def build(env_id: str, env_kwargs: dict, seed: int | None, budget: dict) -> OjrsPolicy:
    """Registry builder: train OJRS for ``budget['steps']`` slots (other keys: :class:`OjrsHyper`)."""
    import mec_marl

    train_budget, hyper = split_budget(budget, OjrsHyper, "ojrs budget")
    env = mec_marl.make(env_id, **{**env_kwargs, **OjrsPolicy.env_options})
    return train(env, hyper, train_budget.steps, resolve_seed(seed), train_budget.progress)
