"""cpdrl_solver: the actor's offloading with the exact allocation TEM uses (short runs only)."""

import numpy as np
import pytest

import mec_marl
from baselines import registry
from baselines.learners.cpdrl import offload_only, solver_action
from baselines.search import CpdrlExhaustive, cpdrl_exhaustive, optimal_resources

ENV_KWARGS = {"n_devices": 3, "max_cycles": 5}
SHORT = {"steps": 250, "learning_starts": 100}


def _train(seed: int = 0):
    return registry.get("cpdrl_solver", "cpdrl_v0").build("cpdrl_v0", dict(ENV_KWARGS), seed=seed, budget=dict(SHORT))


@pytest.fixture(scope="module")
def trained():
    return _train(0)


@pytest.mark.parametrize("n, seed", [(3, 0), (5, 1), (7, 2)])
def test_tems_decision_gets_tems_resources_and_objective(n, seed):
    env = mec_marl.make("cpdrl_v0", n_devices=n)
    env.reset(seed=seed)
    base = env.unwrapped
    tem = cpdrl_exhaustive(base.instance, base.config)
    sol = optimal_resources(base.instance, base.config, tem["offload"][None, :])
    for key in ("offload", "bandwidth", "cpu_freq", "power"):
        np.testing.assert_allclose(sol[key][0], tem[key], rtol=1e-9, atol=1e-12)  # batched iterations stop at 1e-13
    assert sol["objective"][0] == pytest.approx(tem["objective"], rel=1e-10)
    # the env action is TEM's, and the env charges TEM's objective for it
    policy = CpdrlExhaustive()
    policy.reset(env)
    action = solver_action(tem["offload"], base.instance, base.config)
    np.testing.assert_allclose(action, policy._action, rtol=1e-6, atol=1e-7)
    _, _, _, _, infos = env.step({"scheduler": action})
    assert infos["scheduler"]["objective"] == pytest.approx(tem["objective"], rel=1e-5)


def test_the_critic_sees_the_decision_only():
    action = np.array([[1.0, -1.0, 0.3, 0.2, 0.5, -0.1, 0.9, 0.4]], dtype=np.float32)
    out = offload_only(action, 2)
    np.testing.assert_array_equal(out, [[1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0]])


def test_trained_policy_acts_with_the_optimal_resources_for_its_decision(trained):
    env = mec_marl.make("cpdrl_v0", **{**ENV_KWARGS, **trained.env_options})
    obs, _ = env.reset(seed=600)
    base = env.unwrapped
    action = trained.act(obs, env)["scheduler"]
    offload = trained.predict(obs["scheduler"])[:3] > 0
    np.testing.assert_array_equal(action[:3] > 0, offload)
    _, _, _, _, infos = env.step({"scheduler": action})
    best_for_decision = optimal_resources(base.instance, base.config, offload[None, :])["objective"][0]
    assert infos["scheduler"]["objective"] == pytest.approx(best_for_decision, rel=1e-5)
    assert infos["scheduler"]["objective"] >= cpdrl_exhaustive(base.instance, base.config)["objective"] * (1 - 1e-9)


def test_same_seed_same_policy(trained):
    again = _train(0)
    for p, q in zip(trained.actor.parameters(), again.actor.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert trained.history["best_objective"] == again.history["best_objective"]


def test_save_load_round_trip(trained, tmp_path):
    path = tmp_path / "policy.pt"
    trained.save(path)
    loaded = registry.get("cpdrl_solver").load(path)
    assert loaded.variant == "cpdrl_solver"
    env = mec_marl.make("cpdrl_v0", **{**ENV_KWARGS, **loaded.env_options})
    obs, _ = env.reset(seed=601)
    np.testing.assert_array_equal(loaded.act(obs, env)["scheduler"], trained.act(obs, env)["scheduler"])


def test_gap_decomposition_adds_up_and_is_zero_for_the_solver(trained):
    from baselines import cpdrl_gap

    solver = cpdrl_gap.decompose(trained, 3, seed=0, episodes=2)
    assert solver["allocation"] == pytest.approx(0.0, abs=1e-6)  # its resources are the optimum for its decision
    assert solver["decision"] >= -1e-9
    assert solver["ratio"] - 1 == pytest.approx(solver["decision"] + solver["allocation"], abs=1e-9)
    table = cpdrl_gap.markdown([{"n": 3, "method": "cpdrl_solver", **solver, "time_ms": 1.0, "tem_ms": 1.0}])
    assert table.splitlines()[2].startswith("| 3 | cpdrl_solver |")


def test_gap_script_names_a_bad_method():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "scripts/cpdrl_gap.py", "--methods", "bogus", "--n", "3"],
                          capture_output=True, text=True, check=False, cwd=__file__.rsplit("/tests/", 1)[0])
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: ") and "bogus" in proc.stderr


def test_gap_tool_trains_with_overrides_and_reads_a_runs_saved_policies(tmp_path, trained):
    import importlib.util
    from pathlib import Path

    from baselines import cpdrl_gap

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("cpdrl_gap_script", root / "scripts" / "cpdrl_gap.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script._pairs(["noise_std=0.7", "hidden_critic=[24, 16]", "mask_surrogate=false"], "--train") == {
        "noise_std": 0.7, "hidden_critic": [24, 16], "mask_surrogate": False}
    with pytest.raises(ValueError, match="expected KEY=VALUE"):
        script._pairs(["noise_std"], "--train")

    policy = cpdrl_gap.trained_policy("cpdrl_solver", 3, 0, 250, tmp_path, train={"learning_starts": 100, "noise_std": 0.7},
                                      env={"max_cycles": 5})
    assert policy.hyper.noise_std == 0.7 and policy.env_kwargs["max_cycles"] == 5
    cached = list(tmp_path.glob("cpdrl_solver-n3-s0-250-*.pt"))
    assert len(cached) == 1  # the overrides are in the cache name, so they never reuse a default-trained policy

    cell = tmp_path / "run" / "cells" / "table1_solver" / "cpdrl_solver" / "n_devices=3_s1.pt"
    cell.parent.mkdir(parents=True)
    trained.save(cell)
    assert cpdrl_gap.run_policy(tmp_path / "run", "cpdrl_solver", 3, 1).variant == "cpdrl_solver"
    with pytest.raises(FileNotFoundError, match="no saved policy of cpdrl_solver at n=4, seed 1"):
        cpdrl_gap.run_policy(tmp_path / "run", "cpdrl_solver", 4, 1)
