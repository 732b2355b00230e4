"""The first-response clock: working hours from the hand-over, stopped by the first brief about the lead; a
reminder to the rep, then the supervisor with the rep copied."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from sales.leads import Lead, working_hours
from sales.model import Customer, Employee, InboxMessage, Role, Team
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import TZ
from usecases.leads import response_ladder
from usecases.services import Services

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def test_working_hours_skip_nights_weekends_and_holidays() -> None:
    friday_five = datetime(2026, 11, 27, 17, 0, tzinfo=TZ)
    monday_ten = datetime(2026, 11, 30, 10, 0, tzinfo=TZ)

    def weekdays(d: date) -> bool:
        return d.weekday() < 5

    assert working_hours(friday_five, monday_ten, weekdays, TZ) == 2.0  # an hour on Friday, an hour on Monday
    assert working_hours(MONDAY, MONDAY + timedelta(hours=3), weekdays, TZ) == 3.0
    assert working_hours(MONDAY + timedelta(hours=12), MONDAY + timedelta(hours=20), weekdays, TZ) == 0.0  # night

    def holiday(d: date) -> bool:
        return weekdays(d) and d != date(2026, 11, 30)

    assert working_hours(friday_five, monday_ten, holiday, TZ) == 1.0
    assert working_hours(monday_ten, friday_five, weekdays, TZ) == 0.0
    assert working_hours(MONDAY, MONDAY + timedelta(hours=5), weekdays, TZ, (time(10), time(12))) == 2.0


async def _org() -> MemoryStore:
    store = MemoryStore()
    async with store() as uow:
        await uow.teams.add(Team(name="华东一组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="华东一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="华东一组", supervisor_id="S01"))
        customer = await uow.customers.add(Customer(name="杭州云启科技", owner_id="E01", stage=Stage.INITIAL,
                                                    stage_entered_at=MONDAY, created_at=MONDAY))  # fmt: skip
        await uow.leads.add(Lead("杭州云启科技", "官网", MONDAY, owner_id="E01", assigned_at=MONDAY,
                                 customer_id=customer.id))  # fmt: skip
        await uow.commit()
    return store


async def _sent(store: MemoryStore) -> list[tuple[str | None, str]]:
    async with store() as uow:
        return [(m.to_user, str(m.payload["text"])) for m in await uow.outbox.find()]


async def test_the_rep_then_the_supervisor_hear_of_a_lead_nobody_contacted() -> None:
    store, services = await _org(), Services()
    assert await response_ladder(store, services, MONDAY + timedelta(hours=3)) == 0  # 3 of 4 working hours
    assert await response_ladder(store, services, MONDAY + timedelta(hours=5)) == 1
    assert await response_ladder(store, services, MONDAY + timedelta(hours=6)) == 0  # once
    [(to, text)] = await _sent(store)
    assert to == "E01" and "线索「杭州云启科技」11月23日 09:00分给你,已过 5 个工作小时" in text
    tuesday = MONDAY + timedelta(days=1, hours=1)  # 9 working hours on Monday, 1 on Tuesday
    assert await response_ladder(store, services, tuesday) == 2
    sent = await _sent(store)
    assert (
        "S01",
        "张伟的线索「杭州云启科技」11月23日 09:00分配,已过 10 个工作小时还没有首次跟进(已提醒本人)。",
    ) in sent
    assert ("E01", "线索「杭州云启科技」还没有跟进,已告知主管。") in sent
    assert await response_ladder(store, services, tuesday + timedelta(hours=3)) == 0


async def test_the_first_brief_about_the_lead_stops_the_clock() -> None:
    store, services = await _org(), Services()
    brief_at = MONDAY + timedelta(hours=2)
    async with store() as uow:
        brief = "今天给杭州云启科技的李经理打了电话,确认了需求"
        await uow.inbox.put(InboxMessage(platform="console", msg_id="m1", user_id="E01", chat_id="console:E01",
                                         text=brief, received_at=brief_at))  # fmt: skip
        await uow.commit()
    await InboxWorker(store, build_router(), ErrorHandler(), lambda: brief_at, services=services).drain()
    async with store() as uow:
        lead = await uow.leads.by_name("杭州云启科技")
        assert lead is not None and lead.first_response_at == brief_at  # two hours: kept on the lead
        assert await uow.leads.waiting_for_contact() == []
    assert await response_ladder(store, services, MONDAY + timedelta(days=2)) == 0


async def test_leads_waiting_at_the_cap_go_out_once_a_rep_has_room() -> None:
    from sales.leads import LeadRules
    from usecases.leads import hand_out_waiting

    store, services = await _org(), Services(leads=LeadRules(cap=1))  # E01 holds 杭州云启科技 already
    async with store() as uow:
        await uow.leads.add(Lead("宁波海纳物流", "展会", MONDAY))
        await uow.commit()
    assert await hand_out_waiting(store, services, MONDAY) == 0  # E01 at the cap: it waits
    async with store() as uow:
        held = await uow.customers.by_name("杭州云启科技")
        assert held is not None
        held.stage, held.closed_at = Stage.LOST, MONDAY  # the rep's load goes down
        await uow.customers.update(held)
        await uow.commit()
    assert await hand_out_waiting(store, services, MONDAY + timedelta(minutes=15)) == 1
    async with store() as uow:
        lead = await uow.leads.by_name("宁波海纳物流")
        assert lead is not None and lead.owner_id == "E01" and lead.customer_id is not None
