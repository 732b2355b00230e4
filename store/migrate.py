"""Schema migrations on the running engine, without a second engine or an ini file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("genjin.store")

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0020"  # the newest revision; a test checks it against alembic's own view of the scripts
MIGRATION_LOCK = 0x67656E6A696E  # "genjin": PostgreSQL's advisory lock key for schema changes


def alembic_config() -> Config:
    """Alembic is imported only when the schema has to change: at the head, a start-up needs one SELECT."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Set on the driver's connection, outside any transaction (SQLite ignores it inside one)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    cursor.close()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migration left {len(broken)} broken reference(s), e.g. {tuple(broken[0])}")


async def _migration_lock(conn: AsyncConnection) -> None:
    """PostgreSQL's advisory lock for schema changes, held to the commit; a wait is said, since a migration stuck
    behind an old process's transaction would otherwise hang every start without a word."""
    key = {"key": MIGRATION_LOCK}
    if not (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), key)).scalar():
        log.warning("waiting for another process's schema migration to finish")
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), key)


async def _migrate(engine: AsyncEngine, step: Callable[[Connection, str], None], revision: str) -> None:
    """Run ``step`` in one transaction. On SQLite, changing a table means copying it, which its
    references would forbid: they are switched off for the copy and checked before the commit."""
    sqlite = engine.dialect.name == "sqlite"
    async with engine.connect() as conn:
        if sqlite:
            await conn.run_sync(_sqlite_foreign_keys, False)
        try:
            async with conn.begin():
                if not sqlite:  # a web and a worker process started together: one migrates, the other then finds
                    # the head (SQLite's BEGIN IMMEDIATE serialises them already)
                    await _migration_lock(conn)
                await conn.run_sync(step, revision)
                if sqlite:
                    await conn.run_sync(_check_foreign_keys)
        finally:
            if sqlite:
                await conn.run_sync(_sqlite_foreign_keys, True)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to call on every start (at the head already: nothing is done,
    no write lock taken, no reference checked)."""
    if revision == "head" and await _at_head(engine):
        return
    await _migrate(engine, _upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    await _migrate(engine, _downgrade, revision)


async def _at_head(engine: AsyncEngine) -> bool:
    """One plain SELECT on alembic's own table (no alembic import): is the schema at ``HEAD``?"""
    try:
        async with engine.connect() as conn:  # outside a transaction: no SQLite writer lock for a read
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:  # no table yet: a new database
        return False
    return list(versions) == [HEAD]


def _current(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
