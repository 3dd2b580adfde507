"""MkDocs hook: one page per registered env and per registered method, generated at build time.

An env's page is its module docstring (PettingZoo's format; the "Arguments"
and "Episode metrics" tables are already generated from the config fields and
the declared metrics) with its topology picture (``render_mode="rgb_array"``
after ``reset(seed=0)``). A method's page is its registry entry and its
builder module's docstring. New envs and methods appear without editing
``mkdocs.yml``. :func:`env_page` and :func:`method_page` are plain functions
so ``tests/test_docs.py`` checks them without building the site.
"""

from __future__ import annotations

import importlib
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCHMARK_OUTPUT = ROOT / "runs" / "benchmark" / "benchmark.md"

# Sphinx roles in docstrings (":class:`X`") read as plain code in Markdown.
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|obj|exc):`~?([^`]+)`")
# reST's "Here::" (a literal block follows) reads "Here:" in Markdown, where the indent makes the block.
_LITERAL = re.compile(r"(\S)::$", re.M)


def markdown_docstring(doc: str) -> str:
    """A module docstring as Markdown: Sphinx roles become code spans."""
    return _LITERAL.sub(r"\1:", _ROLE.sub(r"``\1``", doc or ""))


def env_page(env_id: str) -> tuple[str, bytes | None]:
    """``(markdown, png)`` of the env's page; ``png`` is None where the env cannot draw."""
    import mec_marl

    entry = mec_marl.ENVS[env_id]
    module = importlib.import_module(entry.module)
    title, _, body = markdown_docstring(module.__doc__).strip().partition("\n")
    lines = [f"# {env_id}", "", f"*{title.strip()}*", ""]
    lines += ["```python", "import mec_marl", f'env = mec_marl.make("{env_id}")', "```", ""]
    if entry.gymnasium_id:
        lines += [f'Single-agent Gymnasium id: ``gymnasium.make("{entry.gymnasium_id}")``.', ""]
    png = _topology_png(env_id)
    if png is not None:
        lines += [f"![{env_id} topology]({env_id}.png)", ""]
    lines.append(body.strip())
    return "\n".join(lines) + "\n", png


def _topology_png(env_id: str) -> bytes | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import mec_marl

    env = mec_marl.make(env_id, render_mode="rgb_array")
    if "rgb_array" not in env.metadata.get("render_modes", []):
        return None
    env.reset(seed=0)
    image = env.render()
    buffer = io.BytesIO()
    plt.imsave(buffer, image, format="png")
    return buffer.getvalue()


def method_page(name: str) -> str:
    from baselines import registry

    method = registry.METHODS[name]
    factory = method.factory
    module_name = factory.__module__ if callable(factory) else factory.split(":")[0]
    factory_name = f"{module_name}:{factory.__qualname__}" if callable(factory) else factory
    doc = markdown_docstring(importlib.import_module(module_name).__doc__).strip()
    any_env = registry.ANY_ENV in method.envs
    envs = "any env" if any_env else ", ".join(f"[{e}](../envs/{e}.md)" for e in method.envs)
    example_env = mec_marl_first_env() if any_env else method.envs[0]
    lines = [
        f"# {name}",
        "",
        f"*{method.description}*",
        "",
        "| | |",
        "|---|---|",
        f"| kind | {method.kind} |",
        f"| paper label | {method.paper_label or '-'} |",
        f"| envs | {envs} |",
        f"| default budget | ``{method.default_budget}`` |" if method.default_budget else "| default budget | - |",
        f"| builder | ``{factory_name}`` |",
        "",
        "```python",
        "from baselines import registry",
        f'policy = registry.get("{name}").build("{example_env}", env_kwargs={{}}, seed=0)',
        "```",
        "",
        f"## From ``{module_name}``",
        "",
        doc,
    ]
    return "\n".join(lines) + "\n"


def mec_marl_first_env() -> str:
    import mec_marl

    return mec_marl.list_envs()[0]


def methods_index() -> str:
    from baselines import registry

    rows = ["# Methods", "", "| method | kind | envs | description |", "|---|---|---|---|"]
    for name in registry.list_methods():
        m = registry.METHODS[name]
        envs = "any env" if registry.ANY_ENV in m.envs else ", ".join(m.envs)
        rows.append(f"| [{name}]({name}.md) | {m.kind} | {envs} | {m.description} |")
    return "\n".join(rows) + "\n"


def envs_index() -> str:
    import mec_marl

    rows = ["# Environments", "", "| id | paper | agents |", "|---|---|---|"]
    for env_id in mec_marl.list_envs():
        env = mec_marl.make(env_id)
        rows.append(f"| [{env_id}]({env_id}.md) | {mec_marl.ENVS[env_id].paper} | {len(env.possible_agents)} |")
    return "\n".join(rows) + "\n"


def benchmark_page(static: str) -> str:
    """The static benchmark page, with the latest ``scripts/benchmark.py`` table if one exists."""
    if BENCHMARK_OUTPUT.exists():
        return static + "\n## Latest local run\n\n" + BENCHMARK_OUTPUT.read_text()
    return static


# ------------------------------------------------------------------ MkDocs events
def on_config(config):
    import mec_marl
    from baselines import registry

    envs = [{"Overview": "envs/index.md"}] + [{e: f"envs/{e}.md"} for e in mec_marl.list_envs()]
    methods = [{"Overview": "methods/index.md"}] + [{m: f"methods/{m}.md"} for m in registry.list_methods()]
    nav = list(config.nav or [])
    nav.insert(1, {"Environments": envs})
    nav.insert(2, {"Methods": methods})
    config.nav = nav
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    import mec_marl
    from baselines import registry

    files.append(File.generated(config, "envs/index.md", content=envs_index()))
    for env_id in mec_marl.list_envs():
        page, png = env_page(env_id)
        files.append(File.generated(config, f"envs/{env_id}.md", content=page))
        if png is not None:
            files.append(File.generated(config, f"envs/{env_id}.png", content=png))
    files.append(File.generated(config, "methods/index.md", content=methods_index()))
    for name in registry.list_methods():
        files.append(File.generated(config, f"methods/{name}.md", content=method_page(name)))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "benchmark.md":
        return benchmark_page(markdown)
    return markdown
