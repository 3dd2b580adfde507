"""PFR-OA paper (smart_community_v0): heuristics and federated learners; registers its methods on import."""

from baselines import registry as _registry
from baselines.smart_community import methods as _methods

_methods.register_all(_registry.register, _registry.Method)
