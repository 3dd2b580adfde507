"""Methods of the DRLH paper on semantic_v0: Random, exhaustive search, DRLH(N_A),
and two simple heuristics (greedy by marginal cost, longest queue first).

Importing the package registers the methods (:mod:`baselines.semantic.methods`).
"""

from baselines import registry as _registry
from baselines.semantic import methods as _methods
from baselines.semantic.heuristics import (
    ExhaustivePolicy,
    GreedyPolicy,
    LongestQueuePolicy,
    RandomAssociationPolicy,
    critic_table,
)

_methods.register_all(_registry.register, _registry.Method)

__all__ = ["ExhaustivePolicy", "GreedyPolicy", "LongestQueuePolicy", "RandomAssociationPolicy", "critic_table"]
