"""SQLite through aiosqlite, each statement in one hop to the connection's thread.

SQLAlchemy's aiosqlite adapter makes four: open a cursor, execute, fetch the rows, close the cursor, each a trip
through aiosqlite's queue to its thread and back through the event loop. A brief's twenty-odd statements made about
a hundred of them, a fifth of its time. Here the whole statement runs as one function in that thread, which returns
the description, the rows, the row count and the last row id; the cursor SQLAlchemy sees then only hands these out.
Registered as the ``sqlite+genjin_aiosqlite`` driver (``store.db.async_url`` picks it); server-side cursors (streamed
results) keep aiosqlite's own.

It uses two names aiosqlite does not document, ``Connection._execute`` (queue a function for the thread) and
``Connection._conn`` (the sqlite3 connection, used only in that thread); ``tests/unit/test_sqlite_driver.py`` fails
if either goes away.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

DRIVER = "genjin_aiosqlite"

_Result = tuple[Any, list[Any], int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    """In the connection's thread: the statement, its rows and counts, the cursor closed."""
    cursor = connection.cursor()
    try:
        cursor.execute(operation, () if parameters is None else parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(connection: sqlite3.Connection, operation: str, parameters: Sequence[Any]) -> _Result:
    cursor = connection.cursor()
    try:
        cursor.executemany(operation, parameters)
        return cursor.description, [], cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _transaction(connection: sqlite3.Connection, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """In the connection's thread: the statements in a write transaction of their own, committed (rolled back on any
    error), and their rows."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        rows = [row for operation, parameters in statements for row in connection.execute(operation, parameters)]
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return rows


async def commit_in_one_hop(driver_connection: Any, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
    """Run ``statements`` and commit them in one trip to an aiosqlite connection's thread (BEGIN, the statements and
    COMMIT together), for a write whose every await would wait its turn on a busy event loop."""
    rows: list[Any] = await driver_connection._execute(_transaction, driver_connection._conn, statements)
    return rows


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs in one trip; its rows are fetched from memory, as SQLAlchemy's own cursor does
    for results that are not streamed."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no aiosqlite cursor: nothing to open
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return 1  # the DB-API default; the rows are all in memory anyway

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        return None

    async def _async_soft_close(self) -> None:
        return None  # nothing is open in the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._take(_run, operation, parameters)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._take(_run_many, operation, seq_of_parameters)

    def _take(self, run: Any, operation: Any, parameters: Any) -> None:
        try:
            connection = self._connection
            result: _Result = await_(connection._execute(run, connection._conn, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows)

    def nextset(self) -> None:
        return None  # DB-API: no further result set (SQLite returns one per statement)

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None  # sqlite3 ignores them too


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


class _Dbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection)


class Dialect(SQLiteDialect_aiosqlite):
    driver = DRIVER
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiosqlite_dbapi:
        return _Dbapi(__import__("aiosqlite"), __import__("sqlite3"))


registry.register(f"sqlite.{DRIVER}", __name__, "Dialect")
