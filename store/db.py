"""Engines for SQLite (embedded default) and PostgreSQL (production), both async."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from store import sqlite_driver

SQLITE_BUSY_TIMEOUT_MS = 5000
READ_ONLY = "genjin_read_only"  # an execution option: this connection's transactions only read


def async_url(url: str) -> URL:
    """Map the URL an admin writes to the async driver we ship.

    ``sqlite:///x.db`` uses aiosqlite (through ``store.sqlite_driver``); ``postgresql://`` (or ``+psycopg2``/
    ``+psycopg``) uses asyncpg, so one setting works for the CLI, the server and migrations.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy's ArgumentError for text that is no URL
        raise ValueError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername=f"sqlite+{sqlite_driver.DRIVER}")  # aiosqlite, one hop per statement
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database: {backend} (use sqlite:/// or postgresql://)")


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and write-ahead transactions."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_async_engine(target, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL lets readers run beside the writer; BEGIN IMMEDIATE avoids lock-upgrade deadlocks."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # a single read (the health check's SELECT 1) needs no transaction and no writer lock
        # a reader sees one snapshot beside the writer (WAL); only a writer takes the lock, and takes it at once
        conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine, *, read_only: bool = False) -> async_sessionmaker[AsyncSession]:
    """Sessions for writers, or for readers: on PostgreSQL a read-only transaction, on SQLite a deferred one."""
    if read_only:
        options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        engine = engine.execution_options(**options)
    return async_sessionmaker(engine, expire_on_commit=False)
