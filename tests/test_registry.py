"""The method registry: per-env registration, options, a researcher's own methods, checkpoints."""

from __future__ import annotations

import numpy as np
import pytest

from baselines import registry
from baselines.policy import CheckpointError, LearnedPolicy
from baselines.registry import Method


def test_each_env_registers_its_baselines_from_its_own_module():
    import baselines.cpdrl

    names = {"tem", "rom", "fom", "lem", "ddpg", "ste_ddpg", "aste_ddpg", "cpdrl"}
    assert names <= set(registry.list_methods("cpdrl_v0"))
    assert registry.get("tem").factory is baselines.cpdrl.build_tem
    assert registry.get("cpdrl").factory == "baselines.learners.cpdrl:build_cpdrl"
    assert registry.get("tem").deterministic and not registry.get("rom").deterministic
    # env options are declared on the method, matching what the learners train under
    assert registry.get("ddpg").env_options == baselines.cpdrl.UNMASKED
    assert registry.get("cpdrl").env_options["consistency"] == "mask"
    assert registry.get("tem").build("cpdrl_v0", {"n_devices": 3}).name == "tem"


def test_discovery_imports_baselines_module_named_after_the_env_family(monkeypatch):
    import sys

    from mec_marl.registry import ENVS, EnvEntry

    imported = []
    monkeypatch.setitem(ENVS, "zz_future_v0", EnvEntry("zz_future_v0", "nowhere"))
    monkeypatch.setattr(registry, "_discovered", False)
    real = registry.importlib.import_module

    def fake_import(name, *a):
        imported.append(name)
        if name == "baselines.zz_future":
            raise ModuleNotFoundError(name=name)  # an env without baselines is fine
        return real(name, *a)

    monkeypatch.setattr(registry.importlib, "import_module", fake_import)
    registry.list_methods()
    assert "baselines.cpdrl" in imported and "baselines.zz_future" in imported
    assert "baselines.cpdrl" in sys.modules


def test_entry_point_group_registers_a_researchers_method(monkeypatch):
    mine = Method("mine", ("cpdrl_v0",), "heuristic", "baselines.cpdrl:build_lem", "my method")

    class EntryPoint:
        def load(self):
            return [mine]

    monkeypatch.setattr(registry, "_discovered", False)
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: [EntryPoint()] if group == "mec_marl.methods" else [])
    monkeypatch.setattr(registry, "METHODS", dict(registry.METHODS))
    assert registry.get("mine", "cpdrl_v0") is mine


def test_module_path_method_and_errors():
    method = registry.get("baselines.cpdrl:build_lem", "cpdrl_v0")
    assert method.kind == "heuristic" and method.supports("any_v0")
    assert method.build("cpdrl_v0", {}).mode == "local"
    with pytest.raises(ValueError, match="cannot import method 'nowhere.mod:build'"):
        registry.get("nowhere.mod:build")
    with pytest.raises(ValueError, match="neither a Method nor a builder"):
        registry.get("baselines.cpdrl:ENVS")
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        registry.get("nope")


def test_options_are_checked_and_passed_to_the_builder():
    seen = {}

    def build(env_id, env_kwargs, seed, budget, options):
        seen.update(options=options, env_kwargs=env_kwargs)
        return object()

    m = Method("drlh", ("cpdrl_v0",), "learner", build, options={"n_actions": 64}, env_options={"max_cycles": 2})
    m.build("cpdrl_v0", {"n_devices": 3}, options={"n_actions": 16})
    assert seen == {"options": {"n_actions": 16}, "env_kwargs": {"n_devices": 3, "max_cycles": 2}}
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['n_action'\]"):
        m.build("cpdrl_v0", {}, options={"n_action": 16})


class _Tiny(LearnedPolicy):
    name = "tiny"

    def predict(self, obs):
        return np.zeros(1)

    def checkpoint_state(self):
        return {}

    @classmethod
    def from_checkpoint_state(cls, state):
        return cls()


def test_a_checkpoint_loads_only_under_its_own_method(tmp_path):
    path = tmp_path / "p.pt"
    _Tiny().save(path)
    tiny = Method("tiny", ("cpdrl_v0",), "learner", "x:y")
    other = Method("other", ("cpdrl_v0",), "learner", "x:y")
    assert isinstance(tiny.load(str(path)), _Tiny)
    with pytest.raises(CheckpointError, match="a checkpoint of method 'tiny', not 'other'"):
        other.load(str(path))
    with pytest.raises(ValueError, match="has no saved policies"):
        registry.get("lem").load(str(path))
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="junk.pt: not a mec-marl checkpoint"):
        registry.get("cpdrl").load(str(junk))
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        registry.get("cpdrl").load(str(tmp_path / "missing.pt"))
