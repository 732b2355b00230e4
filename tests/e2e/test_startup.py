"""Start-up as a fresh process sees it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_nothing_happens_at_import_time() -> None:
    """Importing the CLI opens no database and builds nothing (composition root only)."""
    probe = "import sys, bot.cli; print(sorted(m for m in ('store.sql', 'bot.bootstrap', 'jieba') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
