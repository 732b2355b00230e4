"""In-memory repositories with the same Protocols, for fast tests of handlers and rules."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Self, TypeVar
from zoneinfo import ZoneInfo

from sales.accounts import CONSOLE
from sales.forecast import (
    OpenDeal,
    Signed,
    Snapshot,
    close_day_counts,
    first_snapshots,
    reach_outcomes,
    won_entries,
)
from sales.goals import Goal, Kpi, Level, advances
from sales.leads import Lead, LeadEvent
from sales.model import (
    AppliedChange,
    AuditEntry,
    Brief,
    BriefStatus,
    BriefUpdate,
    Customer,
    Employee,
    Finished,
    InboxMessage,
    InboxStatus,
    OutboxMessage,
    OutboxStatus,
    PendingQuestion,
    StageChange,
    Standup,
    StandupEntry,
    Team,
)
from sales.points import PointsEntry, Redemption, RedemptionStatus
from sales.quotes import Product, Quote, QuoteStatus
from sales.reports import Listed, Move, StageTotal, moves, per_day, stage_totals
from sales.stages import OPEN_STAGES, Stage
from sales.stall import Reminder, ScanRow
from store.errors import ConflictError as DuplicateKeyError
from store.repositories import NameChanges, Wanted, WebSession
from store.windows import take_slots


@dataclass
class MemoryState:
    employees: dict[str, Employee] = field(default_factory=dict)
    teams: dict[str, Team] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    stages: dict[int, StageChange] = field(default_factory=dict)
    briefs: dict[int, Brief] = field(default_factory=dict)
    updates: dict[int, BriefUpdate] = field(default_factory=dict)
    changes: dict[int, AppliedChange] = field(default_factory=dict)
    windows: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    inbox: dict[int, InboxMessage] = field(default_factory=dict)
    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    audit: dict[int, AuditEntry] = field(default_factory=dict)
    pending: dict[int, PendingQuestion] = field(default_factory=dict)
    reminders: dict[str, Reminder] = field(default_factory=dict)
    standups: dict[int, Standup] = field(default_factory=dict)
    entries: dict[int, StandupEntry] = field(default_factory=dict)
    snapshots: dict[tuple[str, str, date], Snapshot] = field(default_factory=dict)
    goals: dict[tuple[str, str, str, str], Goal] = field(default_factory=dict)
    ledger: dict[str, PointsEntry] = field(default_factory=dict)
    redemptions: dict[int, Redemption] = field(default_factory=dict)
    leads: dict[int, Lead] = field(default_factory=dict)
    lead_events: dict[str, LeadEvent] = field(default_factory=dict)
    costs: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    products: dict[tuple[str, date], Product] = field(default_factory=dict)
    quotes: dict[int, Quote] = field(default_factory=dict)
    quote_files: dict[int, tuple[bytes | None, bytes]] = field(default_factory=dict)
    links: dict[str, tuple[str, datetime, datetime | None]] = field(default_factory=dict)
    sessions: dict[str, WebSession] = field(default_factory=dict)
    next_id: int = 1
    names_version: int = 0  # as the SQL store's triggers keep it (migration 0014)
    names_rev: dict[int, int] = field(default_factory=dict)
    name_log: list[tuple[int, str]] = field(default_factory=list)

    def names_changed(self, customer_id: int | None, old_name: str | None) -> None:
        self.names_version += 1
        if old_name is not None:
            self.name_log.append((self.names_version, old_name))
        if customer_id is not None:
            self.names_rev[customer_id] = self.names_version

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


class MemoryStore:
    """Committed state shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.state = MemoryState()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


class _Repo:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    @property
    def s(self) -> MemoryState:
        return self.uow.state


T = TypeVar("T")


def _copy(record: T) -> T:
    return copy.deepcopy(record)


def _kept(employee: Employee) -> Employee:
    """As the SQL store keeps it: an empty account is no account."""
    kept = _copy(employee)
    kept.accounts = {p: u for p, u in kept.accounts.items() if u}
    return kept


class MemoryEmployees(_Repo):
    async def get(self, employee_id: str) -> Employee | None:
        e = self.s.employees.get(employee_id)
        return _copy(e) if e else None

    async def by_platform_user(self, platform: str, user_id: str) -> Employee | None:
        if platform == CONSOLE:
            return await self.get(user_id)
        for e in self.s.employees.values():
            if e.accounts.get(platform) == user_id:
                return _copy(e)
        return None

    async def find(self, *, team: str | None = None, active_only: bool = False) -> list[Employee]:
        found = [
            e for e in self.s.employees.values() if (team is None or e.team == team) and (not active_only or e.active)
        ]
        return [_copy(e) for e in sorted(found, key=lambda e: e.id)]

    def _check_unique(self, employee: Employee) -> None:
        for other in self.s.employees.values():
            if other.id == employee.id:
                continue
            for platform, user_id in employee.accounts.items():
                if user_id and other.accounts.get(platform) == user_id:
                    raise DuplicateKeyError(f"{platform} account {user_id}")
        if employee.team is not None and employee.team not in self.s.teams:
            raise DuplicateKeyError(f"unknown team {employee.team}")

    async def add(self, employee: Employee) -> None:
        if employee.id in self.s.employees:
            raise DuplicateKeyError(employee.id)
        self._check_unique(employee)
        self.s.employees[employee.id] = _kept(employee)

    async def update(self, employee: Employee) -> None:
        self._check_unique(employee)
        if employee.id in self.s.employees:
            self.s.employees[employee.id] = _kept(employee)


class MemoryTeams(_Repo):
    async def get(self, name: str) -> Team | None:
        t = self.s.teams.get(name)
        return _copy(t) if t else None

    async def find(self) -> list[Team]:
        return [_copy(t) for _, t in sorted(self.s.teams.items())]

    async def add(self, team: Team) -> None:
        if team.name in self.s.teams:
            raise DuplicateKeyError(team.name)
        self.s.teams[team.name] = _copy(team)

    async def update(self, team: Team) -> None:
        if team.name in self.s.teams:
            self.s.teams[team.name] = _copy(team)


class MemoryCustomers(_Repo):
    names_touched = False  # as in SqlCustomers: a name, an alias or a customer's existence written

    async def get(self, customer_id: int) -> Customer | None:
        c = self.s.customers.get(customer_id)
        return _copy(c) if c else None

    async def by_name(self, name: str) -> Customer | None:
        return next((_copy(c) for c in self.s.customers.values() if c.name == name), None)

    async def find(
        self,
        *,
        owner_ids: Sequence[str] | None = None,
        stages: Sequence[Stage] | None = None,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[Customer]:
        found = [
            _copy(c)
            for i, c in sorted(self.s.customers.items())
            if (owner_ids is None or c.owner_id in owner_ids)
            and (stages is None or c.stage in stages)
            and (ids is None or i in ids)
        ]
        return found if limit is None else found[:limit]

    async def count(self) -> int:
        return len(self.s.customers)

    async def add(self, customer: Customer) -> Customer:
        if any(c.name == customer.name for c in self.s.customers.values()):
            raise DuplicateKeyError(customer.name)
        if customer.owner_id not in self.s.employees:
            raise DuplicateKeyError(f"unknown owner {customer.owner_id}")
        stored = dataclasses.replace(_copy(customer), id=self.s.new_id())
        self.s.customers[stored.id] = stored  # type: ignore[index]
        self.s.names_changed(stored.id, None)
        self.names_touched = True
        return _copy(stored)

    async def add_many(self, customers: Sequence[Customer]) -> list[Customer]:
        return [await self.add(customer) for customer in customers]

    async def change_owner(
        self, customer_id: int, expected: str, owner: str, *, followed_before: datetime | None = None
    ) -> bool:
        found = self.s.customers.get(customer_id)
        if found is None or found.owner_id != expected:
            return False
        if (
            followed_before is not None
            and found.last_followup_at is not None
            and found.last_followup_at > followed_before
        ):
            return False
        found.owner_id = owner
        return True

    async def update(self, customer: Customer) -> None:
        if customer.id is None:
            raise ValueError("customer has no id; add it first")
        old = self.s.customers.get(customer.id)
        if old is None:
            return
        self.s.customers[customer.id] = _copy(customer)
        if (old.name, old.aliases) != (customer.name, customer.aliases):
            self.s.names_changed(customer.id, old.name if old.name != customer.name else None)
            self.names_touched = True

    def bulk_load(self, incoming: int) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def delete(self, customer_id: int) -> None:
        old = self.s.customers.pop(customer_id, None)
        if old is not None:
            self.s.names_rev.pop(customer_id, None)
            self.s.names_changed(None, old.name)
            self.names_touched = True
        for key in [k for k, v in self.s.stages.items() if v.customer_id == customer_id]:
            del self.s.stages[key]

    async def names_version(self) -> int:
        return self.s.names_version

    async def names(self) -> list[tuple[str, list[str]]]:
        return [(c.name, list(c.aliases)) for _, c in sorted(self.s.customers.items())]

    async def names_changed_since(self, version: int, limit: int) -> NameChanges | None:
        gone = [name for v, name in self.s.name_log if v > version]
        changed = sorted((v, i) for i, v in self.s.names_rev.items() if v > version)
        if len(gone) + len(changed) > limit:
            return None
        current = [(self.s.customers[i].name, list(self.s.customers[i].aliases)) for _, i in changed]
        return NameChanges(gone, current)

    async def stage_totals(self, owner_ids: Sequence[str] | None = None) -> list[StageTotal]:
        return stage_totals(await self.find(owner_ids=owner_ids))

    async def closed_between(
        self, start: datetime, end: datetime, owner_ids: Sequence[str] | None = None
    ) -> list[Customer]:
        return [c for c in await self.find(owner_ids=owner_ids, stages=[Stage.WON, Stage.LOST])
                if c.closed_at is not None and start <= c.closed_at < end]  # fmt: skip

    async def signed(self, owner_ids: Sequence[str] | None = None) -> list[Signed]:
        won = await self.find(owner_ids=owner_ids, stages=[Stage.WON])
        return [Signed(c.owner_id, c.stage, c.amount, c.closed_at) for c in won]

    async def created_per_owner(self, start: datetime, end: datetime) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.s.customers.values():
            if start <= c.created_at < end:
                out[c.owner_id] = out.get(c.owner_id, 0) + 1
        return out

    async def listed(
        self, owner_ids: Sequence[str] | None = None, stages: Sequence[Stage] | None = None
    ) -> list[Listed]:
        return [Listed(c.id, c.name, c.owner_id, c.stage, c.amount, c.expected_close, c.next_action,
                       c.next_action_date) for c in await self.find(owner_ids=owner_ids, stages=stages)
                if c.id is not None]  # fmt: skip

    async def open_deals(self, owner_ids: Sequence[str] | None = None) -> list[OpenDeal]:
        return [OpenDeal(c.id, c.name, c.owner_id, c.stage, c.amount, c.expected_close, c.confidence)
                for c in await self.find(owner_ids=owner_ids, stages=OPEN_STAGES)
                if c.id is not None and c.amount is not None]  # fmt: skip


class MemoryStageHistory(_Repo):
    async def history_version(self) -> tuple[int, int, int]:
        return max(self.s.stages, default=0), len(self.s.stages), max(self.s.audit, default=0)

    async def add(self, change: StageChange) -> StageChange:
        stored = dataclasses.replace(_copy(change), id=self.s.new_id())
        self.s.stages[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def add_many(self, changes: Sequence[StageChange]) -> None:
        for change in changes:
            await self.add(change)

    async def for_customer(self, customer_id: int) -> list[StageChange]:
        found = [c for c in self.s.stages.values() if c.customer_id == customer_id]
        return [_copy(c) for c in sorted(found, key=lambda c: (c.changed_at, c.id or 0))]

    async def everything(self, customer_ids: Sequence[int] | None = None) -> list[StageChange]:
        found = [c for c in self.s.stages.values() if customer_ids is None or c.customer_id in customer_ids]
        return [_copy(c) for c in sorted(found, key=lambda c: (c.changed_at, c.id or 0))]

    async def written_after(self, after_id: int, also: Sequence[int] = ()) -> list[tuple[int, int]]:
        return sorted((i, c.customer_id) for i, c in self.s.stages.items() if i > after_id or i in also)

    async def touched_since(self, since: datetime, owner_ids: Sequence[str] | None = None) -> list[Move]:
        mine = {i for i, c in self.s.customers.items() if owner_ids is None or c.owner_id in owner_ids}
        touched = {c.customer_id for c in self.s.stages.values() if c.changed_at >= since} & mine
        return moves(c for c in await self.everything() if c.customer_id in touched)

    async def reach_outcomes(self) -> dict[tuple[Stage, Stage], int]:
        return reach_outcomes(list(self.s.customers.values()), list(self.s.stages.values()))

    async def advances(self, start: datetime, end: datetime) -> dict[str, int]:
        return advances(self.s.stages.values(), start, end)

    async def close_day_counts(self, tz: ZoneInfo) -> dict[Stage, dict[int, int]]:
        return close_day_counts(won_entries(list(self.s.customers.values()), list(self.s.stages.values())), tz)

    async def delete_for_brief(self, brief_id: int) -> int:
        doomed = [k for k, v in self.s.stages.items() if v.brief_id == brief_id]
        for key in doomed:
            del self.s.stages[key]
        return len(doomed)

    async def delete_for_change(self, change_id: int) -> int:
        doomed = [k for k, v in self.s.stages.items() if v.change_id == change_id]
        for key in doomed:
            del self.s.stages[key]
        return len(doomed)


class MemoryBriefs(_Repo):
    async def add(self, brief: Brief) -> Brief:
        if brief.platform_msg_id is not None and any(
            (b.platform, b.platform_msg_id) == (brief.platform, brief.platform_msg_id) for b in self.s.briefs.values()
        ):
            raise DuplicateKeyError(brief.platform_msg_id)
        stored = dataclasses.replace(_copy(brief), id=self.s.new_id())
        self.s.briefs[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def get(self, brief_id: int) -> Brief | None:
        b = self.s.briefs.get(brief_id)
        return _copy(b) if b else None

    async def set_status(self, brief_id: int, status: BriefStatus) -> None:
        if brief_id in self.s.briefs:
            self.s.briefs[brief_id].status = status

    async def by_sender(self, sender_id: str, *, since: datetime | None = None) -> list[Brief]:
        found = [
            b for b in self.s.briefs.values() if b.sender_id == sender_id and (since is None or b.received_at >= since)
        ]
        return [_copy(b) for b in sorted(found, key=lambda b: (b.received_at, b.id or 0))]

    async def add_update(self, update: BriefUpdate) -> BriefUpdate:
        stored = dataclasses.replace(_copy(update), id=self.s.new_id())
        self.s.updates[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def updates_for(self, brief_id: int) -> list[BriefUpdate]:
        return [_copy(u) for _, u in sorted(self.s.updates.items()) if u.brief_id == brief_id]

    async def updates_for_change(self, change_id: int) -> list[BriefUpdate]:
        return [_copy(u) for _, u in sorted(self.s.updates.items()) if u.change_id == change_id]

    async def written_after(self, after_id: int, also: Sequence[int] = ()) -> list[tuple[int, int]]:
        return sorted((i, u.customer_id) for i, u in self.s.updates.items() if i > after_id or i in also)

    async def texts(self, customer_ids: Sequence[int] | None = None) -> list[tuple[int, datetime, str]]:
        out = []
        for u in self.s.updates.values():
            if customer_ids is not None and u.customer_id not in customer_ids:
                continue
            brief = self.s.briefs.get(u.brief_id)
            if brief is not None and brief.status is not BriefStatus.UNDONE:
                out.append((u.customer_id, brief.received_at, brief.text))
        return sorted(out, key=lambda t: t[1])

    async def sent_per_day(
        self, since: datetime, tz: ZoneInfo, senders: Collection[str] | None = None
    ) -> list[tuple[str, date, int]]:
        return per_day(((b.sender_id, b.received_at) for b in self.s.briefs.values()
                        if b.received_at >= since and b.status is not BriefStatus.UNDONE
                        and (senders is None or b.sender_id in senders)), tz)  # fmt: skip

    async def for_customer(self, customer_id: int, limit: int = 5) -> list[Brief]:
        ids = {u.brief_id for u in self.s.updates.values() if u.customer_id == customer_id}
        found = [b for i, b in self.s.briefs.items() if i in ids and b.status is not BriefStatus.UNDONE]
        found.sort(key=lambda b: (b.received_at, b.id or 0), reverse=True)
        return [_copy(b) for b in found[:limit]]


class MemoryChanges(_Repo):
    async def add(self, change: AppliedChange) -> AppliedChange:
        stored = dataclasses.replace(_copy(change), id=self.s.new_id())
        self.s.changes[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def last_live(self, employee_id: str, since: datetime) -> AppliedChange | None:
        live = [c for i, c in sorted(self.s.changes.items())
                if c.employee_id == employee_id and c.undone_at is None and c.applied_at >= since]  # fmt: skip
        return _copy(live[-1]) if live else None

    async def mark_undone(self, change_id: int, at: datetime) -> None:
        if change_id in self.s.changes:
            self.s.changes[change_id].undone_at = at

    async def live_for_brief(self, brief_id: int) -> int:
        return sum(1 for c in self.s.changes.values() if c.brief_id == brief_id and c.undone_at is None)


class MemoryInbox(_Repo):
    async def put(self, message: InboxMessage) -> InboxMessage | None:
        if any((m.platform, m.msg_id) == (message.platform, message.msg_id) for m in self.s.inbox.values()):
            return None
        stored = dataclasses.replace(_copy(message), id=self.s.new_id())
        self.s.inbox[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def put_many(self, messages: Sequence[InboxMessage]) -> list[bool]:
        return [await self.put(message) is not None for message in messages]

    async def claim(self, limit: int = 1) -> list[InboxMessage]:
        senders: set[tuple[str, str]] = set()
        out: list[InboxMessage] = []
        for _, m in sorted(self.s.inbox.items()):
            if m.status is InboxStatus.NEW and (m.platform, m.user_id) not in senders:
                senders.add((m.platform, m.user_id))
                out.append(_copy(m))
        return out[:limit]

    async def finish(self, done: Sequence[Finished], at: datetime) -> None:
        for message_id, status, error in done:
            m = self.s.inbox.get(message_id)
            if m:
                m.status, m.processed_at, m.error, m.attempts = status, at, error, m.attempts + 1

    async def get(self, message_id: int) -> InboxMessage | None:
        m = self.s.inbox.get(message_id)
        return _copy(m) if m else None

    async def count(self, status: InboxStatus | None = None) -> int:
        return sum(1 for m in self.s.inbox.values() if status is None or m.status is status)

    async def oldest_waiting(self) -> datetime | None:
        return min((m.received_at for m in self.s.inbox.values() if m.status is InboxStatus.NEW), default=None)


class MemoryOutbox(_Repo):
    async def enqueue(self, message: OutboxMessage) -> bool:
        if any(m.key == message.key for m in self.s.outbox.values()):
            return False
        stored = dataclasses.replace(_copy(message), id=self.s.new_id())
        self.s.outbox[stored.id] = stored  # type: ignore[index]
        return True

    async def enqueue_many(self, messages: Sequence[OutboxMessage]) -> int:
        return sum([await self.enqueue(message) for message in messages])

    async def lease_due(
        self, now: datetime, until: datetime, limit: int, platforms: Sequence[str]
    ) -> list[OutboxMessage]:
        due = [
            m
            for _, m in sorted(self.s.outbox.items())
            if m.status is OutboxStatus.PENDING
            and m.platform in platforms
            and (m.next_attempt_at is None or m.next_attempt_at <= now)
        ][:limit]
        for m in due:
            m.next_attempt_at = until
            m.attempts += 1
        return [_copy(m) for m in due]

    async def reserve(self, wanted: Sequence[Wanted], now: datetime) -> dict[tuple[str, str], tuple[int, datetime]]:
        out: dict[tuple[str, str], tuple[int, datetime]] = {}
        for platform, recipient, limit, sends in wanted:
            kept, granted, frees = take_slots(self.s.windows.get((platform, recipient), []), now, limit, sends)
            self.s.windows[(platform, recipient)] = kept
            out[(platform, recipient)] = (granted, frees)
        return out

    async def backlog(self) -> tuple[int, datetime | None, int, int]:
        pending = [m for m in self.s.outbox.values() if m.status is OutboxStatus.PENDING]
        failed = sum(1 for m in self.s.outbox.values() if m.status is OutboxStatus.FAILED)
        oldest = min((m.created_at for m in pending), default=None)
        return len(pending), oldest, sum(1 for m in pending if m.attempts >= 3), failed

    async def progress(self, message_id: int, parts_done: int) -> None:
        m = self.s.outbox.get(message_id)
        if m is not None:
            m.payload = {**m.payload, "parts_done": parts_done}

    async def renew(self, message_id: int, attempts: int, until: datetime) -> bool:
        m = self.s.outbox.get(message_id)
        if m is None or m.attempts != attempts or m.status is not OutboxStatus.PENDING:
            return False
        m.next_attempt_at = until
        return True

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        m = self.s.outbox.get(message_id)
        if m:
            m.status, m.sent_at, m.last_error = OutboxStatus.SENT, at, None

    async def retry_later(self, message_id: int, error: str, at: datetime) -> None:
        m = self.s.outbox.get(message_id)
        if m and m.status is OutboxStatus.PENDING:  # as the SQL store: never over another sender's "sent"
            m.next_attempt_at, m.last_error = at, error

    async def mark_failed(self, message_id: int, error: str) -> None:
        m = self.s.outbox.get(message_id)
        if m and m.status is OutboxStatus.PENDING:
            m.status, m.last_error = OutboxStatus.FAILED, error

    async def by_key(self, key: str) -> OutboxMessage | None:
        return next((_copy(m) for m in self.s.outbox.values() if m.key == key), None)

    async def find(self, *, to_user: str | None = None) -> list[OutboxMessage]:
        return [_copy(m) for _, m in sorted(self.s.outbox.items()) if to_user is None or m.to_user == to_user]


class MemoryPending(_Repo):
    async def add(self, question: PendingQuestion) -> PendingQuestion:
        stored = dataclasses.replace(_copy(question), id=self.s.new_id())
        self.s.pending[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def for_conversation(self, platform: str, chat_id: str, user_id: str) -> list[PendingQuestion]:
        return [
            _copy(q)
            for _, q in sorted(self.s.pending.items())
            if (q.platform, q.chat_id, q.user_id) == (platform, chat_id, user_id)
        ]

    async def delete(self, question_id: int) -> bool:
        return self.s.pending.pop(question_id, None) is not None

    async def delete_for_brief(self, brief_id: int) -> int:
        doomed = [k for k, q in self.s.pending.items() if q.brief_id == brief_id]
        for key in doomed:
            del self.s.pending[key]
        return len(doomed)


class MemoryAudit(_Repo):
    async def add(self, entry: AuditEntry) -> None:
        stored = dataclasses.replace(_copy(entry), id=self.s.new_id())
        self.s.audit[stored.id] = stored  # type: ignore[index]

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        return [_copy(e) for _, e in sorted(self.s.audit.items(), reverse=True)[:limit]]

    async def since(self, actions: Sequence[str], since: datetime) -> list[AuditEntry]:
        return [_copy(e) for _, e in sorted(self.s.audit.items()) if e.action in actions and e.at >= since]

    async def count(self, action: str, actor: str, since: datetime) -> int:
        return sum(1 for e in self.s.audit.values() if e.action == action and e.actor == actor and e.at >= since)

    async def written_after(
        self, after_id: int, also: Sequence[int] = (), actions: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        wanted = set(also)
        return sorted((i, int(e.action in actions)) for i, e in self.s.audit.items() if i > after_id or i in wanted)


class MemoryUnitOfWork:
    """Works on a private copy of the store's state; ``commit()`` publishes it."""

    def __init__(self, store: MemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self.read_only = read_only
        self.state = copy.deepcopy(store.state)
        self.employees = MemoryEmployees(self)
        self.teams = MemoryTeams(self)
        self.customers = MemoryCustomers(self)
        self.stages = MemoryStageHistory(self)
        self.briefs = MemoryBriefs(self)
        self.changes = MemoryChanges(self)
        self.inbox = MemoryInbox(self)
        self.outbox = MemoryOutbox(self)
        self.audit = MemoryAudit(self)
        self.pending = MemoryPending(self)
        self.reminders = MemoryReminders(self)
        self.standups = MemoryStandups(self)
        self.forecasts = MemoryForecasts(self)
        self.goals = MemoryGoals(self)
        self.points = MemoryPoints(self)
        self.web = MemoryWeb(self)
        self.leads = MemoryLeads(self)
        self.quotes = MemoryQuotes(self)

    async def __aenter__(self) -> Self:
        self.state = copy.deepcopy(self._store.state)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._store.state = copy.deepcopy(self.state)

    async def rollback(self) -> None:
        self.state = copy.deepcopy(self._store.state)

    def beside(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self._store, read_only=True)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[object]:
        saved = copy.deepcopy(self.state)
        try:
            yield self
        except BaseException:
            self.state = saved
            raise


def _scan_row(c: Customer) -> ScanRow:
    assert c.id is not None
    return ScanRow(c.id, c.name, c.owner_id, c.stage, c.stage_entered_at, c.next_action, c.next_action_date,
                   c.last_followup_at)  # fmt: skip


class MemoryReminders(_Repo):
    async def scan_stalled(
        self, stage: Stage, entered_before: datetime, owners: Collection[str] | None = None
    ) -> list[ScanRow]:
        found = [c for c in self._owned(owners) if c.stage is stage and c.stage_entered_at < entered_before]
        return [_scan_row(c) for c in sorted(found, key=lambda c: c.id or 0)]

    async def scan_steps_due(self, due_by: date, owners: Collection[str] | None = None) -> list[ScanRow]:
        found = [
            c
            for c in self._owned(owners)
            if c.stage in OPEN_STAGES and c.next_action_date is not None and c.next_action_date <= due_by
        ]
        return [_scan_row(c) for c in sorted(found, key=lambda c: c.id or 0)]

    def _owned(self, owners: Collection[str] | None) -> list[Customer]:
        return [c for c in self.s.customers.values() if owners is None or c.owner_id in owners]

    async def sent(self, customer_ids: Sequence[int]) -> list[Reminder]:
        wanted = set(customer_ids)
        return [r for r in self.s.reminders.values() if r.customer_id in wanted]

    async def record(self, reminders: Sequence[Reminder]) -> set[str]:
        new = set()
        for reminder in reminders:
            if reminder.key not in self.s.reminders:
                self.s.reminders[reminder.key] = reminder
                new.add(reminder.key)
        return new


class MemoryStandups(_Repo):
    async def open(self, standup: Standup) -> Standup | None:
        if any((s.team, s.day) == (standup.team, standup.day) for s in self.s.standups.values()):
            return None
        stored = dataclasses.replace(_copy(standup), id=self.s.new_id())
        self.s.standups[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def get(self, team: str, day: date) -> Standup | None:
        return next((_copy(s) for s in self.s.standups.values() if (s.team, s.day) == (team, day)), None)

    async def latest(self, team: str) -> Standup | None:
        mine = [s for s in self.s.standups.values() if s.team == team]
        return _copy(max(mine, key=lambda s: s.day)) if mine else None

    async def due_to_close(self, now: datetime) -> list[Standup]:
        return [_copy(s) for s in self.s.standups.values() if s.closed_at is None and s.closes_at <= now]

    async def close(self, standup_id: int, at: datetime) -> bool:
        s = self.s.standups.get(standup_id)
        if s is None or s.closed_at is not None:
            return False
        s.closed_at = at
        return True

    async def answer(self, entry: StandupEntry) -> None:
        for key in [k for k, e in self.s.entries.items()
                    if (e.standup_id, e.employee_id) == (entry.standup_id, entry.employee_id)]:  # fmt: skip
            del self.s.entries[key]
        stored = dataclasses.replace(_copy(entry), id=self.s.new_id())
        self.s.entries[stored.id] = stored  # type: ignore[index]

    async def entries(self, standup_id: int) -> list[StandupEntry]:
        return [_copy(e) for _, e in sorted(self.s.entries.items()) if e.standup_id == standup_id]


class MemoryForecasts(_Repo):
    async def snapshot(self, snapshots: Sequence[Snapshot]) -> int:
        count = 0
        for s in snapshots:
            key = (s.owner_id, s.month, s.taken_on)
            if key not in self.s.snapshots:
                self.s.snapshots[key] = s
                count += 1
        return count

    async def snapshots(self) -> list[Snapshot]:
        return sorted(self.s.snapshots.values(), key=lambda s: s.taken_on)

    async def first_snapshots(self, months: Sequence[str]) -> list[Snapshot]:
        return first_snapshots(await self.snapshots(), months)


class MemoryLeads(_Repo):
    async def add(self, lead: Lead) -> Lead:
        if any(x.name == lead.name for x in self.s.leads.values()):
            raise DuplicateKeyError(lead.name)
        stored = dataclasses.replace(_copy(lead), id=self.s.new_id())
        self.s.leads[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def by_name(self, name: str) -> Lead | None:
        found = next((x for x in self.s.leads.values() if x.name == name), None)
        return _copy(found) if found else None

    async def for_customer(self, customer_id: int) -> Lead | None:
        found = next((x for x in self.s.leads.values() if x.customer_id == customer_id), None)
        return _copy(found) if found else None

    async def update(self, lead: Lead) -> None:
        assert lead.id is not None
        self.s.leads[lead.id] = _copy(lead)

    async def waiting_for_contact(self) -> list[Lead]:
        waiting = [x for x in self.s.leads.values() if x.assigned_at is not None and x.first_response_at is None]
        return [_copy(x) for x in sorted(waiting, key=lambda x: (x.assigned_at, x.id or 0))]

    async def unassigned(self) -> list[Lead]:
        waiting = [x for x in self.s.leads.values() if x.customer_id is None]
        return [_copy(x) for x in sorted(waiting, key=lambda x: (x.received_at, x.id or 0))]

    async def find(self, *, owner_ids: Sequence[str] | None = None) -> list[Lead]:
        return [_copy(x) for _, x in sorted(self.s.leads.items())
                if owner_ids is None or x.owner_id in owner_ids]  # fmt: skip

    async def add_events(self, events: Sequence[LeadEvent]) -> int:
        new = 0
        for e in events:
            if e.key not in self.s.lead_events:
                self.s.lead_events[e.key] = dataclasses.replace(e, id=self.s.new_id())
                new += 1
        return new

    async def events(self, lead_ids: Sequence[int]) -> list[LeadEvent]:
        wanted = set(lead_ids)
        return sorted((e for e in self.s.lead_events.values() if e.lead_id in wanted), key=lambda e: (e.at, e.id or 0))

    async def channel_outcomes(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for x in self.s.leads.values():
            if x.customer_id is None:
                continue
            customer = self.s.customers.get(x.customer_id)
            won = customer is not None and customer.stage is Stage.WON
            assigned, wins = out.get(x.channel, (0, 0))
            out[x.channel] = (assigned + 1, wins + int(won))
        return out

    async def put_cost(self, channel: str, month: str, spend: Decimal) -> str:
        old = self.s.costs.get((channel, month))
        self.s.costs[(channel, month)] = spend
        return "added" if old is None else "unchanged" if old == spend else "updated"

    async def spend(self, months: Sequence[str] | None = None) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for (channel, month), value in self.s.costs.items():
            if months is None or month in months:
                out[channel] = out.get(channel, Decimal(0)) + value
        return out


class MemoryWeb(_Repo):
    async def add_link(self, token_hash: str, employee_id: str, now: datetime, expires_at: datetime) -> None:
        self.s.links[token_hash] = (employee_id, expires_at, None)

    async def redeem_link(self, token_hash: str, now: datetime) -> str | None:
        link = self.s.links.get(token_hash)
        if link is None or link[2] is not None or link[1] <= now:
            return None
        self.s.links[token_hash] = (link[0], link[1], now)
        return link[0]

    async def open_session(self, token_hash: str, employee_id: str, csrf: str, now: datetime,
                           expires_at: datetime) -> None:  # fmt: skip
        self.s.sessions[token_hash] = WebSession(employee_id, csrf, expires_at)

    async def find_session(self, token_hash: str, now: datetime) -> WebSession | None:
        found = self.s.sessions.get(token_hash)
        return found if found is not None and found.expires_at > now else None

    async def close_session(self, token_hash: str) -> None:
        self.s.sessions.pop(token_hash, None)

    async def close_sessions_of(self, employee_id: str) -> int:
        gone = [k for k, v in self.s.sessions.items() if v.employee_id == employee_id]
        for key in gone:
            del self.s.sessions[key]
        return len(gone)

    async def purge(self, now: datetime) -> int:
        links = [k for k, v in self.s.links.items() if v[1] <= now]
        sessions = [k for k, v in self.s.sessions.items() if v.expires_at <= now]
        for key in links:
            del self.s.links[key]
        for key in sessions:
            del self.s.sessions[key]
        return len(links) + len(sessions)


class MemoryGoals(_Repo):
    async def for_month(self, month: str) -> list[Goal]:
        found = [g for key, g in self.s.goals.items() if key[0] == month]
        return [_copy(g) for g in sorted(found, key=lambda g: (g.level.value, g.subject, g.kpi.value))]

    async def get(self, month: str, level: Level, subject: str, kpi: Kpi) -> Goal | None:
        g = self.s.goals.get((month, level.value, subject, kpi.value))
        return _copy(g) if g else None

    async def put(self, goal: Goal) -> str:
        key = (goal.month, goal.level.value, goal.subject, goal.kpi.value)
        existing = self.s.goals.get(key)
        if existing is None:
            self.s.goals[key] = dataclasses.replace(_copy(goal), id=self.s.new_id())
            return "added"
        if (existing.target, existing.objective) == (goal.target, goal.objective):
            return "unchanged"
        existing.target, existing.objective = goal.target, goal.objective
        return "updated"


class MemoryPoints(_Repo):
    async def award(self, entries: Sequence[PointsEntry]) -> list[PointsEntry]:
        new = []
        for entry in entries:
            if entry.key not in self.s.ledger:
                stored = dataclasses.replace(_copy(entry), id=self.s.new_id())
                self.s.ledger[entry.key] = stored
                new.append(_copy(stored))
        return new

    async def balance(self, employee_id: str) -> int:
        return sum(e.points for e in self.s.ledger.values() if e.employee_id == employee_id)

    async def recent(self, employee_id: str, limit: int = 5) -> list[PointsEntry]:
        mine = [e for e in self.s.ledger.values() if e.employee_id == employee_id]
        return [_copy(e) for e in sorted(mine, key=lambda e: (e.at, e.id or 0), reverse=True)[:limit]]

    async def earned(self, start: datetime, end: datetime) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.s.ledger.values():
            if start <= e.at < end and e.rule != "redeem":
                out[e.employee_id] = out.get(e.employee_id, 0) + e.points
        return out

    async def delete_for_brief(self, brief_id: int) -> int:
        keys = [k for k, e in self.s.ledger.items() if e.brief_id == brief_id]
        for k in keys:
            del self.s.ledger[k]
        return len(keys)

    async def delete_for_change(self, change_id: int) -> int:
        keys = [k for k, e in self.s.ledger.items() if e.change_id == change_id]
        for k in keys:
            del self.s.ledger[k]
        return len(keys)

    async def request(self, redemption: Redemption) -> Redemption:
        stored = dataclasses.replace(_copy(redemption), id=self.s.new_id())
        self.s.redemptions[stored.id] = stored  # type: ignore[index]
        return _copy(stored)

    async def redemption(self, redemption_id: int) -> Redemption | None:
        r = self.s.redemptions.get(redemption_id)
        return _copy(r) if r else None

    async def decide(self, redemption_id: int, status: str, by: str, at: datetime) -> bool:
        r = self.s.redemptions.get(redemption_id)
        if r is None or r.status != RedemptionStatus.PENDING:
            return False
        r.status, r.decided_by, r.decided_at = status, by, at
        return True

    async def pending_requests(self) -> list[Redemption]:
        return [_copy(r) for _, r in sorted(self.s.redemptions.items()) if r.status == RedemptionStatus.PENDING]

    async def pending_points(self, employee_id: str) -> int:
        return sum(r.points for r in self.s.redemptions.values()
                   if r.employee_id == employee_id and r.status == RedemptionStatus.PENDING)  # fmt: skip


class MemoryQuotes(_Repo):
    async def put_products(self, products: Sequence[Product]) -> tuple[int, int, int]:
        added = changed = same = 0
        for p in products:
            old = self.s.products.get((p.code, p.effective_from))
            kept = dataclasses.replace(p, id=old.id if old else self.s.new_id())
            if old is None:
                added += 1
            elif old != kept:
                changed += 1
            else:
                same += 1
            self.s.products[p.code, p.effective_from] = kept
        return added, changed, same

    async def products(self) -> list[Product]:
        return [_copy(p) for _, p in sorted(self.s.products.items())]

    async def next_serial(self, year: int) -> int:
        prefix = f"Q-{year}-"
        serials = [int(q.number[len(prefix) :]) for q in self.s.quotes.values() if q.number.startswith(prefix)]
        return max(serials, default=0) + 1

    async def add(self, quote: Quote) -> Quote:
        if any(q.number == quote.number and q.version == quote.version for q in self.s.quotes.values()):
            raise DuplicateKeyError(f"{quote.number} v{quote.version}")
        stored = dataclasses.replace(_copy(quote), id=self.s.new_id())
        self.s.quotes[stored.id] = stored  # type: ignore[index]
        quote.id = stored.id
        return quote

    async def get(self, quote_id: int) -> Quote | None:
        found = self.s.quotes.get(quote_id)
        return _copy(found) if found else None

    async def latest(self, customer_id: int) -> Quote | None:
        mine = [q for q in self.s.quotes.values() if q.customer_id == customer_id]
        return _copy(max(mine, key=lambda q: q.id or 0)) if mine else None

    async def for_customer(self, customer_id: int) -> list[Quote]:
        return [_copy(q) for _, q in sorted(self.s.quotes.items()) if q.customer_id == customer_id]

    async def versions(self, number: str) -> list[Quote]:
        return [_copy(q) for _, q in sorted(self.s.quotes.items()) if q.number == number]

    async def pending(self) -> list[Quote]:
        return [_copy(q) for _, q in sorted(self.s.quotes.items()) if q.status is QuoteStatus.PENDING]

    async def decide(self, quote: Quote, was: QuoteStatus, was_waiting_for: str | None) -> bool:
        assert quote.id is not None
        stored = self.s.quotes.get(quote.id)
        if stored is None or stored.status is not was or stored.waiting_for != was_waiting_for:
            return False
        for key in ("status", "approval", "waiting_for", "decided_by", "note"):
            setattr(stored, key, getattr(quote, key))
        return True

    async def put_files(self, quote_id: int, pdf: bytes | None, xlsx: bytes) -> None:
        self.s.quote_files[quote_id] = (pdf, xlsx)

    async def file(self, quote_id: int, kind: str) -> bytes | None:
        pdf, xlsx = self.s.quote_files.get(quote_id, (None, None))
        return pdf if kind == "pdf" else xlsx
