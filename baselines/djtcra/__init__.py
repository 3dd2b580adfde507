"""DJTCRA paper (djtcra_v0): association heuristics and the multi-agent learners; registers its methods on import."""

from baselines import registry as _registry
from baselines.djtcra import methods as _methods
from baselines.djtcra.heuristics import ASSOCIATIONS, AssociationPolicy, assignment_to_actions

_methods.register_all(_registry.register, _registry.Method)

__all__ = ["ASSOCIATIONS", "AssociationPolicy", "assignment_to_actions"]
