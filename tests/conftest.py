"""Shared fixtures: the network guard, a fixed clock, and stores on every backend."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import make_url

from store import migrate
from store.db import create_engine, session_factory
from store.memory import MemoryStore
from store.repositories import UnitOfWorkFactory
from store.sql import SqlUnitOfWork
from tests import netguard

netguard.install()
for _name in [n for n in os.environ if n.startswith("GENJIN_") and not n.startswith("GENJIN_TEST_")]:
    del os.environ[_name]  # a developer's own settings (GENJIN_DATABASE_URL of a demo) never reach a test
os.environ["GENJIN_INDEX_CACHE"] = "off"  # no test leaves an index in the user's cache (tests/unit pass a folder)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 18, 30, tzinfo=TZ)
ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a database of its own on the one test server (tests drop and
    rebuild the schema, so two workers must never share one); the variable then names it for everyone,
    the commands a test starts included."""
    url, worker = os.environ.get("GENJIN_TEST_POSTGRES_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return
    import asyncpg

    name = f"genjin_test_{worker}"

    async def create() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()

    asyncio.run(create())
    os.environ["GENJIN_TEST_POSTGRES_URL"] = make_url(url).set(database=name).render_as_string(hide_password=False)


def postgres_url() -> str:
    """The test server's URL; in CI its absence is a failure, elsewhere a skip."""
    url = os.environ.get("GENJIN_TEST_POSTGRES_URL")
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail("GENJIN_TEST_POSTGRES_URL is not set: CI must start PostgreSQL (.ci/postgres.sh)")
    pytest.skip("no PostgreSQL here (set GENJIN_TEST_POSTGRES_URL, e.g. via `source .ci/postgres.sh`)")


class Clock:
    """A clock that says what the test sets (``clock.now = …``)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


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


def _in_process(args: tuple[str, ...], text: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``genjin …`` through ``bot.cli.main`` in this process: the same code, without a Python start-up and
    the imports (seconds) per call. Environment, folder, stdin and the output streams are its own for the call."""
    from bot import cli

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8")
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers = []  # the command's logging.basicConfig writes to its own stderr, as in a process
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), mock.patch.object(sys, "stdin", stdin):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        root.handlers, root.level = handlers, level
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
    return subprocess.CompletedProcess(["genjin", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def genjin(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    """Run the ``genjin`` command in a scratch folder with its own SQLite database: in this process through
    ``bot.cli.main``, or as a real process for tests marked ``e2e``."""

    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_") or k == "GENJIN_TEST_POSTGRES_URL"}
    env["GENJIN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.db'}"
    env["PYTHONPATH"] = str(ROOT)
    as_process = request.node.get_closest_marker("e2e") is not None

    def run(
        *args: str, input: str = "", extra_env: dict[str, str | None] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        merged = {k: v for k, v in {**env, **(extra_env or {})}.items() if v is not None}
        if not as_process:
            return _in_process(args, input, merged, tmp_path)
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=merged,
            timeout=timeout,
        )

    run.env = env  # type: ignore[attr-defined]
    run.cwd = tmp_path  # type: ignore[attr-defined]
    yield run
