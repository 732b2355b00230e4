"""Dependencies point inward (README「代码结构」): each package imports only what its row allows."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

OURS = {"bot", "handlers", "nlu", "sales", "store", "scheduler", "recommender"}
ALLOWED = {
    "nlu": set(),
    "sales": set(),
    "store": {"sales"},
    "handlers": {"nlu", "sales", "store", "recommender"},
    "recommender": {"sales", "store"},
    "scheduler": {"sales", "store", "handlers"},
    "bot": OURS,
}
# Framework types that must stay in their own package.
CONFINED = {
    "sqlalchemy": {"store"},
    "alembic": {"store"},
    "aiohttp": {"bot"},
    "wechatpy": {"bot"},
    "dingtalk_stream": {"bot"},
    "apscheduler": {"scheduler"},
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


def test_nothing_happens_at_import_time() -> None:
    """Importing the CLI opens no database and builds nothing (composition root only)."""
    probe = "import sys, bot.cli; print(sorted(m for m in ('store.sql', 'bot.bootstrap', 'jieba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
