"""Stall reminders with a fixed clock: the ladder, postponement, missed steps, clearing, idempotence."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import date, datetime, time
from pathlib import Path

import pytest

from sales.calendar import WorkCalendar, china_provider, read_overrides
from sales.model import Customer, Employee, Role, Team
from sales.stages import Stage
from sales.stall import StallPolicy
from scheduler.reminders import scan
from store.database import Database
from store.repositories import UnitOfWorkFactory
from tests.conftest import TZ, postgres_url
from usecases.services import Services


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), TZ)


def weekdays_only() -> Services:
    return Services(timezone=TZ, calendar=WorkCalendar(), stall=StallPolicy())


async def org(uow_factory: UnitOfWorkFactory, *customers: Customer) -> None:
    async with uow_factory() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
        for c in customers:
            await uow.customers.add(c)
        await uow.commit()


def customer(name: str, stage: Stage, entered: date, **kw: object) -> Customer:
    return Customer(name=name, owner_id="E01", stage=stage, stage_entered_at=at(entered, 9), created_at=at(entered, 9),
                    **kw)  # type: ignore[arg-type]  # fmt: skip


async def outbox_texts(uow_factory: UnitOfWorkFactory) -> list[tuple[str | None, str]]:
    async with uow_factory() as uow:
        return [(m.to_user, m.payload["text"]) for m in await uow.outbox.find()]


MON = date(2026, 11, 2)  # entered on a Monday; limit 5 → level 1 on Tue 11-10, 2 on Thu 11-12, 3 on Tue 11-17


async def test_the_ladder_climbs_once_per_level(uow_factory: UnitOfWorkFactory) -> None:
    services = weekdays_only()
    await org(uow_factory, customer("浙江天成建材", Stage.DEMO, MON))
    assert await scan(uow_factory, services, at(date(2026, 11, 9))) == []  # 5 working days: not yet
    [first] = await scan(uow_factory, services, at(date(2026, 11, 10)))
    assert (first.to, first.kind, first.as_json()["customers"]) == (
        "E01",
        "reminder",
        [{"name": "浙江天成建材", "level": 1, "reason": "stall", "days": 6}],
    )
    assert "回复一句进展即可" in first.text and "方案演示 已 6 个工作日" in first.text
    assert await scan(uow_factory, services, at(date(2026, 11, 10), 15)) == []  # a second scan: nothing new
    assert await scan(uow_factory, services, at(date(2026, 11, 11))) == []  # still level 1
    second = await scan(uow_factory, services, at(date(2026, 11, 12)))
    assert sorted((n.to, n.kind, n.cc) for n in second) == [("E01", "reminder", []), ("S01", "escalation", ["E01"])]
    third = await scan(uow_factory, services, at(date(2026, 11, 17)))
    supervisor = next(n for n in third if n.to == "S01")
    assert supervisor.as_json()["customers"][0]["level"] == 3 and "高风险" in supervisor.text
    assert len(await outbox_texts(uow_factory)) == 5  # 1 + 2 + 2, each queued once


async def test_when_the_direct_supervisor_has_left_the_escalation_reaches_the_teams_current_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    services = weekdays_only()
    await org(uow_factory, customer("浙江天成建材", Stage.DEMO, MON))
    async with uow_factory() as uow:
        left = await uow.employees.get("S01")
        assert left is not None
        left.active = False  # 陈静 has left; 刘洋 took the team over, 张伟's record still names 陈静
        await uow.employees.update(left)
        await uow.employees.add(Employee(id="S02", name="刘洋", role=Role.SUPERVISOR, team="一组"))
        await uow.commit()
    second = await scan(uow_factory, services, at(date(2026, 11, 12)))
    assert sorted((n.to, n.kind) for n in second) == [("E01", "reminder"), ("S02", "escalation")]
    async with uow_factory() as uow:  # queued, not silently dropped
        assert any("升级提醒" in str(m.payload["text"]) for m in await uow.outbox.find())


async def test_a_future_step_postpones_up_to_twice_the_limit(uow_factory: UnitOfWorkFactory) -> None:
    services = weekdays_only()
    await org(
        uow_factory, customer("华东物流集团", Stage.DEMO, MON, next_action="报价", next_action_date=date(2026, 11, 25))
    )
    assert await scan(uow_factory, services, at(date(2026, 11, 12))) == []  # 8 days, but the step is still to come
    assert await scan(uow_factory, services, at(date(2026, 11, 16))) == []  # 10 = twice the limit: still waiting
    [notice, _] = await scan(uow_factory, services, at(date(2026, 11, 17)))  # 11 > 10: the cap
    assert notice.as_json()["customers"][0]["level"] == 3


async def test_once_the_planned_day_passes_the_stall_counts_again(uow_factory: UnitOfWorkFactory) -> None:
    services = weekdays_only()
    await org(
        uow_factory, customer("华东物流集团", Stage.DEMO, MON, next_action="报价", next_action_date=date(2026, 11, 11))
    )
    found = await scan(uow_factory, services, at(date(2026, 11, 12)), dry_run=True)
    reasons = {c["reason"]: c["level"] for n in found if n.to == "E01" for c in n.as_json()["customers"]}
    assert reasons == {"stall": 2, "next_step_overdue": 1}


async def test_a_missed_step_is_its_own_reminder_and_a_brief_clears_it(uow_factory: UnitOfWorkFactory) -> None:
    services = weekdays_only()
    fresh = date(2026, 11, 9)
    await org(
        uow_factory,
        customer("上海瑞达机电", Stage.QUALIFIED, fresh, next_action="演示", next_action_date=date(2026, 11, 10)),
        customer("青岛海之蓝水产", Stage.QUALIFIED, fresh, next_action="演示", next_action_date=date(2026, 11, 10),
                 last_followup_at=at(date(2026, 11, 10), 17)),  # reported on the day: nothing missed
    )  # fmt: skip
    assert await scan(uow_factory, services, at(date(2026, 11, 10))) == []  # the day itself is not late
    [late] = await scan(uow_factory, services, at(date(2026, 11, 11)))
    assert late.as_json()["customers"] == [
        {"name": "上海瑞达机电", "level": 1, "reason": "next_step_overdue", "days": 1}
    ]
    async with uow_factory() as uow:  # the rep answers the reminder
        c = await uow.customers.by_name("上海瑞达机电")
        assert c is not None
        c.last_followup_at = at(date(2026, 11, 11), 18)
        await uow.customers.update(c)
        await uow.commit()
    assert await scan(uow_factory, services, at(date(2026, 11, 16))) == []  # would have been level 2: cleared


async def test_won_and_lost_never_stall(uow_factory: UnitOfWorkFactory) -> None:
    await org(uow_factory, customer("A公司", Stage.WON, MON), customer("B公司", Stage.LOST, MON))
    assert await scan(uow_factory, weekdays_only(), at(date(2026, 11, 30))) == []


async def test_nothing_on_the_national_day_holidays_and_standup_day_is_the_make_up_saturday(
    uow_factory: UnitOfWorkFactory,
) -> None:
    services = Services(timezone=TZ, calendar=WorkCalendar(provider=china_provider()), stall=StallPolicy())
    await org(uow_factory, customer("浙江天成建材", Stage.DEMO, date(2026, 9, 1)))
    for n in range(1, 8):
        assert await scan(uow_factory, services, at(date(2026, 10, n))) == []
    assert await outbox_texts(uow_factory) == []
    calendar = services.calendar
    assert calendar.week_workdays(date(2026, 10, 5)) == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    assert calendar.is_last_workday_of_week(date(2026, 10, 10)) and not calendar.is_workday(date(2026, 10, 5))
    assert len(await scan(uow_factory, services, at(date(2026, 10, 8)))) >= 1


def test_a_year_without_data_falls_back_to_weekends_and_the_file_wins(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, logger="genjin.calendar")
    plain = WorkCalendar(provider=china_provider())
    assert plain.is_workday(date(2027, 2, 8)) and not plain.is_workday(date(2027, 2, 7))  # Mon / Sun
    assert plain.is_workday(date(2027, 2, 9))
    assert sum("2027" in r.message for r in caplog.records) == 1  # warned once for the year
    path = tmp_path / "holidays.txt"
    path.write_text("# 2027 春节\n2027-02-08 休\n2027-02-09,放假\n2027-02-07 上班\n", encoding="utf-8")
    admin = WorkCalendar(read_overrides(path), provider=china_provider())
    assert not admin.is_workday(date(2027, 2, 8)) and not admin.is_workday(date(2027, 2, 9))
    assert admin.is_workday(date(2027, 2, 7))
    assert admin.workdays_after(date(2027, 2, 5), date(2027, 2, 12)) == 4  # 7, 10, 11, 12
    path.write_text("2027-02-08 maybe\n", encoding="utf-8")
    with pytest.raises(ValueError, match="第 1 行"):
        read_overrides(path)


async def test_scans_in_2027_do_not_crash(uow_factory: UnitOfWorkFactory) -> None:
    services = Services(timezone=TZ, calendar=WorkCalendar(provider=china_provider()), stall=StallPolicy())
    await org(uow_factory, customer("浙江天成建材", Stage.DEMO, date(2026, 12, 28)))
    notices = await scan(uow_factory, services, at(date(2027, 1, 5)))  # 29, 30, 31, Fri 1 (no data), 4, 5
    assert [(c["level"], c["days"]) for n in notices for c in n.as_json()["customers"]] == [(1, 6)]


async def _two_processes(url: str) -> int:
    first, second = Database(url), Database(url)
    await first.upgrade()
    await org(first.uow, customer("浙江天成建材", Stage.DEMO, MON), customer("华东物流集团", Stage.INITIAL, MON))
    services = weekdays_only()
    results = await asyncio.gather(
        scan(first.uow, services, at(date(2026, 11, 12))), scan(second.uow, services, at(date(2026, 11, 12)))
    )
    async with first.uow() as uow:
        queued = len(await uow.outbox.find())
    await first.dispose()
    await second.dispose()
    assert sorted(len(r) for r in results) == [0, 2]  # one scan found it first; the other had nothing new
    return queued


async def test_two_processes_send_each_reminder_once_on_sqlite(tmp_path: Path) -> None:
    assert await _two_processes(f"sqlite:///{tmp_path / 'two.db'}") == 2


@pytest.mark.postgres
async def test_two_processes_send_each_reminder_once_on_postgres() -> None:
    url = postgres_url()
    db = Database(url)
    from store import migrate

    await migrate.downgrade(db.engine, "base")
    await db.dispose()
    assert await _two_processes(url) == 2


def test_remind_run_cli_json(genjin) -> None:  # type: ignore[no-untyped-def]
    staff = "id,name,role,team,supervisor_id\nS01,陈静,supervisor,一组,\nE01,张伟,rep,一组,S01\n"
    (genjin.cwd / "e.csv").write_text(staff, encoding="utf-8")
    (genjin.cwd / "c.csv").write_text("name,owner_id,stage,stage_entered_at\n浙江天成建材,E01,demo,2026-11-02\n",
                                      encoding="utf-8")  # fmt: skip
    assert genjin("import", "employees", "e.csv").returncode == 0
    assert genjin("import", "customers", "c.csv").returncode == 0
    dry = genjin("remind", "run", "--now", "2026-11-12T10:00:00+08:00", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == [
        {"to": "E01", "cc": [], "kind": "reminder",
         "customers": [{"name": "浙江天成建材", "level": 2, "reason": "stall", "days": 8}]},
        {"to": "S01", "cc": ["E01"], "kind": "escalation",
         "customers": [{"name": "浙江天成建材", "level": 2, "reason": "stall", "days": 8}]},
    ]  # fmt: skip
    real = genjin("remind", "run", "--now", "2026-11-12T10:00:00+08:00", "--json")
    assert len(json.loads(real.stdout)) == 2
    again = genjin("remind", "run", "--now", "2026-11-12T11:00:00+08:00", "--json")
    assert again.stdout.strip() == "[]"
    listed = genjin("schedule", "list")
    assert "stall-scan" in listed.stdout


async def test_overdue_query_uses_the_same_rules(uow_factory: UnitOfWorkFactory) -> None:
    from bot.errors import ErrorHandler
    from bot.inbox import InboxWorker
    from handlers import build_router
    from sales.model import InboxMessage

    services = weekdays_only()
    await org(uow_factory, customer("浙江天成建材", Stage.DEMO, MON), customer("华东物流集团", Stage.INITIAL, MON))
    now = at(date(2026, 11, 12))
    for n, text in enumerate(("哪些客户超期了", "哪些单子在方案演示阶段停留太久了")):
        async with uow_factory() as uow:
            await uow.inbox.put(
                InboxMessage(platform="console", msg_id=f"q{n}", user_id="E01", text=text, received_at=now)
            )
            await uow.commit()
    await InboxWorker(uow_factory, build_router(), ErrorHandler(), lambda: now, services=services).drain()
    all_, demo_only = [t for _, t in await outbox_texts(uow_factory)]
    assert "浙江天成建材" in all_ and "华东物流集团" in all_ and "共 2 个" in all_
    assert "浙江天成建材" in demo_only and "华东物流集团" not in demo_only


async def test_stalls_of_some_owners_are_read_for_them_alone(uow_factory: UnitOfWorkFactory) -> None:
    """A rep's question, a team's report: only those owners' customers are read (at 100,000 customers a rep's
    "哪些客户超期了" read the whole company before), with the same findings as the company-wide pass."""
    from usecases.stalls import find_stalled

    services = weekdays_only()
    await org(uow_factory, customer("浙江天成建材", Stage.DEMO, MON, next_action_date=date(2026, 11, 5)),
              customer("华东物流集团", Stage.INITIAL, MON))  # fmt: skip
    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="E02", name="李娜", team="一组", supervisor_id="S01"))
        await uow.customers.add(Customer(name="江苏恒瑞达", owner_id="E02", stage=Stage.QUALIFIED,
                                         stage_entered_at=at(MON, 9), created_at=at(MON, 9),
                                         next_action_date=date(2026, 11, 4)))  # fmt: skip
        await uow.commit()
    today = date(2026, 11, 12)
    async with uow_factory() as uow:
        every = await find_stalled(uow, services.calendar, services.stall, today, TZ)
        e02 = await find_stalled(uow, services.calendar, services.stall, today, TZ, {"E02"})
        nobody = await find_stalled(uow, services.calendar, services.stall, today, TZ, set())
        rows = await uow.reminders.scan_stalled(Stage.QUALIFIED, at(today), {"E01"})
        steps = await uow.reminders.scan_steps_due(today, ["E02"])
    assert {i.row.owner_id for i in every} == {"E01", "E02"} and nobody == []
    assert e02 == [i for i in every if i.row.owner_id == "E02"] and {i.finding.reason for i in e02} == {
        "stall", "next_step_overdue"}  # fmt: skip
    assert rows == [] and [r.name for r in steps] == ["江苏恒瑞达"]


async def test_a_task_list_cut_at_ten_stalls_shows_the_most_urgent(uow_factory: UnitOfWorkFactory) -> None:
    """Twelve stalled customers: the list shows ten, the longest stalled first, whatever order the database read them
    in (a rep's own are read by owner, through another index than the company's)."""
    from datetime import timedelta

    from sales.months import month_key
    from usecases.goals import goal_state
    from usecases.stalls import find_stalled
    from usecases.tasks import task_lines

    services = weekdays_only()
    entered = [MON - timedelta(days=n) for n in (3, 10, 0, 7, 4, 12, 5, 11, 6, 17, 13, 14)]  # weekdays, shuffled
    await org(uow_factory, *(customer(f"客户{n:02d}号公司", Stage.INITIAL, day) for n, day in enumerate(entered)))
    today = date(2026, 11, 20)
    async with uow_factory() as uow:
        staff = await uow.employees.find(active_only=True)
        [rep] = [e for e in staff if e.id == "E01"]
        stalled = await find_stalled(uow, services.calendar, services.stall, today, TZ, {"E01"})
        goals = await goal_state(uow, services, today, month_key(today))
        lines = await task_lines(uow, services, rep, staff, list(reversed(stalled)), goals, today)
    shown = [line.removeprefix("· ").split()[0] for line in lines if line.startswith("· 客户")]
    oldest_first = [f"客户{n:02d}号公司" for n, _ in sorted(enumerate(entered), key=lambda p: (p[1], p[0]))]
    assert len(stalled) == 12 and shown == oldest_first[:10]
