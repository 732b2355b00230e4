"""One set of definitions: docs/metrics.md is the code's, the channel report computes by them, costs are kept per
channel and month on every store, and the chat answers 渠道效果 naming what it used."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sales.leads import Lead
from sales.metrics import METRICS, ChannelLine, LeadOutcome, channels, document, stage_conversion
from sales.model import Customer, Employee, InboxMessage, Role, StageChange
from sales.stages import Stage
from store.memory import MemoryStore
from store.repositories import UnitOfWorkFactory
from tests.conftest import NOW, ROOT
from usecases.channels import build_channels, render_channels
from usecases.services import Services


def test_docs_metrics_md_is_generated_from_the_code_and_current() -> None:
    written = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert written == document(), "docs/metrics.md is stale: run `genjin docs metrics`"
    assert all(f"`{m.key}`" in written for m in METRICS)


def test_channel_lines_follow_the_definitions() -> None:
    q, w, lost = frozenset({Stage.INITIAL, Stage.QUALIFIED}), frozenset({Stage.INITIAL, Stage.QUALIFIED, Stage.WON}), \
        frozenset({Stage.INITIAL, Stage.LOST})  # fmt: skip
    outcomes = [
        LeadOutcome("官网", w, Stage.WON, Decimal("300000"), 2.0, 40),
        LeadOutcome("官网", w, Stage.WON, Decimal("100000"), 6.0, 20),
        LeadOutcome("官网", q | {Stage.LOST}, Stage.LOST, None, 1.0, None),  # qualified, then lost: still qualified
        LeadOutcome("官网", frozenset(), None, None, None, None),  # not handed out yet
        LeadOutcome("展会", lost, Stage.LOST, None, None, None),
    ]
    lines = {x.channel: x for x in channels(outcomes, {"官网": Decimal("50000"), "百度推广": Decimal("9000")})}
    web = lines["官网"]
    assert (web.leads, web.qualified, web.won, web.lost) == (4, 3, 2, 1)
    assert web.win_rate == 2 / 3 and web.cac == Decimal("25000.00") and web.ltv == Decimal("200000.00")
    assert web.median_response == 2.0 and web.median_cycle == 30
    assert lines["展会"].qualified == 0 and lines["展会"].cac is None  # no spend, no win
    assert lines["百度推广"] == ChannelLine("百度推广", spend=Decimal("9000"))  # spent, no lead yet: still listed
    conversion = stage_conversion([w, w, q | {Stage.LOST}, lost])
    assert conversion[Stage.INITIAL] == 3 / 4 and conversion[Stage.QUALIFIED] == 0 and conversion[Stage.DEMO] is None


async def test_costs_per_channel_and_month_on_every_store(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.leads.put_cost("官网", "2026-11", Decimal("30000.50")) == "added"
        assert await uow.leads.put_cost("官网", "2026-11", Decimal("30000.50")) == "unchanged"
        assert await uow.leads.put_cost("官网", "2026-12", Decimal("12000")) == "added"
        assert await uow.leads.put_cost("展会", "2026-12", Decimal("80000")) == "added"
        assert await uow.leads.put_cost("展会", "2026-12", Decimal("70000")) == "updated"
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.leads.spend() == {"官网": Decimal("42000.50"), "展会": Decimal("70000")}
        assert await uow.leads.spend(["2026-12"]) == {"官网": Decimal("12000"), "展会": Decimal("70000")}
        assert await uow.leads.spend(["2025-01"]) == {}


async def _history(store: MemoryStore) -> None:
    async with store() as uow:
        await uow.employees.add(Employee(id="A01", name="王敏", role=Role.ADMIN))
        await uow.employees.add(Employee(id="E01", name="张伟"))
        for i, (channel, final) in enumerate((("官网", Stage.WON), ("官网", Stage.LOST), ("展会", Stage.INITIAL))):
            c = await uow.customers.add(Customer(name=f"客户{i}", owner_id="E01", stage=final, amount=Decimal(200_000),
                                                 stage_entered_at=NOW, created_at=NOW - timedelta(days=30),
                                                 closed_at=NOW if final.is_closed else None))  # fmt: skip
            assert c.id is not None
            await uow.stages.add(StageChange(c.id, None, Stage.INITIAL, NOW - timedelta(days=30)))
            if final.is_closed:
                await uow.stages.add(StageChange(c.id, Stage.INITIAL, Stage.QUALIFIED, NOW - timedelta(days=20)))
                await uow.stages.add(StageChange(c.id, Stage.QUALIFIED, final, NOW))
            await uow.leads.add(Lead(f"客户{i}", channel, NOW - timedelta(days=31), owner_id="E01",
                                     assigned_at=NOW - timedelta(days=30), customer_id=c.id,
                                     first_response_at=NOW - timedelta(days=30) + timedelta(hours=1)))  # fmt: skip
        await uow.leads.put_cost("官网", f"{NOW:%Y-%m}", Decimal("60000"))
        await uow.commit()


async def test_the_report_and_the_chat_answer_name_their_definitions() -> None:
    store, services = MemoryStore(), Services()
    await _history(store)
    async with store() as uow:
        lines = {x.channel: x for x in await build_channels(uow, services)}
    web = lines["官网"]
    assert (web.leads, web.qualified, web.won, web.lost, web.cac, web.ltv) == (
        2, 2, 1, 1, Decimal("60000.00"), Decimal("200000.00"))  # fmt: skip
    assert web.median_cycle == 31
    text = render_channels(list(lines.values()), "全部时间")
    assert "· 官网:线索 2,合格 2,成交 1,赢单率 50%,获客成本 6万,LTV 20万" in text
    assert "口径:合格线索=" in text and "docs/metrics.md" in text

    from bot.errors import ErrorHandler
    from bot.inbox import InboxWorker
    from handlers import build_router

    async def ask(user: str, n: int) -> str:
        async with store() as uow:
            await uow.inbox.put(InboxMessage(platform="console", msg_id=f"m{n}", user_id=user,
                                             chat_id=f"console:{user}", text="渠道效果", received_at=NOW))  # fmt: skip
            await uow.commit()
        await InboxWorker(store, build_router(), ErrorHandler(), lambda: NOW, services=services).drain()
        async with store() as uow:
            return str((await uow.outbox.find())[-1].payload["text"])

    assert (await ask("A01", 1)).startswith("渠道效果(全部时间):\n· 官网:线索 2")
    assert "给主管和管理员看" in await ask("E01", 2)


def test_the_channel_report_from_the_command_line(genjin: Any) -> None:
    (genjin.cwd / "e.csv").write_text("工号,姓名\nE01,张伟\n", encoding="utf-8")
    assert genjin("import", "employees", "e.csv").returncode == 0
    (genjin.cwd / "l.csv").write_text("名称,来源,获取时间\n杭州云启科技,官网,2026-11-20\n", encoding="utf-8")
    (genjin.cwd / "c.csv").write_text("渠道,月份,花费\n官网,2026-11,30000\n展会,2026年11月,5万\n展会,2026-13,1\n",
                                      encoding="utf-8")  # fmt: skip
    assert genjin("import", "leads", "l.csv").returncode == 0
    costs = json.loads(genjin("import", "costs", "c.csv", "--json").stdout)
    assert costs["added"] == 2 and [r["row"] for r in costs["rejected"]] == [4]
    rows = {r["channel"]: r for r in json.loads(genjin("report", "channels", "--month", "2026-11", "--json").stdout)}
    assert rows["官网"]["leads"] == 1 and rows["官网"]["spend"] == "30000.00" and rows["展会"]["spend"] == "50000.00"
    assert json.loads(genjin("report", "channels", "--month", "2025-01", "--json").stdout) == []
    assert genjin("report", "channels", "--month", "2026-13").returncode == 2
    out = genjin.cwd / "m.md"
    assert (
        genjin("docs", "metrics", "--out", str(out)).returncode == 0 and out.read_text(encoding="utf-8") == document()
    )
