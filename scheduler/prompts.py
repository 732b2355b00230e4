"""Daily brief prompts and the Monday task list: nobody has to remember, the bot asks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sales.model import BriefStatus, Customer, Employee, Role
from sales.months import month_key
from sales.people import display_names
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.delivery import notify
from usecases.format import day
from usecases.goals import goal_state
from usecases.services import Services
from usecases.stalls import find_stalled, start_of
from usecases.tasks import task_lines

ASK, NUDGE = "ask", "nudge"


async def _reported(uow: UnitOfWork, employee: Employee, on: date, services: Services) -> bool:
    """A brief that day that still stands (only briefs are stored as briefs; one taken back does not count)."""
    tz = services.timezone
    briefs = await uow.briefs.by_sender(employee.id, since=start_of(on, tz))
    end = start_of(on + timedelta(days=1), tz)
    return any(b.received_at < end and b.status is not BriefStatus.UNDONE for b in briefs)


def _needs_update(customers: list[Customer], today: date, services: Services, limit: int = 3) -> list[str]:
    """The customers a rep should mention first: the longest without a word."""
    tz = services.timezone
    open_ = [c for c in customers if not c.stage.is_closed]

    def silence(c: Customer) -> int:
        last = (c.last_followup_at or c.stage_entered_at).astimezone(tz).date()
        return services.calendar.workdays_after(last, today)

    open_.sort(key=silence, reverse=True)
    return [f"{c.name}({c.stage.label},{silence(c)} 个工作日没有消息)" for c in open_[:limit]]


async def brief_prompts(uow_factory: UnitOfWorkFactory, services: Services, now: datetime, kind: str) -> list[str]:
    """17:30 ask, 20:00 nudge: each active rep with no brief today; the ids asked."""
    today = now.astimezone(services.timezone).date()
    if not services.calendar.is_workday(today):
        return []
    asked = []
    async with uow_factory() as uow:
        for rep in await uow.employees.find(active_only=True):
            if rep.role is not Role.REP or await _reported(uow, rep, today, services):
                continue
            if kind == ASK:
                tops = _needs_update(await uow.customers.find(owner_ids=[rep.id]), today, services)
                text = "今天还没收到你的简报,花一分钟说说今天的进展吧(一条可以说好几个客户)。"
                if tops:
                    text += "\n最需要更新的客户:\n" + "\n".join(f"· {t}" for t in tops)
            else:
                text = "提醒一下:今天的简报还没发,一句话就行,例如「天成建材 电话沟通了,下周三演示」。"
            if await notify(uow, rep, text, key=f"prompt:{today}:{kind}:{rep.id}", now=now,
                            platforms=services.platforms):  # fmt: skip
                asked.append(rep.id)
        await uow.commit()
    return asked


async def missing_report(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> dict[str, list[str]]:
    """09:00: each supervisor hears who sent no brief on the previous working day."""
    today = now.astimezone(services.timezone).date()
    if not services.calendar.is_workday(today):
        return {}
    previous = services.calendar.previous_workday(today)
    out: dict[str, list[str]] = {}
    async with uow_factory() as uow:
        staff = await uow.employees.find(active_only=True)
        for supervisor in (e for e in staff if e.role is Role.SUPERVISOR):
            team = [e for e in staff if e.role is Role.REP and (e.supervisor_id == supervisor.id
                    or (supervisor.team and e.team == supervisor.team))]  # fmt: skip
            shown = display_names(staff)
            missing = [shown[e.id] for e in team if not await _reported(uow, e, previous, services)]
            if not team:
                continue
            out[supervisor.id] = missing
            text = (f"{day(previous)} 团队 {len(team)} 人中有 {len(missing)} 人没发简报:" + "、".join(missing)
                    if missing else f"{day(previous)} 团队 {len(team)} 人都发了简报。")  # fmt: skip
            await notify(uow, supervisor, text, key=f"prompt:{today}:report:{supervisor.id}", now=now,
                         platforms=services.platforms)  # fmt: skip
        await uow.commit()
    return out


async def _late_answers(uow: UnitOfWork, team: str, names: dict[str, str]) -> list[str]:
    """Standup answers that came after the summary: the supervisor sees them in this digest."""
    standup = await uow.standups.latest(team)
    if standup is None or standup.id is None:
        return []
    late = [e for e in await uow.standups.entries(standup.id) if e.late]
    if not late:
        return []
    lines = [f"上次站会({day(standup.day)})迟交的回答:"]
    for e in late:
        blocker = f";阻塞 {e.blockers}" if e.blockers else ""
        lines.append(f"· {names.get(e.employee_id, e.employee_id)}:完成 {e.done or '—'}{blocker};下周 {e.plans or '—'}")
    return lines


async def monday_list(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> dict[str, str]:
    """The first working day of the week: each rep's week, each supervisor the team's."""
    tz, calendar = services.timezone, services.calendar
    today = now.astimezone(tz).date()
    if not calendar.is_first_workday_of_week(today):
        return {}
    sent: dict[str, str] = {}
    async with uow_factory() as uow:
        stalled = await find_stalled(uow, calendar, services.stall, today, tz)
        staff = await uow.employees.find(active_only=True)
        goals = await goal_state(uow, services, today, month_key(today))
        for person in staff:
            if person.role is Role.ADMIN:
                continue
            lines = await task_lines(uow, services, person, staff, stalled, goals, today)
            if person.role is Role.SUPERVISOR and person.team:
                lines += await _late_answers(uow, person.team, display_names(staff))
            text = "\n".join(lines)
            if await notify(uow, person, text, key=f"monday:{today}:{person.id}", now=now,
                            platforms=services.platforms):  # fmt: skip
                sent[person.id] = text
        await uow.commit()
    return sent
