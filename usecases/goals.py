"""Goal state for a month and the week's pace: shared by the goals answer, the week's tasks and the prompts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sales.goals import Kpi, Level, Plan, Progress, actuals, days_left, decompose, progress_of, roll_up
from sales.model import Customer, Role
from sales.months import month_bounds
from sales.values import wan
from store.repositories import UnitOfWork
from usecases.heavy import heavy, together
from usecases.services import Services
from usecases.stalls import start_of


@dataclass
class GoalState:
    """One month's plan with everyone's actuals, as of ``today``."""

    month: str
    plan: Plan
    done: dict[tuple[str, Kpi], Decimal]
    team_done: dict[tuple[str, Kpi], Decimal]
    members: dict[str, list[str]]
    left: int

    def rep(self, employee_id: str) -> dict[Kpi, Progress]:
        return progress_of(self.plan.reps, self.done, [employee_id], self.left)

    def team(self, team: str) -> dict[Kpi, Progress]:
        return progress_of(self.plan.teams, self.team_done, [team], self.left)

    def company(self) -> dict[Kpi, Progress]:
        out = {}
        for kpi in Kpi:
            teams = [t for t in self.members if (t, kpi) in self.plan.teams]
            target = self.plan.company.get(kpi)
            if target is None and not teams:
                continue
            counted = list(self.members) if target is not None else teams  # like with like: teams with a target
            if target is None:
                target = sum((self.plan.teams[(t, kpi)].value for t in teams), Decimal(0))
            actual = sum((self.team_done[(t, kpi)] for t in counted), Decimal(0))
            out[kpi] = Progress(kpi, target, actual, self.left, Level.COMPANY)
        return out


@heavy
async def goal_state(uow: UnitOfWork, services: Services, today: date, month: str) -> GoalState:
    tz = services.timezone
    staff = await uow.employees.find(active_only=True)
    members: dict[str, list[str]] = {}
    for e in staff:
        if e.role is Role.REP:
            members.setdefault(e.team or "", []).append(e.id)
    goals = await uow.goals.for_month(month)
    start, end = (start_of(d, tz) for d in month_bounds(month))

    async def counted() -> tuple[list[tuple[str, date, int]], dict[str, int]]:  # a second connection, beside
        async with uow.beside() as side:
            return await side.briefs.sent_per_day(start, tz), await side.stages.advances(start, end)

    async def customers() -> tuple[list[Customer], dict[str, int]]:
        return await uow.customers.closed_between(start, end), await uow.customers.created_per_owner(start, end)

    (won, created), (briefs, advanced) = await together(customers(), counted())

    def compute() -> GoalState:  # a month of a large org's history: off the event loop, like the reports
        plan = decompose(goals, members)
        plan.month = month
        done = actuals(won, created, briefs, advanced, month, tz)
        return GoalState(month, plan, done, roll_up(done, members), members, days_left(services.calendar, today, month))

    return await asyncio.to_thread(compute)


def amount(kpi: Kpi, value: Decimal) -> str:
    if kpi.money:
        return wan(value)
    return f"{value.normalize():f}{kpi.unit}"


def week_pace(progress: dict[Kpi, Progress], calendar_days: int) -> list[str]:
    """The Monday list's lines: what this week's working days must bring in for each KPI not yet met."""
    out = []
    for p in progress.values():
        if p.gap > 0:
            out.append(f"· {p.kpi.label}:还差 {amount(p.kpi, p.gap)},本周 {calendar_days} 个工作日需 "
                       f"{amount(p.kpi, p.in_days(calendar_days))}")  # fmt: skip
        else:
            out.append(f"· {p.kpi.label}:已达成 ✓")
    return out


def days_this_week(services: Services, today: date) -> int:
    return len([d for d in services.calendar.week_workdays(today) if d >= today])
