"""The public pool (公海): idle customers go back to it (their rep warned the day before), reps claim them in chat
within a daily limit, and the history stays with the customer."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from sales.leads import PoolRules
from sales.model import Customer, Employee, InboxMessage, Role, StageChange, Team
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import TZ
from usecases.pool import POOL_ID, sweep
from usecases.services import Services

MONDAY = datetime(2026, 11, 2, 9, 30, tzinfo=TZ)  # 11-02 to 11-27: four weeks of working days, no holiday


async def _org(services: Services) -> MemoryStore:
    store = MemoryStore()
    async with store() as uow:
        await uow.teams.add(Team(name="华东一组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="华东一组"))
        for rep, name in (("E01", "张伟"), ("E02", "李娜")):
            await uow.employees.add(Employee(id=rep, name=name, team="华东一组", supervisor_id="S01"))
        for name, stage in (("杭州云启科技", Stage.INITIAL), ("宁波海纳物流", Stage.NEGOTIATION),
                            ("苏州明德教育", Stage.INITIAL)):  # fmt: skip
            c = await uow.customers.add(Customer(name=name, owner_id="E01", stage=stage, stage_entered_at=MONDAY,
                                                 created_at=MONDAY))  # fmt: skip
            assert c.id is not None
            await uow.stages.add(StageChange(c.id, None, stage, MONDAY, "E01"))
        await uow.commit()
    return store


async def _sent(store: MemoryStore) -> list[tuple[str | None, str]]:
    async with store() as uow:
        return [(m.to_user, str(m.payload["text"])) for m in await uow.outbox.find()]


async def test_an_idle_customer_goes_back_to_the_pool_after_a_warning() -> None:
    services = Services(pool=PoolRules(days={Stage.INITIAL: 5, Stage.NEGOTIATION: 5}))
    store = await _org(services)
    async with store() as uow:  # a brief about 苏州明德教育 on Wednesday keeps it two days longer
        keep = await uow.customers.by_name("苏州明德教育")
        assert keep is not None
        keep.last_followup_at = MONDAY + timedelta(days=2)
        await uow.customers.update(keep)
        await uow.commit()
    assert await sweep(store, services, MONDAY + timedelta(days=3)) == (0, 0)  # Thursday: 3 working days
    assert await sweep(store, services, MONDAY + timedelta(days=4)) == (1, 0)  # Friday: 4, the day before
    [(to, text)] = await _sent(store)
    assert to == "E01" and text.startswith("「杭州云启科技」已经 4 个工作日没有简报,明天会回到公海")
    assert await sweep(store, services, MONDAY + timedelta(days=5)) == (0, 0)  # Saturday: no sweep
    assert await sweep(store, services, MONDAY + timedelta(days=7)) == (0, 1)  # Monday: 5 working days -> the pool
    assert await sweep(store, services, MONDAY + timedelta(days=8)) == (1, 0)  # 明德: 4 since Wednesday's brief
    async with store() as uow:
        pooled = await uow.customers.by_name("杭州云启科技")
        quote = await uow.customers.by_name("宁波海纳物流")
        pool = await uow.employees.get(POOL_ID)
        assert pooled is not None and pooled.id is not None and pooled.owner_id == POOL_ID
        assert quote is not None and quote.owner_id == "E01"  # 报价谈判 never goes back
        assert pool is not None and not pool.active and pool.name == "公海"
        assert len(await uow.stages.for_customer(pooled.id)) == 1  # its history stays
    assert any(to == "E01" and "已回到公海" in text and "领取杭州云启科技" in text for to, text in await _sent(store))


async def _say(store: MemoryStore, services: Services, user: str, text: str, n: int, at: datetime) -> str:
    async with store() as uow:
        await uow.inbox.put(InboxMessage(platform="console", msg_id=f"m{n}", user_id=user, chat_id=f"console:{user}",
                                         text=text, received_at=at))  # fmt: skip
        await uow.commit()
    await InboxWorker(store, build_router(), ErrorHandler(), lambda: at, services=services).drain()
    async with store() as uow:
        return str((await uow.outbox.find())[-1].payload["text"])


async def test_reps_claim_from_the_pool_in_chat_within_the_daily_limit() -> None:
    services = Services(pool=PoolRules(days={Stage.INITIAL: 5}, claims_per_day=1))
    store = await _org(services)
    later = MONDAY + timedelta(days=7)
    assert await sweep(store, services, later) == (0, 2)
    listed = await _say(store, services, "E02", "公海里有哪些客户", 1, later)
    assert listed.startswith("公海里有 2 个客户") and "杭州云启科技(意向初探,5 个工作日没有简报)" in listed
    assert (await _say(store, services, "E02", "领取云启", 2, later)).startswith("已领取「杭州云启科技」(意向初探)")
    assert "每天最多 1 个" in await _say(store, services, "E02", "领取苏州明德教育", 3, later)
    assert "公海里没有「宁波海纳物流」" in await _say(store, services, "E01", "领取宁波海纳物流", 4, later)
    assert "由销售领取" in await _say(store, services, "S01", "领取苏州明德教育", 5, later)
    tomorrow = later + timedelta(days=1)
    assert (await _say(store, services, "E02", "领取苏州明德教育", 6, tomorrow)).startswith("已领取「苏州明德教育」")
    async with store() as uow:
        mine = {c.name for c in await uow.customers.find(owner_ids=["E02"])}
    assert mine == {"杭州云启科技", "苏州明德教育"}


async def test_a_claimed_customer_has_its_full_time_again_and_a_claim_race_has_one_winner() -> None:
    services = Services(pool=PoolRules(days={Stage.INITIAL: 5}, claims_per_day=5))
    store = await _org(services)
    later = MONDAY + timedelta(days=7)
    assert (await sweep(store, services, later))[1] == 2
    assert (await _say(store, services, "E02", "领取杭州云启科技", 1, later)).startswith("已领取")
    assert await sweep(store, services, later + timedelta(days=1)) == (0, 0)  # not back the next morning
    async with store() as uow:  # another rep's claim that read it before E02's committed: the store says no
        c = await uow.customers.by_name("苏州明德教育")
        assert c is not None and c.id is not None
        assert await uow.customers.change_owner(c.id, POOL_ID, "E01")
        assert not await uow.customers.change_owner(c.id, POOL_ID, "E02")
        await uow.commit()
    async with store() as uow:
        c = await uow.customers.by_name("苏州明德教育")
        assert c is not None and c.owner_id == "E01"
