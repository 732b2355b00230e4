"""Which database errors mean "try again": the worker leaves such a message new instead of failing it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from store.errors import ConflictError, is_transient


def _raised(run: object) -> BaseException:
    try:
        run()  # type: ignore[operator]
    except BaseException as exc:  # the error itself is what the test looks at
        return exc
    raise AssertionError("nothing raised")


def test_a_real_sqlite_busy_error_is_transient_and_a_unique_violation_is_not(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (k TEXT UNIQUE)")
    holder.execute("INSERT INTO t VALUES ('a')")
    holder.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    busy = _raised(lambda: other.execute("INSERT INTO t VALUES ('b')"))
    holder.execute("ROLLBACK")
    duplicate = _raised(lambda: other.execute("INSERT INTO t VALUES ('a')"))
    holder.close()
    other.close()
    assert is_transient(OperationalError("INSERT", {}, busy))
    assert not is_transient(IntegrityError("INSERT", {}, duplicate))


@pytest.mark.parametrize(("code", "transient"), [("40P01", True), ("40001", True), ("23505", False), ("57014", False)])
def test_postgresql_errors_by_sqlstate(code: str, transient: bool) -> None:
    class DriverError(Exception):
        sqlstate = code

    assert is_transient(OperationalError("UPDATE", {}, DriverError("x"))) is transient


def test_errors_that_are_not_the_databases_are_not_transient() -> None:
    assert not is_transient(ConflictError("duplicate name"))
    assert not is_transient(RuntimeError("database is locked"))  # its words alone are not the database's error
