"""Everything that decides: heuristics, searches, learners, and the method registry."""
