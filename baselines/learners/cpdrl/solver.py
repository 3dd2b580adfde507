"""``cpdrl_solver``: the actor decides the offloading only; the resources are the exact optimum for it.

A variant beyond the paper. The actor is CPDRL's (STE offload output, masks); its resource outputs
are not used: the executed action holds the resources of
:func:`baselines.search.optimal_resources` for the actor's offloading vector, the same batched
allocation TEM solves for each of its 2^n vectors (local CPU in closed form, bandwidth and power by
the exact dual decomposition). The critic therefore learns ``Q(s, offload)`` under optimal
resources: its action input keeps the 4n layout with the resource part held at -1, so that the
actor's gradient reaches only the offload outputs. Decision cost: one forward pass plus one
allocation, O(n), against TEM's O(2^n n).
"""

from __future__ import annotations

import numpy as np
import torch

from mec_marl.envs import cpdrl


def solver_action(offload, instance: cpdrl.CpdrlInstance, config: cpdrl.CpdrlConfig) -> np.ndarray:
    """The env action (``[-1, 1]^(4n)``) of ``offload`` (``(n,)`` bool) with its optimal resources."""
    from baselines.search import optimal_resources

    sol = optimal_resources(instance, config, np.asarray(offload, dtype=bool)[None, :])
    return cpdrl.encode_action(sol["offload"][0], sol["bandwidth"][0], sol["cpu_freq"][0], sol["power"][0],
                               instance, config).astype(np.float32)


def offload_only(action, n: int):
    """The critic's view of an action: the offload part kept, the resource part set to -1 (numpy or torch)."""
    if isinstance(action, torch.Tensor):
        rest = -torch.ones_like(action[..., n:])
        return torch.cat([action[..., :n], rest], dim=-1)
    out = np.array(action, dtype=np.float32, copy=True)
    out[..., n:] = -1.0
    return out
