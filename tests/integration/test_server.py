"""``genjin serve``'s health check (the clean stop on SIGTERM: tests/e2e/test_serve.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.bootstrap import build_app
from bot.config import Settings
from bot.server import make_web_app


async def test_healthz_200_with_a_database_and_503_without(tmp_path: Path) -> None:
    app = await build_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"))
    async with TestClient(TestServer(make_web_app(app))) as client:
        ok = await client.get("/healthz")
        assert ok.status == 200 and (await ok.json())["status"] == "ok"
    await app.close()
    unreachable = Settings(database_url=f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    broken = await build_app(unreachable, migrate_schema=False)
    async with TestClient(TestServer(make_web_app(broken))) as client:
        down = await client.get("/healthz")
        assert down.status == 503 and "Traceback" not in await down.text()
    await broken.close()
