"""Methods of the DRLH paper on semantic_v0: Random, exhaustive search, DRLH(N_A),
and two simple heuristics (greedy by marginal cost, longest queue first)."""

from baselines.semantic.heuristics import (
    ExhaustivePolicy,
    GreedyPolicy,
    LongestQueuePolicy,
    RandomAssociationPolicy,
    critic_table,
)

__all__ = ["ExhaustivePolicy", "GreedyPolicy", "LongestQueuePolicy", "RandomAssociationPolicy", "critic_table"]
