"""``genjin serve``'s health check (the clean stop on SIGTERM: tests/e2e/test_serve.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import build_app
from bot.config import Settings
from bot.server import make_web_app


async def test_healthz_200_with_a_database_and_503_without(tmp_path: Path) -> None:
    app = await build_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"))
    async with TestClient(TestServer(make_web_app(app))) as client:
        ok = await client.get("/healthz")
        assert ok.status == 200
        assert await ok.json() == {"status": "ok", "customer_index": "building", "warm_up": "running"}
        await app.services.parser.warm(app.database.reader)
        assert (await (await client.get("/healthz")).json())["customer_index"] == "ready"
    await app.close()
    unreachable = Settings(database_url=f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    broken = await build_app(unreachable, migrate_schema=False)
    async with TestClient(TestServer(make_web_app(broken))) as client:
        down = await client.get("/healthz")
        assert down.status == 503 and "Traceback" not in await down.text()
    await broken.close()


async def test_the_health_check_does_not_wait_behind_a_writer(tmp_path: Path) -> None:
    """On SQLite a unit of work holds the one writer lock; the health check's read must not queue behind it
    (it did, for the seconds a large warm-up or scan takes, and answered 503)."""
    from sales.model import Employee
    from store.database import Database

    database = Database(f"sqlite:///{tmp_path / 'h.db'}")
    await database.upgrade()
    try:
        async with database.uow() as uow:
            await uow.employees.add(Employee(id="E09", name="赵敏"))  # a write: the lock is held from here
            await asyncio.wait_for(database.ping(), 1.0)  # while this unit of work holds the writer lock
    finally:
        await database.dispose()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_scheduler_is_never_started_after_the_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """serve imports the scheduler in a thread once it listens; a stop asked for meanwhile means it never starts
    (nothing would shut it down after serve returned)."""
    from bot.bootstrap import App
    from bot.server import serve

    built: list[object] = []
    real = App.scheduler

    def recorded(self: App) -> object:
        built.append(real(self))
        return built[-1]

    monkeypatch.setattr(App, "scheduler", recorded)
    app = await build_app(Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", port=_free_port()))
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(serve(app, stop=stop), 10)
    await asyncio.sleep(0.2)
    assert built == []


async def test_a_scheduler_that_cannot_start_stops_serve_with_a_log_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.bootstrap import App
    from bot.server import serve

    def broken(self: App) -> object:
        raise ValueError("Error validating expression '25:00'")

    monkeypatch.setattr(App, "scheduler", broken)
    app = await build_app(Settings(database_url=f"sqlite:///{tmp_path / 's.db'}", port=_free_port()))
    await asyncio.wait_for(serve(app), 10)  # returns by itself: the worker does not run without its schedule
    assert "the scheduler did not start" in caplog.text and "25:00" in caplog.text
