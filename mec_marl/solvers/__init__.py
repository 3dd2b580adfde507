"""Post-processing sub-solvers: each has a fast path (used in ``step``) and is
tested against an independent reference (cvxpy, scipy, brute force)."""
