"""``genjin serve`` as a real process: answers, and a clean stop on SIGTERM within 5 seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

from aiohttp import ClientSession

from sales.model import InboxStatus
from tests.conftest import ROOT

START_SECONDS = 60.0  # start-up is not what these tests time (a busy machine running tests side by side is slow)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_answers_and_stops_within_5_seconds_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
    env.update(GENJIN_DATABASE_URL=f"sqlite:///{tmp_path / 's.db'}", GENJIN_PORT=str(port), PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with ClientSession() as session:
            deadline = time.monotonic() + START_SECONDS
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        assert resp.status == 200
                        break
                except OSError:
                    assert time.monotonic() < deadline, "serve did not come up"
                    await asyncio.sleep(0.05)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
        assert time.monotonic() - started < 5 and code == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_sigterm_leaves_no_message_half_handled(tmp_path: Path) -> None:
    from sales.model import Employee, InboxMessage
    from store.database import Database
    from tests.conftest import NOW

    url = f"sqlite:///{tmp_path / 'busy.db'}"
    database = Database(url)
    await database.upgrade()
    async with database.uow() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        for n in range(300):
            await uow.inbox.put(
                InboxMessage(platform="console", msg_id=f"m{n}", user_id="E01", text="帮助", received_at=NOW)
            )
        await uow.commit()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
    env.update(GENJIN_DATABASE_URL=url, GENJIN_PORT=str(port), PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "serve", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            async with database.uow() as uow:
                if await uow.inbox.count(InboxStatus.DONE) >= 20:
                    break
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    async with database.uow() as uow:
        done = await uow.inbox.count(InboxStatus.DONE)
        queued = {m.key for m in await uow.outbox.find()}
        assert 20 <= done and await uow.inbox.count(InboxStatus.FAILED) == 0
        for n in range(300):
            message = await uow.inbox.get(n + 1)
            assert message is not None
            replied = f"reply:console:{message.msg_id}:0" in queued
            assert replied == (message.status is InboxStatus.DONE), message
    await database.dispose()
