"""baselines.federated: selection, averaging and soft merge by hand; PFR-OA / MCF-TD3 on smart_community_v0."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines import federated as fl


class FakeMember:
    """A member whose single tensor and training loss are set by hand."""

    def __init__(self, value: float, loss: float):
        self.w = torch.tensor([value, 2.0 * value])
        self.loss = loss
        self.anchor, self.lam, self.steps = None, None, 0

    def parameters(self):
        return {"w": self.w.clone()}

    def load_parameters(self, params):
        self.w = params["w"].clone()

    def training_loss(self):
        return self.loss

    def set_proximal(self, anchor, lam):
        self.anchor, self.lam = anchor, lam

    def learn(self, steps):
        self.steps += steps


def test_partial_greedy_round_averages_the_chosen_and_soft_merges_by_hand():
    # Losses 3, 1, 2, 5: ascending order is member 1, 2, 0, 3. epsilon = 1: V = 2 greedy picks -> {1, 2}.
    members = [FakeMember(v, loss) for v, loss in zip([1.0, 2.0, 4.0, 8.0], [3.0, 1.0, 2.0, 5.0])]
    fed = fl.Federation(members, fl.FederatedConfig(participants=2, epsilon=1.0, f_q=0.3, lambda_init=0.05), seed=0)
    record = fed.aggregate()
    assert record["chosen"] == [1, 2]
    theta_f = torch.tensor([(2.0 + 4.0) / 2, (4.0 + 8.0) / 2])  # eq. 25 over Z = {1, 2}
    for member, v in zip(members, [1.0, 2.0, 4.0, 8.0]):
        expected = 0.3 * theta_f + 0.7 * torch.tensor([v, 2.0 * v])  # Alg. 1 line 6
        torch.testing.assert_close(member.w, expected)
        torch.testing.assert_close(member.anchor["w"], theta_f)
        assert member.lam == 0.05  # first round: nothing to adapt from yet


def test_random_picks_with_epsilon_zero_are_distinct_and_seeded():
    losses = [3.0, 1.0, 2.0, 5.0]
    a = fl.partial_greedy_select(losses, 3, 0.0, np.random.default_rng(7))
    b = fl.partial_greedy_select(losses, 3, 0.0, np.random.default_rng(7))
    assert a == b and len(set(a)) == 3
    with pytest.raises(ValueError, match="V must"):
        fl.partial_greedy_select(losses, 5, 0.5, np.random.default_rng(0))


def test_fedavg_preset_replaces_every_member_with_the_mean():
    members = [FakeMember(v, 1.0) for v in (1.0, 2.0, 6.0)]
    fl.Federation(members, fl.FederatedConfig.fedavg()).aggregate()
    for member in members:
        torch.testing.assert_close(member.w, torch.tensor([3.0, 6.0]))
        assert member.anchor is None  # lambda = 0: no proximal term


def test_adaptive_lambda_follows_the_loss():
    assert fl.adapt_lambda(0.1, 2.0, 1.0, 0.5, 1e-4, 1.0) == pytest.approx(0.15)  # loss rose
    assert fl.adapt_lambda(0.1, 1.0, 2.0, 0.5, 1e-4, 1.0) == pytest.approx(0.05)  # loss fell
    assert fl.adapt_lambda(0.1, 1.0, None, 0.5, 1e-4, 1.0) == 0.1
    members = [FakeMember(1.0, 1.0), FakeMember(2.0, 1.0)]
    fed = fl.Federation(members, fl.FederatedConfig(participants=2, epsilon=1.0, lambda_init=0.1, lambda_rate=0.5))
    fed.aggregate()
    members[0].loss, members[1].loss = 2.0, 0.5
    fed.aggregate()
    assert fed.lambdas == [pytest.approx(0.15), pytest.approx(0.05)]


@pytest.mark.parametrize("key,value", [("f_q", 1.5), ("f_q", -0.1), ("epsilon", 2.0), ("f_p", 0)])
def test_bad_federation_settings_are_refused_naming_the_key(key, value):
    with pytest.raises(ValueError, match=key):
        fl.FederatedConfig(**{key: value})


TINY = {"total_steps": 160, "f_p": 1, "learning_starts": 40, "batch_size": 16, "num_envs": 1, "net_arch": [16, 16]}


def _actor(policy):
    return [torch.cat([p.detach().flatten() for p in m.actor.parameters()]) for m in policy.models]


@pytest.mark.parametrize("method", ["pfr_oa", "mcf_td3"])
def test_federated_learners_train_reproducibly_and_save_load(method, tmp_path):
    import mec_marl
    from baselines.smart_community import learners

    kwargs = {"n_communities": 2, "n_devices": 2, "max_cycles": 80}
    a = learners.train(method, kwargs, seed=3, budget=TINY)
    b = learners.train(method, kwargs, seed=3, budget=TINY)
    assert len(a.federation_history) == 2  # 160 transitions / (f_p = 1 episode of 80)
    for x, y in zip(_actor(a), _actor(b)):
        torch.testing.assert_close(x, y)
    same = all(torch.equal(_actor(a)[0], x) for x in _actor(a)[1:])
    # The run ends on a round: FedAvg (f_q = 1) leaves one shared actor, PFR-OA's soft merge (f_q = 0.3) does not.
    assert same == (method == "mcf_td3")
    a.save(tmp_path / "policy")
    loaded = learners.load(tmp_path / "policy")
    env = mec_marl.make("smart_community_v0", **kwargs)
    obs, _ = env.reset(seed=0)
    a.reset(env)
    acts_a, acts_b = a.act(obs, env), loaded.act(obs, env)
    for agent in env.agents:
        np.testing.assert_allclose(acts_a[agent], acts_b[agent])


def test_learner_budget_and_method_errors():
    from baselines.smart_community import learners

    with pytest.raises(ValueError, match="bogus"):
        learners.train("bogus")
    with pytest.raises(ValueError, match="epochs"):
        learners.train("td3", budget={"epochs": 3})
    with pytest.raises(ValueError, match="f_q"):
        learners.train("pfr_oa", {"n_communities": 2, "n_devices": 2}, budget={**TINY, "f_q": 1.5})


def test_dqn_discretisation_and_training(tmp_path):
    import mec_marl
    from baselines.smart_community import learners

    table = learners.discrete_actions(2)
    assert table.tolist() == [[-1, -1, 1, 1, 1, 1], [1, -1, 1, 1, 1, 1], [-1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]]
    kwargs = {"n_communities": 1, "n_devices": 2, "max_cycles": 80}
    policy = learners.train("dqn", kwargs, seed=0, budget={k: v for k, v in TINY.items() if k != "f_p"})
    policy.save(tmp_path / "dqn")
    loaded = learners.load(tmp_path / "dqn")
    env = mec_marl.make("smart_community_v0", **kwargs)
    obs, _ = env.reset(seed=1)
    a, b = policy.act(obs, env), loaded.act(obs, env)
    assert a["community_0"].tolist() == b["community_0"].tolist()
    assert a["community_0"].tolist() in table.tolist()
