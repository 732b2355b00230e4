"""「把云启科技分给李娜」: a supervisor hands a customer (and its lead) to a rep of the team; both are told."""

from __future__ import annotations

from datetime import timedelta

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from sales.leads import Lead
from sales.model import Customer, Employee, InboxMessage, Role, Team
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import NOW
from usecases.services import Services


async def _store() -> MemoryStore:
    store = MemoryStore()
    async with store() as uow:
        await uow.teams.add(Team(name="华东一组"))
        await uow.teams.add(Team(name="华南二组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="华东一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="华东一组", supervisor_id="S01"))
        await uow.employees.add(Employee(id="E02", name="李娜", team="华东一组", supervisor_id="S01"))
        await uow.employees.add(Employee(id="E05", name="孙浩", team="华南二组"))
        for name, owner in (("杭州云启科技", "E01"), ("杭州云启物流", "E01"), ("广州南方建材", "E05")):
            await uow.customers.add(Customer(name=name, owner_id=owner, stage=Stage.INITIAL,
                                             stage_entered_at=NOW, created_at=NOW))  # fmt: skip
        await uow.leads.add(
            Lead(
                "杭州云启科技",
                "官网",
                NOW - timedelta(days=1),
                owner_id="E01",
                assigned_at=NOW - timedelta(hours=30),
                first_response_at=NOW - timedelta(hours=2),
            )
        )
        await uow.commit()
    return store


async def _say(store: MemoryStore, user: str, text: str, n: int) -> list[tuple[str | None, str]]:
    async with store() as uow:
        await uow.inbox.put(InboxMessage(platform="console", msg_id=f"m{n}", user_id=user, chat_id=f"console:{user}",
                                         text=text, received_at=NOW))  # fmt: skip
        await uow.commit()
    await InboxWorker(store, build_router(), ErrorHandler(), lambda: NOW, services=Services()).drain()
    async with store() as uow:
        return [(m.to_user, str(m.payload["text"])) for m in await uow.outbox.find()]


async def test_a_supervisor_hands_a_customer_and_its_lead_to_another_rep() -> None:
    store = await _store()
    sent = await _say(store, "S01", "把杭州云启科技分给李娜", 1)
    assert ("S01", "已把「杭州云启科技」从张伟改派给李娜,已通知双方。") in sent
    assert any(to == "E02" and "陈静把「杭州云启科技」分给你了" in text and "线索评分" in text for to, text in sent)
    assert any(to == "E01" and "你不用再跟进了" in text for to, text in sent)
    async with store() as uow:
        customer = await uow.customers.by_name("杭州云启科技")
        lead = await uow.leads.by_name("杭州云启科技")
        audit = [(e.action, e.actor, e.detail) for e in await uow.audit.recent(10)]
    assert customer is not None and customer.owner_id == "E02"
    assert lead is not None and (lead.owner_id, lead.assigned_at, lead.first_response_at) == ("E02", NOW, None)
    assert ("lead.reassign", "S01", {"customer": "杭州云启科技", "from": "E01", "to": "E02"}) in audit


async def test_what_cannot_be_handed_over_is_said_plainly() -> None:
    store = await _store()
    assert (await _say(store, "S01", "把杭州云启分给李娜", 1))[-1][1].startswith("「杭州云启」对应好几个客户")
    # another team's customer is not even confirmed to exist
    assert (await _say(store, "S01", "把广州南方建材分给李娜", 2))[-1][1].startswith("没有找到「广州南方建材」")
    assert (await _say(store, "S01", "把杭州云启科技分给孙浩", 3))[-1][1] == "孙浩不在你的团队,不能分给他/她。"
    assert (await _say(store, "S01", "把北京不存在公司分给李娜", 4))[-1][1].startswith("没有找到「北京不存在公司」")
    async with store() as uow:
        customer = await uow.customers.by_name("杭州云启科技")
    assert customer is not None and customer.owner_id == "E01"


async def test_a_rep_cannot_hand_customers_around() -> None:
    store = await _store()
    replies = await _say(store, "E01", "把杭州云启科技分给李娜", 1)
    assert not any("改派" in text for _, text in replies)
    async with store() as uow:
        customer = await uow.customers.by_name("杭州云启科技")
    assert customer is not None and customer.owner_id == "E01"
