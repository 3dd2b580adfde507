"""Baselines of the DJTCRA paper on ``djtcra_v0`` (heuristics; learners to come)."""

from baselines.djtcra.heuristics import ASSOCIATIONS, AssociationPolicy, assignment_to_actions

__all__ = ["ASSOCIATIONS", "AssociationPolicy", "assignment_to_actions"]
