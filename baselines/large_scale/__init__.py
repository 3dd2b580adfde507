"""large_scale_v0's methods (OJRS paper, Table II-III), registered on import.

Greedy and Random (:mod:`.heuristics`, SPEC's wording with the insufficiency
rule), the searches exhaustive / SA / ASA / PSO (:mod:`.searches`, batched
P2.1 evaluation), the OJRS learner (:mod:`.ojrs`) and SB3 PPO in ``users``
mode with parameter sharing (:mod:`.ppo`; acts under ``agent_mode="users"``),
and a DROO-style quantiser learner (:mod:`.droo`). Names carry the
``ls_`` prefix where another paper could use the same word.
"""

from __future__ import annotations

from baselines.registry import Method, register

ENVS = ("large_scale_v0",)


def build_greedy(env_id, env_kwargs, seed, budget):
    from baselines.large_scale.heuristics import Greedy

    return Greedy()


def build_random(env_id, env_kwargs, seed, budget):
    from baselines.large_scale.heuristics import RandomOffloading

    return RandomOffloading()


def build_local(env_id, env_kwargs, seed, budget):
    from baselines.large_scale.heuristics import AllLocal

    return AllLocal()


def _search(cls_name: str, **defaults):
    def build(env_id, env_kwargs, seed, budget):
        from baselines.large_scale import searches

        return getattr(searches, cls_name)(**{**defaults, **{k: v for k, v in (budget or {}).items() if k in defaults}})

    build.__name__ = f"build_{cls_name}"
    return build


build_exhaustive = _search("Exhaustive")
build_sa = _search("SimulatedAnnealing", iterations=200, chains=16)
build_asa = _search("AdaptiveSimulatedAnnealing", iterations=200, chains=16)
build_pso = _search("ParticleSwarm", particles=64, iterations=100)


def load_ojrs(path):
    from baselines.large_scale.ojrs.learner import OjrsPolicy

    return OjrsPolicy.load(path, method="ojrs")


# Scheduler-mode methods act on the scheduler's full observation (CQI and weights) and read the
# slot's P2.1 problem from the env; they are evaluated in that mode whatever the variant says.
SCHEDULER = {"agent_mode": "scheduler", "observation": "full"}
USERS = {"agent_mode": "users", "observation": "full"}

_HERE = "baselines.large_scale"
for _name, _kind, _factory, _text, _label, _deterministic in (
    ("ls_greedy", "heuristic", "build_greedy", "nearest MEC, then the insufficiency rule", "Greedy", True),
    ("ls_random", "heuristic", "build_random", "uniform over local and the MECs, then the insufficiency rule",
     "Random", False),
    ("ls_local", "heuristic", "build_local", "every UE local", "Local", True),
    ("ls_exhaustive", "search", "build_exhaustive", "all (M+1)^N decisions (small N)", "Exhaustive", True),
    ("ls_sa", "search", "build_sa", "simulated annealing, 16 chains x 200 iterations", "SA", False),
    ("ls_asa", "search", "build_asa", "adaptive SA with h-mutation (eq. 27-29), 16 chains x 200 iterations", "ASA",
     False),
    ("ls_pso", "search", "build_pso", "integer PSO, 64 particles x 100 iterations (NRR reference)", "PSO", False),
):
    register(Method(_name, ENVS, _kind, f"{_HERE}:{_factory}", _text, _label, env_options=SCHEDULER,
                    deterministic=_deterministic))
register(Method("ls_ppo_users", ENVS, "learner", "baselines.large_scale.ppo:build",
                "SB3 PPO, one agent per UE (own CQI row and weight), parameter sharing, team reward", "PPO (users)",
                {"steps": 5000}, "baselines.large_scale.ppo:load", env_options=USERS))
register(Method("ls_droo", ENVS, "learner", "baselines.large_scale.droo:build",
                "DROO-style: DNN + order-preserving quantiser over M+1 targets, best of K by P2.1", "DROO-style",
                {"steps": 3000}, "baselines.large_scale.droo:load", env_options=SCHEDULER))
register(Method("ojrs", ENVS, "learner", "baselines.large_scale.ojrs.learner:build",
                "2r-SAE + DNN policy trained on ASA-searched actions with 2p-ER (Alg. 3)", "OJRS",
                {"steps": 3000}, f"{_HERE}:load_ojrs", env_options=SCHEDULER))
