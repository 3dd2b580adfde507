"""The DJTCRA paper's methods on djtcra_v0, for the method registry (Sec. VI-A and SPEC).

Heuristics build at once; learners train with their budget (``steps`` counts
instance-steps of the vector env) and load from their checkpoints.
"""

from __future__ import annotations

ENVS = ("djtcra_v0",)
# Quick defaults: about a minute of one core each at |U| = 100; the paper trains 20000 episodes.
LEARNER_BUDGET = {"steps": 1000}

SPECS = (
    ("mamaxent", "learner", "baselines.djtcra.learners:build_mamaxent",
     "ES actors (row softmax), twin centralised critics, action entropy with learned omega (eq. 31-34)", "MAMaxEnt",
     "baselines.djtcra.methods:load_server_actors"),
    ("maddpg", "learner", "baselines.djtcra.learners:build_maddpg",
     "ES actors (row softmax), twin centralised critics, no entropy term", "MADDPG",
     "baselines.djtcra.methods:load_server_actors"),
    ("vdn_l", "learner", "baselines.djtcra.learners:build_vdn_l",
     "per-user Q on the user's own row, summed Q (VDN), epsilon 0.15", "VDN-L", "baselines.djtcra.methods:load_users_q"),
    ("vdn_g", "learner", "baselines.djtcra.learners:build_vdn_g",
     "per-user Q on the system state, summed Q (VDN), epsilon 0.15", "VDN-G", "baselines.djtcra.methods:load_users_q"),
    ("idqn", "learner", "baselines.djtcra.learners:build_idqn",
     "independent per-user DQN on the user's own row, epsilon 0.15", "IDQN", "baselines.djtcra.methods:load_users_q"),
    ("ga_aware", "heuristic", "baselines.djtcra.heuristics:build_ga_aware",
     "every task to the ES of the smallest eta_u^h", "GA-Aware", ""),
    ("daes", "heuristic", "baselines.djtcra.heuristics:build_daes",
     "every task stays at the directly associated ES", "DAES", ""),
    ("djtcra_random", "heuristic", "baselines.djtcra.heuristics:build_random",
     "a uniformly random ES per user and slot", "Random", ""),
)


def load_server_actors(path):
    from baselines.djtcra.learners import ServerActorsPolicy

    return ServerActorsPolicy.load(path)


def load_users_q(path):
    from baselines.learners.value_decomposition import UsersQPolicy

    return UsersQPolicy.load(path)


def register_all(register, method_cls) -> None:
    """``register(method_cls(name, envs, kind, factory, description, paper_label, default_budget, loader))``."""
    for name, kind, factory, description, label, loader in SPECS:
        budget = dict(LEARNER_BUDGET) if kind == "learner" else {}
        # VDN-L, VDN-G and IDQN decide per user: they train and act in the env's users mode.
        mode = {"agent_mode": "users"} if name in ("vdn_l", "vdn_g", "idqn") else {}
        register(method_cls(name, ENVS, kind, factory, description, label, default_budget=budget, loader=loader,
                            env_options=mode, deterministic=name in ("ga_aware", "daes")))
