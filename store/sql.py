"""The SQLAlchemy repositories and unit of work."""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import TracebackType
from typing import Any, Self, TypeVar
from typing import cast as typing_cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    type_coerce,
    union,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.types import NullType

from sales.accounts import CONSOLE
from sales.forecast import OpenDeal, Signed, Snapshot, close_day_counts
from sales.goals import ADVANCES, Goal, Kpi, Level
from sales.leads import EventKind, Lead, LeadEvent
from sales.model import (
    AppliedChange,
    AuditEntry,
    Brief,
    BriefStatus,
    BriefUpdate,
    Confidence,
    Customer,
    Employee,
    Finished,
    InboxMessage,
    InboxStatus,
    OutboxMessage,
    OutboxStatus,
    PendingQuestion,
    Role,
    StageChange,
    Standup,
    StandupEntry,
    Team,
)
from sales.points import PointsEntry, Redemption, RedemptionStatus
from sales.quotes import (
    Approval,
    Product,
    Quote,
    QuoteStatus,
    discount_json,
    discount_of,
    line_json,
    line_of,
)
from sales.records import maker
from sales.reports import Listed, Move, StageTotal, per_day
from sales.stages import OPEN_STAGES, Stage
from sales.stall import Reminder, ScanRow
from store.db import session_factory
from store.errors import ConflictError
from store.orm import (
    AccountRow,
    AppliedChangeRow,
    AuditRow,
    Base,
    BriefRow,
    BriefUpdateRow,
    CatalogVersionRow,
    ChannelCostRow,
    CustomerNameLogRow,
    CustomerRow,
    EmployeeRow,
    ForecastSnapshotRow,
    GoalRow,
    InboxRow,
    LeadEventRow,
    LeadRow,
    OutboxRow,
    PendingRow,
    PointsRow,
    ProductRow,
    QuoteRow,
    RedemptionRow,
    ReminderRow,
    SendWindowRow,
    StageHistoryRow,
    StandupEntryRow,
    StandupRow,
    TeamChannelRow,
    TeamRow,
    UTCDateTime,
    WebLinkRow,
    WebSessionRow,
    _Scaled,
)
from store.repositories import NameChanges, Wanted, WebSession
from store.sqlite_driver import commit_in_one_hop
from store.windows import take_slots
from store.writer import WriterLock

RETRYING = 3  # attempts after which a waiting message counts as failing to go out
INBOX_CHANNEL = "genjin_inbox"  # PostgreSQL NOTIFY channel: a message was stored
_NOTIFY = text("SELECT pg_notify(:channel, '')")

R = TypeVar("R")

# How stored strings become enums again when a row turns into a record.
_ENUMS: dict[str, Callable[[Any], Any]] = {
    "role": Role,
    "stage": Stage,
    "from_stage": Stage,
    "to_stage": Stage,
    "confidence": Confidence,
    "level": Level,
    "kpi": Kpi,
}
_STATUS = {Brief: BriefStatus, InboxMessage: InboxStatus, OutboxMessage: OutboxStatus}
_KIND = {LeadEvent: EventKind}  # "kind" is an enum here only (an inbox message's kind is free text)


def _copy_json(value: Any) -> Any:
    return type(value)(value)


@functools.cache
def _converters(cls: Any) -> list[tuple[str, Callable[[Any], Any] | None]]:
    """Per field, how a stored value becomes the record's: enums back from strings, JSON copied so a
    record never shares a list or dict with a row; None where the value is taken as it is."""
    out: list[tuple[str, Callable[[Any], Any] | None]] = []
    for f in dataclasses.fields(cls):
        convert = (_ENUMS.get(f.name) or (_STATUS.get(cls) if f.name == "status" else None)
                   or (_KIND.get(cls) if f.name == "kind" else None))  # fmt: skip
        if convert is None and str(f.type).startswith(("list[", "dict[")):
            convert = _copy_json
        out.append((f.name, convert))
    return out


def _record(cls: type[R], values: Iterable[Any]) -> R:
    converters = _converters(typing_cast(Any, cls))  # positional: the fields' order is the columns' order
    return cls(*[c(v) if c and v is not None else v for (_, c), v in zip(converters, values, strict=True)])


def to_record(cls: type[R], row: Base, **given: Any) -> R:
    """Copy a row into its record; field names equal column names, except those ``given`` (kept in other tables)."""
    fields = _converters(typing_cast(Any, cls))
    return _record(cls, (given[name] if name in given else getattr(row, name) for name, _ in fields))


def _record_columns(cls: Any, table: type[Base]) -> list[Any]:
    """A record's columns in its fields' order, as ``_record`` takes them."""
    return [getattr(table, name) for name, _ in _converters(typing_cast(Any, cls))]


def _utc(value: Any) -> datetime:
    """Stored naive UTC as aware UTC. From SQLite's text, parsed with its offset in one step: ``replace(tzinfo=…)``
    after parsing costs six times as much, a sixth of a stall scan over 100,000 customers."""
    if isinstance(value, datetime):  # asyncpg's naive datetime
        return datetime.combine(value, value.time(), UTC)
    try:
        return datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text that carries an offset of its own
        return datetime.fromisoformat(value).astimezone(UTC)


def one_offset(tz: ZoneInfo, start: datetime, end: datetime) -> timedelta | None:
    """The zone's UTC offset when it stayed the same from ``start`` to ``end`` (aware instants; China's zones since
    1991), else None: with one offset the database can work out local dates itself. Looked at every two weeks (a clock
    change lasts months) and at ``end``; each instant is taken into the zone first, since ``ZoneInfo.utcoffset``
    reads a time's clock fields as that zone's own."""
    offset = start.astimezone(tz).utcoffset()
    probe = start
    while offset is not None and probe < end:
        probe = min(probe + timedelta(days=14), end)
        if probe.astimezone(tz).utcoffset() != offset:
            return None
    return offset


def _local_day(column: Any, offset: timedelta, dialect: str) -> Any:
    """A stored UTC time's local date, for a zone with one ``offset`` (``one_offset``)."""
    minutes = int(offset.total_seconds() // 60)
    if dialect == "postgresql":
        return cast(column + literal_column(f"interval '{minutes} minutes'"), Date)
    return func.date(column, f"{minutes:+d} minutes")


def _day_number(column: Any, offset: timedelta, dialect: str) -> Any:
    """``_local_day`` as a number that subtracts to whole days on both databases."""
    if dialect == "postgresql":
        return _local_day(column, offset, dialect)  # date - date is an integer there
    return func.julianday(_local_day(column, offset, dialect))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _raw_converter(name: str, kind: Any, column_type: Any) -> Callable[[Any], Any] | None:
    """How a field's value as the driver hands it over (SQLite: text for times and dates, whole numbers for
    money; asyncpg: its own types) becomes the record's, without SQLAlchemy's per-value processing."""
    if name in _ENUMS or (name == "status" and kind in _STATUS) or (name == "kind" and kind in _KIND):
        enum = _ENUMS.get(name) or (_STATUS[kind] if name == "status" else _KIND[kind])
        return typing_cast(Any, enum)._value2member_map_.__getitem__  # type: ignore[no-any-return]
    if isinstance(column_type, UTCDateTime):
        return _utc
    if isinstance(column_type, _Scaled):
        exponent = -len(str(column_type.scale)) + 1
        return lambda v: Decimal(v).scaleb(exponent)  # == (Decimal(v) / scale).quantize(quantum), exactly
    if isinstance(column_type, JSON):
        return _decoded
    if isinstance(column_type, Boolean):
        return bool
    if isinstance(column_type, Date):
        return _day
    return None


@functools.cache
def _raw_reading(cls: Any, table: type[Base]) -> tuple[list[Any], list[tuple[int, Callable[[Any], Any]]]]:
    """A record's columns with SQLAlchemy's result processing switched off, and per column the converter to use."""
    columns = _record_columns(cls, table)
    converters = []
    for index, ((name, _), column) in enumerate(zip(_converters(cls), columns, strict=True)):
        convert = _raw_converter(name, cls, column.type)
        if convert is not None:
            converters.append((index, convert))
    return [type_coerce(c, NullType()).label(c.key) for c in columns], converters


async def load_many(
    session: AsyncSession, cls: type[R], table: type[Base], *where: Any, order: Any = None, limit: int | None = None
) -> list[R]:
    """Records straight from rows of columns, without ORM instances: reports read whole tables,
    and building a mapped object per row costs several times the query. The values come as the driver gives them and
    are converted column by column (``_raw_reading``): SQLAlchemy's per-value processing and a generic converter per
    field were half the time of reading 30,000 open deals."""
    columns, converters = _raw_reading(typing_cast(Any, cls), table)
    query = select(*columns).where(*where)
    if order is not None:
        query = query.order_by(*order)
    if limit is not None:
        query = query.limit(limit)
    connection = await session.connection()
    rows = (await connection.execute(query)).all()
    if not rows:
        return []
    values = [list(column) for column in zip(*rows, strict=True)]
    for index, convert in converters:
        values[index] = [None if v is None else convert(v) for v in values[index]]
    make = maker(cls)
    return [make(*fields) for fields in zip(*values, strict=True)]


_FIELDS: dict[tuple[type, tuple[str, ...]], tuple[str, ...]] = {}


def _field_names(kind: type, skip: tuple[str, ...]) -> tuple[str, ...]:
    names = _FIELDS.get((kind, skip))
    if names is None:
        names = _FIELDS[kind, skip] = tuple(f.name for f in dataclasses.fields(kind) if f.name not in skip)
    return names


def to_columns(record: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """A record's fields as column values (the field names are worked out once per record type: an import
    calls this for every row)."""
    return {name: getattr(record, name) for name in _field_names(type(record), skip)}


_PlainInsert = tuple[str, tuple[str, ...], tuple[tuple[int, Callable[[Any], Any]], ...]]


@functools.lru_cache(maxsize=64)
def _plain_insert(table: Table, keys: tuple[str, ...], dialect: Dialect) -> _PlainInsert | None:
    """The INSERT's SQL for ``keys``, its parameter order and the bind processor of each column that has one; None
    (use SQLAlchemy's own path) when the dialect's parameters are not positional or a column left out has a default
    computed in Python, which only SQLAlchemy's path would fill in."""
    if any(c.default is not None and c.key not in keys for c in table.columns):
        return None
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    order = tuple(compiled.positiontup or ())
    if not order or set(order) != set(keys):
        return None
    processors = [(i, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for i, key in enumerate(order)]
    return str(compiled), order, tuple((i, p) for i, p in processors if p is not None)


_NEW_ROWS_PARAMETERS = 900  # bound values per statement: under SQLite's oldest limit (999), far under PostgreSQL's
_PG_PARAMETERS = 32_000  # PostgreSQL's limit is 32,767


@functools.lru_cache(maxsize=64)
def _new_rows_sql(
    table: Table,
    keys: tuple[str, ...],
    conflict: tuple[str, ...],
    returning: str | tuple[str, ...],
    count: int,
    dialect: Dialect,
) -> tuple[str, tuple[tuple[int, int], ...], tuple[tuple[int, Callable[[Any], Any]], ...]]:
    """``INSERT … VALUES (…), (…) ON CONFLICT (conflict) DO NOTHING RETURNING returning`` for ``count`` rows of
    ``keys``, compiled once per size: its SQL, for each bound position the (row, column) whose value it takes, and
    each column's bind processor (``_new_rows``). Positional drivers only (SQLite's, asyncpg), and every column
    without a Python-side default given: anything else raises here, not in the driver."""
    values: list[dict[str, Any]] = [
        {key: bindparam(f"{key}__{i}", type_=table.c[key].type) for key in keys} for i in range(count)
    ]
    insert_ = _dialect_insert(dialect.name)
    statement = insert_(table).values(values).on_conflict_do_nothing(index_elements=list(conflict))
    returned = (returning,) if isinstance(returning, str) else returning
    compiled = statement.returning(*(table.c[r] for r in returned)).compile(dialect=dialect)
    column = {key: i for i, key in enumerate(keys)}
    names = [name.rsplit("__", 1) for name in compiled.positiontup or ()]
    if len(names) != count * len(keys) or any(len(n) != 2 or n[0] not in column for n in names):
        raise ValueError(f"not a positional INSERT of the given columns only: {compiled.positiontup}")
    order = tuple((int(row), column[key]) for key, row in names)
    processors = [(i, table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) for i, key in enumerate(keys)]
    return str(compiled), order, tuple((i, p) for i, p in processors if p is not None)


def _processed(process: Callable[[Any], Any], values: list[Any]) -> list[Any]:
    """``process`` over one column, each distinct value done once: an import's rows share most of their dates (the
    day of the import, a file's one entry date), and formatting a datetime costs more than looking it up."""
    if any(isinstance(v, list | dict | set) for v in values):
        return list(map(process, values))  # a JSON column: unhashable values
    # keyed by type and offset as well: 1 == True == 1.0, and 09:00+08:00 == 01:00Z, yet a processor may tell them apart
    done: dict[Any, Any] = {}
    out = []
    for v in values:
        key = (type(v), v, v.utcoffset() if isinstance(v, datetime) else None)
        if key not in done:
            done[key] = process(v)
        out.append(done[key])
    return out


def _with_id(record: R, new_id: int) -> R:
    """A copy with its new id; ``dataclasses.replace`` runs ``__init__`` again, and ``copy.copy`` goes through
    ``__reduce_ex__``: together a tenth of a large import."""
    out = object.__new__(type(record))
    out.__dict__.update(record.__dict__)
    out.id = new_id  # type: ignore[attr-defined]
    return out


def _dialect_insert(dialect: str) -> Any:
    """The dialect's INSERT (with ON CONFLICT). PostgreSQL's module is imported only on PostgreSQL: with its driver's
    dialect that is 50 ms of a SQLite start before the server listens."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    return sqlite.insert


@functools.cache
def _insert_new(dialect: str, table: Any, keys: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING RETURNING returning``, built once per table and dialect, its values
    sent as parameters (one set, or many: SQLAlchemy then writes multi-row INSERTs itself). Building the statement
    with ``.values(...)`` each time (and its cache key over the values) cost more than running it: 500 times in a
    stall scan's digests, several times per brief, and 10 ms of the event loop for a batch of 20 callbacks."""
    statement = _dialect_insert(dialect)(table).on_conflict_do_nothing(index_elements=list(keys))
    return statement.returning(*(table.c[r] for r in returning))


@functools.cache
def _adding(table: type[Base]) -> Any:
    """``INSERT … RETURNING id`` for a table, built once, its values sent as parameters. Through the ORM
    (``session.add`` and a flush) the unit-of-work machinery ran for each of a brief's five new rows."""
    return insert(table).returning(typing_cast(Any, table).id)


@functools.cache
def _updating(table: type[Base], keys: tuple[str, ...]) -> Any:
    """``UPDATE … SET keys WHERE id = ?`` built once per table and set of columns: building it with ``.values()`` and
    a where clause, then its cache key, cost more than running it."""
    columns = typing_cast(Table, table.__table__).c
    return (
        update(table)
        .where(typing_cast(Any, table).id == bindparam("row_id_"))
        .values({key: bindparam(f"{key}_", type_=columns[key].type) for key in keys})
    )


@functools.cache
def _reading(cls: Any, table: type[Base], key: str) -> Any:
    """``SELECT <the record's columns> WHERE key = ?``, built once: read as plain rows, never as ORM objects, so no
    mapped object can go stale behind a core ``UPDATE`` (``_updating``)."""
    return select(*_record_columns(cls, table)).where(getattr(table, key) == bindparam("key_"))


@functools.cache
def _reading_all(cls: Any, table: type[Base], keys: tuple[str, ...]) -> Any:
    """``SELECT <the record's columns> WHERE k1 = ? AND … ORDER BY id``, built once (parameters ``<key>_``)."""
    where = [getattr(table, key) == bindparam(f"{key}_") for key in keys]
    return select(*_record_columns(cls, table)).where(*where).order_by(typing_cast(Any, table).id)


@functools.cache
def _claiming(limit: int) -> Any:
    """Up to ``limit`` inbox messages claimed in one statement built once per limit: ``SELECT <the record> FROM inbox
    WHERE status = 'new' AND id = (its sender's oldest new message) ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED``.
    It has no parameters: with the status as one, PostgreSQL's generic plan for the prepared statement (used after
    five runs) cannot tell new rows from the handled ones and may walk the table in id order past all of them.
    The attempt is counted when the batch is finished (``_FINISHING``), in the same transaction."""
    inbox = typing_cast(Table, InboxRow.__table__)
    earlier, candidate = inbox.alias("earlier"), inbox.alias("candidate")
    new: Any = literal_column(f"'{InboxStatus.NEW.value}'")
    first_of_sender = (
        select(func.min(earlier.c.id))
        .where(earlier.c.status == new, earlier.c.platform == candidate.c.platform)
        .where(earlier.c.user_id == candidate.c.user_id)
        .scalar_subquery()
    )
    returned = [candidate.c[name] for name, _ in _converters(InboxMessage)]
    return (
        select(*returned)
        .where(candidate.c.status == new, candidate.c.id == first_of_sender)
        .order_by(candidate.c.id)
        .limit(literal_column(str(int(limit))))
        .with_for_update(skip_locked=True)
    )


_FINISHING = (
    update(InboxRow)
    .where(InboxRow.id == bindparam("id_"))
    .values(
        status=bindparam("status_"),
        error=bindparam("error_"),
        processed_at=bindparam("at_", type_=InboxRow.__table__.c.processed_at.type),
        attempts=InboxRow.attempts + literal_column("1"),
    )
)  # built once: a batch's messages finished in one executemany


@functools.cache
def _employee_by_account() -> tuple[Any, Any]:
    """An employee's columns by (platform, user id), and their accounts by employee id: built once, read as rows."""
    names = [name for name, _ in _converters(Employee)]
    if names[-1] != "accounts":  # by_platform_user appends them to the row
        raise TypeError("Employee.accounts must be the record's last field")
    columns = [getattr(EmployeeRow, name) for name in names[:-1]]
    person = (
        select(*columns)
        .join(AccountRow, AccountRow.employee_id == EmployeeRow.id)
        .where(AccountRow.platform == bindparam("platform_"), AccountRow.user_id == bindparam("user_"))
    )
    accounts = select(AccountRow.platform, AccountRow.user_id).where(AccountRow.employee_id == bindparam("id_"))
    return person, accounts


_HELD = "genjin_connection"  # in a session's ``info``: (its transaction, its connection), shared by the repositories


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _connection(self) -> Any:
        """The session's connection, after flushing whatever the ORM holds pending (a core statement does not).
        Kept in the session's ``info`` while its transaction lasts, for every repository of the unit of work: asking
        the async session for it (a greenlet hop and a new proxy each time) was a tenth of a brief's time."""
        sync = self.session.sync_session
        if sync.new or sync.dirty or sync.deleted:
            await self._flush()
        transaction = sync.get_transaction()
        held = sync.info.get(_HELD)
        if held is not None and transaction is held[0] and transaction is not None and transaction.is_active:
            return held[1]
        connection = await self.session.connection()
        sync.info[_HELD] = (sync.get_transaction(), connection)
        return connection

    async def _add_row(self, table: type[Base], record: Any) -> int:
        """Insert a record's row (all its fields but the id) and return the new id."""
        connection = await self._connection()
        try:
            result = await connection.execute(_adding(table), to_columns(record, skip=("id",)))
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc
        return int(result.scalar_one())

    async def _update_row(self, table: type[Base], row_id: int, values: dict[str, Any]) -> None:
        connection = await self._connection()
        params = {f"{key}_": value for key, value in values.items()} | {"row_id_": row_id}
        try:
            await connection.execute(_updating(table, tuple(values)), params)
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc

    async def _read_one(self, cls: type[R], table: type[Base], key: str, value: Any) -> R | None:
        connection = await self._connection()
        row = (await connection.execute(_reading(typing_cast(Any, cls), table, key), {"key_": value})).first()
        return _record(cls, row) if row is not None else None

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc

    async def _write_many(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """An executemany of plain tuples on the session's connection, each value turned into what the driver takes
        by its column type's own bind processor, looked up once per batch. ``Session.execute(insert(...), rows)``
        went through the ORM's bulk path and SQLAlchemy's per-row parameter handling: two thirds of an import of
        100,000 customers."""
        connection = await self.session.connection()
        plain = _plain_insert(table, tuple(rows[0]), connection.dialect) if rows else None
        try:
            if plain is None:
                await connection.execute(insert(table), rows)
                return
            sql, order, processors = plain
            columns = [[row[key] for row in rows] for key in order]  # column by column: map and zip run in C
            for i, process in processors:
                columns[i] = _processed(process, columns[i])
            await connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc

    async def _new_rows(
        self, table: Table, columns: dict[str, list[Any]], conflict: tuple[str, ...], returning: str
    ) -> list[Any]:
        """Insert the rows given column by column, skipping those that conflict on ``conflict``; the ``returning``
        value of each row really inserted (once, if a row is given twice). Plain multi-row statements compiled once
        per size (a last batch padded to the next power of two with its last row), their values turned into the
        driver's by each column's bind processor, each distinct value once: SQLAlchemy's own handling of an
        ``INSERT … RETURNING`` with 28,500 rows took three times what SQLite took to insert them."""
        if not columns:
            return []
        keys = tuple(columns)
        values = list(columns.values())
        connection = await self.session.connection()
        size = max(1, _NEW_ROWS_PARAMETERS // len(keys))
        total = len(values[0])
        out: list[Any] = []
        for start in range(0, total, size):
            count = min(size, total - start)
            shape = min(size, 1 << (count - 1).bit_length())  # a few statement sizes: 1, 2, 4, … and the full one
            sql, order, processors = _new_rows_sql(table, keys, conflict, returning, shape, connection.dialect)
            chunk = [v[start : start + count] for v in values]
            for i, process in processors:
                chunk[i] = _processed(process, chunk[i])
            chunk = [c + c[-1:] * (shape - count) for c in chunk]  # padded with its last row: inserted (or not) once
            flat = tuple(chunk[c][r] for r, c in order)
            result = await connection.exec_driver_sql(sql, flat)
            out += [row[0] for row in result]
        return out

    async def _write(self, statement: Any) -> None:
        try:
            await self.session.execute(statement)
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc

    def _insert_new(self, table: Any, keys: tuple[str, ...], returning: tuple[str, ...]) -> Any:
        """This dialect's ``_insert_new``."""
        return _insert_new(self.session.get_bind().dialect.name, table, keys, returning)

    def _insert(self) -> Any:
        """The dialect's INSERT, for ON CONFLICT DO NOTHING."""
        return _dialect_insert(self.session.get_bind().dialect.name)


class SqlEmployees(_Repo):
    async def _accounts(self, ids: Sequence[str] | None) -> dict[str, dict[str, str]]:
        query = select(AccountRow.employee_id, AccountRow.platform, AccountRow.user_id)
        if ids is not None:
            query = query.where(AccountRow.employee_id.in_(list(ids)))
        found: dict[str, dict[str, str]] = {}
        for employee_id, platform, user_id in await self.session.execute(query):
            found.setdefault(employee_id, {})[platform] = user_id
        return found

    async def _records(self, rows: Sequence[EmployeeRow], *, everyone: bool = False) -> list[Employee]:
        accounts = await self._accounts(None if everyone else [r.id for r in rows]) if rows else {}
        return [to_record(Employee, r, accounts=accounts.get(r.id, {})) for r in rows]

    async def get(self, employee_id: str) -> Employee | None:
        row = await self.session.get(EmployeeRow, employee_id)
        return (await self._records([row]))[0] if row else None

    async def by_platform_user(self, platform: str, user_id: str) -> Employee | None:
        if platform == CONSOLE:
            return await self.get(user_id)
        person, accounts = _employee_by_account()
        connection = await self._connection()
        row = (await connection.execute(person, {"platform_": platform, "user_": user_id})).one_or_none()
        if row is None:
            return None
        mine = {p: u for p, u in await connection.execute(accounts, {"id_": row[0]})}
        return _record(Employee, (*row, mine))  # accounts is the record's last field

    async def find(self, *, team: str | None = None, active_only: bool = False) -> list[Employee]:
        query = select(EmployeeRow).order_by(EmployeeRow.id)
        if team is not None:
            query = query.where(EmployeeRow.team == team)
        if active_only:
            query = query.where(EmployeeRow.active.is_(True))
        rows = list((await self.session.execute(query)).scalars())
        return await self._records(rows, everyone=team is None and not active_only)

    async def _set_accounts(self, employee: Employee) -> None:
        await self._write(delete(AccountRow).where(AccountRow.employee_id == employee.id))
        for platform, user_id in sorted(employee.accounts.items()):
            if user_id:
                self.session.add(AccountRow(employee_id=employee.id, platform=platform, user_id=user_id))
        await self._flush()

    async def add(self, employee: Employee) -> None:
        self.session.add(EmployeeRow(**to_columns(employee, skip=("accounts",))))
        await self._flush()
        await self._set_accounts(employee)

    async def update(self, employee: Employee) -> None:
        columns = to_columns(employee, skip=("id", "accounts"))
        await self._write(update(EmployeeRow).where(EmployeeRow.id == employee.id).values(**columns))
        await self._set_accounts(employee)


class SqlTeams(_Repo):
    async def _channels(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        rows = await self.session.execute(select(TeamChannelRow.team, TeamChannelRow.platform, TeamChannelRow.target))
        for team, platform, target in rows:
            found.setdefault(team, {})[platform] = target
        return found

    async def get(self, name: str) -> Team | None:
        row = await self.session.get(TeamRow, name)
        if row is None:
            return None
        rows = await self.session.execute(
            select(TeamChannelRow.platform, TeamChannelRow.target).where(TeamChannelRow.team == name)
        )
        return to_record(Team, row, channels={platform: target for platform, target in rows})

    async def find(self) -> list[Team]:
        rows = (await self.session.execute(select(TeamRow).order_by(TeamRow.name))).scalars()
        channels = await self._channels()
        return [to_record(Team, r, channels=channels.get(r.name, {})) for r in rows]

    async def _set_channels(self, team: Team) -> None:
        await self._write(delete(TeamChannelRow).where(TeamChannelRow.team == team.name))
        for platform, target in sorted(team.channels.items()):
            if target:
                self.session.add(TeamChannelRow(team=team.name, platform=platform, target=target))
        await self._flush()

    async def add(self, team: Team) -> None:
        self.session.add(TeamRow(**to_columns(team, skip=("channels",))))
        await self._flush()
        await self._set_channels(team)

    async def update(self, team: Team) -> None:
        columns = to_columns(team, skip=("name", "channels"))
        await self._write(update(TeamRow).where(TeamRow.name == team.name).values(**columns))
        await self._set_channels(team)


BULK_LOAD_MINIMUM = 10_000  # rows below which indexes are kept up to date as they go

_NAME_COLUMNS = (CustomerRow.name, cast(CustomerRow.aliases, Text))
_NAMES_VERSION = select(CatalogVersionRow.version).where(CatalogVersionRow.name == "customers")
NAMES_RECHECK_SECONDS = 1.0  # how stale another process's name change may be before this one reads the version


class NamesClock:
    """The customers' names version as this process last read it, shared by one database's units of work, so the
    check the parser makes before every brief is no database round trip: the version is read again once a unit of
    work of this process has committed a name change, and otherwise at most every ``NAMES_RECHECK_SECONDS`` (what
    another process, an import say, changed shows within that)."""

    def __init__(self, recheck: float = NAMES_RECHECK_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.recheck = recheck
        self._clock = clock
        self._version: int | None = None
        self._read_at = 0.0
        self.reads = 0
        self.generation = 0  # moves with each change this process commits

    def known(self) -> int | None:
        """The version, or None when it must be read."""
        if self._version is None or self._clock() - self._read_at >= self.recheck:
            return None
        return self._version

    def read(self, version: int, generation: int) -> None:
        """Keep ``version``, read when the generation was ``generation``: a read that began before this process's
        own change committed is not kept (it may predate the change)."""
        if generation == self.generation:
            self._version, self._read_at = version, self._clock()
        self.reads += 1

    def changed(self) -> None:
        """This process committed a name change: the next check reads the version."""
        self._version = None
        self.generation += 1


class SqlCustomers(_Repo):
    def __init__(self, session: AsyncSession, names: NamesClock | None = None) -> None:
        super().__init__(session)
        self._clock = names
        self._names_seen: dict[int, tuple[str, list[str]]] = {}  # as read in this unit of work
        self.names_touched = False  # whether this unit of work wrote a name, an alias or a customer's existence

    async def get(self, customer_id: int) -> Customer | None:
        return self._seen(await self._read_one(Customer, CustomerRow, "id", customer_id))

    async def by_name(self, name: str) -> Customer | None:
        return self._seen(await self._read_one(Customer, CustomerRow, "name", name))

    def _seen(self, customer: Customer | None) -> Customer | None:
        """Remember the names read, so an update that keeps them is known not to change the names version."""
        if customer is not None and customer.id is not None:
            self._names_seen[customer.id] = (customer.name, list(customer.aliases))
        return customer

    async def find(
        self,
        *,
        owner_ids: Sequence[str] | None = None,
        stages: Sequence[Stage] | None = None,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[Customer]:
        where = []
        if ids is not None:
            where.append(CustomerRow.id.in_(list(ids)))
        if owner_ids is not None:
            where.append(CustomerRow.owner_id.in_(list(owner_ids)))
        if stages is not None:
            where.append(CustomerRow.stage.in_([s.value for s in stages]))
        return await load_many(self.session, Customer, CustomerRow, *where, order=(CustomerRow.id,), limit=limit)

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(CustomerRow))).scalar_one())

    async def add(self, customer: Customer) -> Customer:
        self.names_touched = True
        return _with_id(customer, await self._add_row(CustomerRow, customer))

    async def add_many(self, customers: Sequence[Customer]) -> list[Customer]:
        if not customers:
            return []
        self.names_touched = True
        # the whole batch at one names version, set here: the database's trigger would bump it row by row
        bump = update(CatalogVersionRow).where(CatalogVersionRow.name == "customers")
        bumped = await self.session.execute(
            bump.values(version=CatalogVersionRow.version + 1).returning(CatalogVersionRow.version)
        )
        rev = int(bumped.scalar_one())
        # one executemany, then the ids by name (unique): RETURNING in parameter order costs a statement per row
        await self._write_many(
            typing_cast(Table, CustomerRow.__table__),
            [{**to_columns(c, skip=("id",)), "names_rev": rev} for c in customers],
        )
        ids: dict[str, int] = {}
        names = [c.name for c in customers]
        for start in range(0, len(names), 900):  # within SQLite's limit of bound parameters
            query = select(CustomerRow.name, CustomerRow.id).where(CustomerRow.name.in_(names[start : start + 900]))
            ids.update({name: cid for name, cid in await self.session.execute(query)})
        return [_with_id(c, ids[c.name]) for c in customers]

    @asynccontextmanager
    async def bulk_load(self, incoming: int) -> AsyncIterator[None]:
        """On SQLite, when more rows are coming than a table holds, its secondary indexes are dropped for the load and
        built again at the end, inside the same transaction: sorted once, they cost a fraction of being kept up to
        date row by row (9.2 -> 5.1 s for 100,000 customers with their first stage rows). They are built again from
        the database's own definitions, on an error too (SQLite keeps the transaction open), so whatever the caller
        then does, commit or roll back, the schema stays whole. PostgreSQL keeps them: dropping one there locks the
        table against every brief for the length of the import."""
        connection = await self.session.connection()
        dropped: list[tuple[str, str]] = []
        if connection.dialect.name == "sqlite" and incoming >= BULK_LOAD_MINIMUM:
            for table in (CustomerRow.__tablename__, StageHistoryRow.__tablename__):
                count = f"SELECT count(*) FROM {table}"  # our own table names, not input
                if (await connection.exec_driver_sql(count)).scalar_one() < incoming:
                    listed = await connection.exec_driver_sql(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
                        " AND sql NOT LIKE 'CREATE UNIQUE%'",
                        (table,),
                    )
                    dropped += typing_cast(list[tuple[str, str]], listed.all())
        for name, _ in dropped:
            await connection.exec_driver_sql(f'DROP INDEX "{name}"')
        try:
            yield
        finally:
            for _, sql in dropped:
                await connection.exec_driver_sql(sql)

    async def update(self, customer: Customer) -> None:
        if customer.id is None:
            raise ValueError("customer has no id; add it first")
        if self._names_seen.get(customer.id) != (customer.name, list(customer.aliases)):
            self.names_touched = True
        await self._update_row(CustomerRow, customer.id, to_columns(customer, skip=("id",)))
        self._names_seen[customer.id] = (customer.name, list(customer.aliases))

    async def change_owner(
        self, customer_id: int, expected: str, owner: str, *, followed_before: datetime | None = None
    ) -> bool:
        row = CustomerRow
        where = [row.id == customer_id, row.owner_id == expected]
        if followed_before is not None:
            where.append(or_(row.last_followup_at.is_(None), row.last_followup_at <= followed_before))
        result = await self.session.execute(update(row).where(*where).values(owner_id=owner))
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def delete(self, customer_id: int) -> None:
        self.names_touched = True
        await self.session.execute(delete(StageHistoryRow).where(StageHistoryRow.customer_id == customer_id))
        await self.session.execute(delete(CustomerRow).where(CustomerRow.id == customer_id))

    async def names_version(self) -> int:
        known = self._clock.known() if self._clock is not None and not self.names_touched else None
        if known is not None:
            return known
        generation = self._clock.generation if self._clock is not None else 0
        connection = await self.session.connection()
        version = int((await connection.execute(_NAMES_VERSION)).scalar_one())
        if self._clock is not None and not self.names_touched:  # this unit of work's own writes are not everyone's
            self._clock.read(version, generation)
        return version

    async def names(self) -> list[tuple[str, list[str]]]:
        return await self._names(select(*_NAME_COLUMNS).order_by(CustomerRow.id))

    async def names_changed_since(self, version: int, limit: int) -> NameChanges | None:
        connection = await self.session.connection()
        log = select(CustomerNameLogRow.old_name).where(CustomerNameLogRow.version > version)
        gone = list((await connection.execute(log.order_by(CustomerNameLogRow.version).limit(limit + 1))).scalars())
        if len(gone) > limit:
            return None
        query = select(*_NAME_COLUMNS).where(CustomerRow.names_rev > version).order_by(CustomerRow.names_rev)
        current = await self._names(query.limit(limit + 1 - len(gone)))
        return None if len(gone) + len(current) > limit else NameChanges(gone, current)

    async def _names(self, query: Any) -> list[tuple[str, list[str]]]:
        """Aliases read as text and decoded only where there are some: at 100,000 customers the JSON type's
        decoding of every empty list kept the event loop busy for seconds."""
        connection = await self.session.connection()
        rows = await connection.execute(query)
        return [(name, json.loads(aliases) if aliases and aliases != "[]" else []) for name, aliases in rows]

    async def stage_totals(self, owner_ids: Sequence[str] | None = None) -> list[StageTotal]:
        query = (
            select(CustomerRow.owner_id, CustomerRow.stage, func.count(), func.sum(CustomerRow.amount))
            .where(CustomerRow.stage.in_([s.value for s in OPEN_STAGES]))
            .group_by(CustomerRow.owner_id, CustomerRow.stage)
            .order_by(CustomerRow.owner_id, CustomerRow.stage)
        )
        if owner_ids is not None:
            query = query.where(CustomerRow.owner_id.in_(list(owner_ids)))
        connection = await self.session.connection()
        return [
            StageTotal(str(owner), Stage(stage), int(count), Decimal(total or 0))
            for owner, stage, count, total in await connection.execute(query)
        ]

    async def closed_between(
        self, start: datetime, end: datetime, owner_ids: Sequence[str] | None = None
    ) -> list[Customer]:
        where = [CustomerRow.closed_at >= start, CustomerRow.closed_at < end,
                 CustomerRow.stage.in_([Stage.WON.value, Stage.LOST.value])]  # fmt: skip
        if owner_ids is not None:
            where.append(CustomerRow.owner_id.in_(list(owner_ids)))
        return await load_many(self.session, Customer, CustomerRow, *where, order=(CustomerRow.id,))

    async def signed(self, owner_ids: Sequence[str] | None = None) -> list[Signed]:
        where = [CustomerRow.stage == Stage.WON.value]
        if owner_ids is not None:
            where.append(CustomerRow.owner_id.in_(list(owner_ids)))
        return await load_many(self.session, Signed, CustomerRow, *where, order=(CustomerRow.id,))

    async def created_per_owner(self, start: datetime, end: datetime) -> dict[str, int]:
        query = (
            select(CustomerRow.owner_id, func.count())
            .where(CustomerRow.created_at >= start, CustomerRow.created_at < end)
            .group_by(CustomerRow.owner_id)
        )
        return {owner: count for owner, count in (await self.session.execute(query)).all()}

    async def listed(
        self, owner_ids: Sequence[str] | None = None, stages: Sequence[Stage] | None = None
    ) -> list[Listed]:
        where = []
        if owner_ids is not None:
            where.append(CustomerRow.owner_id.in_(list(owner_ids)))
        if stages is not None:
            where.append(CustomerRow.stage.in_([s.value for s in stages]))
        return await load_many(self.session, Listed, CustomerRow, *where, order=(CustomerRow.id,))

    async def open_deals(self, owner_ids: Sequence[str] | None = None) -> list[OpenDeal]:
        where = [CustomerRow.stage.in_([s.value for s in OPEN_STAGES]), CustomerRow.amount.is_not(None)]
        if owner_ids is not None:
            where.append(CustomerRow.owner_id.in_(list(owner_ids)))
        return await load_many(self.session, OpenDeal, CustomerRow, *where, order=(CustomerRow.id,))


class SqlStageHistory(_Repo):
    async def history_version(self) -> tuple[int, int, int]:
        audit = select(func.max(AuditRow.id)).scalar_subquery()
        query = select(func.max(StageHistoryRow.id), func.count(StageHistoryRow.id), audit)
        last, rows, audited = (await self.session.execute(query)).one()
        return int(last or 0), int(rows or 0), int(audited or 0)

    async def add(self, change: StageChange) -> StageChange:
        return _with_id(change, await self._add_row(StageHistoryRow, change))

    async def add_many(self, changes: Sequence[StageChange]) -> None:
        if changes:
            await self._write_many(
                typing_cast(Table, StageHistoryRow.__table__), [to_columns(c, skip=("id",)) for c in changes]
            )

    async def for_customer(self, customer_id: int) -> list[StageChange]:
        query = (
            select(StageHistoryRow)
            .where(StageHistoryRow.customer_id == customer_id)
            .order_by(StageHistoryRow.changed_at, StageHistoryRow.id)
        )
        return [to_record(StageChange, r) for r in (await self.session.execute(query)).scalars()]

    async def delete_for_brief(self, brief_id: int) -> int:
        result = await self.session.execute(delete(StageHistoryRow).where(StageHistoryRow.brief_id == brief_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_for_change(self, change_id: int) -> int:
        result = await self.session.execute(delete(StageHistoryRow).where(StageHistoryRow.change_id == change_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def everything(self, customer_ids: Sequence[int] | None = None) -> list[StageChange]:
        order = (StageHistoryRow.changed_at, StageHistoryRow.id)
        where = [] if customer_ids is None else [StageHistoryRow.customer_id.in_(list(customer_ids))]
        return await load_many(self.session, StageChange, StageHistoryRow, *where, order=order)

    async def written_after(self, after_id: int, also: Sequence[int] = ()) -> list[tuple[int, int]]:
        return await _written_after(self.session, StageHistoryRow, after_id, also)

    async def touched_since(self, since: datetime, owner_ids: Sequence[str] | None = None) -> list[Move]:
        """Four columns, all in ``ix_stage_history_customer_stage_time``: SQLite reads no table row, and no sort (the
        funnel orders them itself); the whole changes, sorted, took a third longer at 100,000 customers."""
        touched = select(StageHistoryRow.customer_id).where(StageHistoryRow.changed_at >= since)
        where = [StageHistoryRow.customer_id.in_(touched)]
        if owner_ids is not None:
            mine = select(CustomerRow.id).where(CustomerRow.owner_id.in_(list(owner_ids)))
            where.append(StageHistoryRow.customer_id.in_(mine))
        return await load_many(self.session, Move, StageHistoryRow, *where)

    async def reach_outcomes(self) -> dict[tuple[Stage, Stage], int]:
        query = (
            select(StageHistoryRow.to_stage, CustomerRow.stage, func.count(func.distinct(CustomerRow.id)))
            .join(CustomerRow, CustomerRow.id == StageHistoryRow.customer_id)
            .where(CustomerRow.stage.in_([Stage.WON.value, Stage.LOST.value]))
            .group_by(StageHistoryRow.to_stage, CustomerRow.stage)
        )
        connection = await self.session.connection()
        return {(Stage(reached), Stage(final)): int(n) for reached, final, n in await connection.execute(query)}

    async def advances(self, start: datetime, end: datetime) -> dict[str, int]:
        """Counted by the database over the month's changes (through the index on ``changed_at``), the moves that
        count being the ones ``sales.goals`` lists: reading the whole history of every customer touched in the
        month was two fifths of the goals report at 100,000 customers."""
        row = StageHistoryRow
        forward = or_(*(and_(row.from_stage == a.value, row.to_stage == b.value) for a, b in ADVANCES))
        query = (
            select(row.employee_id, func.count())
            .where(row.changed_at >= start, row.changed_at < end, row.employee_id.is_not(None), row.employee_id != "")
            .where(forward)
            .group_by(row.employee_id)
        )
        return {str(who): int(n) for who, n in await (await self._connection()).execute(query)}

    async def close_day_counts(self, tz: ZoneInfo) -> dict[Stage, dict[int, int]]:
        """Counted by the database, by local dates, where the zone kept one UTC offset over the history (China's
        zones): a few hundred rows, not one per won customer and stage (35,000 at 100,000 customers, and a third of
        a forecast's time)."""
        connection = await self._connection()
        earliest = select(
            func.min(StageHistoryRow.changed_at), select(func.min(CustomerRow.closed_at)).scalar_subquery()
        )
        first, signed = (await connection.execute(earliest)).one()
        if first is None:
            return {}
        first = min(first, _utc(signed) if signed is not None else first)  # every time dated lies from here to now
        entered = (
            select(StageHistoryRow.to_stage.label("stage"), func.min(StageHistoryRow.changed_at).label("entered"),
                   CustomerRow.closed_at.label("signed"))
            .join(CustomerRow, CustomerRow.id == StageHistoryRow.customer_id)
            .where(CustomerRow.stage == Stage.WON.value, CustomerRow.closed_at.is_not(None))
            .where(StageHistoryRow.to_stage.in_([s.value for s in OPEN_STAGES]))
            .group_by(StageHistoryRow.customer_id, StageHistoryRow.to_stage, CustomerRow.closed_at)
        )  # fmt: skip
        offset = one_offset(tz, first, datetime.now(UTC))
        if offset is None:  # clock changes in between: each date worked out here
            rows = await connection.execute(entered)
            return close_day_counts([(Stage(stage), e, c) for stage, e, c in rows if c is not None], tz)
        spans = entered.subquery()
        dialect = connection.dialect.name
        days = _day_number(spans.c.signed, offset, dialect) - _day_number(spans.c.entered, offset, dialect)
        counts: dict[Stage, dict[int, int]] = {}
        for stage, span, n in await connection.execute(select(spans.c.stage, days, func.count()).group_by(
                spans.c.stage, days)):  # fmt: skip
            counts.setdefault(Stage(stage), {})[round(span)] = int(n)
        return counts


async def _written_after(
    session: AsyncSession, table: type[StageHistoryRow | BriefUpdateRow], after_id: int, also: Sequence[int]
) -> list[tuple[int, int]]:
    """(id, customer id) of the rows past a reader's mark, through the primary key (``written_after``)."""
    newer = table.id > after_id
    query = select(table.id, table.customer_id).where(or_(newer, table.id.in_(list(also))) if also else newer)
    connection = await session.connection()
    return [(int(i), int(c)) for i, c in (await connection.execute(query.order_by(table.id))).all()]


class SqlBriefs(_Repo):
    async def add(self, brief: Brief) -> Brief:
        return _with_id(brief, await self._add_row(BriefRow, brief))

    async def get(self, brief_id: int) -> Brief | None:
        row = await self.session.get(BriefRow, brief_id)
        return to_record(Brief, row) if row else None

    async def set_status(self, brief_id: int, status: BriefStatus) -> None:
        await self._update_row(BriefRow, brief_id, {"status": status.value})

    async def by_sender(self, sender_id: str, *, since: datetime | None = None) -> list[Brief]:
        query = select(BriefRow).where(BriefRow.sender_id == sender_id).order_by(BriefRow.received_at, BriefRow.id)
        if since is not None:
            query = query.where(BriefRow.received_at >= since)
        return [to_record(Brief, r) for r in (await self.session.execute(query)).scalars()]

    async def add_update(self, update_: BriefUpdate) -> BriefUpdate:
        return _with_id(update_, await self._add_row(BriefUpdateRow, update_))

    async def updates_for(self, brief_id: int) -> list[BriefUpdate]:
        query = select(BriefUpdateRow).where(BriefUpdateRow.brief_id == brief_id).order_by(BriefUpdateRow.id)
        return [to_record(BriefUpdate, r) for r in (await self.session.execute(query)).scalars()]

    async def updates_for_change(self, change_id: int) -> list[BriefUpdate]:
        query = select(BriefUpdateRow).where(BriefUpdateRow.change_id == change_id).order_by(BriefUpdateRow.id)
        return [to_record(BriefUpdate, r) for r in (await self.session.execute(query)).scalars()]

    async def written_after(self, after_id: int, also: Sequence[int] = ()) -> list[tuple[int, int]]:
        return await _written_after(self.session, BriefUpdateRow, after_id, also)

    async def texts(self, customer_ids: Sequence[int] | None = None) -> list[tuple[int, datetime, str]]:
        query = (
            select(BriefUpdateRow.customer_id, BriefRow.received_at, BriefRow.text)
            .join(BriefRow, BriefRow.id == BriefUpdateRow.brief_id)
            .where(BriefRow.status != BriefStatus.UNDONE.value)
            .order_by(BriefRow.received_at, BriefRow.id)
        )
        if customer_ids is not None:
            query = query.where(BriefUpdateRow.customer_id.in_(list(customer_ids)))
        connection = await self.session.connection()
        return [(int(c), at, str(t)) for c, at, t in (await connection.execute(query)).all()]

    async def sent_per_day(
        self, since: datetime, tz: ZoneInfo, senders: Collection[str] | None = None
    ) -> list[tuple[str, date, int]]:
        where = [BriefRow.received_at >= since, BriefRow.status != BriefStatus.UNDONE.value]
        if senders is not None:
            where.append(BriefRow.sender_id.in_(sorted(senders)))
        connection = await self.session.connection()
        offset = one_offset(tz, since, datetime.now(UTC))
        if offset is None:  # a clock change since: day by day in Python
            rows = await connection.execute(select(BriefRow.sender_id, BriefRow.received_at).where(*where))
            return per_day(((str(s), at) for s, at in rows), tz)
        # one offset over the whole span (China's zones always): the database counts per local day
        day = _local_day(BriefRow.received_at, offset, connection.dialect.name)
        query = (
            select(BriefRow.sender_id, day, func.count()).where(*where).group_by(day, BriefRow.sender_id)
        )  # day first: SQLite then reads the covering index
        out = [(str(s), d if isinstance(d, date) else date.fromisoformat(d), int(n))
               for s, d, n in await connection.execute(query)]  # fmt: skip
        return sorted(out)

    async def for_customer(self, customer_id: int, limit: int = 5) -> list[Brief]:
        query = (
            select(BriefRow)
            .join(BriefUpdateRow, BriefUpdateRow.brief_id == BriefRow.id)
            .where(BriefUpdateRow.customer_id == customer_id, BriefRow.status != BriefStatus.UNDONE.value)
            .order_by(BriefRow.received_at.desc(), BriefRow.id.desc())
            .distinct()
            .limit(limit)
        )
        return [to_record(Brief, r) for r in (await self.session.execute(query)).scalars()]


class SqlChanges(_Repo):
    async def add(self, change: AppliedChange) -> AppliedChange:
        return _with_id(change, await self._add_row(AppliedChangeRow, change))

    async def last_live(self, employee_id: str, since: datetime) -> AppliedChange | None:
        query = (
            select(AppliedChangeRow)
            .where(AppliedChangeRow.employee_id == employee_id, AppliedChangeRow.undone_at.is_(None))
            .where(AppliedChangeRow.applied_at >= since)
            .order_by(AppliedChangeRow.id.desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        return to_record(AppliedChange, row) if row else None

    async def mark_undone(self, change_id: int, at: datetime) -> None:
        await self.session.execute(
            update(AppliedChangeRow).where(AppliedChangeRow.id == change_id).values(undone_at=at)
        )

    async def live_for_brief(self, brief_id: int) -> int:
        query = select(func.count()).where(AppliedChangeRow.brief_id == brief_id, AppliedChangeRow.undone_at.is_(None))
        return int((await self.session.execute(query)).scalar_one())


class SqlInbox(_Repo):
    async def put(self, message: InboxMessage) -> InboxMessage | None:
        stmt = self._insert_new(InboxRow.__table__, ("platform", "msg_id"), ("id",))
        new_id = (await self.session.execute(stmt, to_columns(message, skip=("id",)))).scalar_one_or_none()
        if new_id is not None:
            await self._notify()
        return None if new_id is None else dataclasses.replace(message, id=new_id)

    async def _notify(self) -> None:
        """On PostgreSQL, tell the workers of other processes (``Database.listening``) at this commit."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(_NOTIFY, {"channel": INBOX_CHANNEL})

    async def put_many(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """A batch of callbacks in one statement sent with many parameter sets (group commit); a message repeated
        inside the batch counts as new once, like a retry."""
        first = _first_of_each(messages)
        if not first:
            return []
        rows = [to_columns(messages[i], skip=("id",)) for i in first.values()]
        stmt = self._insert_new(InboxRow.__table__, ("platform", "msg_id"), ("platform", "msg_id"))
        stored = {(platform, msg_id) for platform, msg_id in await self.session.execute(stmt, rows)}
        if stored:
            await self._notify()
        return _new_ones(messages, first, stored)

    async def claim(self, limit: int = 1) -> list[InboxMessage]:
        """The oldest new messages that are also their senders' oldest: with several workers (PostgreSQL, rows locked
        with SKIP LOCKED) a rep's second message waits while the first is in another worker's hands, so each rep
        is answered in order while different reps are handled side by side."""
        connection = await self._connection()
        return [_record(InboxMessage, row) for row in await connection.execute(_claiming(limit))]

    async def finish(self, done: Sequence[Finished], at: datetime) -> None:
        if not done:
            return
        connection = await self._connection()
        params = [{"id_": d.message_id, "status_": d.status.value, "error_": d.error, "at_": at} for d in done]
        await connection.execute(_FINISHING, params)

    async def get(self, message_id: int) -> InboxMessage | None:
        row = await self.session.get(InboxRow, message_id)
        return to_record(InboxMessage, row) if row else None

    async def count(self, status: InboxStatus | None = None) -> int:
        query = select(func.count()).select_from(InboxRow)
        if status is not None:
            query = query.where(InboxRow.status == status.value)
        return int((await self.session.execute(query)).scalar_one())

    async def oldest_waiting(self) -> datetime | None:
        query = select(func.min(InboxRow.received_at)).where(InboxRow.status == InboxStatus.NEW.value)
        value: datetime | None = (await self.session.execute(query)).scalar_one()
        return value


def _first_of_each(messages: Sequence[InboxMessage]) -> dict[tuple[str, str], int]:
    """Each (platform, msg_id) of a batch and where it first comes: a message repeated inside a batch is a retry."""
    first: dict[tuple[str, str], int] = {}
    for index, message in enumerate(messages):
        first.setdefault((message.platform, message.msg_id), index)
    return first


def _new_ones(messages: Sequence[InboxMessage], first: dict[tuple[str, str], int], stored: set[Any]) -> list[bool]:
    return [first[key] == i and key in stored for i, key in enumerate((m.platform, m.msg_id) for m in messages)]


PREPARED_BATCH = 256  # callbacks stored at once, prepared for: several times the platforms' concurrency


def prepare_inbox_statements(dialect: Dialect, largest: int = PREPARED_BATCH) -> None:
    """Compile the intake's statement for every shape a batch of up to ``largest`` callbacks takes (on SQLite, where a
    statement holds 69, for any batch), before the server listens. Each shape compiled on first use held the event
    loop for 1-25 ms, in the middle of the first burst, with every callback of it waiting (ack p99 and a few percent of
    the burst's acknowledgements)."""
    top = min(largest, _inbox_rows_per_statement(dialect))
    for count in sorted({min(top, 1 << bits) for bits in range(top.bit_length() + 1)}):  # the shapes: powers of two
        _inbox_statements(dialect, [_SAMPLE_CALLBACK] * count)  # and the statement's limit


def _inbox_rows_per_statement(dialect: Dialect) -> int:
    limit = _NEW_ROWS_PARAMETERS if dialect.name == "sqlite" else _PG_PARAMETERS
    return max(1, limit // len(_field_names(InboxMessage, ("id",))))


_SAMPLE_CALLBACK = InboxMessage("", "", "", datetime(2026, 1, 1, tzinfo=UTC), kind="text")


def _inbox_statements(dialect: Dialect, chosen: list[InboxMessage]) -> list[tuple[str, tuple[Any, ...]]]:
    """The multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING platform, msg_id`` statements for a batch and their
    parameters, in as few statements as the driver allows; on PostgreSQL each notifies the workers (``INBOX_CHANNEL``)
    when it stored anything, in the same statement."""
    keys = _field_names(InboxMessage, ("id",))
    table = typing_cast(Table, InboxRow.__table__)
    size = _inbox_rows_per_statement(dialect)
    statements = []
    for start in range(0, len(chosen), size):
        part = chosen[start : start + size]
        shape = min(size, 1 << (len(part) - 1).bit_length())  # a few statement sizes, padded with the last row
        sql, order, processors = _new_rows_sql(table, keys, ("platform", "msg_id"), ("platform", "msg_id"), shape,
                                               dialect)  # fmt: skip
        if dialect.name == "postgresql":
            sql = f"WITH new AS ({sql}) SELECT platform, msg_id, pg_notify('{INBOX_CHANNEL}', '') FROM new"
        columns = [[getattr(m, key) for m in part] for key in keys]
        for i, process in processors:
            columns[i] = _processed(process, columns[i])
        columns = [c + c[-1:] * (shape - len(part)) for c in columns]  # the padding is inserted (or not) once
        statements.append((sql, tuple(columns[c][r] for r, c in order)))
    return statements


async def put_inbox_in_one_trip(connection: Any, messages: Sequence[InboxMessage]) -> list[bool]:
    """A batch of callbacks stored and committed in one trip (``SqlInbox.put_many`` otherwise). In a burst the event
    loop is busy decrypting callbacks, and each await of a unit of work (checkout and its ping, BEGIN, INSERT, NOTIFY,
    COMMIT, reset) waited its turn behind all of them: the first batch of a burst took 50-100 ms. On SQLite
    ``connection`` is a held connection whose thread runs BEGIN, the statements and COMMIT at once; on PostgreSQL one
    in autocommit, each statement a transaction of its own (a batch larger than one statement takes, about 2,400
    callbacks, could be stored in part and refused: the platform's retry then finds those stored, and nothing is kept
    twice)."""
    first = _first_of_each(messages)
    if not first:
        return []
    statements = _inbox_statements(connection.dialect, [messages[i] for i in first.values()])
    if connection.dialect.name == "sqlite":
        raw = await connection.get_raw_connection()
        rows = await commit_in_one_hop(raw.driver_connection, statements)
    else:
        rows = [row for sql, params in statements for row in await connection.exec_driver_sql(sql, params)]
    return _new_ones(messages, first, {(row[0], row[1]) for row in rows})


@functools.cache
def _leasing() -> Any:
    """Lease the due messages in one statement built once: ``WITH due AS MATERIALIZED (the first due, FOR UPDATE SKIP
    LOCKED) UPDATE … SET next_attempt_at = :until, attempts = attempts + 1 WHERE id IN (SELECT id FROM due) RETURNING
    <the record>``. Materialized, the limited, locking select runs once: as a plain ``IN`` subquery PostgreSQL may
    scan it again inside a join and lease more rows than the limit."""
    outbox = typing_cast(Table, OutboxRow.__table__)
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.status == OutboxStatus.PENDING.value,
            outbox.c.platform.in_(bindparam("platforms_", expanding=True)),
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= bindparam("now_")),
        )
        .order_by(outbox.c.id)
        .limit(bindparam("limit_"))
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    returned = [outbox.c[name] for name, _ in _converters(OutboxMessage)]
    values = {"next_attempt_at": bindparam("until_", type_=outbox.c.next_attempt_at.type),
              "attempts": outbox.c.attempts + 1}  # fmt: skip
    return update(outbox).where(outbox.c.id.in_(select(due.c.id))).values(values).returning(*returned)


_WINDOW_WRITING = (
    update(SendWindowRow)
    .where(SendWindowRow.platform == bindparam("platform_"), SendWindowRow.recipient == bindparam("recipient_"))
    .values(sends=bindparam("sends_", type_=SendWindowRow.__table__.c.sends.type))
)  # built once: every window of a drain written back in one executemany

_RENEWING = (
    update(OutboxRow)
    .where(OutboxRow.id == bindparam("id_"), OutboxRow.attempts == bindparam("attempts_"))
    .where(OutboxRow.status == OutboxStatus.PENDING.value)
    .values(next_attempt_at=bindparam("until_", type_=OutboxRow.__table__.c.next_attempt_at.type))
)  # built once: renewed before a send once half a lease has passed


_STILL_PENDING = (OutboxRow.id == bindparam("id_"), OutboxRow.status == OutboxStatus.PENDING.value)
# a failure or a retry never overwrites a message another sender has marked sent meanwhile
_RETRYING = (
    update(OutboxRow)
    .where(*_STILL_PENDING)
    .values(
        next_attempt_at=bindparam("at_", type_=OutboxRow.__table__.c.next_attempt_at.type),
        last_error=bindparam("error_"),
    )
)
_FAILING = (
    update(OutboxRow).where(*_STILL_PENDING).values(status=OutboxStatus.FAILED.value, last_error=bindparam("error_"))
)


class SqlOutbox(_Repo):
    async def enqueue(self, message: OutboxMessage) -> bool:
        stmt = self._insert_new(OutboxRow.__table__, ("key",), ("id",))
        connection = await self._connection()
        return (await connection.execute(stmt, to_columns(message, skip=("id",)))).scalar_one_or_none() is not None

    async def enqueue_many(self, messages: Sequence[OutboxMessage]) -> int:
        if not messages:
            return 0
        stmt = self._insert_new(OutboxRow.__table__, ("key",), ("id",))
        connection = await self._connection()
        rows = [to_columns(message, skip=("id",)) for message in messages]
        return len((await connection.execute(stmt, rows)).all())

    async def lease_due(
        self, now: datetime, until: datetime, limit: int, platforms: Sequence[str]
    ) -> list[OutboxMessage]:
        connection = await self._connection()
        params = {"now_": now, "until_": until, "limit_": limit, "platforms_": list(platforms)}
        rows = await connection.execute(_leasing(), params)
        return sorted((_record(OutboxMessage, r) for r in rows), key=lambda m: m.id or 0)  # RETURNING has no order

    async def reserve(self, wanted: Sequence[Wanted], now: datetime) -> dict[tuple[str, str], tuple[int, datetime]]:
        """Three statements for the whole drain (a missing window made, the windows read and locked in one order,
        all written back at once), not three per recipient through the ORM: with a reply to each of 200 reps that
        was three statements per message sent."""
        if not wanted:
            return {}
        table = typing_cast(Table, SendWindowRow.__table__)
        connection = await self._connection()
        keys = sorted({(w.platform, w.recipient) for w in wanted})
        make = self._insert()(table).on_conflict_do_nothing(index_elements=["platform", "recipient"])
        await connection.execute(make, [{"platform": p, "recipient": r, "sends": []} for p, r in keys])
        windows: dict[tuple[str, str], list[str]] = {}
        for start in range(0, len(keys), 400):  # two parameters a key, under SQLite's bound-parameter limit
            chunk = keys[start : start + 400]
            query = (
                select(table.c.platform, table.c.recipient, table.c.sends)
                .where(tuple_(table.c.platform, table.c.recipient).in_(chunk))
                .order_by(table.c.platform, table.c.recipient)
                .with_for_update()  # other instances wait here, locking in the same order: never each on the other
            )
            windows |= {(p, r): list(sends or []) for p, r, sends in await connection.execute(query)}
        out: dict[tuple[str, str], tuple[int, datetime]] = {}
        written = []
        for platform, recipient, limit, sends in wanted:
            kept, granted, frees = take_slots(windows.get((platform, recipient), []), now, limit, sends)
            windows[(platform, recipient)] = kept
            out[(platform, recipient)] = (granted, frees)
            written.append({"platform_": platform, "recipient_": recipient, "sends_": kept})
        await connection.execute(_WINDOW_WRITING, written)
        return out

    async def progress(self, message_id: int, parts_done: int) -> None:
        row = await self.session.get(OutboxRow, message_id)
        if row is not None:
            row.payload = {**row.payload, "parts_done": parts_done}
            await self.session.flush()

    async def renew(self, message_id: int, attempts: int, until: datetime) -> bool:
        connection = await self._connection()
        result = await connection.execute(_RENEWING, {"id_": message_id, "attempts_": attempts, "until_": until})
        return bool(getattr(result, "rowcount", 0))

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        values = {"status": OutboxStatus.SENT.value, "sent_at": at, "last_error": None}
        await self._update_row(OutboxRow, message_id, values)

    async def retry_later(self, message_id: int, error: str, at: datetime) -> None:
        connection = await self._connection()
        await connection.execute(_RETRYING, {"id_": message_id, "at_": at, "error_": error})

    async def mark_failed(self, message_id: int, error: str) -> None:
        connection = await self._connection()
        await connection.execute(_FAILING, {"id_": message_id, "error_": error})

    async def by_key(self, key: str) -> OutboxMessage | None:
        row = (await self.session.execute(select(OutboxRow).where(OutboxRow.key == key))).scalar_one_or_none()
        return to_record(OutboxMessage, row) if row else None

    async def backlog(self) -> tuple[int, datetime | None, int, int]:
        pending = OutboxRow.status == OutboxStatus.PENDING.value
        query = select(
            func.count(), func.min(OutboxRow.created_at), func.count().filter(OutboxRow.attempts >= RETRYING)
        )
        count, oldest, retrying = (await self.session.execute(query.where(pending))).one()
        failed = select(func.count()).where(OutboxRow.status == OutboxStatus.FAILED.value)
        return int(count), oldest, int(retrying), int((await self.session.execute(failed)).scalar_one())

    async def find(self, *, to_user: str | None = None) -> list[OutboxMessage]:
        query = select(OutboxRow).order_by(OutboxRow.id)
        if to_user is not None:
            query = query.where(OutboxRow.to_user == to_user)
        return [to_record(OutboxMessage, r) for r in (await self.session.execute(query)).scalars()]


class SqlPending(_Repo):
    async def add(self, question: PendingQuestion) -> PendingQuestion:
        return _with_id(question, await self._add_row(PendingRow, question))

    async def for_conversation(self, platform: str, chat_id: str, user_id: str) -> list[PendingQuestion]:
        query = _reading_all(PendingQuestion, PendingRow, ("platform", "chat_id", "user_id"))
        connection = await self._connection()
        rows = await connection.execute(query, {"platform_": platform, "chat_id_": chat_id, "user_id_": user_id})
        return [_record(PendingQuestion, r) for r in rows]

    async def delete(self, question_id: int) -> bool:
        result = await self.session.execute(delete(PendingRow).where(PendingRow.id == question_id))
        return bool(getattr(result, "rowcount", 0))

    async def delete_for_brief(self, brief_id: int) -> int:
        result = await self.session.execute(delete(PendingRow).where(PendingRow.brief_id == brief_id))
        return int(getattr(result, "rowcount", 0) or 0)


class SqlAudit(_Repo):
    async def add(self, entry: AuditEntry) -> None:
        self.session.add(AuditRow(**to_columns(entry, skip=("id",))))
        await self.session.flush()

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        return [to_record(AuditEntry, r) for r in (await self.session.execute(query)).scalars()]

    async def since(self, actions: Sequence[str], since: datetime) -> list[AuditEntry]:
        query = select(AuditRow).where(AuditRow.action.in_(list(actions)), AuditRow.at >= since).order_by(AuditRow.id)
        return [to_record(AuditEntry, r) for r in (await self.session.execute(query)).scalars()]

    async def count(self, action: str, actor: str, since: datetime) -> int:
        where = (AuditRow.action == action, AuditRow.actor == actor, AuditRow.at >= since)
        return int((await self.session.execute(select(func.count()).select_from(AuditRow).where(*where))).scalar_one())

    async def written_after(
        self, after_id: int, also: Sequence[int] = (), actions: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        newer = AuditRow.id > after_id
        query = select(AuditRow.id, AuditRow.action).where(or_(newer, AuditRow.id.in_(list(also))) if also else newer)
        connection = await self.session.connection()
        rows = (await connection.execute(query.order_by(AuditRow.id))).all()
        return [(int(i), int(action in actions)) for i, action in rows]


class SqlUnitOfWork:
    """One session, one transaction; leaving without ``commit()`` rolls back.

    With ``writer`` (SQLite, one writer at a time) units of work in this process take turns (see
    ``WriterLock``; storing callbacks, ``Database.store_callbacks``, goes first), ``read_only`` ones need no turn.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        writer: WriterLock | None = None,
        *,
        read_only: bool = False,
        names: NamesClock | None = None,
        readers: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        self._readers = readers
        self._writer = writer
        self.read_only = read_only
        self._names = names

    async def __aenter__(self) -> Self:
        if self._writer is not None:
            await self._writer.acquire()
        self.session = self._sessions()
        self.employees = SqlEmployees(self.session)
        self.teams = SqlTeams(self.session)
        self.customers = SqlCustomers(self.session, self._names)
        self.stages = SqlStageHistory(self.session)
        self.briefs = SqlBriefs(self.session)
        self.changes = SqlChanges(self.session)
        self.inbox = SqlInbox(self.session)
        self.outbox = SqlOutbox(self.session)
        self.audit = SqlAudit(self.session)
        self.pending = SqlPending(self.session)
        self.reminders = SqlReminders(self.session)
        self.standups = SqlStandups(self.session)
        self.forecasts = SqlForecasts(self.session)
        self.goals = SqlGoals(self.session)
        self.points = SqlPoints(self.session)
        self.web = SqlWeb(self.session)
        self.leads = SqlLeads(self.session)
        self.quotes = SqlQuotes(self.session)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            try:
                await self.session.close()
            finally:
                if self._writer is not None:
                    self._writer.release()

    async def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.session.commit()
        if self.customers.names_touched and self._names is not None:
            self._names.changed()
        self.customers.names_touched = False

    async def rollback(self) -> None:
        await self.session.rollback()

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        return self.session.begin_nested()

    def beside(self) -> SqlUnitOfWork:
        readers = self._readers or session_factory(self._sessions.kw["bind"], read_only=True)
        return SqlUnitOfWork(readers, None, read_only=True, names=self._names, readers=readers)


_OPEN = [s.value for s in OPEN_STAGES]


_REMINDERS_SENT = select(
    ReminderRow.customer_id,
    ReminderRow.reason,
    ReminderRow.stay,
    ReminderRow.level,
    ReminderRow.to_employee,
    ReminderRow.sent_at,
).where(ReminderRow.customer_id.in_(bindparam("ids_", expanding=True)))  # built once: a brief asks for one customer's


class SqlReminders(_Repo):
    """The stall scan's queries: plain columns through the indexes, no ORM objects per row."""

    async def scan_stalled(
        self, stage: Stage, entered_before: datetime, owners: Collection[str] | None = None
    ) -> list[ScanRow]:
        where = [CustomerRow.stage == stage.value, CustomerRow.stage_entered_at < entered_before]
        return await load_many(self.session, ScanRow, CustomerRow, *where, *_owned_by(owners))

    async def scan_steps_due(self, due_by: date, owners: Collection[str] | None = None) -> list[ScanRow]:
        where = [CustomerRow.next_action_date <= due_by, CustomerRow.stage.in_(_OPEN)]
        return await load_many(self.session, ScanRow, CustomerRow, *where, *_owned_by(owners))

    async def sent(self, customer_ids: Sequence[int]) -> list[Reminder]:
        out: list[Reminder] = []
        ids = list(customer_ids)
        connection = await self._connection()
        for start in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            rows = await connection.execute(_REMINDERS_SENT, {"ids_": ids[start : start + 900]})
            out += [Reminder(*row) for row in rows]
        return out

    async def record(self, reminders: Sequence[Reminder]) -> set[str]:
        if not reminders:
            return set()
        columns = {name: [getattr(r, name) for r in reminders]
                   for name in ("key", "customer_id", "reason", "stay", "level", "to_employee", "sent_at")}  # fmt: skip
        # the keys really inserted come back, so two instances scanning at once never both send one
        table = typing_cast(Table, ReminderRow.__table__)
        return {str(key) for key in await self._new_rows(table, columns, ("key",), "key")}


def _owned_by(owners: Collection[str] | None) -> list[Any]:
    """The condition for "customers of these owners only" (none: everyone's)."""
    return [] if owners is None else [CustomerRow.owner_id.in_(sorted(owners))]


class SqlStandups(_Repo):
    async def open(self, standup: Standup) -> Standup | None:
        stmt = self._insert_new(StandupRow.__table__, ("team", "day"), ("id",))
        new_id = (await self.session.execute(stmt, to_columns(standup, skip=("id",)))).scalar_one_or_none()
        return None if new_id is None else dataclasses.replace(standup, id=new_id)

    async def get(self, team: str, day: date) -> Standup | None:
        query = select(StandupRow).where(StandupRow.team == team, StandupRow.day == day)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return to_record(Standup, row) if row else None

    async def latest(self, team: str) -> Standup | None:
        query = select(StandupRow).where(StandupRow.team == team).order_by(StandupRow.day.desc()).limit(1)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return to_record(Standup, row) if row else None

    async def due_to_close(self, now: datetime) -> list[Standup]:
        query = select(StandupRow).where(StandupRow.closed_at.is_(None), StandupRow.closes_at <= now)
        return [to_record(Standup, r) for r in (await self.session.execute(query)).scalars()]

    async def close(self, standup_id: int, at: datetime) -> bool:
        result = await self.session.execute(
            update(StandupRow).where(StandupRow.id == standup_id, StandupRow.closed_at.is_(None)).values(closed_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def answer(self, entry: StandupEntry) -> None:
        await self.session.execute(
            delete(StandupEntryRow).where(
                StandupEntryRow.standup_id == entry.standup_id, StandupEntryRow.employee_id == entry.employee_id
            )
        )
        self.session.add(StandupEntryRow(**to_columns(entry, skip=("id",))))
        await self._flush()

    async def entries(self, standup_id: int) -> list[StandupEntry]:
        query = select(StandupEntryRow).where(StandupEntryRow.standup_id == standup_id).order_by(StandupEntryRow.id)
        return [to_record(StandupEntry, r) for r in (await self.session.execute(query)).scalars()]


class SqlForecasts(_Repo):
    async def snapshot(self, snapshots: Sequence[Snapshot]) -> int:
        count = 0
        for s in snapshots:
            stmt = (
                self._insert()(ForecastSnapshotRow)
                .values(owner_id=s.owner_id, month=s.month, expected=s.expected, taken_on=s.taken_on)
                .on_conflict_do_nothing(index_elements=["owner_id", "month", "taken_on"])
                .returning(ForecastSnapshotRow.id)
            )
            count += (await self.session.execute(stmt)).scalar_one_or_none() is not None
        return count

    async def snapshots(self) -> list[Snapshot]:
        order = (ForecastSnapshotRow.taken_on, ForecastSnapshotRow.id)
        return await load_many(self.session, Snapshot, ForecastSnapshotRow, order=order)

    async def first_snapshots(self, months: Sequence[str]) -> list[Snapshot]:
        row = ForecastSnapshotRow
        if self.session.get_bind().dialect.name == "postgresql":
            taken_month: Any = func.to_char(row.taken_on, "YYYY-MM")
        else:
            taken_month = func.substr(row.taken_on, 1, 7)  # SQLite keeps a date as its ISO text
        first = func.min(row.taken_on).label("first")
        within = select(row.owner_id, row.month, first).where(taken_month == row.month)
        listed = select(row.owner_id, row.month, first).where(row.month.in_(list(months)))
        picked = union(within.group_by(row.owner_id, row.month), listed.group_by(row.owner_id, row.month)).subquery()
        where = (row.owner_id == picked.c.owner_id, row.month == picked.c.month, row.taken_on == picked.c.first)
        return await load_many(self.session, Snapshot, row, *where, order=(row.taken_on, row.id))


class SqlGoals(_Repo):
    async def for_month(self, month: str) -> list[Goal]:
        order = (GoalRow.level, GoalRow.subject, GoalRow.kpi)
        return await load_many(self.session, Goal, GoalRow, GoalRow.month == month, order=order)

    async def get(self, month: str, level: Level, subject: str, kpi: Kpi) -> Goal | None:
        where = (GoalRow.month == month, GoalRow.level == level.value, GoalRow.subject == subject,
                 GoalRow.kpi == kpi.value)  # fmt: skip
        found = await load_many(self.session, Goal, GoalRow, *where)
        return found[0] if found else None

    async def put(self, goal: Goal) -> str:
        existing = await self.get(goal.month, goal.level, goal.subject, goal.kpi)
        if existing is None:
            self.session.add(GoalRow(**to_columns(goal, skip=("id",))))
            await self._flush()
            return "added"
        if (existing.target, existing.objective) == (goal.target, goal.objective):
            return "unchanged"
        await self._write(update(GoalRow).where(GoalRow.id == existing.id)
                          .values(target=goal.target, objective=goal.objective))  # fmt: skip
        return "updated"


class SqlPoints(_Repo):
    async def award(self, entries: Sequence[PointsEntry]) -> list[PointsEntry]:
        new = []
        for entry in entries:
            stmt = self._insert_new(PointsRow.__table__, ("key",), ("id",))
            new_id = (await self.session.execute(stmt, to_columns(entry, skip=("id",)))).scalar_one_or_none()
            if new_id is not None:
                new.append(dataclasses.replace(entry, id=new_id))
        return new

    async def balance(self, employee_id: str) -> int:
        query = select(func.coalesce(func.sum(PointsRow.points), 0)).where(PointsRow.employee_id == employee_id)
        return int((await self.session.execute(query)).scalar_one())

    async def recent(self, employee_id: str, limit: int = 5) -> list[PointsEntry]:
        query = (select(PointsRow).where(PointsRow.employee_id == employee_id)
                 .order_by(PointsRow.at.desc(), PointsRow.id.desc()).limit(limit))  # fmt: skip
        return [to_record(PointsEntry, r) for r in (await self.session.execute(query)).scalars()]

    async def earned(self, start: datetime, end: datetime) -> dict[str, int]:
        query = (
            select(PointsRow.employee_id, func.sum(PointsRow.points))
            .where(PointsRow.at >= start, PointsRow.at < end, PointsRow.rule != "redeem")
            .group_by(PointsRow.employee_id)
        )
        return {who: int(total) for who, total in (await self.session.execute(query)).all()}

    async def delete_for_brief(self, brief_id: int) -> int:
        result = await self.session.execute(delete(PointsRow).where(PointsRow.brief_id == brief_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_for_change(self, change_id: int) -> int:
        result = await self.session.execute(delete(PointsRow).where(PointsRow.change_id == change_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def request(self, redemption: Redemption) -> Redemption:
        row = RedemptionRow(**to_columns(redemption, skip=("id",)))
        self.session.add(row)
        await self._flush()
        return dataclasses.replace(redemption, id=row.id)

    async def redemption(self, redemption_id: int) -> Redemption | None:
        row = await self.session.get(RedemptionRow, redemption_id)
        return to_record(Redemption, row) if row else None

    async def decide(self, redemption_id: int, status: str, by: str, at: datetime) -> bool:
        result = await self.session.execute(
            update(RedemptionRow)
            .where(RedemptionRow.id == redemption_id, RedemptionRow.status == RedemptionStatus.PENDING)
            .values(status=status, decided_by=by, decided_at=at)
        )
        return bool(getattr(result, "rowcount", 0))

    async def pending_requests(self) -> list[Redemption]:
        where = RedemptionRow.status == RedemptionStatus.PENDING
        return await load_many(self.session, Redemption, RedemptionRow, where, order=(RedemptionRow.id,))

    async def pending_points(self, employee_id: str) -> int:
        query = select(func.coalesce(func.sum(RedemptionRow.points), 0)).where(
            RedemptionRow.employee_id == employee_id, RedemptionRow.status == RedemptionStatus.PENDING
        )
        return int((await self.session.execute(query)).scalar_one())


class SqlWeb(_Repo):
    async def add_link(self, token_hash: str, employee_id: str, now: datetime, expires_at: datetime) -> None:
        await self._write(insert(WebLinkRow).values(token_hash=token_hash, employee_id=employee_id, created_at=now,
                                                    expires_at=expires_at))  # fmt: skip

    async def redeem_link(self, token_hash: str, now: datetime) -> str | None:
        row = WebLinkRow
        statement = (
            update(row)
            .where(row.token_hash == token_hash, row.used_at.is_(None), row.expires_at > now)
            .values(used_at=now)
            .returning(row.employee_id)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def open_session(self, token_hash: str, employee_id: str, csrf: str, now: datetime,
                           expires_at: datetime) -> None:  # fmt: skip
        await self._write(insert(WebSessionRow).values(token_hash=token_hash, employee_id=employee_id, csrf=csrf,
                                                       created_at=now, expires_at=expires_at))  # fmt: skip

    async def find_session(self, token_hash: str, now: datetime) -> WebSession | None:
        row = WebSessionRow
        query = select(row.employee_id, row.csrf, row.expires_at).where(row.token_hash == token_hash,
                                                                          row.expires_at > now)  # fmt: skip
        found = (await self.session.execute(query)).first()
        return WebSession(*found) if found is not None else None

    async def close_session(self, token_hash: str) -> None:
        await self._write(delete(WebSessionRow).where(WebSessionRow.token_hash == token_hash))

    async def close_sessions_of(self, employee_id: str) -> int:
        result = await self.session.execute(delete(WebSessionRow).where(WebSessionRow.employee_id == employee_id))
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge(self, now: datetime) -> int:
        links = await self.session.execute(delete(WebLinkRow).where(WebLinkRow.expires_at <= now))
        sessions = await self.session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at <= now))
        return int(getattr(links, "rowcount", 0) or 0) + int(getattr(sessions, "rowcount", 0) or 0)


class SqlLeads(_Repo):
    async def add(self, lead: Lead) -> Lead:
        return _with_id(lead, await self._add_row(LeadRow, lead))

    async def by_name(self, name: str) -> Lead | None:
        found = await load_many(self.session, Lead, LeadRow, LeadRow.name == name)
        return found[0] if found else None

    async def for_customer(self, customer_id: int) -> Lead | None:
        found = await load_many(self.session, Lead, LeadRow, LeadRow.customer_id == customer_id, limit=1)
        return found[0] if found else None

    async def update(self, lead: Lead) -> None:
        assert lead.id is not None
        await self._write(update(LeadRow).where(LeadRow.id == lead.id).values(**to_columns(lead, skip=("id",))))

    async def waiting_for_contact(self) -> list[Lead]:
        where = (LeadRow.assigned_at.is_not(None), LeadRow.first_response_at.is_(None))
        return await load_many(self.session, Lead, LeadRow, *where, order=(LeadRow.assigned_at, LeadRow.id))

    async def unassigned(self) -> list[Lead]:
        order = (LeadRow.received_at, LeadRow.id)
        return await load_many(self.session, Lead, LeadRow, LeadRow.customer_id.is_(None), order=order)

    async def find(self, *, owner_ids: Sequence[str] | None = None) -> list[Lead]:
        where = [] if owner_ids is None else [LeadRow.owner_id.in_(list(owner_ids))]
        return await load_many(self.session, Lead, LeadRow, *where, order=(LeadRow.id,))

    async def add_events(self, events: Sequence[LeadEvent]) -> int:
        new = 0
        for e in events:  # one statement each: the key decides, and a batch from a website is small
            statement = (
                self._insert()(LeadEventRow)
                .values(**to_columns(e, skip=("id",)))
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(LeadEventRow.id)
            )
            new += (await self.session.execute(statement)).scalar_one_or_none() is not None
        return new

    async def events(self, lead_ids: Sequence[int]) -> list[LeadEvent]:
        if not lead_ids:
            return []
        where = LeadEventRow.lead_id.in_(list(lead_ids))
        return await load_many(self.session, LeadEvent, LeadEventRow, where, order=(LeadEventRow.at, LeadEventRow.id))

    async def channel_outcomes(self) -> dict[str, tuple[int, int]]:
        won = func.sum(case((CustomerRow.stage == Stage.WON.value, 1), else_=0))
        query = (
            select(LeadRow.channel, func.count(LeadRow.id), won)
            .outerjoin(CustomerRow, CustomerRow.id == LeadRow.customer_id)
            .where(LeadRow.customer_id.is_not(None))
            .group_by(LeadRow.channel)
        )
        return {str(c): (int(n), int(w or 0)) for c, n, w in (await self.session.execute(query)).all()}

    async def put_cost(self, channel: str, month: str, spend: Decimal) -> str:
        row = ChannelCostRow
        where = (row.channel == channel, row.month == month)
        old = (await self.session.execute(select(row.id, row.spend).where(*where))).first()
        if old is None:
            await self._write(insert(row).values(channel=channel, month=month, spend=spend))
            return "added"
        if old.spend == spend:
            return "unchanged"
        await self._write(update(row).where(row.id == old.id).values(spend=spend))
        return "updated"

    async def spend(self, months: Sequence[str] | None = None) -> dict[str, Decimal]:
        row = ChannelCostRow
        query = select(row.channel, func.sum(row.spend)).group_by(row.channel)
        if months is not None:
            query = query.where(row.month.in_(list(months)))
        # the sum keeps the column's type: it comes back in yuan, as a Decimal
        return {str(c): Decimal(v or 0) for c, v in (await self.session.execute(query)).all()}


_QUOTE_FIELDS = ("number", "version", "customer_id", "customer_name", "rep_id", "valid_until", "payment_terms",
                 "created_at", "status", "approval", "waiting_for", "decided_by", "note", "total")  # fmt: skip


def _product_columns(p: Product) -> dict[str, Any]:
    return {"code": p.code, "name": p.name, "unit": p.unit, "list_price": p.list_price, "tax_rate": p.tax_rate,
            "effective_from": p.effective_from, "floor_price": p.floor_price, "max_discount": p.max_discount,
            "aliases": list(p.aliases), "includes": [[c, str(n)] for c, n in p.includes]}  # fmt: skip


def _product(row: Any) -> Product:
    includes = tuple((str(c), Decimal(str(n))) for c, n in row.includes or ())
    return Product(row.code, row.name, row.unit, row.list_price, row.tax_rate, row.effective_from, row.floor_price,
                   row.max_discount, tuple(row.aliases or ()), includes, row.id)  # fmt: skip


def _quote(row: Any) -> Quote:
    return Quote(
        row.number, row.version, row.customer_id, row.customer_name, row.rep_id,
        tuple(line_of(x) for x in row.lines), discount_of(row.discount), row.valid_until, row.payment_terms,
        row.created_at, QuoteStatus(row.status), Approval(row.approval), row.waiting_for, row.decided_by, row.note,
        row.total, row.id,
    )  # fmt: skip


class SqlQuotes(_Repo):
    _columns = tuple(c for c in QuoteRow.__table__.columns if c.key not in ("pdf", "xlsx"))

    async def put_products(self, products: Sequence[Product]) -> tuple[int, int, int]:
        added = changed = same = 0
        stored = {(r.code, r.effective_from): r for r in (await self.session.execute(select(ProductRow))).scalars()}
        for p in products:
            values = _product_columns(p)
            row = stored.get((p.code, p.effective_from))
            if row is None:
                row = ProductRow(**values)
                self.session.add(row)
                stored[p.code, p.effective_from] = row
                added += 1
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                changed += 1
            else:
                same += 1
        await self.session.flush()
        return added, changed, same

    async def products(self) -> list[Product]:
        rows = await self.session.execute(select(ProductRow).order_by(ProductRow.code, ProductRow.effective_from))
        return [_product(r) for r in rows.scalars()]

    async def next_serial(self, year: int) -> int:
        prefix = f"Q-{year}-"
        numbers = await self.session.execute(select(QuoteRow.number).where(QuoteRow.number.like(prefix + "%")))
        serials = [int(n[len(prefix) :]) for n in numbers.scalars() if n[len(prefix) :].isdigit()]
        return max(serials, default=0) + 1

    async def add(self, quote: Quote) -> Quote:
        values = {k: getattr(quote, k) for k in _QUOTE_FIELDS}
        values["status"], values["approval"] = quote.status.value, quote.approval.value
        values["lines"] = [line_json(x) for x in quote.lines]
        values["discount"] = discount_json(quote.discount)
        try:
            async with self.session.begin_nested():
                result = await self.session.execute(insert(QuoteRow).values(**values).returning(QuoteRow.id))
        except IntegrityError as exc:
            raise ConflictError(str(exc.orig)) from exc
        quote.id = int(result.scalar_one())
        return quote

    async def _find(self, *where: Any, order: Any = QuoteRow.id, limit: int | None = None) -> list[Quote]:
        query = select(*self._columns).where(*where).order_by(order)
        if limit is not None:
            query = query.limit(limit)
        return [_quote(r) for r in (await self.session.execute(query)).all()]

    async def get(self, quote_id: int) -> Quote | None:
        found = await self._find(QuoteRow.id == quote_id)
        return found[0] if found else None

    async def latest(self, customer_id: int) -> Quote | None:
        found = await self._find(QuoteRow.customer_id == customer_id, order=QuoteRow.id.desc(), limit=1)
        return found[0] if found else None

    async def for_customer(self, customer_id: int) -> list[Quote]:
        return await self._find(QuoteRow.customer_id == customer_id)

    async def versions(self, number: str) -> list[Quote]:
        return await self._find(QuoteRow.number == number)

    async def pending(self) -> list[Quote]:
        return await self._find(QuoteRow.status == QuoteStatus.PENDING.value)

    async def decide(self, quote: Quote, was: QuoteStatus, was_waiting_for: str | None) -> bool:
        assert quote.id is not None
        waiting = QuoteRow.waiting_for.is_(None) if was_waiting_for is None else QuoteRow.waiting_for == was_waiting_for
        statement = (
            update(QuoteRow)
            .where(QuoteRow.id == quote.id, QuoteRow.status == was.value, waiting)
            .values(
                status=quote.status.value,
                approval=quote.approval.value,
                waiting_for=quote.waiting_for,
                decided_by=quote.decided_by,
                note=quote.note,
            )
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def put_files(self, quote_id: int, pdf: bytes | None, xlsx: bytes) -> None:
        await self.session.execute(update(QuoteRow).where(QuoteRow.id == quote_id).values(pdf=pdf, xlsx=xlsx))

    async def file(self, quote_id: int, kind: str) -> bytes | None:
        column = {"pdf": QuoteRow.pdf, "xlsx": QuoteRow.xlsx}[kind]
        found = (await self.session.execute(select(column).where(QuoteRow.id == quote_id))).scalar_one_or_none()
        return None if found is None else bytes(found)
