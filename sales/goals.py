"""Goals as OKR → KPI: a company objective's key results per month, split to teams and to each rep.

Targets are set (imported or by command); progress is always computed from the data, never typed in,
so a rep's 「还差多少」 and the supervisor's roll-up cannot disagree with the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sales.calendar import WorkCalendar
from sales.model import Customer, StageChange
from sales.months import month_bounds, month_key
from sales.stages import Stage


class Kpi(StrEnum):
    SIGNED_AMOUNT = "signed_amount"
    WON_COUNT = "won_count"
    NEW_CUSTOMERS = "new_customers"
    BRIEFS = "briefs"
    ADVANCES = "advances"

    @property
    def label(self) -> str:
        return _KPI_LABELS[self]

    @property
    def money(self) -> bool:
        return self is Kpi.SIGNED_AMOUNT

    @property
    def unit(self) -> str:
        return {Kpi.WON_COUNT: " 个", Kpi.NEW_CUSTOMERS: " 个", Kpi.BRIEFS: " 条", Kpi.ADVANCES: " 次"}.get(self, "")


_KPI_LABELS = {
    Kpi.SIGNED_AMOUNT: "新签合同额",
    Kpi.WON_COUNT: "成交客户数",
    Kpi.NEW_CUSTOMERS: "新增客户数",
    Kpi.BRIEFS: "简报数",
    Kpi.ADVANCES: "阶段推进数",
}
_KPI_WORDS: list[tuple[str, Kpi]] = sorted(
    [
        *((k.value, k) for k in Kpi),
        *((label, k) for k, label in _KPI_LABELS.items()),
        ("合同额", Kpi.SIGNED_AMOUNT),
        ("签约额", Kpi.SIGNED_AMOUNT),
        ("成交额", Kpi.SIGNED_AMOUNT),
        ("业绩", Kpi.SIGNED_AMOUNT),
        ("销售额", Kpi.SIGNED_AMOUNT),
        ("成交数", Kpi.WON_COUNT),
        ("签约数", Kpi.WON_COUNT),
        ("成交客户", Kpi.WON_COUNT),
        ("签单数", Kpi.WON_COUNT),
        ("新客户数", Kpi.NEW_CUSTOMERS),
        ("新增客户", Kpi.NEW_CUSTOMERS),
        ("新客户", Kpi.NEW_CUSTOMERS),
        ("简报", Kpi.BRIEFS),
        ("日报数", Kpi.BRIEFS),
        ("推进数", Kpi.ADVANCES),
        ("阶段推进", Kpi.ADVANCES),
        ("推进", Kpi.ADVANCES),
    ],
    key=lambda pair: -len(pair[0]),
)


def parse_kpi(text: str) -> Kpi | None:
    """A KPI named in Chinese or by its code; the longest name wins (成交客户数 before 成交)."""
    cleaned = text.strip().lower()
    return next((k for word, k in _KPI_WORDS if cleaned == word), None)


def kpi_in(text: str) -> tuple[Kpi, str] | None:
    """The first KPI name inside a longer text, with the word found."""
    return next(((k, word) for word, k in _KPI_WORDS if word in text), None)


class Level(StrEnum):
    COMPANY = "company"
    TEAM = "team"
    REP = "rep"


@dataclass
class Goal:
    """One key result's target for one month at one level (subject: "" / team name / employee id)."""

    month: str
    level: Level
    subject: str
    kpi: Kpi
    target: Decimal
    objective: str | None = None  # the O this key result serves
    id: int | None = None


_MONTH = re.compile(r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*月?$")


def parse_month(value: object) -> str:
    """``2026-12``, ``2026/12``, ``2026年12月`` or a date cell → ``2026-12``; ValueError otherwise."""
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    m = _MONTH.match(text) or _MONTH.match(text[:7])
    if not m or not 1 <= int(m["m"]) <= 12:
        raise ValueError(f"月份看不懂: {text}(写成 2026-12)")
    return f"{int(m['y']):04d}-{int(m['m']):02d}"


def split(total: Decimal, parts: int, *, whole: bool) -> list[Decimal]:
    """``total`` in ``parts`` shares that add up exactly: fen for money, whole units for counts; the
    remainder goes to the first shares."""
    if parts <= 0:
        return []
    unit = Decimal(1) if whole else Decimal("0.01")
    base = (total / parts).quantize(unit, rounding=ROUND_DOWN)
    left = int((total - base * parts) / unit)
    return [base + (unit if i < left else 0) for i in range(parts)]


@dataclass(frozen=True)
class Target:
    value: Decimal
    source: Level  # where it was set: the rep's own, or split from the team's / the company's


@dataclass
class Plan:
    """Every team's and rep's target per KPI for one month, explicit or decomposed."""

    month: str
    company: dict[Kpi, Decimal] = field(default_factory=dict)
    teams: dict[tuple[str, Kpi], Target] = field(default_factory=dict)
    reps: dict[tuple[str, Kpi], Target] = field(default_factory=dict)
    objectives: list[str] = field(default_factory=list)


def decompose(goals: Sequence[Goal], members: Mapping[str, Sequence[str]]) -> Plan:
    """Targets top-down. A team without its own target gets the company's split by headcount (less what
    teams with their own target took); a rep without one gets the team's split evenly (less what reps with
    their own took). A team set by nobody but its reps adds up its reps' targets. ``members``: team → rep ids,
    reps without a team under ""."""
    month = goals[0].month if goals else ""
    plan = Plan(month)
    explicit = {(g.level, g.subject, g.kpi): g.target for g in goals}
    plan.objectives = list(dict.fromkeys(g.objective for g in goals if g.objective))
    for kpi in Kpi:
        company = explicit.get((Level.COMPANY, "", kpi))
        if company is not None:
            plan.company[kpi] = company
        own = {t: explicit[(Level.TEAM, t, kpi)] for t in members if (Level.TEAM, t, kpi) in explicit}
        for team, value in own.items():
            plan.teams[(team, kpi)] = Target(value, Level.TEAM)
        rest = [t for t in sorted(members) if t and t not in own and members[t]]  # "": reps without a team
        if company is not None and rest:
            left = max(company - sum(own.values(), Decimal(0)), Decimal(0))
            heads = sum(len(members[t]) for t in rest)
            shares = split(left, heads, whole=not kpi.money)
            for team in rest:
                n = len(members[team])
                plan.teams[(team, kpi)] = Target(sum(shares[:n], Decimal(0)), Level.COMPANY)
                shares = shares[n:]
        for team, reps in members.items():
            mine = {r: explicit[(Level.REP, r, kpi)] for r in reps if (Level.REP, r, kpi) in explicit}
            for rep, value in mine.items():
                plan.reps[(rep, kpi)] = Target(value, Level.REP)
            team_target = plan.teams.get((team, kpi))
            others = [r for r in sorted(reps) if r not in mine]
            if team_target is not None and others:
                left = max(team_target.value - sum(mine.values(), Decimal(0)), Decimal(0))
                for rep, share in zip(others, split(left, len(others), whole=not kpi.money), strict=True):
                    plan.reps[(rep, kpi)] = Target(share, team_target.source if team_target.source is Level.COMPANY
                                                   else Level.TEAM)  # fmt: skip
            if team_target is None and mine:
                plan.teams[(team, kpi)] = Target(sum(mine.values(), Decimal(0)), Level.REP)
    return plan


def is_advance(from_stage: Stage | None, to_stage: Stage) -> bool:
    """A stage change that counts as progress: forward from a stage the customer was in, never into lost."""
    return from_stage is not None and to_stage is not Stage.LOST and to_stage.rank > from_stage.rank


ADVANCES: tuple[tuple[Stage, Stage], ...] = tuple((a, b) for a in Stage for b in Stage if is_advance(a, b))


def advances(changes: Iterable[StageChange], start: datetime, end: datetime) -> dict[str, int]:
    """Forward moves (``is_advance``) made from ``start`` to ``end`` per person who reported them; an imported move
    counts for nobody. A store counts these itself, from ``ADVANCES``."""
    out: dict[str, int] = {}
    for ch in changes:
        if ch.employee_id and start <= ch.changed_at < end and is_advance(ch.from_stage, ch.to_stage):
            out[ch.employee_id] = out.get(ch.employee_id, 0) + 1
    return out


def actuals(
    won: Iterable[Customer],
    created: Mapping[str, int],
    briefs: Iterable[tuple[str, date, int]],
    advanced: Mapping[str, int],
    month: str,
    tz: ZoneInfo,
) -> dict[tuple[str, Kpi], Decimal]:
    """What each person did in ``month``, per KPI, from the data: customers won (amount and count),
    customers created, briefs sent (by local day), stages advanced (``advances`` over the month)."""
    out: dict[tuple[str, Kpi], Decimal] = {}

    def add(who: str, kpi: Kpi, value: Decimal | int) -> None:
        out[(who, kpi)] = out.get((who, kpi), Decimal(0)) + value

    for c in won:
        if c.stage is Stage.WON and c.closed_at is not None and month_key(c.closed_at.astimezone(tz).date()) == month:
            add(c.owner_id, Kpi.WON_COUNT, 1)
            add(c.owner_id, Kpi.SIGNED_AMOUNT, c.amount or Decimal(0))
    for owner, count in created.items():
        add(owner, Kpi.NEW_CUSTOMERS, count)
    for sender, day, count in briefs:
        if month_key(day) == month:
            add(sender, Kpi.BRIEFS, count)
    for who, count in advanced.items():
        add(who, Kpi.ADVANCES, count)
    return out


@dataclass(frozen=True)
class Progress:
    kpi: Kpi
    target: Decimal
    actual: Decimal
    days_left: int  # working days left in the month, today included
    source: Level = Level.REP

    @property
    def gap(self) -> Decimal:
        return max(self.target - self.actual, Decimal(0))

    @property
    def done(self) -> float:
        return float(self.actual / self.target) if self.target else 1.0

    def per_day(self) -> Decimal | None:
        """What each remaining working day needs; None when the month is over."""
        if not self.days_left:
            return None
        return (self.gap / self.days_left).quantize(Decimal("0.01"), rounding=ROUND_UP)  # needed: never short

    def in_days(self, days: int) -> Decimal:
        """The share of the gap that ``days`` of the remaining working days must carry (a week's pace)."""
        if not self.days_left:
            return self.gap
        return (self.gap * min(days, self.days_left) / self.days_left).quantize(Decimal("0.01"), rounding=ROUND_UP)


def days_left(calendar: WorkCalendar, today: date, month: str) -> int:
    """Working days from today (included) to the end of ``month``; 0 for a month that is over."""
    start, following = month_bounds(month)
    end = following - timedelta(days=1)
    if today > end:
        return 0
    return calendar.workdays_after(max(today, start) - timedelta(days=1), end)


def progress_of(
    targets: Mapping[tuple[str, Kpi], Target],
    done: Mapping[tuple[str, Kpi], Decimal],
    who: Iterable[str],
    left: int,
) -> dict[Kpi, Progress]:
    """One person's (or a group's, summed) progress per KPI that has a target."""
    people = list(who)
    out: dict[Kpi, Progress] = {}
    for kpi in Kpi:
        found = [targets[(p, kpi)] for p in people if (p, kpi) in targets]
        if not found:
            continue
        target = sum((t.value for t in found), Decimal(0))
        actual = sum((done.get((p, kpi), Decimal(0)) for p in people), Decimal(0))
        out[kpi] = Progress(kpi, target, actual, left, found[0].source)
    return out


def roll_up(
    done: Mapping[tuple[str, Kpi], Decimal], members: Mapping[str, Sequence[str]]
) -> dict[tuple[str, Kpi], Decimal]:
    """Each team's actuals: the sum of its reps'."""
    out: dict[tuple[str, Kpi], Decimal] = {}
    for team, reps in members.items():
        for kpi in Kpi:
            out[(team, kpi)] = sum((done.get((r, kpi), Decimal(0)) for r in reps), Decimal(0))
    return out
