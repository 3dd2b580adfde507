"""OJRS baselines on large_scale_v0 (heuristics and searches)."""
