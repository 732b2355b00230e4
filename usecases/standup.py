"""The Friday standup: opened in each team's group at its time, closed with a summary, the blockers to the
supervisor."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sales.model import Employee, Role, Standup, StandupEntry, Team
from sales.people import display_names
from store.repositories import UnitOfWorkFactory
from usecases.delivery import notify, post_to_group
from usecases.services import Services

ASK = ("本周站会开始啦,{minutes} 分钟内回复就好:本周完成 / 阻塞 / 下周计划,私聊我或在群里 @我 都可以。\n"
       "例如「本周完成:签了天成建材;阻塞:无;下周计划:跟进博远报价」")  # fmt: skip


def members(staff: list[Employee], team: str) -> list[Employee]:
    return [e for e in staff if e.active and e.team == team and e.role is Role.REP]


async def open_standup(
    uow_factory: UnitOfWorkFactory, services: Services, now: datetime, team_name: str, *, any_weekday: bool = False
) -> Standup | None:
    """Open today's standup: never on a holiday, and only on the week's last working day unless asked."""
    today = now.astimezone(services.timezone).date()
    calendar = services.calendar
    if not calendar.is_workday(today) or not (any_weekday or calendar.is_last_workday_of_week(today)):
        return None
    async with uow_factory() as uow:
        team = await uow.teams.get(team_name)
        if team is None or not team.standup_enabled:
            return None
        window = timedelta(minutes=team.standup_window_minutes)
        standup = await uow.standups.open(Standup(team.name, today, now, now + window))
        if standup is None:
            return None  # opened already, here or by another process
        text = ASK.format(minutes=team.standup_window_minutes)
        await post_to_group(uow, team, text, key=f"standup:{team.name}:{today}:open", now=now, services=services)
        for member in members(await uow.employees.find(), team.name):
            await notify(uow, member, f"{member.name},{text}", key=f"standup:{team.name}:{today}:ask:{member.id}",
                         now=now, platforms=services.platforms)  # fmt: skip
        await uow.commit()
        return standup


def summary(team: Team, staff: list[Employee], entries: list[StandupEntry]) -> tuple[str, list[str]]:
    """The group's summary (blockers first, then each member, then who is missing) and the blocker lines."""
    names = display_names(staff)
    on_time = [e for e in entries if not e.late]
    answered = {e.employee_id for e in on_time}
    team_members = members(staff, team.name)
    blockers = [f"· {names.get(e.employee_id, e.employee_id)}:{e.blockers}" for e in on_time if e.blockers]
    lines = [f"本周站会小结({len(answered)}/{len(team_members)} 人回复)"]
    if blockers:
        lines += ["【阻塞】", *blockers]
    lines.append("【各人进展】")
    for e in on_time:
        lines.append(f"· {names.get(e.employee_id, e.employee_id)}:完成 {e.done or '—'};下周 {e.plans or '—'}")
    missing = [m.name for m in team_members if m.id not in answered]
    if missing:
        lines.append("未回复:" + "、".join(missing))
    return "\n".join(lines), blockers


async def close_standup(
    uow_factory: UnitOfWorkFactory, services: Services, now: datetime, team_name: str
) -> str | None:
    """Close the team's latest open standup: the summary to the group, the blockers to the supervisor."""
    async with uow_factory() as uow:
        standup = await uow.standups.latest(team_name)
        team = await uow.teams.get(team_name)
        if standup is None or standup.id is None or team is None or standup.closed_at is not None:
            return None
        if not await uow.standups.close(standup.id, now):
            return None
        staff = await uow.employees.find()
        text, blockers = summary(team, staff, await uow.standups.entries(standup.id))
        await post_to_group(uow, team, text, key=f"standup:{team.name}:{standup.day}:summary", now=now,
                            services=services)  # fmt: skip
        for supervisor in (e for e in staff if e.role is Role.SUPERVISOR and e.team == team.name and e.active):
            note = (
                f"{team.name} 本周站会的阻塞:\n" + "\n".join(blockers)
                if blockers
                else f"{team.name} 本周站会没有阻塞。"
            )
            await notify(uow, supervisor, note, key=f"standup:{team.name}:{standup.day}:blockers:{supervisor.id}",
                         now=now, platforms=services.platforms)  # fmt: skip
        await uow.commit()
        return text


async def tick(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> None:
    """Each minute: open what is due (each team at its own time), close what has run its window."""
    local = now.astimezone(services.timezone)
    async with uow_factory() as uow:
        teams = await uow.teams.find()
        closing = await uow.standups.due_to_close(now)
    for team in teams:
        hour, minute = (int(x) for x in team.standup_time.split(":"))
        if team.standup_enabled and local.time() >= time(hour, minute):
            await open_standup(uow_factory, services, now, team.name)
    for standup in closing:
        await close_standup(uow_factory, services, now, standup.team)
