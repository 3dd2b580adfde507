"""Rule-based task allocation on djtcra_v0 (DJTCRA paper, Sec. VI-A, and SPEC).

Each rule picks an ES per user; the env then runs its per-ES QoE-optimal CPU
allocation (P2) as for any other method. The rules work on one instance or a
batch (leading axes ``*b``), so the same code serves the single env and
``mec_marl.vector``:

* ``daes`` — DAES: every task stays at the directly associated ES (own RAN);
* ``ga_aware`` — GA-Aware: every task goes to the ES that processes it
  fastest, argmin_h eta_u^h (the greedy "aware" user);
* ``random`` — Random: a uniformly random ES per user and slot.
"""

from __future__ import annotations

import numpy as np

from baselines.policy import RandomSource
from mec_marl.envs import djtcra_world as world


def daes(config, instance, t, rng=None):
    """``(*b, U)`` the connected RAN's ES."""
    return world.at_slot(instance.ran, np.minimum(t, config.max_cycles - 1))


def ga_aware(config, instance, t, rng=None):
    """``(*b, U)`` argmin over ESs of eta_u^h."""
    return np.argmin(instance.eta, axis=-1)


def random_es(config, instance, t, rng):
    """``(*b, U)`` a uniformly random ES."""
    return rng.integers(0, config.n_servers, size=instance.eta.shape[:-1])


ASSOCIATIONS = {"daes": daes, "ga_aware": ga_aware, "random": random_es}


def assignment_to_actions(config, assignment) -> dict:
    """The actions that make the env allocate as ``assignment`` (``(*b, U)`` ES indices).

    ``servers`` mode: every ES scores its rows one-hot on the chosen ES (eq. 21's
    argmax recovers it); ``users`` mode: each user's index.
    """
    assignment = np.asarray(assignment, dtype=np.int64)
    if config.agent_mode == "users":
        return {f"user_{u}": assignment[..., u] for u in range(config.num_users)}
    onehot = (assignment[..., None] == np.arange(config.n_servers)).astype(np.float32)
    return {f"es_{h}": onehot for h in range(config.n_servers)}


class AssociationPolicy(RandomSource):
    """A rule of :data:`ASSOCIATIONS` as a policy (``baselines.policy.Policy``)."""

    def __init__(self, rule: str, name: str | None = None):
        if rule not in ASSOCIATIONS:
            raise ValueError(f"unknown djtcra rule {rule!r}; allowed: {sorted(ASSOCIATIONS)}")
        self.rule = rule
        self.name = name or rule

    def reset(self, env, seed=None):
        # Not the env's own stream: seeded alike, Random's first draw would repeat the RANs (DAES).
        self._seed(None if seed is None else [seed, 0xD17C])

    def act(self, observations, env):
        base = env.unwrapped
        t = base.model_state.t
        assignment = ASSOCIATIONS[self.rule](base.config, base.instance, t, self.rng)
        actions = assignment_to_actions(base.config, assignment)
        return {a: actions[a] for a in env.agents}


def build(rule: str):
    """A ``build(env_id, env_kwargs, seed, budget)`` factory for the method registry."""

    def factory(env_id=None, env_kwargs=None, seed=None, budget=None):
        return AssociationPolicy(rule)

    return factory


build_daes, build_ga_aware, build_random = build("daes"), build("ga_aware"), build("random")
