"""BenchMARL on mec-marl envs: a task enum whose tasks build :class:`MecTorchRLEnv`.

BenchMARL 1.5 runs its algorithms (MAPPO, IPPO, MADDPG, QMIX, ...) on a
``TaskClass``; :class:`MecTask` has one member per registered env, and
``MecTask.<ENV_ID>.get_task(config)`` takes the env's config keys (no YAML:
BenchMARL's YAML lookup only reads its own package). Each task builds the
batched :class:`~mec_marl.adapters.torchrl.MecTorchRLEnv` (B instances through
:mod:`mec_marl.vector`, no Python loop over instances), so BenchMARL treats it
as a vectorised env as it does VMAS::

    from benchmarl.algorithms import MappoConfig
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models import MlpConfig
    from mec_marl.adapters.benchmarl import MecTask

    task = MecTask.SMART_COMMUNITY_V0.get_task({"max_cycles": 20})
    Experiment(task=task, algorithm_config=MappoConfig.get_from_yaml(), model_config=MlpConfig.get_from_yaml(),
               critic_model_config=MlpConfig.get_from_yaml(), seed=0, config=ExperimentConfig.get_from_yaml()).run()

What BenchMARL sees: the group map of ``MecTorchRLEnv`` (alike agents form
``"agents"``), per-agent observations, the env's global state (MAPPO's and
MADDPG's centralised critics read it), numeric infos (not model inputs; the
``episode_<metric>`` keys are logged by :meth:`MecTaskClass.log_info` as means
over the episodes that ended). Matrix observations or states (djtcra's users x
9) are flattened by a transform, since BenchMARL's MLP takes one feature
dimension. Actions must be a 1-D ``Box`` (continuous algorithms) or a
``Discrete`` (discrete ones): BenchMARL's policies have no head for
djtcra's ES-mode users x servers matrix or for large_scale's ``MultiDiscrete``
scheduler, so those configs are refused with the reason (their ``users``
agent modes work).

Needs BenchMARL 1.5 and torchrl 0.11 (``make test-benchmarl`` builds
``.venv-benchmarl``; ``requirements/benchmarl.txt`` says why BenchMARL is
installed with ``--no-deps``).
"""

from __future__ import annotations

import copy
import time

try:
    from benchmarl.environments.common import Task, TaskClass
    from benchmarl.experiment.callback import Callback
except ImportError as err:  # pragma: no cover - the main venv has no BenchMARL
    raise ImportError(
        "mec_marl.adapters.benchmarl needs BenchMARL 1.5 with torchrl 0.11 and tensordict 0.11 "
        "(not the main venv's torchrl 0.14): `make test-benchmarl` builds .venv-benchmarl, "
        "see requirements/benchmarl.txt"
    ) from err

import numpy as np
from gymnasium import spaces
from torchrl.data import Composite
from torchrl.envs import EnvBase, FlattenObservation, Transform

from mec_marl import registry
from mec_marl.adapters.torchrl import EPISODE_PREFIX, MecTorchRLEnv


def action_kind(space: spaces.Space) -> str:
    """``"continuous"`` (1-D Box) or ``"discrete"`` (Discrete); ValueError for what BenchMARL's policies cannot emit."""
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return "continuous"
    if isinstance(space, spaces.Discrete):
        return "discrete"
    raise ValueError(f"BenchMARL's policies emit a 1-D Box or a Discrete action, not {space}")


def _base(env: EnvBase) -> MecTorchRLEnv:
    while not isinstance(env, MecTorchRLEnv):
        env = env.base_env
    return env


class MecTaskClass(TaskClass):
    """One mec-marl env (``name`` is the env id, upper case) with its config, for BenchMARL."""

    def __init__(self, name: str, config: dict | None):
        super().__init__(name, dict(config or {}))
        self.env_id = name.lower()
        env = registry.make(self.env_id, **self.config)  # unknown env ids and config keys fail here
        try:
            kinds = {action_kind(env.action_space(a)) for a in env.possible_agents}
        except ValueError as err:
            hint = "; agent_mode='users' has per-user actions" if "agent_mode" in type(env.config).model_fields else ""
            raise ValueError(f"{self.env_id} with config {self.config}: {err}{hint}") from None
        self._kinds = kinds
        self._episode_length = int(env.config.episode_length)
        env.close()

    def get_env_fun(self, num_envs: int, continuous_actions: bool, seed: int | None, device):
        # continuous_actions is moot: each env (and agent mode) has one action type.
        config = copy.deepcopy(self.config)
        env_id = self.env_id
        return lambda: MecTorchRLEnv(env_id, num_envs=num_envs, seed=seed, device=device, **config)

    def supports_continuous_actions(self) -> bool:
        return self._kinds == {"continuous"}

    def supports_discrete_actions(self) -> bool:
        return self._kinds == {"discrete"}

    def max_steps(self, env: EnvBase) -> int:
        return self._episode_length

    def has_render(self, env: EnvBase) -> bool:
        return False  # BenchMARL renders to video through torchvision, which this setup leaves out

    def group_map(self, env: EnvBase) -> dict[str, list[str]]:
        return {group: list(agents) for group, agents in _base(env).group_map.items()}

    def observation_spec(self, env: EnvBase) -> Composite:
        spec = env.full_observation_spec_unbatched.clone()
        for group in self.group_map(env):
            del spec[(group, "info")]
        del spec["state"]
        return spec

    def info_spec(self, env: EnvBase) -> Composite | None:
        spec = env.full_observation_spec_unbatched.clone()
        for group in self.group_map(env):
            del spec[(group, "observation")]
        del spec["state"]
        return spec

    def state_spec(self, env: EnvBase) -> Composite | None:
        return Composite({"state": env.full_observation_spec_unbatched["state"].clone()})

    def action_spec(self, env: EnvBase) -> Composite:
        return env.full_action_spec_unbatched

    def action_mask_spec(self, env: EnvBase) -> Composite | None:
        return None

    def get_env_transforms(self, env: EnvBase) -> list[Transform]:
        """Flatten matrix observations and states: BenchMARL's MLP takes one feature dimension."""
        spec = env.full_observation_spec_unbatched
        keys = [(group, "observation") for group, agents in self.group_map(env).items()]
        transforms = []
        for key, lead in [*((k, 1) for k in keys), ("state", 0)]:  # lead: the agent dimension
            features = spec[key].shape[lead:]
            if len(features) > 1:
                transforms.append(FlattenObservation(-len(features), -1, in_keys=[key], allow_positive_dim=False))
        return transforms

    def log_info(self, batch) -> dict[str, float]:
        """Means of the env's episode metrics over the episodes that ended in the batch."""
        out = {}
        for group, data in batch.get("next").items():
            if not isinstance(group, str) or not hasattr(data, "keys") or "info" not in data.keys():
                continue
            for key, value in data.get("info").items():
                if key.startswith(EPISODE_PREFIX):
                    values = value.detach().cpu().numpy()
                    values = values[np.isfinite(values)]  # NaN until the step that ends an episode
                    if values.size:
                        out[f"collection/{group}/episode/{key[len(EPISODE_PREFIX):]}"] = float(values.mean())
        return out

    @staticmethod
    def env_name() -> str:
        return "mec_marl"


class MecTask(Task):
    """One BenchMARL task per registered env; ``get_task(config)`` takes the env's config keys."""

    CPDRL_V0 = None
    DJTCRA_V0 = None
    LARGE_SCALE_V0 = None
    SEMANTIC_V0 = None
    SMART_COMMUNITY_V0 = None
    WIRELESS_POWERED_V0 = None

    @staticmethod
    def associated_class():
        return MecTaskClass

    def get_task(self, config: dict | None = None) -> MecTaskClass:
        """The task with ``config`` (env config keys; ``None``: the env's defaults)."""
        return MecTaskClass(self.name, config)



class IterationLog(Callback):
    """A BenchMARL callback recording each iteration's mean return, agent-steps and seconds in ``rows``.

    Agent-steps are env steps x agents; an iteration's time runs from the end of
    the previous one (or :meth:`start`) to the end of its training.
    """

    def __init__(self, verbose: bool = True):
        super().__init__()
        self.verbose = verbose
        self.rows: list[dict] = []
        self._since = time.perf_counter()
        self._steps = 0
        self._groups_left = 0

    def start(self) -> None:
        """Start the first iteration's clock (call just before ``Experiment.run``)."""
        self._since = time.perf_counter()

    def on_batch_collected(self, batch) -> None:
        group_map = self.experiment.group_map
        self._steps = batch.numel() * sum(len(agents) for agents in group_map.values())
        self._groups_left = len(group_map)

    def on_train_end(self, training_td, group: str) -> None:
        self._groups_left -= 1
        if self._groups_left:
            return
        now = time.perf_counter()
        elapsed, self._since = now - self._since, now
        row = {"iteration": len(self.rows) + 1, "episode_return_mean": float(self.experiment.mean_return),
               "agent_steps": int(self._steps), "time_s": elapsed, "agent_steps_per_s": self._steps / elapsed}
        self.rows.append(row)
        if self.verbose:
            print(f"iter {row['iteration']:3d}  return {row['episode_return_mean']:.4g}  agent-steps "
                  f"{row['agent_steps']} in {elapsed:.1f} s ({row['agent_steps_per_s']:.0f}/s)", flush=True)
