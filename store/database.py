"""One handle on the database for the rest of the application, so SQLAlchemy stays in here."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from sqlalchemy import text

from store import migrate
from store.db import create_engine, session_factory
from store.sql import INBOX_CHANNEL, SqlUnitOfWork
from store.writer import WriterLock

log = logging.getLogger("genjin.store")


class Database:
    """The engine, its sessions, migrations and a health check."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = session_factory(self.engine)
        self._readers = session_factory(self.engine, read_only=True)
        self._writer = WriterLock() if self.engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> SqlUnitOfWork:
        """A new unit of work: one session, one transaction."""
        return SqlUnitOfWork(self._sessions, self._writer)

    def intake(self) -> SqlUnitOfWork:
        """A unit of work that stores incoming callbacks: on SQLite it takes the writer ahead of the queue,
        since the platform waits for the answer (and retries after 5 s)."""
        return SqlUnitOfWork(self._sessions, self._writer, urgent=True)

    def reader(self) -> SqlUnitOfWork:
        """A unit of work that only reads: it never waits for the writer (SQLite) and cannot commit."""
        return SqlUnitOfWork(self._readers, None, read_only=True)

    @contextlib.asynccontextmanager
    async def inbox_wakeups(self, wake: Callable[[], None]) -> AsyncIterator[bool]:
        """On PostgreSQL, ``wake`` is called as soon as any process commits a new inbox message (LISTEN on one
        connection held meanwhile): a worker apart from the web process needs no quick polling. Yields whether it
        listens; elsewhere, or when the listener cannot start, the worker's polling is all there is."""
        if self.dialect != "postgresql":
            yield False
            return
        connection = await self.engine.connect()
        try:
            driver: Any = (await connection.get_raw_connection()).driver_connection

            def heard(*_: object) -> None:
                wake()

            try:
                await driver.add_listener(INBOX_CHANNEL, heard)
            except Exception as exc:  # the worker still polls
                log.warning("cannot listen for new inbox messages: %s", exc)
                yield False
                return
            try:
                yield True
            finally:
                with contextlib.suppress(Exception):  # the connection may be gone already
                    await driver.remove_listener(INBOX_CHANNEL, heard)
        finally:
            await connection.close()

    async def ping(self) -> None:
        """Raise unless the database answers (callers bound the wait with ``asyncio.timeout``)."""
        async with self.engine.connect() as conn:  # outside any transaction: not queued behind a writer
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("SELECT 1"))

    async def upgrade(self, revision: str = "head") -> None:
        await migrate.upgrade(self.engine, revision)

    async def revision(self) -> str | None:
        return await migrate.current_revision(self.engine)

    async def wipe(self) -> None:
        """Drop every table and build the schema again."""
        await migrate.downgrade(self.engine, "base")
        await migrate.upgrade(self.engine)

    async def dispose(self) -> None:
        await self.engine.dispose()
