"""Brief prompts, the missing-report note and the Monday task list, with a fixed clock."""

from __future__ import annotations

from datetime import date, datetime, time

from sales.calendar import WorkCalendar, china_provider
from sales.model import Brief, Customer, Employee, Role, Team
from sales.stages import Stage
from sales.stall import StallPolicy
from scheduler.prompts import ASK, NUDGE, brief_prompts, missing_report, monday_list
from store.repositories import UnitOfWorkFactory
from tests.conftest import TZ
from usecases.services import Services


def at(d: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(d, time(h, m), TZ)


def services() -> Services:
    return Services(timezone=TZ, calendar=WorkCalendar(provider=china_provider()), stall=StallPolicy())


async def org(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
        await uow.employees.add(Employee(id="E02", name="李娜", team="一组", supervisor_id="S01"))
        await uow.employees.add(Employee(id="E03", name="离职的", team="一组", supervisor_id="S01", active=False))
        for n, (stage, step, close) in enumerate([
            (Stage.DEMO, date(2026, 11, 25), date(2026, 11, 28)),
            (Stage.QUALIFIED, date(2026, 11, 27), None),
            (Stage.WON, None, None),
        ]):  # fmt: skip
            await uow.customers.add(Customer(
                name=f"客户{n}", owner_id="E01", stage=stage, stage_entered_at=at(date(2026, 11, 2), 9),
                created_at=at(date(2026, 11, 2), 9), next_action="演示" if step else None, next_action_date=step,
                expected_close=close,
            ))  # fmt: skip
        await uow.briefs.add(
            Brief(sender_id="E02", platform="console", text="…", received_at=at(date(2026, 11, 23), 16))
        )
        await uow.commit()


async def texts(uow_factory: UnitOfWorkFactory, user: str) -> list[str]:
    async with uow_factory() as uow:
        return [str(m.payload["text"]) for m in await uow.outbox.find(to_user=user)]


async def test_reps_without_a_brief_are_asked_then_nudged_once(uow_factory: UnitOfWorkFactory) -> None:
    await org(uow_factory)
    monday = date(2026, 11, 23)
    assert sorted(await brief_prompts(uow_factory, services(), at(monday, 17, 30), ASK)) == ["E01"]  # E02 reported
    assert await brief_prompts(uow_factory, services(), at(monday, 17, 31), ASK) == []  # asked once
    [ask] = await texts(uow_factory, "E01")
    assert "简报" in ask and "客户0" in ask and "客户2" not in ask  # closed customers are not asked about
    assert await brief_prompts(uow_factory, services(), at(monday, 20), NUDGE) == ["E01"]
    assert await texts(uow_factory, "E03") == []  # inactive: never asked


async def test_nothing_on_holidays(uow_factory: UnitOfWorkFactory) -> None:
    await org(uow_factory)
    national_day = date(2026, 10, 2)
    assert await brief_prompts(uow_factory, services(), at(national_day, 17, 30), ASK) == []
    assert await missing_report(uow_factory, services(), at(national_day, 9)) == {}
    assert await monday_list(uow_factory, services(), at(date(2026, 10, 5), 9)) == {}  # a holiday Monday


async def test_supervisor_hears_who_did_not_report_the_previous_working_day(uow_factory: UnitOfWorkFactory) -> None:
    await org(uow_factory)
    report = await missing_report(uow_factory, services(), at(date(2026, 11, 24), 9))
    assert report == {"S01": ["张伟"]}
    [text] = await texts(uow_factory, "S01")
    assert "11月23日" in text and "张伟" in text and "李娜" not in text


async def test_monday_list_on_the_first_working_day_of_the_week(uow_factory: UnitOfWorkFactory) -> None:
    await org(uow_factory)
    assert await monday_list(uow_factory, services(), at(date(2026, 11, 24), 9)) == {}  # a Tuesday
    sent = await monday_list(uow_factory, services(), at(date(2026, 11, 23), 9))
    assert set(sent) == {"E01", "E02", "S01"}
    mine = sent["E01"]
    assert "客户0:演示 11月25日" in mine and "客户1:演示 11月27日" in mine
    assert "停滞的客户(2)" in mine and "本月预计签约(1)" in mine
    assert "团队本月预计签约(1)" in sent["S01"]
    # the week of the National Day: its first working day is Thursday 8 October
    assert await monday_list(uow_factory, services(), at(date(2026, 10, 8), 9))
