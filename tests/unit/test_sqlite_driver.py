"""The SQLite driver: one trip to aiosqlite's thread per statement, with SQLAlchemy seeing a normal cursor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from store.db import create_engine
from store.sqlite_driver import DRIVER


def test_the_undocumented_aiosqlite_names_it_uses_are_there() -> None:
    assert callable(getattr(aiosqlite.Connection, "_execute", None))
    assert isinstance(getattr(aiosqlite.Connection, "_conn", None), property)


async def test_each_statement_is_one_trip_and_results_read_as_usual(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'd.db'}")
    assert engine.dialect.driver == DRIVER
    trips = 0
    original: Any = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal trips
        trips += 1
        return await original(self, fn, *args, **kwargs)

    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
            inserted = await conn.execute(text("INSERT INTO t (name) VALUES (:n) RETURNING id"), {"n": "甲"})
            assert inserted.scalar_one() == 1
            assert trips == 1  # SQLAlchemy's own adapter: cursor, execute, fetch, close
            await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "乙"}, {"n": "丙"}])
            updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
            assert updated.rowcount == 2
            rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert [tuple(r) for r in rows] == [(1, "甲"), (2, "乙!"), (3, "丙!")]
            assert trips == 4
            with pytest.raises(IntegrityError):
                await conn.execute(text("INSERT INTO t (name) VALUES ('甲')"))
    finally:
        await engine.dispose()
