"""The week's tasks of a person (or a supervisor's team): the chat answer and the Monday list share them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sales.model import Employee, Role
from sales.months import month_start
from store.repositories import UnitOfWork
from usecases.format import day
from usecases.goals import GoalState, days_this_week, week_pace
from usecases.services import Services
from usecases.stalls import Stalled, by_urgency, describe


def team_of(person: Employee, staff: Sequence[Employee]) -> set[str]:
    """Whose customers are on a person's list: a rep's own; a supervisor's team too."""

    def leads(e: Employee) -> bool:
        return e.supervisor_id == person.id or bool(person.team and e.team == person.team)

    return {e.id for e in staff if e.id == person.id or (person.role is Role.SUPERVISOR and leads(e))}


async def task_lines(
    uow: UnitOfWork,
    services: Services,
    person: Employee,
    staff: Sequence[Employee],
    stalled: Sequence[Stalled],
    goals: GoalState | None,
    today: date,
    *,
    next_week: bool = False,
) -> list[str]:
    """The steps of a week (this one from today, or the next), stalled customers, this month's closes, the pace."""
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1 if next_week else 0)
    start, sunday = (monday if next_week else today), monday + timedelta(days=6)
    month_end = month_start(today, 1) - timedelta(days=1)
    team = team_of(person, staff)
    customers = [c for c in await uow.customers.find(owner_ids=sorted(team)) if not c.stage.is_closed]
    steps = sorted(
        (c for c in customers if c.next_action_date and start <= c.next_action_date <= sunday),
        key=lambda c: c.next_action_date or start,
    )
    closes = [c for c in customers if c.expected_close and today <= c.expected_close <= month_end]
    mine = by_urgency(s for s in stalled if s.row.owner_id in team)
    who = "团队" if person.role is Role.SUPERVISOR else "你"
    week = "下周" if next_week else "本周"
    lines = [f"{week}任务清单({day(start)} 起):", f"{week}要做的下一步({len(steps)}):"]
    lines += [f"· {c.name}:{c.next_action or '跟进'} {day(c.next_action_date)}" for c in steps[:15]]
    lines.append(f"停滞的客户({len(mine)}):")
    lines += [describe(s) for s in mine[:10]]
    lines.append(f"{who}本月预计签约({len(closes)}):")
    lines += [f"· {c.name} {day(c.expected_close)}" for c in closes[:10]]
    if goals is not None and not next_week:
        pace = goals.team(person.team or "") if person.role is Role.SUPERVISOR else goals.rep(person.id)
        if pace:
            lines.append(f"{who}本月目标的本周节奏(剩 {goals.left} 个工作日):")
            lines += week_pace(pace, days_this_week(services, today))
    return lines
