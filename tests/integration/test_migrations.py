from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from store import migrate
from store.db import create_engine
from store.orm import Base, on_dialect

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
    def present(item: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
        return reflected or on_dialect(item, conn.dialect.name)  # as migrations/env.py compares

    opts = {"compare_type": True, "include_object": present}
    return list(compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata))


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
            # the names version's triggers (0014): a later migration that rebuilds the customers table on SQLite
            # (batch "move and copy") would drop them without a word, and renames would go unseen again
            if conn.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'customers'"
            else:
                query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'customers'::regclass AND NOT tgisinternal"
            triggers = set((await conn.execute(text(query))).scalars())
            assert triggers == (
                {"customers_names_insert", "customers_names_update", "customers_names_delete"}
                if conn.dialect.name == "sqlite"
                else {"customers_names"}
            )
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


async def _briefs_before_0011(url: str) -> None:
    """Rows written before applied changes existed: each brief that wrote anything becomes one change, so
    undo keeps working on history written by an older version."""
    engine = create_engine(url)
    try:
        await migrate.downgrade(engine, "base")
        await migrate.upgrade(engine, "0010")
        at = "2026-11-26 10:30:00"
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO employees (id, name, role, active) VALUES ('E01', '张伟', 'rep', true)")
            )
            await conn.execute(text(
                "INSERT INTO customers (id, name, aliases, owner_id, stage, stage_entered_at, created_at) "
                f"VALUES (1, '天成建材', '[]', 'E01', 'demo', '{at}', '{at}')"
            ))  # fmt: skip
            for n, status in ((1, "applied"), (2, "undone"), (3, "unparsed")):
                await conn.execute(text(
                    "INSERT INTO briefs (id, sender_id, platform, platform_msg_id, text, received_at, status) "
                    f"VALUES ({n}, 'E01', 'console', 'm{n}', '…', '{at}', '{status}')"
                ))  # fmt: skip
            for n in (1, 2):
                await conn.execute(text(
                    "INSERT INTO brief_updates (brief_id, customer_id, before, after, created_customer) "
                    f"VALUES ({n}, 1, '{{}}', '{{}}', false)"
                ))  # fmt: skip
            await conn.execute(text(
                "INSERT INTO stage_history (customer_id, from_stage, to_stage, changed_at, brief_id) "
                f"VALUES (1, 'qualified', 'demo', '{at}', 1)"
            ))  # fmt: skip
            await conn.execute(text(
                "INSERT INTO points_ledger (employee_id, key, rule, points, at, note, brief_id) "
                f"VALUES ('E01', 'advance:1:demo', 'advance', 3, '{at}', '', 1)"
            ))  # fmt: skip
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            changes = (
                await conn.execute(text("SELECT brief_id, undone_at IS NULL FROM applied_changes ORDER BY id"))
            ).all()
            assert [tuple(r) for r in changes] == [(1, True), (2, False)]
            for table in ("brief_updates", "stage_history", "points_ledger"):
                linked = await conn.execute(text(
                    f"SELECT count(*) FROM {table} t JOIN applied_changes c ON c.id = t.change_id WHERE c.brief_id = 1"
                ))  # fmt: skip
                assert linked.scalar() == 1, table
    finally:
        await engine.dispose()


async def test_applied_changes_backfilled_sqlite(tmp_path: Path) -> None:
    await _briefs_before_0011(f"sqlite:///{tmp_path / 'b.db'}")


@pytest.mark.postgres
async def test_applied_changes_backfilled_postgres(pg_url: str) -> None:
    await _briefs_before_0011(pg_url)


def test_url_mapping() -> None:
    from store.db import async_url

    assert async_url("sqlite:///genjin.db").drivername == "sqlite+genjin_aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgresql+psycopg2://u@h/db").drivername == "postgresql+asyncpg"
    with pytest.raises(ValueError):
        async_url("mysql://u@h/db")


async def _accounts_before_0013(url: str) -> None:
    """Platform ids kept in a column per platform become account and channel rows, and the way back
    restores the columns: an upgrade loses no one's WeCom or DingTalk id and no team's group chat."""
    engine = create_engine(url)
    try:
        await migrate.downgrade(engine, "base")
        await migrate.upgrade(engine, "0012")
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO teams (name, wecom_chat_id, dingtalk_webhook, standup_enabled, standup_time, "
                "standup_window_minutes) VALUES ('一组', 'wrChat', 'tok:sec', true, '15:00', 15), "
                "('二组', NULL, NULL, true, '15:00', 15)"
            ))  # fmt: skip
            await conn.execute(text(
                "INSERT INTO employees (id, name, role, team, wecom_userid, dingtalk_userid, active) VALUES "
                "('E01', '张伟', 'rep', '一组', 'zhangwei', 'ding01', true), "
                "('E02', '李娜', 'rep', '二组', NULL, '', true)"
            ))  # fmt: skip
            await conn.execute(text(
                "INSERT INTO customers (id, name, aliases, owner_id, stage, stage_entered_at, created_at) "
                "VALUES (1, '天成建材', '[]', 'E01', 'demo', '2026-11-26 10:30:00', '2026-11-26 10:30:00')"
            ))  # fmt: skip
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            accounts = (await conn.execute(text("SELECT employee_id, platform, user_id FROM accounts"))).all()
            assert sorted(tuple(r) for r in accounts) == [("E01", "dingtalk", "ding01"), ("E01", "wecom", "zhangwei")]
            channels = (await conn.execute(text("SELECT team, platform, target FROM team_channels"))).all()
            assert sorted(tuple(r) for r in channels) == [
                ("一组", "dingtalk", "robot:tok:sec"),
                ("一组", "wecom", "wrChat"),
            ]
            owner = await conn.execute(text("SELECT owner_id FROM customers WHERE id = 1"))
            assert owner.scalar() == "E01"  # the employees table was rebuilt under its references
        await migrate.downgrade(engine, "0012")
        async with engine.connect() as conn:
            back = await conn.execute(text("SELECT wecom_userid, dingtalk_userid FROM employees ORDER BY id"))
            assert [tuple(r) for r in back] == [("zhangwei", "ding01"), (None, None)]
            team = await conn.execute(text("SELECT wecom_chat_id, dingtalk_webhook FROM teams WHERE name = '一组'"))
            assert tuple(team.one()) == ("wrChat", "tok:sec")
    finally:
        await engine.dispose()


async def test_accounts_moved_sqlite(tmp_path: Path) -> None:
    await _accounts_before_0013(f"sqlite:///{tmp_path / 'a.db'}")


@pytest.mark.postgres
async def test_accounts_moved_postgres(pg_url: str) -> None:
    await _accounts_before_0013(pg_url)


def test_the_head_constant_is_alembics_head() -> None:
    """Start-up compares the database with ``HEAD`` in one SELECT; a new migration must move it too."""
    assert migrate.HEAD == migrate.head_revision()


def test_a_start_at_the_head_does_not_import_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'h.db'}"
    probe = (
        "import asyncio, sys; from store.database import Database\n"
        "async def main():\n"
        f"    db = Database({url!r}); await db.upgrade(); await db.dispose()\n"
        "asyncio.run(main()); print('alembic' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=root) for _ in range(2)]
    assert [r.stdout.strip() for r in runs] == ["True", "False"], [r.stderr[-300:] for r in runs]


@pytest.mark.postgres
async def test_two_engines_migrating_together_do_not_collide(pg_url: str) -> None:
    """``serve --role web`` and ``--role worker`` start side by side on a new database (two engines here): one
    migrates under the advisory lock, the other then finds the head instead of creating the same tables again."""
    import asyncio

    first, second = create_engine(pg_url), create_engine(pg_url)
    try:
        await migrate.downgrade(first, "base")
        await asyncio.gather(migrate.upgrade(first), migrate.upgrade(second))
        assert await migrate.current_revision(second) == migrate.HEAD
    finally:
        await first.dispose()
        await second.dispose()
