"""Which customers have stalled or missed their planned step — for the scan and the overdue query.

The database narrows the candidates through its indexes (stage + entry time, step date);
the working-day rules of ``sales.stall`` decide the rest.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sales.calendar import WorkCalendar
from sales.model import Employee, Role
from sales.records import maker
from sales.stages import OPEN_STAGES, Stage
from sales.stall import Finding, ScanRow, StallPolicy, overdue_finding, stall_finding
from store.repositories import UnitOfWork
from usecases.format import day

EXPECTED = "回复一句进展即可"


@dataclass(frozen=True)
class Stalled:
    row: ScanRow
    finding: Finding


def start_of(day_: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day_, time(0, 0), tz)


async def find_stalled(
    uow: UnitOfWork,
    calendar: WorkCalendar,
    policy: StallPolicy,
    today: date,
    tz: ZoneInfo,
    owners: Collection[str] | None = None,
) -> list[Stalled]:
    """Every stall and every missed step due today, at the level each has reached; of ``owners``' customers only,
    when given (read so from the database: a rep's question at 100,000 customers read them all before)."""
    found: list[Stalled] = []
    stalled = maker(Stalled)  # tens of thousands in a scan (sales.records)
    for stage in OPEN_STAGES:
        cutoff = calendar.back(today, policy.limits[stage] + 1)  # entered on or before: past the limit
        for row in await uow.reminders.scan_stalled(stage, start_of(cutoff + timedelta(days=1), tz), owners):
            entered = row.stage_entered_at.astimezone(tz)
            finding = stall_finding(
                policy, calendar, today, customer_id=row.id, stage=row.stage, entered=entered.date(),
                entered_key=row.stage_entered_at.isoformat(timespec="seconds"), next_action_date=row.next_action_date,
            )  # fmt: skip
            if finding:
                found.append(stalled(row, finding))
    for row in await uow.reminders.scan_steps_due(calendar.back(today, 1), owners):
        followed = row.last_followup_at.astimezone(tz).date() if row.last_followup_at else None
        finding = overdue_finding(
            policy, calendar, today, customer_id=row.id, stage=row.stage, next_action_date=row.next_action_date,
            followed_up_on=followed,
        )  # fmt: skip
        if finding:
            found.append(stalled(row, finding))
    return found


def by_urgency(items: Iterable[Stalled]) -> list[Stalled]:
    """Highest level first, then the longest overdue; the same order whichever plan the database chose to read them
    (a list cut at ten must not depend on it)."""
    return sorted(items, key=lambda i: (-i.finding.level, -i.finding.days, i.row.id))


def describe(item: Stalled, *, owner: str | None = None) -> str:
    """One line per customer: stage, days, the planned step, and why it is listed."""
    row, f = item.row, item.finding
    who = f"({owner})" if owner else ""
    if f.reason == "stall":
        why = f"{row.stage.label} 已 {f.days} 个工作日"
    else:
        why = f"计划的「{row.next_action or '下一步'}」{day(row.next_action_date)} 已过 {f.days} 个工作日,还没有进展"
    plan = f",计划:{row.next_action or '下一步'} {day(row.next_action_date)}" if f.reason == "stall" and (
        row.next_action_date) else ""  # fmt: skip
    risk = " [高风险]" if f.level >= 3 else ""
    return f"· {row.name}{who} {why}{plan}{risk}"


async def visible_owners(uow: UnitOfWork, asker: Employee) -> set[str] | None:
    """Whose customers the asker may see: own, the team's, or everyone's (None)."""
    if asker.role is Role.ADMIN:
        return None
    if asker.role is Role.SUPERVISOR:
        team = [e.id for e in await uow.employees.find() if e.supervisor_id == asker.id
                or (asker.team is not None and e.team == asker.team)]  # fmt: skip
        return {asker.id, *team}
    return {asker.id}


def stage_in(text: str) -> Stage | None:
    """A stage named in a question (在方案演示阶段…)."""
    for stage in (*OPEN_STAGES, Stage.WON, Stage.LOST):
        if stage.label in text or (stage.label[:2] in text and stage.label[2:] in text):
            return stage
    words = {"演示": Stage.DEMO, "报价": Stage.NEGOTIATION, "谈判": Stage.NEGOTIATION, "需求": Stage.QUALIFIED,
             "初探": Stage.INITIAL}  # fmt: skip
    return next((s for w, s in words.items() if w in text), None)


def in_scope(items: Sequence[Stalled], owners: set[str] | None, stage: Stage | None) -> list[Stalled]:
    return [
        i for i in items
        if (owners is None or i.row.owner_id in owners) and (stage is None or i.row.stage is stage)
    ]  # fmt: skip
