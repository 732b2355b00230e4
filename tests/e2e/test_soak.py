"""The fault and soak run in its short form (benchmarks/soak.py --short): real `genjin serve` processes,
a slow and failing fake WeCom API, a kill -9; two instances when PostgreSQL is there (CI starts it)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_short_soak_loses_nothing_and_drops_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_") or k == "GENJIN_TEST_POSTGRES_URL"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "benchmarks/soak.py", "--short"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out + result.stderr[-3000:]
    assert "acknowledged 150 " in out and "lost 0" in out and "dropped by the per-member limit 0" in out
    assert "1 kill -9" in out and "replies received" in out
    if os.environ.get("GENJIN_TEST_POSTGRES_URL"):
        assert "2 instance(s) on PostgreSQL" in out
