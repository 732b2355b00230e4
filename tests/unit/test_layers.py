"""Dependencies point inward (README「代码结构」): each package imports only what its row allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.platforms import PLATFORMS, LazyAdapter
from tests.conftest import ROOT

OURS = {"bot", "handlers", "nlu", "sales", "store", "scheduler", "recommender", "usecases", "web"}
ALLOWED = {
    "nlu": set(),
    "sales": set(),
    "store": {"sales"},
    "recommender": {"sales", "store"},
    "usecases": {"nlu", "sales", "store", "recommender"},  # what the chat, the scheduler and the CLI all do
    "handlers": {"nlu", "sales", "store", "recommender", "usecases"},
    "scheduler": {"sales", "store", "usecases"},  # never the chat layer
    "web": {"sales", "store", "recommender", "usecases"},  # the dashboard: the chat's use cases, never the chat
    "bot": OURS,
}
# Framework types that must stay in their own package.
CONFINED = {
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "aiohttp": {"bot", "web"},
    "aiohttp_jinja2": {"web"},
    "jinja2": {"web"},
    "wechatpy": {"bot"},
    "dingtalk_stream": {"bot"},
    "lark_oapi": {"bot"},
    "apscheduler": {"scheduler"},
    "fpdf": {"usecases"},  # the quote's PDF
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_inward(package: str) -> None:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        imported = _imports(path)
        for name in imported & OURS - {package} - ALLOWED[package]:
            bad.append(f"{path.relative_to(ROOT)} imports {name}")
        for name, homes in CONFINED.items():
            if name in imported and package not in homes:
                bad.append(f"{path.relative_to(ROOT)} imports {name} (belongs in {', '.join(sorted(homes))})")
    assert bad == []


def _module_level_imports(path: Path) -> set[str]:
    """Our modules a file imports when it is imported (not inside functions, not for type checking only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


def test_no_import_cycle() -> None:
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for package in OURS
        for path in (ROOT / package).rglob("*.py")
    }

    def ancestor(package: str, name: str) -> bool:  # a module importing its own package: Python allows it
        return name.startswith(package + ".")

    graph = {
        name: {m for m in _module_level_imports(path) if m in modules and m != name and not ancestor(m, name)}
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [name, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_command_line_uses_the_use_cases_not_the_chat() -> None:
    """`genjin report`, `commission`, `recommend`, `import followups`: the same use cases the chat calls."""
    assert "handlers" not in _imports(ROOT / "bot" / "cli.py")


PLATFORM_PACKAGES = {p.name for p in PLATFORMS}  # every registered platform, so a new one is guarded too


def _our_imports(path: Path) -> set[str]:
    """Full dotted names of the modules a file imports (at any depth)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_a_platform_is_reached_only_through_the_registry() -> None:
    """bootstrap, serve, inbox and outbox see adapters (bot/platform.py); only bot/platforms.py names them,
    and no platform package imports another or the composition root."""
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in OURS:
            continue
        home = rel.parts[1] if rel.parts[0] == "bot" and len(rel.parts) > 2 else None
        for name in _our_imports(path):
            parts = name.split(".")
            if parts[0] == "bot" and len(parts) > 1 and parts[1] in PLATFORM_PACKAGES and parts[1] != home:
                if rel != Path("bot/platforms.py"):
                    bad.append(f"{rel} imports {name}")
            if home in PLATFORM_PACKAGES and name in ("bot.bootstrap", "bot.server", "bot.platforms"):
                bad.append(f"{rel} imports {name}")
    assert bad == []


def test_each_registration_names_its_own_adapter_and_an_unused_platform_is_not_imported() -> None:
    """The registry imports a platform's package only when it is switched on (start-up time); the lazy names
    must still lead to the adapter of that very platform."""
    import importlib
    import subprocess
    import sys

    for registration in PLATFORMS:
        lazy = registration.build
        assert isinstance(lazy, LazyAdapter)
        assert getattr(importlib.import_module(lazy.module), lazy.adapter).name == registration.name
    packages = [f"bot.{p.name}" for p in PLATFORMS]
    probe = f"import sys, bot.bootstrap; print([m for m in sys.modules if m.startswith(tuple({packages!r}))])"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == "[]"
