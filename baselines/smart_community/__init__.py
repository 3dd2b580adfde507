"""PFR-OA paper (smart_community_v0): heuristics and federated learners."""
