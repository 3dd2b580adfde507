"""Learners of the CPDRL paper: DDPG (SB3), STE-DDPG, ASTE-DDPG, CPDRL.

Short runs only (a few hundred env steps, updates from step 100): they check
the plumbing, determinism and the paper's building blocks (eq. 15, 16, 19),
not the learning quality.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mec_marl
from baselines import registry
from baselines.learners import cpdrl as family
from baselines.learners import sb3

LEARNERS = ("ddpg", "ste_ddpg", "aste_ddpg", "cpdrl")
ENV_KWARGS = {"n_devices": 3, "max_cycles": 5}
SHORT = {"steps": 250, "learning_starts": 100}


def _train(method: str, seed: int = 0, env_kwargs=None):
    return registry.get(method, "cpdrl_v0").build("cpdrl_v0", dict(env_kwargs or ENV_KWARGS), seed=seed, budget=dict(SHORT))


def _observations(n_obs: int = 5, env_kwargs=None) -> np.ndarray:
    env = mec_marl.make("cpdrl_v0", **(env_kwargs or ENV_KWARGS))
    return np.stack([env.reset(seed=500 + i)[0]["scheduler"] for i in range(n_obs)])


def _parameters(policy) -> list[np.ndarray]:
    module = policy.model.policy if isinstance(policy, sb3.Sb3DdpgPolicy) else policy.actor
    return [p.detach().numpy().copy() for p in module.parameters()]


@pytest.fixture(scope="module")
def trained():
    return {m: _train(m) for m in LEARNERS}


@pytest.mark.parametrize("method", LEARNERS)
def test_registry_trains_a_policy_that_runs(trained, method):
    policy = trained[method]
    assert policy.name == method
    assert registry.get(method).kind == "learner"
    env = mec_marl.make("cpdrl_v0", **ENV_KWARGS)
    observations, _ = env.reset(seed=7)
    policy.reset(env, seed=7)
    space = env.action_space("scheduler")
    steps = 0
    while env.agents:
        actions = policy.act(observations, env)
        assert set(actions) == {"scheduler"}
        assert space.contains(np.asarray(actions["scheduler"], dtype=space.dtype))
        observations, _, _, _, infos = env.step(actions)
        assert infos["scheduler"]["clipped_actions"] == 0
        assert np.isfinite(infos["scheduler"]["objective"])
        steps += 1
    assert steps == ENV_KWARGS["max_cycles"]
    history = policy.history
    # every learner (DDPG with its registered "tuned" preset too) trains on episodes of Hyper().episode_steps
    assert len(history["best_objective"]) == SHORT["steps"] // family.Hyper().episode_steps
    assert all(b <= f + 1e-12 for b, f in zip(history["best_objective"], history["final_objective"]))


@pytest.mark.parametrize("method", LEARNERS)
def test_builder_sets_the_variant_env_options_on_top_of_the_callers(trained, method):
    kwargs = trained[method].env_kwargs
    assert kwargs["n_devices"] == 3 and kwargs["max_cycles"] == 5
    expected = {"ddpg": ("none", 0.0), "ste_ddpg": ("none", 0.0), "aste_ddpg": ("mask", 0.0), "cpdrl": ("mask", 1.0)}
    assert (kwargs["consistency"], kwargs["consistency_bonus_weight"]) == expected[method]


@pytest.mark.parametrize("method", LEARNERS)
def test_same_seed_same_policy_other_seed_differs(trained, method):
    again = _train(method, seed=0)
    for a, b in zip(_parameters(trained[method]), _parameters(again)):
        np.testing.assert_array_equal(a, b)
    obs = _observations()
    np.testing.assert_array_equal(trained[method].predict(obs[0]), again.predict(obs[0]))
    other = _train(method, seed=1)
    assert any(not np.array_equal(a, b) for a, b in zip(_parameters(trained[method]), _parameters(other)))


@pytest.mark.parametrize("method", LEARNERS)
def test_save_load_round_trip(trained, method, tmp_path):
    path = tmp_path / f"{method}.pt"
    trained[method].save(str(path))
    loaded = registry.get(method).load(str(path))
    assert loaded.name == method
    assert loaded.env_kwargs == trained[method].env_kwargs
    for obs in _observations():
        np.testing.assert_array_equal(trained[method].predict(obs), loaded.predict(obs))


@pytest.mark.parametrize("method", LEARNERS)
def test_unknown_budget_key_is_named(method):
    with pytest.raises(ValueError, match="bogus_key"):
        registry.get(method).build("cpdrl_v0", dict(ENV_KWARGS), seed=0, budget={"steps": 10, "bogus_key": 1})


def test_budget_needs_steps_and_coerces_strings():
    with pytest.raises(ValueError, match="steps"):
        family.parse_budget({"lambda_c": 0.1})
    plan, hyper = family.parse_budget({"steps": "40", "lambda_c": "0.5", "hidden_actor": "8,4", "mask_surrogate": "false"})
    assert (plan.steps, hyper.lambda_c, hyper.hidden_actor, hyper.mask_surrogate) == (40, 0.5, (8, 4), False)
    with pytest.raises(ValueError, match="gamma=1.5"):
        family.parse_budget({"steps": 10, "gamma": 1.5})
    with pytest.raises(ValueError, match="preset='bogus'"):
        sb3.parse_budget({"steps": 10, "preset": "bogus"})
    # an explicit key overrides the preset's default
    _, tuned = sb3.parse_budget({"steps": 10, "preset": "tuned", "gamma": 0.5})
    assert (tuned.gamma, tuned.hidden_critic) == (0.5, family.Hyper().hidden_critic)


def test_ste_forward_is_binary_and_gradient_is_the_sigmoids():
    beta = 2.0
    a_raw = torch.tensor([-0.7, -0.1, 0.0, 0.2, 0.9], requires_grad=True)
    a, hard = family.ste_binarise(a_raw, beta)
    np.testing.assert_array_equal(a.detach().numpy(), [0.0, 0.0, 0.0, 1.0, 1.0])  # round(0.5) = 0, as the env
    np.testing.assert_array_equal(hard.numpy(), a.detach().numpy())
    (grad,) = torch.autograd.grad(a.sum(), a_raw)
    s = torch.sigmoid(beta * a_raw.detach())
    np.testing.assert_allclose(grad.numpy(), (beta * s * (1 - s)).numpy(), rtol=1e-6)
    # the env's decision (eq. 15 forward in mec_marl.solvers.consistency) agrees
    from mec_marl.solvers import consistency

    np.testing.assert_array_equal(consistency.binarise(a_raw.detach().numpy(), beta), a.detach().numpy() > 0)


def test_consistency_loss_by_hand_for_two_utds():
    a = torch.tensor([1.0, 0.0])  # UTD 0 offloads, UTD 1 local
    b = torch.tensor([0.5, 0.2])
    f = torch.tensor([0.3, 0.9])
    p = torch.tensor([0.4, 0.1])
    # eq. 19: 1/2 [1 * 0.3^2 + (1 - 0) * (0.2^2 + 0.1^2)] = 1/2 (0.09 + 0.05)
    assert family.consistency_loss(a, b, f, p).item() == pytest.approx(0.07)
    # after the masks of eq. 16 the same loss is identically zero
    assert family.consistency_loss(a, a * b, (1 - a) * f, a * p).item() == 0.0


@pytest.mark.parametrize("surrogate", [True, False])
def test_masked_actor_outputs_are_consistent(surrogate):
    torch.manual_seed(0)
    n = 4
    actor = family.Actor(4 * n, n, (8, 8), ste=True, mask=True, beta=1.0, architecture="mlp", mask_surrogate=surrogate)
    out = actor.parts(3.0 * torch.randn(16, 4 * n))
    act = out["action"].detach().numpy()
    a, b, f, p = act[:, :n], act[:, n : 2 * n], act[:, 2 * n : 3 * n], act[:, 3 * n :]
    assert set(np.unique(a)) <= {-1.0, 1.0} and len(np.unique(a)) == 2
    off = a > 0
    assert np.all(b[~off] == -1.0) and np.all(p[~off] == -1.0) and np.all(f[off] == -1.0)
    assert np.any(b[off] > -1.0) and np.any(f[~off] > -1.0)
    # the offload output gets a gradient through the resources only with the surrogate mask
    (grad,) = torch.autograd.grad(out["action"][:, n:].sum(), out["pre"])
    assert (grad[:, :n].abs().sum().item() > 0) == surrogate


def test_adjust_action_rebinarises_and_masks():
    n = 2
    noisy = np.array([0.3, -1.7, 0.5, 0.6, 0.7, 0.8, 1.4, -0.2], dtype=np.float32)
    out = family.adjust_action(noisy, n, ste=True, mask=True)
    np.testing.assert_array_equal(out, np.array([1.0, -1.0, 0.5, -1.0, -1.0, 0.8, 1.0, -1.0], dtype=np.float32))
    plain = family.adjust_action(noisy, n, ste=False, mask=False)
    np.testing.assert_array_equal(plain, np.clip(noisy, -1, 1))


def test_set_networks_are_permutation_equivariant_and_invariant():
    torch.manual_seed(0)
    n = 5
    actor = family.Actor(4 * n, n, (8, 8), ste=True, mask=True, beta=1.0, architecture="deepsets")
    critic = family.Critic(4 * n, 4 * n, (8, 8), architecture="deepsets")
    obs = torch.rand(3, 4 * n)
    perm = np.array([[3, 0, 4, 1, 2]] * 3)
    obs_p = torch.as_tensor(family.permute_blocks(obs.numpy(), perm))
    act = actor(obs)
    act_p = actor(obs_p)
    np.testing.assert_allclose(act_p.detach().numpy(), family.permute_blocks(act.detach().numpy(), perm), atol=1e-6)
    np.testing.assert_allclose(critic(obs_p, act_p).detach().numpy(), critic(obs, act).detach().numpy(), atol=1e-5)


def test_relative_reward_is_monotone_and_clipped():
    ref = 10.0
    values = [family.transform_reward(r, "relative", ref, 0.0, 2.0) for r in (-1.0, -5.0, -10.0, -20.0, -1e4)]
    assert values[0] > values[1] > values[2] > values[3] >= values[4] == -2.0
    assert values[2] == pytest.approx(0.0)
    assert family.transform_reward(-3.0, "none") == -3.0


def test_loading_a_foreign_checkpoint_is_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"format": "something else"}, path)
    for loader in (family.load, sb3.load):
        with pytest.raises(ValueError, match="not a mec-marl checkpoint"):
            loader(str(path))


def test_checkpoint_of_another_method_is_refused(trained, tmp_path):
    path = tmp_path / "cpdrl.pt"
    trained["cpdrl"].save(path)
    with pytest.raises(ValueError, match="checkpoint of method 'cpdrl', not 'ste_ddpg'"):
        family.load(path, method="ste_ddpg")
    with pytest.raises(ValueError, match="not a Sb3DdpgPolicy"):
        sb3.load(path)


# ------------------------------------------------------------------ toolkit
def test_split_budget_separates_budget_from_hyper_and_names_unknown_keys():
    from baselines.learners import common

    class Tiny(common.HyperParams):
        hidden: common.IntTuple = (4, 4)
        lr: float = 1e-3

    plan, hyper = common.split_budget({"steps": 5, "progress": False, "hidden": "[8, 2]"}, Tiny)
    assert (plan.steps, plan.progress, hyper.hidden, hyper.lr) == (5, False, (8, 2), 1e-3)
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['lr_typo'\]"):
        common.split_budget({"steps": 5, "lr_typo": 1}, Tiny)
    with pytest.raises(ValueError, match="lr='abc'"):
        common.split_budget({"steps": 5, "lr": "abc"}, Tiny)
    with pytest.raises(ValueError, match="frozen"):
        hyper.lr = 0.5  # hyper-parameters are data: frozen


def test_progress_is_off_in_ci_unless_requested(monkeypatch):
    from baselines.learners import common

    monkeypatch.setenv("CI", "true")
    assert common.progress_enabled() is False
    assert common.progress_enabled(True) is True
    assert common.progress_bar(10, "x").disable


def test_seeded_replay_buffer_samples_from_its_generator():
    from baselines.learners import common

    def filled(seed):
        buf = common.SeededReplayBuffer(8, obs_dim=3, act_dim=2, rng=np.random.default_rng(seed))
        for i in range(12):  # wraps around: the oldest 4 are overwritten
            buf.add_transition(np.full(3, i), np.full(2, -0.5), float(i), np.full(3, i + 1), i % 5 == 0)
        return buf

    buf = filled(0)
    assert len(buf) == 8
    np.random.seed(123)  # numpy's global generator must not matter
    a = buf.sample(16)
    np.random.seed(456)
    b = filled(0).sample(16)
    for x, y in zip(a, b):
        if x is not None:
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    # each sampled transition is one that was stored, with its own reward and next observation
    obs, rew, nxt = a.observations.numpy(), a.rewards.numpy()[:, 0], a.next_observations.numpy()
    assert set(rew.tolist()) <= set(range(4, 12))
    np.testing.assert_array_equal(obs[:, 0], rew)
    np.testing.assert_array_equal(nxt[:, 0], rew + 1)
    np.testing.assert_array_equal(a.dones.numpy()[:, 0], (rew % 5 == 0).astype(np.float32))


def test_torch_threads_restores_the_count():
    from baselines.learners import common

    before = torch.get_num_threads()
    with common.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_nets_shapes_and_centralised_critic_checks_the_joint_action():
    from baselines.learners import nets

    torch.manual_seed(0)
    actor = nets.MlpActor(5, 3, (8,))
    out = actor(torch.randn(4, 5) * 100).detach()
    assert out.shape == (4, 3) and float(out.abs().max()) <= 1.0
    assert nets.MlpCritic(5, 3, (8,))(torch.randn(4, 5), out).shape == (4, 1)
    critic = nets.CentralisedCritic(state_dim=6, action_dims=(2, 3), hidden=(8, 8))
    state, a1, a2 = torch.randn(4, 6), torch.randn(4, 2), torch.randn(4, 3)
    q = critic(state, [a1, a2])
    assert q.shape == (4, 1)
    torch.testing.assert_close(q, critic(state, torch.cat([a1, a2], dim=-1)))
    with pytest.raises(ValueError, match="joint action dims"):
        critic(state, [a2, a1])
    with pytest.raises(ValueError, match="expects 5"):
        critic(state, torch.randn(4, 4))
    x = torch.arange(12.0).reshape(2, 6)
    torch.testing.assert_close(nets.from_per_device(nets.per_device(x, 3)), x)
