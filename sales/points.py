"""Points as a ledger: each event earns once (its key is unique), redemptions are negative entries.

The rules say what behaviour a team wants more of — a brief before the evening deadline, a stage
moved, a deal won, a standup answered in time, a reminder acted on within a day, an honest forecast —
and the amounts are the admin's to set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class PointsRules:
    brief: int = 2  # a brief on a working day before the deadline (once a day)
    brief_deadline: time = time(20, 0)
    advance: int = 3  # a customer moved forward a stage (once per customer and stage)
    won: int = 10  # a deal won (once per customer)
    standup: int = 1  # a standup answered within its window
    reminder_cleared: int = 2  # a stall reminder answered by a brief within a day
    forecast: int = 10  # the last three months' forecast within ±10 % of what was signed
    forecast_tolerance: float = 0.10


RULE_LABELS = {
    "brief": "按时发简报",
    "advance": "推进阶段",
    "won": "成交",
    "standup": "按时参加站会",
    "reminder_cleared": "一天内处理停滞提醒",
    "forecast": "三个月预测误差在范围内",
    "redeem": "兑换",
}


@dataclass(frozen=True)
class Reward:
    name: str
    points: int


@dataclass
class PointsEntry:
    employee_id: str
    key: str  # the event; a second award for the same key is ignored
    rule: str
    points: int
    at: datetime
    note: str = ""
    brief_id: int | None = None  # undoing the brief takes its points back
    change_id: int | None = None  # … or exactly the applied change that earned them
    id: int | None = None


class RedemptionStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass
class Redemption:
    employee_id: str
    reward: str
    points: int
    requested_at: datetime
    status: str = RedemptionStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    id: int | None = None


DEFAULT_REWARDS = (Reward("咖啡券", 30), Reward("京东卡 100 元", 200), Reward("额外半天假", 500))


def brief_counts(received: datetime, is_workday: bool, rules: PointsRules) -> bool:
    """A brief earns points on a working day, before the deadline (local time)."""
    return is_workday and received.time() < rules.brief_deadline


def cleared_in_time(reminder_sent: datetime, brief_at: datetime) -> bool:
    """A reminder counts as handled when a brief about the customer came within 24 hours of it."""
    return reminder_sent <= brief_at <= reminder_sent + timedelta(days=1)


def forecast_within(
    first_forecasts: Mapping[str, Decimal], actual: Mapping[str, Decimal], months: Sequence[str], tolerance: float
) -> bool:
    """Three months summed: the first forecast of each month against what was signed in it, within
    ``tolerance``. Every month needs a forecast, and something must have been signed."""
    if any(m not in first_forecasts for m in months):
        return False
    said = sum((first_forecasts[m] for m in months), Decimal(0))
    signed = sum((actual.get(m, Decimal(0)) for m in months), Decimal(0))
    if signed <= 0:
        return False
    return abs(float(said - signed)) <= tolerance * float(signed)


def leaderboard(totals: Mapping[str, int], people: Iterable[str]) -> list[tuple[int, str, int]]:
    """(rank, employee, points), highest first; ties share a rank (1, 1, 3), names break display ties."""
    rows = sorted(((totals.get(p, 0), p) for p in set(people)), key=lambda r: (-r[0], r[1]))
    scores = [s for s, _ in rows]
    return [(scores.index(s) + 1, p, s) for s, p in rows]


def find_reward(text: str, catalogue: Sequence[Reward]) -> list[Reward]:
    """The rewards a request names: an exact name, else every reward whose name contains the words."""
    wanted = text.strip()
    exact = [r for r in catalogue if r.name == wanted]
    if exact or not wanted:
        return exact
    return [r for r in catalogue if wanted in r.name or r.name in wanted]


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
