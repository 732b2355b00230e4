"""Shared fixtures: the network guard, a fixed clock, and stores on every backend."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from store import migrate
from store.db import create_engine, session_factory
from store.memory import MemoryStore
from store.repositories import UnitOfWorkFactory
from store.sql import SqlUnitOfWork
from tests import netguard

netguard.install()

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 18, 30, tzinfo=TZ)
ROOT = Path(__file__).resolve().parent.parent


def postgres_url() -> str:
    """The test server's URL; in CI its absence is a failure, elsewhere a skip."""
    url = os.environ.get("GENJIN_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail("GENJIN_TEST_POSTGRES_URL is not set: CI must start PostgreSQL (.ci/postgres.sh)")
    pytest.skip("no PostgreSQL here (set GENJIN_TEST_POSTGRES_URL, e.g. via `source .ci/postgres.sh`)")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def pg_url() -> str:
    return postgres_url()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[UnitOfWorkFactory]:
    """A fresh, empty store: in memory, in a SQLite file, or in the PostgreSQL test database."""
    if request.param == "memory":
        yield MemoryStore()
        return
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else postgres_url()
    engine = create_engine(url)
    if request.param == "postgres":
        await migrate.downgrade(engine, "base")
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    yield lambda: SqlUnitOfWork(sessions)
    await engine.dispose()


@pytest.fixture
def genjin(tmp_path: Path) -> Iterator[object]:
    """Run the ``genjin`` command in a scratch folder with its own SQLite database."""

    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_") or k == "GENJIN_TEST_POSTGRES_URL"}
    env["GENJIN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["PYTHONPATH"] = str(ROOT)

    def run(*args: str, input: str = "", extra_env: dict[str, str | None] | None = None, timeout: float = 120):
        merged = {**env, **(extra_env or {})}
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={k: v for k, v in merged.items() if v is not None},
            timeout=timeout,
        )

    run.env = env  # type: ignore[attr-defined]
    run.cwd = tmp_path  # type: ignore[attr-defined]
    yield run
