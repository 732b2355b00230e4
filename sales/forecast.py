"""A rolling forecast: each open customer's amount × its win probability, in the month it should close.

Probabilities come from the lead score where there is one, else the stage's historical win rate.
Each rep's record of forecasts against outcomes gives a bias factor that is applied and shown; the
reps' confidence marks widen or narrow the low/high band.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from sales.model import Confidence, Customer, StageChange
from sales.months import month_key, month_start
from sales.stages import OPEN_STAGES, Stage

LOW = {"high": 0.9, "medium": 0.6, "low": 0.3, None: 0.5}  # share of the expected kept in the low case
HIGH = {"high": 1.4, "medium": 1.2, "low": 1.0, None: 1.2}  # probability multiplier in the high case
BUCKETS = {"this_month": "本月", "next_month": "下月", "this_quarter": "本季度", "next_90_days": "未来 90 天"}


@dataclass(frozen=True)
class Snapshot:
    """What was forecast for one rep and one month, on the day it was taken."""

    owner_id: str
    month: str
    expected: Decimal
    taken_on: date


@dataclass
class Band:
    low: Decimal = Decimal(0)
    expected: Decimal = Decimal(0)
    high: Decimal = Decimal(0)

    def add(self, low: Decimal, expected: Decimal, high: Decimal) -> None:
        self.low += low
        self.expected += expected
        self.high += high


@dataclass
class Forecast:
    today: date
    buckets: dict[str, Band]
    by_month: dict[str, Decimal]
    bias: dict[str, float]  # owner -> factor applied (1.0 = no correction)
    error: float | None  # last quarter's mean absolute percentage error
    per_owner: dict[str, Decimal] = field(default_factory=dict)  # expected, this quarter
    owner_error: dict[str, float] = field(default_factory=dict)  # each rep's own error of last quarter, where known
    rates: dict[Stage, float] = field(default_factory=dict)  # each open stage's win rate (what a what-if starts from)


class Deal(Protocol):
    """What the forecast reads of an open customer (a Customer, or the store's lighter OpenDeal)."""

    @property
    def id(self) -> int | None: ...
    @property
    def owner_id(self) -> str: ...
    @property
    def stage(self) -> Stage: ...
    @property
    def amount(self) -> Decimal | None: ...
    @property
    def expected_close(self) -> date | None: ...
    @property
    def confidence(self) -> Confidence | None: ...


@dataclass(frozen=True)
class OpenDeal:
    """An open customer with an amount, only the columns a forecast needs."""

    id: int
    name: str
    owner_id: str
    stage: Stage
    amount: Decimal | None
    expected_close: date | None
    confidence: Confidence | None


def reach_outcomes(customers: Sequence[Customer], changes: Sequence[StageChange]) -> dict[tuple[Stage, Stage], int]:
    """(stage reached, won or lost) -> closed customers; a store computes this with one GROUP BY."""
    reached: dict[int, set[Stage]] = defaultdict(set)
    for change in changes:
        reached[change.customer_id].add(change.to_stage)
    out: dict[tuple[Stage, Stage], int] = defaultdict(int)
    for c in customers:
        if c.stage.is_closed and c.id is not None:
            for stage in reached.get(c.id, set()):
                out[(stage, c.stage)] += 1
    return dict(out)


def win_rates(outcomes: Mapping[tuple[Stage, Stage], int]) -> dict[Stage, float]:
    """Of the closed customers that reached a stage, the share that was won (smoothed)."""
    rates = {}
    for stage in OPEN_STAGES:
        won, lost = outcomes.get((stage, Stage.WON), 0), outcomes.get((stage, Stage.LOST), 0)
        rates[stage] = (won + 1) / (won + lost + 2)
    return rates


def stage_win_rates(customers: Sequence[Customer], changes: Sequence[StageChange]) -> dict[Stage, float]:
    return win_rates(reach_outcomes(customers, changes))


def won_entries(
    customers: Sequence[Customer], changes: Sequence[StageChange]
) -> list[tuple[Stage, datetime, datetime]]:
    """(stage, first entered, signed) for every stage a won customer went through."""
    entered: dict[tuple[int, Stage], datetime] = {}
    for change in sorted(changes, key=lambda c: c.changed_at):
        entered.setdefault((change.customer_id, change.to_stage), change.changed_at)
    return [
        (stage, entered[(c.id, stage)], c.closed_at)
        for c in customers
        if c.stage is Stage.WON and c.closed_at is not None and c.id is not None
        for stage in OPEN_STAGES
        if (c.id, stage) in entered
    ]


DEFAULT_CLOSE_DAYS = {Stage.INITIAL: 60, Stage.QUALIFIED: 45, Stage.DEMO: 30, Stage.NEGOTIATION: 15}


def close_day_counts(entries: Sequence[tuple[Stage, datetime, datetime]], tz: ZoneInfo) -> dict[Stage, dict[int, int]]:
    """Per open stage, how many won customers took how many calendar days (local dates) from entering it to
    signing: what ``close_days`` needs, small however many deals were won (a store counts these itself)."""
    counts: dict[Stage, dict[int, int]] = defaultdict(dict)
    for stage, entered, signed in entries:
        if stage in OPEN_STAGES:
            days = (signed.astimezone(tz).date() - entered.astimezone(tz).date()).days
            counts[stage][days] = counts[stage].get(days, 0) + 1
    return dict(counts)


def close_days(counts: Mapping[Stage, Mapping[int, int]]) -> dict[Stage, int]:
    """Median calendar days from entering each stage to signing, over the won customers (``close_day_counts``);
    a stage no won customer went through takes a default."""
    out = {}
    for stage in OPEN_STAGES:
        seen = sorted((days, n) for days, n in counts.get(stage, {}).items() if n > 0)
        total = sum(n for _, n in seen)
        if not total:
            out[stage] = DEFAULT_CLOSE_DAYS[stage]
            continue
        # the middle value, or the mean of the two middle ones: int(statistics.median(...)) of the days themselves
        out[stage] = int((_nth(seen, (total - 1) // 2) + _nth(seen, total // 2)) / 2)
    return out


def _nth(seen: Sequence[tuple[int, int]], index: int) -> int:
    """The ``index``-th smallest value of a sorted histogram."""
    for days, n in seen:
        if index < n:
            return days
        index -= n
    raise IndexError(index)


@dataclass(frozen=True)
class Signed:
    """A won customer, only what the forecast's accuracy needs."""

    owner_id: str
    stage: Stage
    amount: Decimal | None
    closed_at: datetime | None


def won_by_month(customers: Sequence[Customer | Signed], tz: ZoneInfo) -> dict[tuple[str, str], Decimal]:
    """Signed amount per (owner, month)."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for c in customers:
        if c.stage is Stage.WON and c.closed_at is not None:
            out[(c.owner_id, month_key(c.closed_at.astimezone(tz).date()))] += c.amount or Decimal(0)
    return out


def first_of_month(snapshots: Sequence[Snapshot]) -> dict[tuple[str, str], Snapshot]:
    """Per (owner, month), the first forecast taken within that month: what the rep expected going in."""
    first: dict[tuple[str, str], Snapshot] = {}
    for s in sorted(snapshots, key=lambda s: s.taken_on):
        if month_key(s.taken_on) == s.month:
            first.setdefault((s.owner_id, s.month), s)
    return first


def bias_factors(
    snapshots: Sequence[Snapshot], actual: dict[tuple[str, str], Decimal], today: date
) -> dict[str, float]:
    """actual ÷ forecast per rep over past months (the first snapshot of each month counts), clamped to 0.5–1.5."""
    now = month_key(today)
    first = {key: s for key, s in first_of_month(snapshots).items() if key[1] < now}
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    months: dict[str, int] = defaultdict(int)
    for (owner, month), snap in first.items():
        if snap.expected > 0:
            sums[owner][0] += actual.get((owner, month), Decimal(0))
            sums[owner][1] += snap.expected
            months[owner] += 1
    return {o: max(0.5, min(1.5, float(a / f))) for o, (a, f) in sums.items() if months[o] >= 2 and f > 0}


def last_quarter(today: date) -> list[str]:
    """The months of the quarter before ``today``'s, whose forecasts ``quarter_error`` judges."""
    start = month_start(today, -((today.month - 1) % 3) - 3)
    return [month_key(month_start(start, i)) for i in range(3)]


def first_snapshots(snapshots: Sequence[Snapshot], months: Sequence[str]) -> list[Snapshot]:
    """All that the forecast's accuracy reads (``bias_factors``, ``quarter_error`` for ``months``): per rep and month,
    the first snapshot taken within that month, and for ``months`` the first taken at all; oldest first. A store
    picks these itself: 4,500 rows of 39,000 at 100,000 customers."""
    kept: dict[tuple[str, str, date], Snapshot] = {}
    seen_within: set[tuple[str, str]] = set()
    seen_any: set[tuple[str, str]] = set()
    for snap in sorted(snapshots, key=lambda x: x.taken_on):
        key = (snap.owner_id, snap.month)
        if month_key(snap.taken_on) == snap.month and key not in seen_within:
            seen_within.add(key)
            kept[(*key, snap.taken_on)] = snap
        if snap.month in months and key not in seen_any:
            seen_any.add(key)
            kept[(*key, snap.taken_on)] = snap
    return sorted(kept.values(), key=lambda x: x.taken_on)


def quarter_error(snapshots: Sequence[Snapshot], actual: dict[tuple[str, str], Decimal], today: date,
                  owners: set[str] | None) -> float | None:  # fmt: skip
    """Mean absolute percentage error of last quarter's months (forecast at each month's start)."""
    months = last_quarter(today)
    first: dict[tuple[str, str], Snapshot] = {}
    for s in sorted((s for s in snapshots if s.month in months), key=lambda s: s.taken_on):
        if owners is None or s.owner_id in owners:
            first.setdefault((s.owner_id, s.month), s)
    errors = []
    for month in months:
        forecast = sum((s.expected for (_, m), s in first.items() if m == month), Decimal(0))
        real = sum((v for (o, m), v in actual.items() if m == month and (owners is None or o in owners)), Decimal(0))
        if real > 0 and forecast > 0:
            errors.append(abs(float(forecast - real)) / float(real))
    return statistics.mean(errors) if errors else None


@lru_cache(maxsize=4096)
def exact(value: float) -> Decimal:
    """A float as the Decimal of its shortest repr (cached: the same few probabilities recur)."""
    return Decimal(str(value))


def forecast(
    open_customers: Sequence[Deal],
    probability: dict[int, float],
    close_days: dict[Stage, int],
    bias: dict[str, float],
    today: date,
    *,
    error: float | None = None,
) -> Forecast:
    this_month, next_month = month_start(today), month_start(today, 1)
    quarter_start = month_start(today, -((today.month - 1) % 3))
    quarter_end = month_start(quarter_start, 3) - timedelta(days=1)
    horizon = today + timedelta(days=90)
    buckets = {k: Band() for k in BUCKETS}
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    per_owner: dict[str, Decimal] = defaultdict(Decimal)
    for c in open_customers:
        if c.amount is None or c.id is None or c.stage.is_closed:
            continue
        p = probability.get(c.id, 0.0)
        when = c.expected_close or today + timedelta(days=close_days.get(c.stage, 30))
        when = max(when, today)  # an expected close in the past is still to come: this month
        factor = exact(bias.get(c.owner_id, 1.0))
        conf = c.confidence.value if c.confidence else None
        expected = c.amount * exact(p) * factor
        low = expected * exact(LOW[conf])
        high = c.amount * exact(min(1.0, p * HIGH[conf])) * factor
        by_month[month_key(when)] += expected
        month = when.replace(day=1)
        if month == this_month:
            buckets["this_month"].add(low, expected, high)
        if month == next_month:
            buckets["next_month"].add(low, expected, high)
        if quarter_start <= when <= quarter_end:
            buckets["this_quarter"].add(low, expected, high)
            per_owner[c.owner_id] += expected
        if when <= horizon:
            buckets["next_90_days"].add(low, expected, high)
    return Forecast(today, buckets, dict(by_month), dict(bias), error, dict(per_owner))


def owner_months(
    open_customers: Sequence[Deal], probability: dict[int, float], close_days: dict[Stage, int], today: date
) -> dict[tuple[str, str], Decimal]:
    """The uncorrected forecast per (rep, month): what the weekly snapshot keeps."""
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for c in open_customers:
        if c.amount is None or c.id is None or c.stage.is_closed:
            continue
        when = max(c.expected_close or today + timedelta(days=close_days.get(c.stage, 30)), today)
        out[(c.owner_id, month_key(when))] += c.amount * exact(probability.get(c.id, 0.0))
    return dict(out)
