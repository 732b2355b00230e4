"""Plain records the store hands to handlers and rules; no ORM types leave ``store/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from sales.stages import Stage


class Role(StrEnum):
    """What an employee may see and do."""

    REP = "rep"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Confidence(StrEnum):
    """A rep's own estimate of the chance to close."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass
class Employee:
    id: str
    name: str
    role: Role = Role.REP
    team: str | None = None
    supervisor_id: str | None = None
    mobile: str | None = None
    active: bool = True
    seniority: str = "junior"  # junior or senior (sales.leads.Level): the best leads go to senior reps
    accounts: dict[str, str] = field(default_factory=dict)  # platform -> the id that platform knows them by


@dataclass
class Team:
    name: str
    standup_enabled: bool = True
    standup_time: str = "15:00"
    standup_window_minutes: int = 15
    channels: dict[str, str] = field(default_factory=dict)  # platform -> the team's group chat, as its sender reads it


@dataclass
class Customer:
    name: str
    owner_id: str
    stage: Stage
    stage_entered_at: datetime
    created_at: datetime
    id: int | None = None
    aliases: list[str] = field(default_factory=list)
    amount: Decimal | None = None
    expected_close: date | None = None
    confidence: Confidence | None = None
    next_action: str | None = None
    next_action_date: date | None = None
    last_followup_at: datetime | None = None
    industry: str | None = None
    region: str | None = None
    size: str | None = None
    source: str | None = None
    closed_at: datetime | None = None
    lost_reason: str | None = None
    margin: Decimal | None = None  # gross margin of the deal as a fraction (0.32 = 32 %), from finance
    paid_on: date | None = None  # when the customer paid, for the fast-payment bonus


@dataclass
class StageChange:
    customer_id: int
    from_stage: Stage | None
    to_stage: Stage
    changed_at: datetime
    employee_id: str | None = None
    brief_id: int | None = None
    change_id: int | None = None  # the applied change that made it, so undo takes exactly that back
    id: int | None = None


class BriefStatus(StrEnum):
    RECEIVED = "received"
    APPLIED = "applied"
    PENDING = "pending"
    UNPARSED = "unparsed"
    UNDONE = "undone"


@dataclass
class Brief:
    sender_id: str
    platform: str
    text: str
    received_at: datetime
    platform_msg_id: str | None = None
    parse_result: dict[str, Any] | None = None
    status: BriefStatus = BriefStatus.RECEIVED
    id: int | None = None


@dataclass
class BriefUpdate:
    """What one brief changed on one customer: the values before and after, for undo."""

    brief_id: int
    customer_id: int
    before: dict[str, Any]
    after: dict[str, Any]
    created_customer: bool = False
    change_id: int | None = None
    id: int | None = None


@dataclass
class AppliedChange:
    """One write to the CRM made at one moment: a brief's immediate part, or a confirmed answer.

    Undo goes by these, newest first, so a change confirmed late is taken back before the brief
    that asked about it.
    """

    employee_id: str
    brief_id: int
    applied_at: datetime
    undone_at: datetime | None = None
    id: int | None = None


class InboxStatus(StrEnum):
    NEW = "new"
    DONE = "done"
    FAILED = "failed"


class Finished(NamedTuple):
    """How the handling of one inbox message ended, written for a whole batch at once."""

    message_id: int
    status: InboxStatus
    error: str | None = None


@dataclass
class InboxMessage:
    """A message as a platform delivered it, kept before anything is done with it."""

    platform: str
    msg_id: str
    user_id: str
    received_at: datetime
    chat_id: str | None = None
    is_group: bool = False
    kind: str = "text"
    text: str = ""
    raw: dict[str, Any] = field(default_factory=dict)
    status: InboxStatus = InboxStatus.NEW
    attempts: int = 0
    error: str | None = None
    processed_at: datetime | None = None
    id: int | None = None


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass
class OutboxMessage:
    """A message waiting to be delivered; ``key`` makes enqueueing and sending idempotent."""

    platform: str
    key: str
    created_at: datetime
    payload: dict[str, Any]
    to_user: str | None = None
    to_chat: str | None = None
    kind: str = "text"
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    id: int | None = None


@dataclass
class PendingQuestion:
    """A question the bot asked and waits on, per (platform, chat, user)."""

    platform: str
    chat_id: str
    user_id: str
    employee_id: str
    kind: str  # new_customer, choose_customer, confirm (confirm_stage: stored by older versions)
    payload: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    brief_id: int | None = None
    id: int | None = None


@dataclass
class Standup:
    """One team's standup on one day: opened in the group, closed with a summary."""

    team: str
    day: date
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None = None
    id: int | None = None


@dataclass
class StandupEntry:
    standup_id: int
    employee_id: str
    done: str
    blockers: str
    plans: str
    received_at: datetime
    late: bool = False
    via: str = "dm"  # dm or group
    id: int | None = None


@dataclass
class AuditEntry:
    at: datetime
    action: str
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


UNDO = "change.undo"
# what rewrites the history rather than adding to it: views derived from it (the recommender) are built again
HISTORY_REWRITES = (UNDO, "import.customers", "import.employees", "import.teams")
