"""One handle on the database for the rest of the application, so SQLAlchemy stays in here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from sales.model import InboxMessage
from store import migrate
from store.db import create_engine, session_factory
from store.sql import INBOX_CHANNEL, NamesClock, SqlUnitOfWork, prepare_inbox_statements, put_inbox_in_one_trip
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
        self.names = NamesClock()  # the customers' names version, read once a second or after our own change
        self._intake: AsyncConnection | None = None  # the connection callbacks are stored through
        self._intake_lock = asyncio.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> SqlUnitOfWork:
        """A new unit of work: one session, one transaction."""
        return SqlUnitOfWork(self._sessions, self._writer, names=self.names, readers=self._readers)

    async def store_callbacks(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """Store a batch of incoming callbacks and commit it; for each, whether it was new. In one trip to the
        database on a connection kept for it (``put_inbox_in_one_trip``); on SQLite the writer is taken ahead of the
        queue first (the platform waits for the answer, and retries after 5 s)."""
        async with self._intake_lock:  # one statement at a time on the connection
            if self._writer is not None:
                await self._writer.acquire(urgent=True)
            try:
                for attempt in (1, 2):
                    try:
                        return await put_inbox_in_one_trip(await self._intake_connection(), messages)
                    except Exception as exc:
                        await self._drop_intake()  # opened again: after a restart or a failover, or an idle drop
                        # the held connection is never pinged: found dead, it is tried once more on a new one (the
                        # insert skips what a commit that went through before the drop already stored)
                        if attempt == 2 or not (isinstance(exc, DBAPIError) and exc.connection_invalidated):
                            raise
                raise AssertionError("unreachable")
            finally:
                if self._writer is not None:
                    self._writer.release()

    async def _intake_connection(self) -> AsyncConnection:
        if self._intake is None:
            connection = await self.engine.connect()
            if self.dialect == "postgresql":  # each statement commits itself: no BEGIN, no COMMIT, one round trip
                connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._intake = connection
        return self._intake

    async def _drop_intake(self) -> None:
        intake, self._intake = self._intake, None
        if intake is not None:
            with contextlib.suppress(Exception):  # closing a broken connection must not stop the rest
                await intake.invalidate()
                await intake.close()

    async def open_intake(self) -> None:
        """Open the connection callbacks are stored through before the server listens: opened by the first callback
        of a burst, its every step waited behind the others being decrypted (70-100 ms). Its statements are compiled
        now too (``prepare_inbox_statements``)."""
        connection = await self._intake_connection()
        prepare_inbox_statements(connection.dialect)

    def reader(self) -> SqlUnitOfWork:
        """A unit of work that only reads: it never waits for the writer (SQLite) and cannot commit."""
        return SqlUnitOfWork(self._readers, None, read_only=True, names=self.names, readers=self._readers)

    @contextlib.asynccontextmanager
    async def inbox_wakeups(self, wake: Callable[[], None]) -> AsyncIterator[bool]:
        """On PostgreSQL, ``wake`` is called as soon as any process commits a new inbox message (LISTEN on one
        connection held meanwhile, watched and opened again when it drops). Yields whether it listens; elsewhere,
        or when the listener cannot start, the worker's polling is all there is."""
        if self.dialect != "postgresql":
            yield False
            return
        listener = _InboxListener(self.engine, wake)
        try:
            yield await listener.start()
        finally:
            await listener.close()

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
        await self._drop_intake()
        await self.engine.dispose()


class _InboxListener:
    """One held connection that LISTENs for new inbox messages. A held connection is never pinged by the pool, so it
    is checked here: on a drop (a restart, a failover, an idle NAT) it is opened again, and ``wake`` is called once
    for whatever arrived meanwhile."""

    CHECK_SECONDS = 30.0
    TIMEOUT_SECONDS = 5.0

    def __init__(self, engine: Any, wake: Callable[[], None]) -> None:
        self.engine = engine
        self.wake = wake
        self._connection: Any = None
        self._lost = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        listening = await self._open()
        self._watch = asyncio.create_task(self._watching(), name="inbox-listener")
        return listening

    async def _open(self) -> bool:
        try:
            async with asyncio.timeout(self.TIMEOUT_SECONDS):
                self._connection = await self.engine.connect()
                driver = (await self._connection.get_raw_connection()).driver_connection
                driver.add_termination_listener(lambda *_: self._lost.set())
                await driver.add_listener(INBOX_CHANNEL, lambda *_: self.wake())
        except Exception as exc:  # any failure: the worker polls, and the watch tries again
            log.warning("cannot listen for new inbox messages (polling meanwhile): %s", exc)
            await self._drop()
            return False
        self._lost.clear()
        return True

    async def _drop(self) -> None:
        """Close without UNLISTEN: invalidating drops the socket (and the LISTEN with it) and keeps this connection,
        with its callback, out of the pool; nothing here waits on a network that may be gone."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()

    async def _alive(self) -> bool:
        if self._connection is None or self._lost.is_set():
            return False
        try:
            driver = (await self._connection.get_raw_connection()).driver_connection
            async with asyncio.timeout(self.TIMEOUT_SECONDS):
                await driver.fetchval("SELECT 1")
        except Exception:  # whatever broke it, it is opened again
            return False
        return True

    async def _watching(self) -> None:
        pause = 1.0  # between attempts to open it again, doubling up to the check interval: never a tight loop
        while True:
            with contextlib.suppress(TimeoutError):  # a drop is seen at once; a silent one at the next check
                async with asyncio.timeout(self.CHECK_SECONDS if self._connection is not None else pause):
                    await self._lost.wait()
            if await self._alive():
                continue
            if self._connection is not None:
                log.warning("the inbox listener's connection dropped; opening it again")
            await self._drop()
            self._lost.clear()
            if await self._open():
                pause = 1.0
                self.wake()  # whatever was stored while nobody listened
            else:
                pause = min(pause * 2, self.CHECK_SECONDS)

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        await self._drop()
