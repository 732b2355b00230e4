"""Table definitions, typed with ``Mapped[]``; the migrations in ``store/migrations`` match them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every backend, handed out as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # combine, not replace(tzinfo=UTC): the same value at a fifth of the cost (100,000s of rows in a report)
        return None if value is None else datetime.combine(value, value.time(), UTC)


class _Scaled(TypeDecorator[Decimal]):
    """A Decimal stored as a whole number of ``1 / scale`` so SQLite keeps it exact."""

    scale: ClassVar[int]
    quantum: ClassVar[Decimal]

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else int((Decimal(value) * self.scale).to_integral_value())

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else (Decimal(value) / self.scale).quantize(self.quantum)


class Money(_Scaled):
    """Yuan with two decimals, stored as whole fen."""

    impl = BigInteger
    cache_ok = True  # read from each class's own namespace
    scale, quantum = 100, Decimal("0.01")


class Ratio(_Scaled):
    """A fraction with four decimals (0.3250 = 32.50 %)."""

    impl = Integer
    cache_ok = True
    scale, quantum = 10_000, Decimal("0.0001")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class TeamRow(Base):
    __tablename__ = "teams"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    standup_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    standup_time: Mapped[str] = mapped_column(String(5), default="15:00")
    standup_window_minutes: Mapped[int] = mapped_column(Integer, default=15)


class EmployeeRow(Base):
    __tablename__ = "employees"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20), default="rep")
    team: Mapped[str | None] = mapped_column(ForeignKey("teams.name"), index=True)
    supervisor_id: Mapped[str | None] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    seniority: Mapped[str] = mapped_column(String(10), default="junior", server_default="junior")


class AccountRow(Base):
    """One employee's id on one platform; a platform id belongs to one employee."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)
    employee_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))


class TeamChannelRow(Base):
    """A team's group chat on one platform (a chat id or a group robot, as that platform's sender reads it)."""

    __tablename__ = "team_channels"
    team: Mapped[str] = mapped_column(ForeignKey("teams.name"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    target: Mapped[str] = mapped_column(String(500))


_SCAN_COLUMNS = ("id", "owner_id", "next_action_date", "last_followup_at", "name", "next_action")


class CustomerRow(Base):
    __tablename__ = "customers"
    __table_args__ = (
        # SQLite: the stall scan reads from this one alone, without a table lookup per row (migration 0015). Not on
        # PostgreSQL: there an index holding these columns would make every follow-up a non-HOT update, its rows could
        # pass the 2,704-byte limit of an index row, and an index-only scan needs pages the updates keep dirtying.
        Index("ix_customers_stall_scan", "stage", "stage_entered_at", *_SCAN_COLUMNS).ddl_if(dialect="sqlite"),
        Index("ix_customers_stage_entered", "stage", "stage_entered_at").ddl_if(dialect="postgresql"),
        Index("ix_customers_next_action_date", "next_action_date"),
        Index("ix_customers_stage_closed", "stage", "closed_at", "owner_id", "amount"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_id: Mapped[str] = mapped_column(ForeignKey("employees.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    expected_close: Mapped[date | None] = mapped_column(Date)
    confidence: Mapped[str | None] = mapped_column(String(10))
    next_action: Mapped[str | None] = mapped_column(String(500))
    next_action_date: Mapped[date | None] = mapped_column(Date)
    last_followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    industry: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[str | None] = mapped_column(String(50))
    source: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    margin: Mapped[Decimal | None] = mapped_column(Ratio)
    paid_on: Mapped[date | None] = mapped_column(Date)
    # the names version (CatalogVersionRow) at which this customer was added, renamed or given other aliases:
    # set by the database's triggers (migration 0014), so that every way of writing a name is seen by the parser
    names_rev: Mapped[int] = mapped_column(BigInteger, server_default="0", index=True)


class CatalogVersionRow(Base):
    """One counter per catalogue, bumped (by triggers) in the transaction that changes it: the parser learns that
    its customer index is out of date from one primary-key read, not a count over every customer. The row's lock,
    held to the commit, keeps the versions in commit order on PostgreSQL; the price is that transactions writing
    names there run one after another (an import holds it for its whole length), and that two of them that also
    update the same customer can deadlock (PostgreSQL aborts one; the inbox retries it)."""

    __tablename__ = "catalog_versions"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class CustomerNameLogRow(Base):
    """A name that stopped being a customer's (renamed or deleted), at the names version that did it."""

    __tablename__ = "customer_name_log"
    version: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    old_name: Mapped[str] = mapped_column(String(200))


class StageHistoryRow(Base):
    __tablename__ = "stage_history"
    __table_args__ = (Index("ix_stage_history_customer_stage_time", "customer_id", "to_stage", "changed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(20))
    to_stage: Mapped[str] = mapped_column(String(20))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    employee_id: Mapped[str | None] = mapped_column(String(64))
    brief_id: Mapped[int | None] = mapped_column(ForeignKey("briefs.id", ondelete="SET NULL"), index=True)
    change_id: Mapped[int | None] = mapped_column(Integer, index=True)


class BriefRow(Base):
    __tablename__ = "briefs"
    __table_args__ = (
        UniqueConstraint("platform", "platform_msg_id", name="uq_briefs_platform_msg"),
        Index("ix_briefs_sender_received", "sender_id", "received_at"),
        Index("ix_briefs_received_sender_status", "received_at", "sender_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(String(64))
    platform: Mapped[str] = mapped_column(String(20))
    platform_msg_id: Mapped[str | None] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    parse_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="received")


class BriefUpdateRow(Base):
    __tablename__ = "brief_updates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    change_id: Mapped[int | None] = mapped_column(Integer, index=True)


class AppliedChangeRow(Base):
    __tablename__ = "applied_changes"
    __table_args__ = (Index("ix_applied_changes_employee_undone", "employee_id", "undone_at", "id"),)
    employee_id: Mapped[str] = mapped_column(String(64))
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"), index=True)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class InboxRow(Base):
    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "msg_id", name="uq_inbox_platform_msg"),
        Index("ix_inbox_status_id", "status", "id"),
        # a sender's oldest new message, found in the index (``SqlInbox.claim``), not by walking every handled one
        Index("ix_inbox_sender_status", "platform", "user_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    msg_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str | None] = mapped_column(String(200))
    is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(40), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="new")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    to_user: Mapped[str | None] = mapped_column(String(128))
    to_chat: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="text")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SendWindowRow(Base):
    """Recent sends to one recipient, shared by every instance: the platform's per-person limit."""

    __tablename__ = "send_windows"
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(200), primary_key=True)
    sends: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO times in UTC, oldest first


class PendingRow(Base):
    __tablename__ = "pending_questions"
    __table_args__ = (Index("ix_pending_conversation", "platform", "chat_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[str] = mapped_column(String(128))
    employee_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    brief_id: Mapped[int | None] = mapped_column(Integer, index=True)


class ReminderRow(Base):
    __tablename__ = "reminders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(String(30))
    stay: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(Integer)
    to_employee: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StandupRow(Base):
    __tablename__ = "standups"
    __table_args__ = (UniqueConstraint("team", "day", name="uq_standups_team_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StandupEntryRow(Base):
    __tablename__ = "standup_entries"
    __table_args__ = (UniqueConstraint("standup_id", "employee_id", name="uq_standup_entries_member"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    standup_id: Mapped[int] = mapped_column(ForeignKey("standups.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[str] = mapped_column(String(64))
    done: Mapped[str] = mapped_column(Text)
    blockers: Mapped[str] = mapped_column(Text)
    plans: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    via: Mapped[str] = mapped_column(String(10), default="dm")


class ForecastSnapshotRow(Base):
    __tablename__ = "forecast_snapshots"
    __table_args__ = (UniqueConstraint("owner_id", "month", "taken_on", name="uq_forecast_snapshots_owner_month_day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner_id: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    expected: Mapped[Decimal] = mapped_column(Money)
    taken_on: Mapped[date] = mapped_column(Date, index=True)


class GoalRow(Base):
    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("month", "level", "subject", "kpi", name="uq_goals_month_level_subject_kpi"),)
    month: Mapped[str] = mapped_column(String(7))
    level: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(100))
    kpi: Mapped[str] = mapped_column(String(20))
    target: Mapped[Decimal] = mapped_column(Money)
    objective: Mapped[str | None] = mapped_column(String(500))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class PointsRow(Base):
    __tablename__ = "points_ledger"
    __table_args__ = (Index("ix_points_ledger_employee_at", "employee_id", "at"),)
    employee_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(30))
    points: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    brief_id: Mapped[int | None] = mapped_column(Integer, index=True)
    change_id: Mapped[int | None] = mapped_column(Integer, index=True)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class RedemptionRow(Base):
    __tablename__ = "redemptions"
    employee_id: Mapped[str] = mapped_column(String(64), index=True)
    reward: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def on_dialect(item: Any, dialect: str) -> bool:
    """Whether a schema item exists on ``dialect``: an index made with ``ddl_if(dialect=…)`` exists only there.
    Alembic's comparison of models and database does not read ``ddl_if`` itself (migrations/env.py, the tests)."""
    only = getattr(getattr(item, "_ddl_if", None), "dialect", None)
    return only is None or only == dialect or (isinstance(only, (tuple, list)) and dialect in only)


class WebLinkRow(Base):
    """A sign-in link sent in the chat: only its SHA-256 is kept, so a copy of the database opens no session."""

    __tablename__ = "web_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSessionRow(Base):
    """A dashboard session (the cookie's SHA-256) with its CSRF token."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(64), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LeadRow(Base):
    """A lead before (and after) it is handed to a rep: its source, when it came, whom it went to and when the rep
    first wrote about it."""

    __tablename__ = "leads"
    __table_args__ = (Index("ix_leads_owner_assigned", "owner_id", "assigned_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(100), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    contact: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    score: Mapped[float | None] = mapped_column(Float)


class LeadEventRow(Base):
    """What a lead did (a page view with its seconds, a download, a form, a webinar, an email opened)."""

    __tablename__ = "lead_events"
    __table_args__ = (Index("ix_lead_events_lead_at", "lead_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[int | None] = mapped_column(Integer)
    what: Mapped[str | None] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), unique=True)


class ChannelCostRow(Base):
    """What a channel cost in a month (marketing's spend), for the acquisition cost per channel."""

    __tablename__ = "channel_costs"
    __table_args__ = (UniqueConstraint("channel", "month", name="uq_channel_costs_channel_month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(100))
    month: Mapped[str] = mapped_column(String(7))
    spend: Mapped[Decimal] = mapped_column(Money)


class ProductRow(Base):
    """One version of a product in the price list, in force from its effective date until the next version."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("code", "effective_from", name="uq_products_code_effective_from"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    list_price: Mapped[Decimal] = mapped_column(Money)
    tax_rate: Mapped[Decimal] = mapped_column(Ratio)
    effective_from: Mapped[date] = mapped_column(Date)
    floor_price: Mapped[Decimal | None] = mapped_column(Money)
    max_discount: Mapped[Decimal | None] = mapped_column(Ratio)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    includes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class QuoteRow(Base):
    """One version of a numbered quote: its lines as quoted (prices copied from the list), where its approval
    stands, and the documents made when it became final."""

    __tablename__ = "quotes"
    __table_args__ = (UniqueConstraint("number", "version", name="uq_quotes_number_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    rep_id: Mapped[str] = mapped_column(String(64))
    lines: Mapped[list[Any]] = mapped_column(JSON)
    discount: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    valid_until: Mapped[date] = mapped_column(Date)
    payment_terms: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    approval: Mapped[str] = mapped_column(String(20))
    waiting_for: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    total: Mapped[Decimal] = mapped_column(Money)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    xlsx: Mapped[bytes | None] = mapped_column(LargeBinary)
