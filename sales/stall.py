"""When a customer has stalled, and how far the reminder climbs (owner → supervisor → high risk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sales.calendar import WorkCalendar
from sales.records import maker
from sales.stages import OPEN_STAGES, Stage

STALL, NEXT_STEP_OVERDUE = "stall", "next_step_overdue"
DEFAULT_LIMITS = {Stage.INITIAL: 5, Stage.QUALIFIED: 5, Stage.DEMO: 5, Stage.NEGOTIATION: 7}


@dataclass(frozen=True)
class StallPolicy:
    limits: dict[Stage, int] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    supervisor_after: int = 2  # working days past level 1 before the supervisor is told
    high_risk_after: int = 5  # working days past level 1 before the customer is high-risk

    def thresholds(self, limit: int) -> tuple[int, int, int]:
        """A level fires when the count of working days exceeds its threshold."""
        return limit, limit + self.supervisor_after, limit + self.high_risk_after

    def level(self, count: int, limit: int) -> int:
        owner, supervisor, high_risk = self.thresholds(limit)
        return (count > owner) + (count > supervisor) + (count > high_risk)  # scans call this per customer


@dataclass(frozen=True)
class ScanRow:
    """The few columns a scan reads per customer."""

    id: int
    name: str
    owner_id: str
    stage: Stage
    stage_entered_at: datetime
    next_action: str | None
    next_action_date: date | None
    last_followup_at: datetime | None


@dataclass(frozen=True)
class Reminder:
    """A reminder sent (or about to be): once per customer, reason, stay and level."""

    customer_id: int
    reason: str
    stay: str
    level: int
    to_employee: str
    sent_at: datetime

    @property
    def key(self) -> str:
        return f"{self.customer_id}:{self.reason}:{self.stay}:{self.level}"


@dataclass(frozen=True)
class Finding:
    customer_id: int
    reason: str  # stall or next_step_overdue
    level: int  # 1 owner, 2 supervisor, 3 high risk
    days: int  # working days in the stage, or past the planned step
    stay: str  # what a reminder is once per: the stay in the stage, or the planned step


_finding = maker(Finding)  # a scan makes tens of thousands (sales.records)


def stall_finding(
    policy: StallPolicy,
    calendar: WorkCalendar,
    today: date,
    *,
    customer_id: int,
    stage: Stage,
    entered: date,
    entered_key: str,
    next_action_date: date | None,
) -> Finding | None:
    """The stall reminder due for a customer today, if any.

    A planned step still to come postpones it until its day has passed, but never past twice
    the stage's limit; won and lost customers never stall.
    """
    if stage not in OPEN_STAGES:
        return None
    limit = policy.limits[stage]
    count = calendar.workdays_after(entered, today)
    level = policy.level(count, limit)
    if level == 0:
        return None
    if next_action_date is not None and next_action_date >= today and count <= 2 * limit:
        return None
    return _finding(customer_id, STALL, level, count, f"stage:{stage.value}:{entered_key}")


def overdue_finding(
    policy: StallPolicy,
    calendar: WorkCalendar,
    today: date,
    *,
    customer_id: int,
    stage: Stage,
    next_action_date: date | None,
    followed_up_on: date | None,
) -> Finding | None:
    """A planned step whose day passed a working day ago with no brief about it since."""
    if stage not in OPEN_STAGES or next_action_date is None:
        return None
    if followed_up_on is not None and followed_up_on >= next_action_date:
        return None
    late = calendar.workdays_after(next_action_date, today)
    level = policy.level(late, 0)
    if level == 0:
        return None
    return _finding(customer_id, NEXT_STEP_OVERDUE, level, late, f"step:{next_action_date.isoformat()}")
