"""The funnel and the activity report for whom the asker may see, built from the store and written out: the
chat and `genjin report` share them."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from sales.model import Customer, Employee, Role
from sales.reports import Activity, Funnel, StageTotal, activity, funnel, period
from sales.stages import OPEN_STAGES
from sales.values import wan
from store.repositories import UnitOfWork
from usecases.format import fit
from usecases.heavy import heavy, together
from usecases.services import Services
from usecases.stalls import Stalled, find_stalled, start_of, visible_owners


async def scope(uow: UnitOfWork, asker: Employee, team: str | None = None) -> tuple[set[str] | None, str]:
    """Whose numbers the asker may see, narrowed to ``team`` when named; ValueError if not allowed."""
    owners = await visible_owners(uow, asker)
    if team is None:
        label = {Role.ADMIN: "全公司", Role.SUPERVISOR: f"{asker.team or ''}团队", Role.REP: "你"}[asker.role]
        return owners, label
    members = {e.id for e in await uow.employees.find(team=team)}
    if owners is not None and not members <= owners:
        raise ValueError(team)
    return members, f"{team}团队"


@heavy
async def build_funnel(uow: UnitOfWork, services: Services, now: datetime, owners: set[str] | None, key: str) -> Funnel:
    tz = services.timezone
    today = now.astimezone(tz).date()
    span, previous = period(key, today)
    mine = sorted(owners) if owners is not None else None

    async def standing() -> tuple[list[StageTotal], list[Customer]]:  # a second connection, beside the changes
        async with uow.beside() as side:
            totals = await side.customers.stage_totals(mine)
            end = start_of(span.end + timedelta(days=1), tz)
            return totals, await side.customers.closed_between(start_of(span.start, tz), end, mine)

    since = start_of(previous.start, tz)
    (totals, closed), changes = await together(standing(), uow.stages.touched_since(since, mine))
    return await asyncio.to_thread(funnel, totals, closed, changes, span, previous, services.calendar, tz, today)


@heavy
async def build_activity(uow: UnitOfWork, services: Services, now: datetime, owners: set[str] | None) -> Activity:
    return (await activity_and_stalled(uow, services, now, owners))[0]


@heavy
async def activity_and_stalled(
    uow: UnitOfWork, services: Services, now: datetime, owners: set[str] | None
) -> tuple[Activity, list[Stalled]]:
    """The activity report and the stalled customers it counted: the dashboard lists them, without a second scan."""
    tz = services.timezone
    today = now.astimezone(tz).date()

    staff = await uow.employees.find(active_only=True)  # here: a rep registered in this unit of work counts too

    async def briefs() -> list[tuple[str, date, int]]:  # a second connection, beside the stall finding
        async with uow.beside() as side:
            return await side.briefs.sent_per_day(start_of(today - timedelta(days=42), tz), tz, owners)

    sent, found = await together(briefs(), find_stalled(uow, services.calendar, services.stall, today, tz, owners))
    reps = [e for e in staff if e.role is Role.REP and (owners is None or e.id in owners)]
    stalled: dict[str, int] = {}
    for item in found:
        stalled[item.row.owner_id] = stalled.get(item.row.owner_id, 0) + 1
    report = await asyncio.to_thread(activity, reps, sent, stalled, services.calendar, tz, today)
    return report, found


def render_funnel(f: Funnel, who: str, names: dict[str, str]) -> str:
    lines = [f"{who}{f.period.label}漏斗({f.period.start:%m-%d} 至 {f.period.end:%m-%d}):"]
    for line in f.stages:
        conv = f.conversion.get(line.stage)
        rate = f",本期进入 {conv[0]} 个、已推进 {conv[1] / conv[0]:.0%}" if conv and conv[0] else ""
        days = f.median_days.get(line.stage)
        pace = f",停留中位 {days:.0f} 个工作日" if days is not None else ""
        delta = f.entered.get(line.stage, 0) - f.entered_before.get(line.stage, 0)
        change = (
            f"(较上期{'+' if delta >= 0 else ''}{delta})"
            if f.entered.get(line.stage) or f.entered_before.get(line.stage)
            else ""
        )
        lines.append(f"· {line.stage.label}:{line.count} 个,{wan(line.amount)}{rate}{pace}{change}")
    lines.append(f"· 本期成交 {f.won.count} 个,{wan(f.won.amount)};流失 {f.lost.count} 个")
    if len(f.per_owner) > 1:
        lines.append("各人在手(意向/需求/演示/报价):")
        for owner, counts in sorted(f.per_owner.items()):
            lines.append(f"· {names.get(owner, owner)}:" + "/".join(str(counts.get(s, 0)) for s in OPEN_STAGES))
    return fit(lines)


def render_activity(a: Activity, who: str, names: dict[str, str]) -> str:
    def listed(ids: list[str]) -> str:
        return "、".join(names.get(i, i) for i in ids) or "无"

    lines = [f"{who}简报情况({a.today:%m-%d}):",
             f"今天已发:{listed(a.sent_today)}", f"今天未发:{listed(a.silent_today)}",
             f"本周未发:{listed(a.silent_week)}"]  # fmt: skip
    if a.days:
        lines.append(f"近 {len(a.days)} 个工作日每人简报数(旧→新):")
        for employee, counts in a.heat.items():
            lines.append(
                f"· {names.get(employee, employee)}:" + "".join(_cell(n) for n in counts) + f" 共 {sum(counts)}"
            )
    if a.stalled:
        lines.append("停滞客户最多:" + "、".join(f"{names.get(i, i)}({n})" for i, n in a.stalled[:3]))
    return fit(lines)


def _cell(n: int) -> str:
    return "·" if n == 0 else ("▪" if n == 1 else "■")
