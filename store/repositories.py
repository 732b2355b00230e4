"""The repository Protocols; ``store.sql`` and ``store.memory`` both implement them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import NamedTuple, Protocol, Self
from zoneinfo import ZoneInfo

from sales.forecast import OpenDeal, Signed, Snapshot
from sales.goals import Goal, Kpi, Level
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
    PendingQuestion,
    StageChange,
    Standup,
    StandupEntry,
    Team,
)
from sales.points import PointsEntry, Redemption
from sales.quotes import Product, Quote, QuoteStatus
from sales.reports import Listed, Move, StageTotal
from sales.stages import Stage
from sales.stall import Reminder, ScanRow


class EmployeeRepository(Protocol):
    async def get(self, employee_id: str) -> Employee | None: ...
    async def by_platform_user(self, platform: str, user_id: str) -> Employee | None: ...
    async def find(self, *, team: str | None = None, active_only: bool = False) -> list[Employee]: ...
    async def add(self, employee: Employee) -> None: ...
    async def update(self, employee: Employee) -> None: ...


class TeamRepository(Protocol):
    async def get(self, name: str) -> Team | None: ...
    async def find(self) -> list[Team]: ...
    async def add(self, team: Team) -> None: ...
    async def update(self, team: Team) -> None: ...


@dataclass(frozen=True)
class NameChanges:
    """Names to take out of the parser's index (renamed away, deleted), then names to put in (added, renamed,
    aliases changed: in again with their aliases). Applied in that order it is the same index as a rebuild."""

    gone: list[str]
    current: list[tuple[str, list[str]]]


class CustomerRepository(Protocol):
    names_touched: bool  # this unit of work wrote a name, an alias or a customer's existence (seen by others at commit)

    async def get(self, customer_id: int) -> Customer | None: ...
    async def by_name(self, name: str) -> Customer | None: ...
    async def find(
        self,
        *,
        owner_ids: Sequence[str] | None = None,
        stages: Sequence[Stage] | None = None,
        limit: int | None = None,
        ids: Sequence[int] | None = None,
    ) -> list[Customer]:
        """The customers of these owners in these stages (and with these ids; all when not given), in id order, at
        most ``limit``."""
        ...

    async def count(self) -> int: ...
    async def change_owner(
        self, customer_id: int, expected: str, owner: str, *, followed_before: datetime | None = None
    ) -> bool:
        """Give the customer to ``owner`` only if ``expected`` still has it (and, with ``followed_before``, no brief
        came since that time): one conditional statement, so two claims of one customer, or a sweep and a brief at
        the same moment, never both win. Whether it changed."""
        ...

    async def add(self, customer: Customer) -> Customer: ...
    async def add_many(self, customers: Sequence[Customer]) -> list[Customer]:
        """Several new customers in one statement (an import); returned with their ids, in order."""
        ...

    def bulk_load(self, incoming: int) -> AbstractAsyncContextManager[None]:
        """Around an import of ``incoming`` rows: whatever makes a large load quicker, undone before it ends."""
        ...

    async def update(self, customer: Customer) -> None: ...
    async def delete(self, customer_id: int) -> None: ...

    async def names_version(self) -> int:
        """A counter the database bumps whenever a customer is added, removed, renamed or given other aliases."""
        ...

    async def names(self) -> list[tuple[str, list[str]]]:
        """Every customer's name with its aliases, for the parser's index."""
        ...

    async def names_changed_since(self, version: int, limit: int) -> NameChanges | None:
        """What changed in the names after ``version``; None when more than ``limit`` changes (a rebuild is quicker)."""
        ...

    async def stage_totals(self, owner_ids: Sequence[str] | None = None) -> list[StageTotal]:
        """Open customers counted and summed per (owner, stage): a funnel without reading every row."""
        ...

    async def closed_between(
        self, start: datetime, end: datetime, owner_ids: Sequence[str] | None = None
    ) -> list[Customer]:
        """Customers won or lost with ``start <= closed_at < end``."""
        ...

    async def listed(
        self, owner_ids: Sequence[str] | None = None, stages: Sequence[Stage] | None = None
    ) -> list[Listed]:
        """The customers of these owners in these stages, only the columns a list shows, in id order."""
        ...

    async def open_deals(self, owner_ids: Sequence[str] | None = None) -> list[OpenDeal]:
        """Open customers with an amount (of these owners), only the columns a forecast reads."""
        ...

    async def signed(self, owner_ids: Sequence[str] | None = None) -> list[Signed]:
        """Every won customer's (of these owners) owner, amount and signing time: forecast accuracy."""
        ...

    async def created_per_owner(self, start: datetime, end: datetime) -> dict[str, int]:
        """Customers created with ``start <= created_at < end``, counted per owner (a goal's 新增客户数)."""
        ...


class StageHistoryRepository(Protocol):
    async def add(self, change: StageChange) -> StageChange: ...
    async def add_many(self, changes: Sequence[StageChange]) -> None: ...
    async def for_customer(self, customer_id: int) -> list[StageChange]: ...
    async def delete_for_brief(self, brief_id: int) -> int: ...
    async def delete_for_change(self, change_id: int) -> int: ...
    async def everything(self, customer_ids: Sequence[int] | None = None) -> list[StageChange]:
        """All stage changes (of these customers), oldest first (the recommender learns from them)."""
        ...

    async def written_after(self, after_id: int, also: Sequence[int] = ()) -> list[tuple[int, int]]:
        """(change id, customer id) of the changes with an id above ``after_id`` or in ``also``: what the recommender
        has not read yet (``also``: ids it saw missing, which a transaction still open may commit later)."""
        ...

    async def touched_since(self, since: datetime, owner_ids: Sequence[str] | None = None) -> list[Move]:
        """The whole history of every customer (of ``owner_ids``) that changed stage at or after
        ``since``, in no particular order: a period's funnel needs only these, not years of history."""
        ...

    async def history_version(self) -> tuple[int, int, int]:
        """(last change id, changes, last audit entry id): unchanged, the closed deals' history is unchanged too (a
        change is only added or, by an undo, deleted; imports and undos also write the audit log)."""
        ...

    async def reach_outcomes(self) -> dict[tuple[Stage, Stage], int]:
        """(stage reached, won or lost) -> closed customers, for the stages' win rates."""
        ...

    async def advances(self, start: datetime, end: datetime) -> dict[str, int]:
        """``sales.goals.advances`` of the changes made from ``start`` to ``end``: forward moves per reporter."""
        ...

    async def close_day_counts(self, tz: ZoneInfo) -> dict[Stage, dict[int, int]]:
        """Per open stage, won customers by calendar days (in ``tz``) from first entering it to signing: time to
        close (``sales.forecast.close_day_counts`` over each won customer's stages)."""
        ...


class BriefRepository(Protocol):
    async def add(self, brief: Brief) -> Brief: ...
    async def get(self, brief_id: int) -> Brief | None: ...
    async def set_status(self, brief_id: int, status: BriefStatus) -> None: ...
    async def by_sender(self, sender_id: str, *, since: datetime | None = None) -> list[Brief]: ...
    async def add_update(self, update: BriefUpdate) -> BriefUpdate: ...
    async def updates_for(self, brief_id: int) -> list[BriefUpdate]: ...
    async def updates_for_change(self, change_id: int) -> list[BriefUpdate]: ...
    async def for_customer(self, customer_id: int, limit: int = 5) -> list[Brief]:
        """The latest briefs that named a customer, newest first."""
        ...

    async def texts(self, customer_ids: Sequence[int] | None = None) -> list[tuple[int, datetime, str]]:
        """(customer id, received at, text) of every brief that named a customer (one of these), oldest first."""
        ...

    async def written_after(self, after_id: int, also: Sequence[int] = ()) -> list[tuple[int, int]]:
        """(update id, customer id) of the brief updates with an id above ``after_id`` or in ``also``: the customers
        briefs wrote to since the recommender last read (``StageHistoryRepository.written_after``)."""
        ...

    async def sent_per_day(
        self, since: datetime, tz: ZoneInfo, senders: Collection[str] | None = None
    ) -> list[tuple[str, date, int]]:
        """(sender, local day in ``tz``, briefs) since ``since`` (of these senders), undone briefs left out
        (activity)."""
        ...


class ChangeRepository(Protocol):
    async def add(self, change: AppliedChange) -> AppliedChange: ...
    async def last_live(self, employee_id: str, since: datetime) -> AppliedChange | None:
        """The newest change this person applied since ``since`` that is not undone."""
        ...

    async def mark_undone(self, change_id: int, at: datetime) -> None: ...
    async def live_for_brief(self, brief_id: int) -> int:
        """How many of a brief's changes still stand."""
        ...


class Wanted(NamedTuple):
    """Sends wanted to one recipient under the platform's per-person limit (count per seconds)."""

    platform: str
    recipient: str
    limit: tuple[int, float]
    sends: int


class InboxRepository(Protocol):
    async def put(self, message: InboxMessage) -> InboxMessage | None:
        """Store a message; None when the platform already delivered it (same msg_id)."""
        ...

    async def put_many(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """Store a batch at once; for each message, whether it was new."""
        ...

    async def claim(self, limit: int = 1) -> list[InboxMessage]:
        """Up to ``limit`` of the oldest new messages, each its sender's oldest (so one sender's come one batch at a
        time, in order), locked for this unit of work where the database can."""
        ...

    async def finish(self, done: Sequence[Finished], at: datetime) -> None:
        """Mark handled messages done or failed, counting the attempt, in one statement."""
        ...

    async def get(self, message_id: int) -> InboxMessage | None: ...
    async def count(self, status: InboxStatus | None = None) -> int: ...
    async def oldest_waiting(self) -> datetime | None:
        """When the oldest message not yet handled arrived (None when none waits)."""
        ...


class OutboxRepository(Protocol):
    async def enqueue(self, message: OutboxMessage) -> bool:
        """Queue a message; False when one with the same key is already queued or sent."""
        ...

    async def enqueue_many(self, messages: Sequence[OutboxMessage]) -> int:
        """Queue messages in one statement, skipping keys already queued or sent; how many were new."""
        ...

    async def lease_due(
        self, now: datetime, until: datetime, limit: int, platforms: Sequence[str]
    ) -> list[OutboxMessage]:
        """Pending messages due by ``now``, hidden from other senders until ``until``."""
        ...

    async def reserve(self, wanted: Sequence[Wanted], now: datetime) -> dict[tuple[str, str], tuple[int, datetime]]:
        """For each recipient, take up to the sends wanted in its window (``limit`` = count per seconds), locked
        against other instances, all in a few statements; how many were granted and when the window frees a slot."""
        ...

    async def progress(self, message_id: int, parts_done: int) -> None:
        """Remember how many parts of a multi-part message went out, so a retry sends only the rest."""
        ...

    async def renew(self, message_id: int, attempts: int, until: datetime) -> bool:
        """Extend a lease still held (no other sender has leased the message since: same ``attempts``)."""
        ...

    async def mark_sent(self, message_id: int, at: datetime) -> None: ...
    async def retry_later(self, message_id: int, error: str, at: datetime) -> None: ...
    async def mark_failed(self, message_id: int, error: str) -> None: ...
    async def by_key(self, key: str) -> OutboxMessage | None: ...
    async def find(self, *, to_user: str | None = None) -> list[OutboxMessage]: ...
    async def backlog(self) -> tuple[int, datetime | None, int, int]:
        """Messages waiting to go out, when the oldest was queued, how many of them were tried three times
        or more, and how many failed for good (ever)."""
        ...


class PendingRepository(Protocol):
    async def add(self, question: PendingQuestion) -> PendingQuestion: ...
    async def for_conversation(self, platform: str, chat_id: str, user_id: str) -> list[PendingQuestion]:
        """Every question waiting in a conversation, oldest first (expired ones too)."""
        ...

    async def delete(self, question_id: int) -> bool:
        """False when it was gone already (answered meanwhile, e.g. by another instance)."""
        ...

    async def delete_for_brief(self, brief_id: int) -> int: ...


class ReminderRepository(Protocol):
    async def scan_stalled(
        self, stage: Stage, entered_before: datetime, owners: Collection[str] | None = None
    ) -> list[ScanRow]:
        """Customers in ``stage`` since before ``entered_before`` (uses the stage index); only ``owners``' if given."""
        ...

    async def scan_steps_due(self, due_by: date, owners: Collection[str] | None = None) -> list[ScanRow]:
        """Open customers whose planned step is dated ``due_by`` or earlier; only ``owners``' if given."""
        ...

    async def sent(self, customer_ids: Sequence[int]) -> list[Reminder]: ...

    async def record(self, reminders: Sequence[Reminder]) -> set[str]:
        """Store reminders; the keys that were new (a key another scan stored first is skipped)."""
        ...


class StandupRepository(Protocol):
    async def open(self, standup: Standup) -> Standup | None:
        """Open a team's standup for a day; None when it was opened already (by any process)."""
        ...

    async def get(self, team: str, day: date) -> Standup | None: ...
    async def latest(self, team: str) -> Standup | None: ...
    async def due_to_close(self, now: datetime) -> list[Standup]: ...
    async def close(self, standup_id: int, at: datetime) -> bool:
        """Mark closed; False when another scan closed it first."""
        ...

    async def answer(self, entry: StandupEntry) -> None:
        """Store a member's answer (a second answer replaces the first)."""
        ...

    async def entries(self, standup_id: int) -> list[StandupEntry]: ...


class ForecastRepository(Protocol):
    async def snapshot(self, snapshots: Sequence[Snapshot]) -> int:
        """Keep a week's forecast; rows already kept for that day are left as they are."""
        ...

    async def snapshots(self) -> list[Snapshot]: ...
    async def first_snapshots(self, months: Sequence[str]) -> list[Snapshot]:
        """``sales.forecast.first_snapshots`` of all the snapshots kept: what the forecast's accuracy reads."""
        ...


class LeadRepository(Protocol):
    async def add(self, lead: Lead) -> Lead: ...
    async def by_name(self, name: str) -> Lead | None: ...
    async def for_customer(self, customer_id: int) -> Lead | None: ...
    async def update(self, lead: Lead) -> None: ...
    async def waiting_for_contact(self) -> list[Lead]:
        """Leads handed to a rep that no brief has mentioned yet, oldest hand-over first."""
        ...

    async def unassigned(self) -> list[Lead]:
        """Leads not yet handed over (no customer yet; an owner may be asked for), oldest first."""
        ...

    async def find(self, *, owner_ids: Sequence[str] | None = None) -> list[Lead]: ...
    async def add_events(self, events: Sequence[LeadEvent]) -> int:
        """Store the events whose key is new; how many were."""
        ...

    async def events(self, lead_ids: Sequence[int]) -> list[LeadEvent]: ...
    async def channel_outcomes(self) -> dict[str, tuple[int, int]]:
        """Per channel: leads handed to a rep, and of them the ones whose customer was won."""
        ...

    async def put_cost(self, channel: str, month: str, spend: Decimal) -> str:
        """A channel's spend in a month: added, updated or unchanged."""
        ...

    async def spend(self, months: Sequence[str] | None = None) -> dict[str, Decimal]:
        """Per channel, the spend of these months (all when not given)."""
        ...


class QuoteRepository(Protocol):
    async def put_products(self, products: Sequence[Product]) -> tuple[int, int, int]:
        """Keep price-list rows by (code, effective date): (added, changed, unchanged)."""
        ...

    async def products(self) -> list[Product]:
        """Every version of every product (``sales.quotes.current`` picks the one in force)."""
        ...

    async def next_serial(self, year: int) -> int:
        """One more than the highest serial numbered in ``year`` (Q-2026-0007 → 8)."""
        ...

    async def add(self, quote: Quote) -> Quote:
        """Raises ConflictError when the number and version exist (two requests at once): the caller numbers
        again."""
        ...

    async def get(self, quote_id: int) -> Quote | None: ...
    async def latest(self, customer_id: int) -> Quote | None:
        """The customer's newest quote version, whatever its status."""
        ...

    async def for_customer(self, customer_id: int) -> list[Quote]: ...
    async def versions(self, number: str) -> list[Quote]: ...
    async def pending(self) -> list[Quote]:
        """Every quote version waiting for an approval, oldest first."""
        ...

    async def decide(self, quote: Quote, was: QuoteStatus, was_waiting_for: str | None) -> bool:
        """Write the quote's status, approval, approver, decision and note, only if it still is ``was`` waiting for
        ``was_waiting_for``: of two approvers' clicks at once, one wins."""
        ...

    async def put_files(self, quote_id: int, pdf: bytes | None, xlsx: bytes) -> None: ...
    async def file(self, quote_id: int, kind: str) -> bytes | None:
        """A kept document: ``pdf`` or ``xlsx``."""
        ...


class GoalRepository(Protocol):
    async def for_month(self, month: str) -> list[Goal]: ...
    async def get(self, month: str, level: Level, subject: str, kpi: Kpi) -> Goal | None: ...

    async def put(self, goal: Goal) -> str:
        """Set a target: "added", "updated" or "unchanged"."""
        ...


class PointsRepository(Protocol):
    async def award(self, entries: Sequence[PointsEntry]) -> list[PointsEntry]:
        """Record entries; those whose key was recorded before are skipped. The new ones are returned."""
        ...

    async def balance(self, employee_id: str) -> int: ...
    async def recent(self, employee_id: str, limit: int = 5) -> list[PointsEntry]:
        """The latest entries, newest first."""
        ...

    async def earned(self, start: datetime, end: datetime) -> dict[str, int]:
        """Points earned (redemptions left out) with ``start <= at < end``, per employee."""
        ...

    async def delete_for_brief(self, brief_id: int) -> int: ...
    async def delete_for_change(self, change_id: int) -> int: ...
    async def request(self, redemption: Redemption) -> Redemption: ...
    async def redemption(self, redemption_id: int) -> Redemption | None: ...

    async def decide(self, redemption_id: int, status: str, by: str, at: datetime) -> bool:
        """Approve or reject a pending request; False when it was decided already."""
        ...

    async def pending_points(self, employee_id: str) -> int:
        """Points asked for in requests still waiting on a supervisor."""
        ...

    async def pending_requests(self) -> list[Redemption]:
        """Every request still waiting, oldest first."""
        ...


class AuditRepository(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...
    async def recent(self, limit: int = 50) -> list[AuditEntry]: ...
    async def since(self, actions: Sequence[str], since: datetime) -> list[AuditEntry]:
        """Entries of these actions from ``since`` on, oldest first."""
        ...

    async def count(self, action: str, actor: str, since: datetime) -> int:
        """Entries of this action by this actor since ``since`` (a daily limit: claims from the pool)."""
        ...

    async def written_after(
        self, after_id: int, also: Sequence[int] = (), actions: Sequence[str] = ()
    ) -> list[tuple[int, int]]:
        """(entry id, 1 if its action is one of ``actions`` else 0) of the entries with an id above ``after_id`` or in
        ``also``: whether an undo or an import rewrote the history (``StageHistoryRepository.written_after``)."""
        ...


class WebSession(NamedTuple):
    """A signed-in dashboard session: whose it is, its CSRF token, when it ends."""

    employee_id: str
    csrf: str
    expires_at: datetime


class WebRepository(Protocol):
    """The dashboard's sign-in links and sessions, each kept by the SHA-256 of its secret."""

    async def add_link(self, token_hash: str, employee_id: str, now: datetime, expires_at: datetime) -> None: ...
    async def redeem_link(self, token_hash: str, now: datetime) -> str | None:
        """Mark an unused, unexpired link used and return its employee; None otherwise. One statement, so that two
        redemptions at once never both succeed."""
        ...

    async def open_session(self, token_hash: str, employee_id: str, csrf: str, now: datetime,
                           expires_at: datetime) -> None: ...  # fmt: skip
    async def find_session(self, token_hash: str, now: datetime) -> WebSession | None: ...
    async def close_session(self, token_hash: str) -> None: ...
    async def close_sessions_of(self, employee_id: str) -> int: ...
    async def purge(self, now: datetime) -> int:
        """Drop expired links and sessions."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything done through it is committed together or not at all."""

    @property
    def employees(self) -> EmployeeRepository: ...
    @property
    def teams(self) -> TeamRepository: ...
    @property
    def customers(self) -> CustomerRepository: ...
    @property
    def stages(self) -> StageHistoryRepository: ...
    @property
    def briefs(self) -> BriefRepository: ...
    @property
    def changes(self) -> ChangeRepository: ...
    @property
    def inbox(self) -> InboxRepository: ...
    @property
    def outbox(self) -> OutboxRepository: ...
    @property
    def audit(self) -> AuditRepository: ...
    @property
    def pending(self) -> PendingRepository: ...
    @property
    def reminders(self) -> ReminderRepository: ...
    @property
    def standups(self) -> StandupRepository: ...
    @property
    def forecasts(self) -> ForecastRepository: ...
    @property
    def goals(self) -> GoalRepository: ...
    @property
    def points(self) -> PointsRepository: ...
    @property
    def web(self) -> WebRepository: ...
    @property
    def leads(self) -> LeadRepository: ...
    @property
    def quotes(self) -> QuoteRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...

    def savepoint(self) -> AbstractAsyncContextManager[object]:
        """A nested transaction: an exception inside undoes only what was done inside."""
        ...

    def beside(self) -> UnitOfWork:
        """A read-only unit of work on a connection of its own (enter it with ``async with``), for reads that run at
        the same time as this one's: a report's independent aggregates, the database working on both at once. It
        sees what was last committed, not this unit's own changes."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
