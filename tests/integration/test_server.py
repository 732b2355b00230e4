"""``genjin serve``'s health check (the clean stop on SIGTERM: tests/e2e/test_serve.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import build_app
from bot.config import Settings
from bot.server import make_web_app


async def test_healthz_200_with_a_database_and_503_without(tmp_path: Path) -> None:
    app = await build_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"))
    async with TestClient(TestServer(make_web_app(app))) as client:
        ok = await client.get("/healthz")
        assert ok.status == 200 and await ok.json() == {"status": "ok", "customer_index": "building"}
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
