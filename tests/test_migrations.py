from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from store import migrate
from store.db import create_engine
from store.orm import Base

TABLES = {
    "employees",
    "teams",
    "customers",
    "stage_history",
    "briefs",
    "brief_updates",
    "inbox",
    "outbox",
    "audit_log",
    "pending_questions",
    "reminders",
    "standups",
    "standup_entries",
}


def _diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names()) - {"alembic_version"}


async def _roundtrip(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.downgrade(engine, "base")
        async with engine.connect() as conn:
            assert await conn.run_sync(_tables) == set()
        await migrate.upgrade(engine)
        await migrate.upgrade(engine)  # running again on start is a no-op
        assert await migrate.current_revision(engine) == migrate.head_revision()
        async with engine.connect() as conn:
            assert TABLES <= await conn.run_sync(_tables)
            assert await conn.run_sync(_diff) == [], "migrations and models disagree"
    finally:
        await engine.dispose()


async def test_migrations_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    await _roundtrip(url)
    engine = create_engine(url)
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
    await engine.dispose()


@pytest.mark.postgres
async def test_migrations_postgres(pg_url: str) -> None:
    await _roundtrip(pg_url)


def test_url_mapping() -> None:
    from store.db import async_url

    assert async_url("sqlite:///genjin.db").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgresql+psycopg2://u@h/db").drivername == "postgresql+asyncpg"
    with pytest.raises(ValueError):
        async_url("mysql://u@h/db")
