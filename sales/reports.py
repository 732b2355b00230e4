"""Pipeline numbers as pure functions over records: the funnel and team activity."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from operator import attrgetter
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sales.calendar import WorkCalendar
from sales.model import Customer, Employee, StageChange
from sales.months import month_start
from sales.stages import OPEN_STAGES, Stage

PERIODS = {"this_month": "本月", "last_month": "上月", "this_quarter": "本季度", "this_week": "本周"}


@dataclass(frozen=True)
class Period:
    key: str
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return PERIODS[self.key]

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def period(key: str, today: date) -> tuple[Period, Period]:
    """The period and the one before it."""
    if key == "last_month":
        start, end = month_start(today, -1), month_start(today) - timedelta(days=1)
        prev = (month_start(today, -2), start - timedelta(days=1))
    elif key == "this_quarter":
        first = month_start(today, -((today.month - 1) % 3))
        start, end = first, month_start(first, 3) - timedelta(days=1)
        prev = (month_start(first, -3), first - timedelta(days=1))
    elif key == "this_week":
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=6)
        prev = (start - timedelta(days=7), start - timedelta(days=1))
    else:
        key = "this_month"
        start, end = month_start(today), month_start(today, 1) - timedelta(days=1)
        prev = (month_start(today, -1), start - timedelta(days=1))
    return Period(key, start, end), Period(key, *prev)


def period_in(text: str) -> str:
    """The period a question names (default this month)."""
    for key, words in (("last_month", ("上月", "上个月")), ("this_quarter", ("本季度", "这季度", "这个季度", "季度")),
                       ("this_week", ("本周", "这周", "这个星期", "这礼拜"))):  # fmt: skip
        if any(w in text for w in words):
            return key
    return "this_month"


@dataclass
class StageLine:
    stage: Stage
    count: int
    amount: Decimal


@dataclass
class Funnel:
    period: Period
    stages: list[StageLine]
    won: StageLine
    lost: StageLine
    conversion: dict[Stage, tuple[int, int]]  # entered in the period -> (entered, moved on since)
    median_days: dict[Stage, float | None]
    entered: dict[Stage, int]
    entered_before: dict[Stage, int]  # the previous period
    per_owner: dict[str, dict[Stage, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Listed:
    """A customer as a list shows it: the few columns, not the whole record (a team's list is 10,000 rows)."""

    id: int
    name: str
    owner_id: str
    stage: Stage
    amount: Decimal | None
    expected_close: date | None
    next_action: str | None
    next_action_date: date | None


@dataclass(frozen=True)
class StageTotal:
    """Open customers of one rep in one stage: what the store sums for a funnel."""

    owner_id: str
    stage: Stage
    count: int
    amount: Decimal


def stage_totals(customers: Sequence[Customer]) -> list[StageTotal]:
    """The totals a store would compute, from records (tests and the in-memory store)."""
    sums: dict[tuple[str, Stage], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for c in customers:
        if c.stage in OPEN_STAGES:
            sums[(c.owner_id, c.stage)][0] += 1
            sums[(c.owner_id, c.stage)][1] += c.amount or Decimal(0)
    return [StageTotal(o, s, n, a) for (o, s), (n, a) in sorted(sums.items())]


@dataclass(frozen=True)
class Move:
    """A stage change as the funnel reads it: a store reads only these columns (from an index that holds them)."""

    customer_id: int
    to_stage: Stage
    changed_at: datetime
    id: int | None = None


class Moved(Protocol):
    """What ``funnel`` reads of a stage change: a ``Move``, or a whole ``StageChange``."""

    @property
    def customer_id(self) -> int: ...
    @property
    def to_stage(self) -> Stage: ...
    @property
    def changed_at(self) -> datetime: ...
    @property
    def id(self) -> int | None: ...


def moves(changes: Iterable[StageChange]) -> list[Move]:
    return [Move(c.customer_id, c.to_stage, c.changed_at, c.id) for c in changes]


def funnel(
    totals: Sequence[StageTotal],
    closed: Sequence[Customer],
    changes: Sequence[Moved],
    span: Period,
    previous: Period,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    today: date,
) -> Funnel:
    """``totals`` of open customers, ``closed`` customers (any closed in ``span`` count) and the stage
    history of the customers in scope that moved since ``previous`` began."""
    by_customer: dict[int, list[Moved]] = defaultdict(list)
    # in any order from the store; a key of C getters where every change has its id (a store's always do)
    order: Callable[[Moved], Any] = (
        attrgetter("changed_at", "id")
        if all(c.id is not None for c in changes)
        else lambda c: (c.changed_at, c.id or 0)
    )
    for change in sorted(changes, key=order):
        by_customer[change.customer_id].append(change)

    def local(at: datetime) -> date:
        return at.astimezone(tz).date()

    def instants(p: Period) -> tuple[datetime, datetime]:
        """A period as the instants (in UTC, like the changes: a comparison across zones asks both for their offset)
        its first day starts and the day after it starts: a time lies in the period exactly when its local date
        does, without working out the local date of every change."""
        first = datetime.combine(p.start, time(0), tz).astimezone(UTC)
        return first, datetime.combine(p.end + timedelta(days=1), time(0), tz).astimezone(UTC)

    (span_from, span_to), (before_from, before_to) = instants(span), instants(previous)
    lines = []
    for stage in OPEN_STAGES:
        here = [t for t in totals if t.stage is stage]
        lines.append(StageLine(stage, sum(t.count for t in here), sum((t.amount for t in here), Decimal(0))))
    ended = {s: [c for c in closed if c.stage is s and c.closed_at and span.contains(local(c.closed_at))]
             for s in (Stage.WON, Stage.LOST)}  # fmt: skip
    won = StageLine(
        Stage.WON, len(ended[Stage.WON]), sum((c.amount or Decimal(0) for c in ended[Stage.WON]), Decimal(0))
    )
    lost = StageLine(
        Stage.LOST, len(ended[Stage.LOST]), sum((c.amount or Decimal(0) for c in ended[Stage.LOST]), Decimal(0))
    )
    conversion: dict[Stage, tuple[int, int]] = {}
    entered: Counter[Stage] = Counter()
    entered_before: Counter[Stage] = Counter()
    stays: dict[Stage, list[int]] = defaultdict(list)
    for path in by_customer.values():
        for index, change in enumerate(path):
            at = change.changed_at
            inside = span_from <= at < span_to
            if inside:
                entered[change.to_stage] += 1
            elif before_from <= at < before_to:
                entered_before[change.to_stage] += 1
            if change.to_stage not in OPEN_STAGES:
                continue
            later = path[index + 1 :]
            if inside:
                moved = any(c.to_stage.rank > change.to_stage.rank and c.to_stage is not Stage.LOST for c in later)
                got, on = conversion.get(change.to_stage, (0, 0))
                conversion[change.to_stage] = (got + 1, on + moved)
            if later and span_from <= later[0].changed_at < span_to:
                stays[change.to_stage].append(calendar.workdays_after(local(at), local(later[0].changed_at)))
    per_owner: dict[str, dict[Stage, int]] = defaultdict(dict)
    for t in totals:
        per_owner[t.owner_id][t.stage] = per_owner[t.owner_id].get(t.stage, 0) + t.count
    median = {s: (statistics.median(stays[s]) if stays[s] else None) for s in OPEN_STAGES}
    return Funnel(span, lines, won, lost, conversion, median, dict(entered), dict(entered_before), dict(per_owner))


@dataclass
class Activity:
    today: date
    sent_today: list[str]
    silent_today: list[str]
    sent_week: list[str]
    silent_week: list[str]
    days: list[date]  # the working days of the heatmap, oldest first
    heat: dict[str, list[int]]  # employee id -> briefs per day
    stalled: list[tuple[str, int]]  # (employee id, stalled customers), most first


def per_day(sent: Iterable[tuple[str, datetime]], tz: ZoneInfo) -> list[tuple[str, date, int]]:
    """(sender, local day, briefs): what a store counts with a GROUP BY."""
    counts: Counter[tuple[str, date]] = Counter((sender, at.astimezone(tz).date()) for sender, at in sent)
    return [(sender, day, n) for (sender, day), n in sorted(counts.items())]


def activity(
    reps: Sequence[Employee],
    sent: Sequence[tuple[str, date, int]],
    stalled_by_owner: dict[str, int],
    calendar: WorkCalendar,
    tz: ZoneInfo,
    today: date,
    *,
    weeks: int = 4,
) -> Activity:
    """Who reported today and this week, briefs per working day over the last ``weeks``, who is stuck."""
    days: list[date] = []
    day = today
    while len(days) < weeks * 5 and (today - day).days <= weeks * 7 + 14:
        if calendar.is_workday(day):
            days.append(day)
        day -= timedelta(days=1)
    days.reverse()
    index = {d: i for i, d in enumerate(days)}
    heat = {r.id: [0] * len(days) for r in reps}
    monday = today - timedelta(days=today.weekday())
    today_ids, week_ids = set(), set()
    for employee_id, local, count in sent:
        if employee_id in heat and local in index:
            heat[employee_id][index[local]] += count
        if local == today:
            today_ids.add(employee_id)
        if monday <= local <= today:
            week_ids.add(employee_id)
    ids = [r.id for r in reps]
    stalled = sorted(((i, stalled_by_owner.get(i, 0)) for i in ids if stalled_by_owner.get(i)), key=lambda x: -x[1])
    return Activity(
        today,
        [i for i in ids if i in today_ids],
        [i for i in ids if i not in today_ids],
        [i for i in ids if i in week_ids],
        [i for i in ids if i not in week_ids],
        days,
        heat,
        stalled,
    )
