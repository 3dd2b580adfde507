"""Post-processing sub-solvers: each has a fast path (used in ``step``) and is
tested against an independent reference in :mod:`mec_marl.solvers.reference`
(cvxpy, scipy, brute force), which the benchmark times as well."""
