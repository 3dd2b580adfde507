"""The documentation: every Python block of the hand-written pages runs as shown, and the
generated pages (one per env, one per method) carry what a researcher needs."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mec_marl
from baselines import registry

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# A block whose first line is "# requires: <module>" runs only where that module imports.
REQUIRES = re.compile(r"^# requires: ([\w.]+)")

sys.path.insert(0, str(DOCS))
import hooks  # noqa: E402


def code_blocks() -> list:
    params = []
    for page in sorted(DOCS.glob("*.md")):
        for k, match in enumerate(FENCE.finditer(page.read_text())):
            params.append(pytest.param(page.name, match.group(1), id=f"{page.stem}-{k}"))
    return params


BLOCKS = code_blocks()


def test_the_tutorial_has_a_block_per_library():
    tutorial = "\n".join(code for page, code in (p.values for p in BLOCKS) if page == "tutorial.md")
    for needle in ("mec_marl.make(", "mec_marl.vector", "SB3VecEnv", "supersuit", "MecTorchRLEnv",
                   "pettingzoo_env", 'wrapper="pettingzoo"'):
        assert needle in tutorial, needle


@pytest.mark.parametrize("page,code", BLOCKS)
def test_code_block_runs(page, code, tmp_path, monkeypatch):
    required = REQUIRES.match(code)
    if required and importlib.util.find_spec(required.group(1)) is None:
        pytest.skip(f"needs {required.group(1)}")
    for library in ("torchrl", "skrl", "supersuit"):
        if re.search(rf"^\s*(from|import) {library}\b", code, re.M) and importlib.util.find_spec(library) is None:
            pytest.skip(f"needs {library}")
    monkeypatch.chdir(tmp_path)  # blocks that write (checkpoints, skrl logs) write here
    exec(compile(code, f"{page} block", "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("env_id", mec_marl.list_envs())
def test_env_page(env_id):
    page, png = hooks.env_page(env_id)
    assert page.startswith(f"# {env_id}\n")
    env = mec_marl.make(env_id)
    config_fields = type(env.config).model_fields
    assert all(f"``{name}``" in page for name in config_fields), "the arguments table lists every config key"
    metrics = env.model.episode_metrics
    assert all(name in page for name in metrics), "the episode metrics are listed"
    assert "{arguments}" not in page and "{episode_metrics}" not in page and ":class:`" not in page
    assert "Version history" in page
    assert png is None or png.startswith(b"\x89PNG")


@pytest.mark.parametrize("name", registry.list_methods())
def test_method_page(name):
    method = registry.METHODS[name]
    page = hooks.method_page(name)
    assert page.startswith(f"# {name}\n") and method.kind in page
    if registry.ANY_ENV in method.envs:
        assert "any env" in page
    else:
        assert all(f"envs/{e}.md" in page for e in method.envs)


def test_benchmark_page_includes_a_local_run_when_there_is_one(tmp_path, monkeypatch):
    static = (DOCS / "benchmark.md").read_text()
    assert "scripts/benchmark.py" in static
    table = tmp_path / "benchmark.md"
    table.write_text("| env | steps/s |\n|---|---|\n| cpdrl_v0 | 1 |\n")
    monkeypatch.setattr(hooks, "BENCHMARK_OUTPUT", table)
    assert hooks.benchmark_page(static).endswith(table.read_text())
    monkeypatch.setattr(hooks, "BENCHMARK_OUTPUT", tmp_path / "missing.md")
    assert hooks.benchmark_page(static) == static


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).with_name("mkdocs"))
    if not Path(mkdocs).exists():
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    result = subprocess.run([mkdocs, "build", "--strict", "-d", str(tmp_path / "site")], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "envs" / "cpdrl_v0" / "index.html").exists()
