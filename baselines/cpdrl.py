"""cpdrl_v0's methods (CPDRL paper, Sec. V-A), registered on import.

TEM (exhaustive search, :mod:`baselines.search`), ROM / FOM / LEM (random
resources, :mod:`baselines.heuristics`), and the four learners of the DDPG
family (:mod:`baselines.learners`). Each learner declares the env options it
trains and is evaluated under: DDPG and STE-DDPG act without the consistency
masks, so they do not get them for free at evaluation.
"""

from __future__ import annotations

from baselines.registry import Method, register

ENVS = ("cpdrl_v0",)
# The same values as the learners' VARIANT_ENV; declared here so that an experiment knows a
# method's env without building it.
UNMASKED = {"consistency": "none", "consistency_bonus_weight": 0.0}
MASKED = {"consistency": "mask", "consistency_bonus_weight": 0.0}
MASKED_BONUS = {"consistency": "mask", "consistency_bonus_weight": 1.0}


def _build_random_resources(mode: str, name: str):
    def build(env_id, env_kwargs, seed, budget):
        from baselines.heuristics import CpdrlRandomResources

        return CpdrlRandomResources(mode, name)

    build.__name__ = f"build_{name}"
    return build


build_rom = _build_random_resources("random", "rom")
build_fom = _build_random_resources("full", "fom")
build_lem = _build_random_resources("local", "lem")


def build_tem(env_id, env_kwargs, seed, budget):
    from baselines.search import CpdrlExhaustive

    return CpdrlExhaustive()


register(Method("tem", ENVS, "search", build_tem, "exhaustive over 2^n offloading vectors, optimal resources per vector",
                "TEM", deterministic=True))
register(Method("rom", ENVS, "heuristic", build_rom, "random offloading, random resources", "ROM"))
register(Method("fom", ENVS, "heuristic", build_fom, "every UTD offloads, random communication resources", "FOM"))
register(Method("lem", ENVS, "heuristic", build_lem, "every UTD local, random CPU frequency", "LEM"))

# Learners: the quick budget trains in about 20 s on one core. DDPG trains with the family's
# reward/observation scaling (preset "tuned") so that the comparison isolates STE, masks and
# the consistency terms; {"preset": "paper"} is Table I as printed.
register(Method("ddpg", ENVS, "learner", "baselines.learners.sb3:build_ddpg", "plain DDPG (Stable-Baselines3), no STE, no masks",
                "DDPG", {"steps": 8000, "preset": "tuned"}, "baselines.learners.sb3:load", env_options=UNMASKED))
register(Method("ste_ddpg", ENVS, "learner", "baselines.learners.cpdrl:build_ste_ddpg",
                "DDPG with the STE-binarised offloading output (eq. 15)", "STE-DDPG", {"steps": 8000},
                "baselines.learners.cpdrl:load", env_options=UNMASKED))
register(Method("aste_ddpg", ENVS, "learner", "baselines.learners.cpdrl:build_aste_ddpg",
                "STE-DDPG with the offloading decision masking the resources in the actor (eq. 15-16)", "ASTE-DDPG",
                {"steps": 8000}, "baselines.learners.cpdrl:load", env_options=MASKED))
register(Method("cpdrl", ENVS, "learner", "baselines.learners.cpdrl:build_cpdrl",
                "STE + masks + consistency bonus (eq. 17) + consistency loss (eq. 18-19)", "CPDRL", {"steps": 8000},
                "baselines.learners.cpdrl:load", env_options=MASKED_BONUS))
register(Method("cpdrl_solver", ENVS, "learner", "baselines.learners.cpdrl:build_cpdrl_solver",
                "beyond the paper: CPDRL's actor decides the offloading only, the resources are TEM's exact "
                "allocation for that decision", "CPDRL+solver", {"steps": 8000}, "baselines.learners.cpdrl:load",
                env_options=MASKED))
