"""Points settled by the calendar, not by a message: forecast accuracy on the month's first working day, and
the monthly recognition in each team's group."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from sales.forecast import Snapshot, first_of_month, won_by_month
from sales.model import Employee, Role
from sales.months import month_bounds, month_key
from sales.people import display_names
from sales.points import (
    PointsEntry,
    forecast_within,
)
from sales.values import wan
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.delivery import post_to_group
from usecases.services import Services
from usecases.stalls import start_of


async def forecast_awards(uow: UnitOfWork, services: Services, today: date, now: datetime) -> list[str]:
    """On the first working day of a month: reps whose forecasts for the last three months, summed, came
    within the tolerance of what they signed. Once per rep and month."""
    rules = services.points
    if not rules.forecast:
        return []
    start = today.replace(day=1)
    months = [month_key(start - timedelta(days=1))]
    for _ in range(2):
        months.insert(0, month_key(month_bounds(months[0])[0] - timedelta(days=1)))
    first = first_of_month(await uow.forecasts.snapshots())
    actual = won_by_month(await uow.customers.signed(), services.timezone)
    entries = []
    for rep in await uow.employees.find(active_only=True):
        said = {m: first[(rep.id, m)].expected for m in months if (rep.id, m) in first}
        signed = {m: actual.get((rep.id, m), Decimal(0)) for m in months}
        if rep.role is Role.REP and forecast_within(said, signed, months, rules.forecast_tolerance):
            entries.append(PointsEntry(rep.id, f"forecast:{rep.id}:{month_key(start)}", "forecast", rules.forecast,
                                       now, note=f"{months[0]} 至 {months[-1]}"))  # fmt: skip
    return [e.employee_id for e in await uow.points.award(entries)]


async def monthly(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> dict[str, str]:
    """First working day of the month: forecast points, then each team's group hears last month's leaders."""
    tz = services.timezone
    today = now.astimezone(tz).date()
    first_workday = services.calendar.next_workday(today.replace(day=1) - timedelta(days=1))
    if today != first_workday:
        return {}
    last = month_key(today.replace(day=1) - timedelta(days=1))
    start, end = (start_of(d, tz) for d in month_bounds(last))
    posted: dict[str, str] = {}
    async with uow_factory() as uow:
        await forecast_awards(uow, services, today, now)
        earned = await uow.points.earned(start, end)
        won = won_by_month(await uow.customers.signed(), tz)
        first = first_of_month(await uow.forecasts.snapshots())
        staff = await uow.employees.find(active_only=True)
        for team in await uow.teams.find():
            reps = [e for e in staff if e.role is Role.REP and e.team == team.name]
            if not reps:
                continue
            text = recognition_text(last, reps, earned, won, first)
            if await post_to_group(uow, team, text, key=f"recognition:{last}:{team.name}", now=now, services=services):
                posted[team.name] = text
        await uow.commit()
    return posted


def recognition_text(
    month: str, reps: Sequence[Employee], earned: dict[str, int], won: dict[tuple[str, str], Decimal],
    first: dict[tuple[str, str], Snapshot],
) -> str:  # fmt: skip
    year, mon = month.split("-")
    lines = [f"🎉 {year}年{int(mon)}月之星"]
    names = display_names(reps)
    by_points = sorted(((earned.get(e.id, 0), names[e.id]) for e in reps if earned.get(e.id, 0) > 0), reverse=True)[:3]
    lines.append("积分:" + ("、".join(f"{n} {p} 分" for p, n in by_points) or "本月还没有人得分"))
    by_won = sorted(((won.get((e.id, month), Decimal(0)), names[e.id]) for e in reps
                     if won.get((e.id, month), Decimal(0)) > 0), reverse=True)[:3]  # fmt: skip
    lines.append("成交额:" + ("、".join(f"{n} {wan(a)}" for a, n in by_won) or "本月没有成交"))
    errors = []
    for e in reps:
        snap, signed = first.get((e.id, month)), won.get((e.id, month), Decimal(0))
        if snap is not None and signed > 0:
            errors.append((abs(float(snap.expected - signed)) / float(signed), names[e.id]))
    if errors:
        error, name = min(errors)
        lines.append(f"预测最准:{name}(月初预测与实际相差 {error:.0%})")
    else:
        lines.append("预测最准:本月没有可比的月初预测")
    lines.append("感谢大家,新的一个月继续加油!")
    return "\n".join(lines)
