"""Handlers in process on the in-memory store: limits, permissions, undo rules, the parser cache."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from sales.customers import restore, snapshot
from sales.model import Customer, Employee, InboxMessage, Role
from sales.permissions import may_see, may_update
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import NOW
from usecases.format import TEXT_LIMIT, fit, size
from usecases.services import Services


async def _org(store: MemoryStore, customers: int = 0) -> None:
    from sales.model import Team

    async with store() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
        for n in range(customers):
            await uow.customers.add(
                Customer(name=f"测试{n:03d}号科技", owner_id="E01", stage=Stage.INITIAL, stage_entered_at=NOW,
                         created_at=NOW)
            )  # fmt: skip
        await uow.commit()


async def _say(store: MemoryStore, services: Services, text: str, n: int = 0) -> str:
    async with store() as uow:
        await uow.inbox.put(InboxMessage(platform="console", msg_id=f"m{n}-{text[:8]}", user_id="E01",
                                         chat_id="console:E01", text=text, received_at=NOW))  # fmt: skip
        await uow.commit()
    await InboxWorker(store, build_router(), ErrorHandler(), lambda: NOW, services=services).drain()
    async with store() as uow:
        return str((await uow.outbox.find())[-1].payload["text"])


async def test_a_huge_brief_is_summarised_within_the_byte_limit() -> None:
    store, services = MemoryStore(), Services()
    await _org(store, customers=80)
    text = ";".join(f"测试{n:03d}号科技 确认了需求,下周三演示,预计月底签约,金额{n + 10}万" for n in range(80))
    reply = await _say(store, services, text)
    assert size(reply) <= TEXT_LIMIT and "已更新 80 个客户" in reply and "另有" in reply
    async with store() as uow:
        assert all(c.stage is Stage.QUALIFIED for c in await uow.customers.find())


async def test_parser_index_follows_new_customers() -> None:
    store, services = MemoryStore(), Services()
    await _org(store, customers=1)
    await _say(store, services, "测试000号科技 确认了需求", 1)
    assert services.parser.builds == 1
    await _say(store, services, "测试000号科技 下周三演示", 2)
    assert services.parser.builds == 1  # unchanged list: no rebuild
    await _say(store, services, "新客户 宁波新港物流 有意向", 3)
    await _say(store, services, "是", 4)
    reply = await _say(store, services, "新港物流 确认了需求", 5)
    assert "宁波新港物流" in reply and "意向初探→需求确认" in reply
    assert (services.parser.builds, services.parser.patched) == (1, 1)  # added to the index in place


def test_fit_keeps_what_fits_and_counts_the_rest() -> None:
    lines = [f"第{i}行:" + "很长的内容" * 20 for i in range(50)]
    text = fit(lines, more=lambda n: f"还有 {n} 行")
    assert size(text) <= TEXT_LIMIT and text.endswith("行") and "第0行" in text and "第49行" not in text


def test_permissions() -> None:
    rep = Employee(id="E01", name="张伟", team="一组", supervisor_id="S01")
    peer = Employee(id="E02", name="李娜", team="一组", supervisor_id="S01")
    other = Employee(id="E05", name="孙浩", team="二组", supervisor_id="S02")
    sup = Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组")
    admin = Employee(id="A01", name="王敏", role=Role.ADMIN)
    assert may_update(rep, rep) and not may_update(rep, peer) and not may_see(rep, other)
    assert may_update(sup, rep) and may_update(sup, peer) and not may_update(sup, other)
    assert may_update(admin, other) and not may_update(rep, None)


def test_restore_puts_back_only_what_nobody_changed_since() -> None:
    start = Customer(name="X", owner_id="E01", stage=Stage.DEMO, stage_entered_at=NOW, created_at=NOW,
                     amount=Decimal("500000.00"))  # fmt: skip
    before = snapshot(start)
    after_brief = Customer(**{**start.__dict__, "stage": Stage.WON, "amount": Decimal("800000.00"),
                              "stage_entered_at": NOW + timedelta(days=1)})  # fmt: skip
    after = snapshot(after_brief)
    later = Customer(**{**after_brief.__dict__, "amount": Decimal("900000.00")})  # someone else's edit
    restored, kept = restore(later, before, after)
    assert restored.stage is Stage.DEMO and restored.stage_entered_at == NOW
    assert restored.amount == Decimal("900000.00") and kept == ["amount"]


def test_snapshot_spells_an_instant_one_way() -> None:
    c = Customer(name="X", owner_id="E01", stage=Stage.DEMO, stage_entered_at=NOW, created_at=NOW)
    utc = Customer(**{**c.__dict__, "stage_entered_at": NOW.astimezone(datetime.now().astimezone().tzinfo)})
    assert snapshot(c)["stage_entered_at"] == snapshot(utc)["stage_entered_at"]


@pytest.mark.parametrize("text", ["帮助", "help", "/help"])
async def test_help_lists_only_installed_features(text: str) -> None:
    store, services = MemoryStore(), Services()
    await _org(store)
    reply = await _say(store, services, text)
    assert "发简报" in reply and "撤销" in reply and "漏斗" in reply and "成交预测" in reply and "我的提成" in reply
    assert "目标异议" in reply and "积分排行榜" in reply
