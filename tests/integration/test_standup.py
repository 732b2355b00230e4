"""The Friday standup: opened on the week's last working day, answers by DM and in the group."""

from __future__ import annotations

from datetime import date, datetime, time

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from nlu.standup import parse_standup
from sales.calendar import WorkCalendar, china_provider
from sales.model import Employee, InboxMessage, Role, Team
from sales.stall import StallPolicy
from scheduler.prompts import monday_list
from store.repositories import UnitOfWorkFactory
from tests.conftest import TZ
from usecases.services import Services
from usecases.standup import close_standup, open_standup, tick

FRIDAY = date(2026, 11, 27)


def at(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), TZ)


def services() -> Services:
    return Services(timezone=TZ, calendar=WorkCalendar(provider=china_provider()), stall=StallPolicy())


async def org(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.teams.add(Team(name="一组", standup_time="15:00", standup_window_minutes=15))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
        await uow.employees.add(
            Employee(id="E02", name="李娜", team="一组", supervisor_id="S01", accounts={"dingtalk": "ding02"})
        )
        await uow.employees.add(Employee(id="E03", name="王磊", team="一组", supervisor_id="S01"))
        await uow.commit()


async def say(
    uow_factory: UnitOfWorkFactory, now: datetime, text: str, *, user: str = "E01", group: bool = False
) -> None:
    platform = "dingtalk" if group else "console"
    async with uow_factory() as uow:
        await uow.inbox.put(InboxMessage(platform=platform, msg_id=f"{user}-{now.isoformat()}", user_id=user,
                                         chat_id="cidGROUP" if group else f"console:{user}", is_group=group,
                                         text=text, received_at=now))  # fmt: skip
        await uow.commit()
    await InboxWorker(uow_factory, build_router(), ErrorHandler(), lambda: now, services=services()).drain()


async def outbox(uow_factory: UnitOfWorkFactory) -> list[tuple[str | None, str | None, str]]:
    async with uow_factory() as uow:
        return [(m.to_user, m.to_chat, str(m.payload["text"])) for m in await uow.outbox.find()]


async def test_a_standup_with_answers_in_dm_and_group_a_missing_member_and_a_late_answer(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await org(uow_factory)
    await tick(uow_factory, services(), at(FRIDAY, 14, 59))
    assert await outbox(uow_factory) == []
    await tick(uow_factory, services(), at(FRIDAY, 15, 0))
    await tick(uow_factory, services(), at(FRIDAY, 15, 1))  # opened once
    sent = await outbox(uow_factory)
    assert [chat for _, chat, _ in sent if chat] == ["team:一组"]
    assert sorted((user for user, chat, _ in sent if not chat), key=str) == ["E01", "E02", "E03"]
    await say(uow_factory, at(FRIDAY, 15, 3), "本周完成:签了天成建材;阻塞:法务审合同慢;下周计划:跟进博远报价")
    await say(uow_factory, at(FRIDAY, 15, 5), "本周完成 演示两家 阻塞 无 下周计划 报价", user="ding02", group=True)
    async with uow_factory() as uow:
        standup = await uow.standups.get("一组", FRIDAY)
        assert standup is not None and standup.id is not None
        entries = {e.employee_id: e for e in await uow.standups.entries(standup.id)}
    assert entries["E01"].blockers == "法务审合同慢" and entries["E01"].via == "dm"
    assert entries["E02"].via == "group" and entries["E02"].blockers == "" and entries["E02"].plans == "报价"
    await tick(uow_factory, services(), at(FRIDAY, 15, 16))  # the window has passed: summary
    texts = await outbox(uow_factory)
    [summary] = [t for _, chat, t in texts if chat and "小结" in t]
    assert summary.index("【阻塞】") < summary.index("【各人进展】") and "张伟:法务审合同慢" in summary
    assert "(2/3 人回复)" in summary and "未回复:王磊" in summary
    [blockers] = [t for user, _, t in texts if user == "S01"]
    assert "法务审合同慢" in blockers
    await say(uow_factory, at(FRIDAY, 15, 40), "本周完成:拜访三家;阻塞:无;下周计划:报价", user="E03")
    async with uow_factory() as uow:
        late = [e for e in await uow.standups.entries(standup.id) if e.employee_id == "E03"]
    assert late[0].late
    digest = await monday_list(uow_factory, services(), at(date(2026, 11, 30), 9))
    assert "迟交" in digest["S01"] and "王磊" in digest["S01"]


async def test_the_week_of_the_national_day_stands_up_on_saturday(uow_factory: UnitOfWorkFactory) -> None:
    await org(uow_factory)
    assert await open_standup(uow_factory, services(), at(date(2026, 10, 2), 15), "一组") is None  # holiday
    await tick(uow_factory, services(), at(date(2026, 10, 9), 15, 30))  # Friday, but Saturday is a working day
    assert await outbox(uow_factory) == []
    await tick(uow_factory, services(), at(date(2026, 10, 10), 15, 0))
    async with uow_factory() as uow:
        assert await uow.standups.get("一组", date(2026, 10, 10)) is not None


async def test_a_brief_is_not_taken_for_a_standup_answer(uow_factory: UnitOfWorkFactory) -> None:
    assert parse_standup("天成建材 演示完成,下周三报价") is None
    await org(uow_factory)
    await open_standup(uow_factory, services(), at(FRIDAY, 15), "一组")
    await say(uow_factory, at(FRIDAY, 15, 2), "新客户 宁波新港物流 有意向")
    assert any("要新建吗" in t for _, _, t in await outbox(uow_factory))


async def test_closing_twice_posts_one_summary(uow_factory: UnitOfWorkFactory) -> None:
    await org(uow_factory)
    assert await open_standup(uow_factory, services(), at(FRIDAY, 10), "一组", any_weekday=True) is not None
    assert await close_standup(uow_factory, services(), at(FRIDAY, 10, 20), "一组") is not None
    assert await close_standup(uow_factory, services(), at(FRIDAY, 10, 21), "一组") is None


def test_standup_cli(genjin) -> None:  # type: ignore[no-untyped-def]
    (genjin.cwd / "e.csv").write_text(
        "id,name,role,team\nS01,陈静,supervisor,一组\nE01,张伟,rep,一组\n", encoding="utf-8"
    )
    assert genjin("import", "employees", "e.csv").returncode == 0
    opened = genjin("standup", "open", "--team", "一组", "--now", "2026-11-27T15:00:00+08:00")
    assert opened.returncode == 0 and "15:15" in opened.stdout
    again = genjin("standup", "open", "--team", "一组", "--now", "2026-11-27T15:01:00+08:00")
    assert again.returncode == 1
    closed = genjin("standup", "close", "--team", "一组", "--now", "2026-11-27T15:16:00+08:00")
    assert closed.returncode == 0 and "未回复:张伟" in closed.stdout
    holiday = genjin("standup", "open", "--team", "一组", "--now", "2026-10-01T15:00:00+08:00")
    assert holiday.returncode == 1
