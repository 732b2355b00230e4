"""The monthly data-quality review: each kind of problem counted with examples, sent to admins on the first working
day of the month only."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sales.leads import Lead
from sales.model import Customer, Employee, Role, StageChange
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import TZ
from usecases.quality import Review, monthly_review, render, review
from usecases.services import Services

DEC1 = datetime(2026, 12, 1, 9, 40, tzinfo=TZ)  # a Tuesday, the first working day of December


async def _store() -> MemoryStore:
    store = MemoryStore()
    async with store() as uow:
        await uow.employees.add(Employee(id="A01", name="王敏", role=Role.ADMIN))
        await uow.employees.add(Employee(id="E01", name="张伟"))
        await uow.employees.add(Employee(id="E09", name="离职的人", active=False))

        async def add(name: str, stage: Stage, owner: str = "E01", amount: int | None = 300_000) -> Customer:
            c = await uow.customers.add(Customer(
                name=name, owner_id=owner, stage=stage, stage_entered_at=DEC1 - timedelta(days=40),
                created_at=DEC1 - timedelta(days=60), amount=Decimal(amount) if amount else None,
                expected_close=(DEC1 + timedelta(days=20)).date(),
            ))  # fmt: skip
            return c

        await add("杭州云启科技有限公司", Stage.QUALIFIED)
        await add("云启科技", Stage.INITIAL)  # the same company, a second name
        await add("苏州云启物流", Stage.INITIAL)  # another trade: not a duplicate
        await add("宁波海纳物流", Stage.DEMO, owner="E09")  # its owner left
        await add("无锡金石机械", Stage.DEMO, amount=None)  # a demo without an amount
        for i in range(10):
            await add(f"测试客户{i:02d}", Stage.NEGOTIATION, amount=200_000 + 10_000 * i)
        slip = await add("常州瑞达电子", Stage.NEGOTIATION, amount=3_000_000_000)  # 30亿: a 万/元 slip
        back = await add("嘉兴万象生物", Stage.INITIAL)
        assert back.id is not None and slip.id is not None
        await uow.stages.add(StageChange(back.id, Stage.DEMO, Stage.INITIAL, DEC1 - timedelta(days=10)))
        await uow.leads.add(Lead("绍兴宏图电子", "官网", DEC1 - timedelta(days=5), owner_id="E01",
                                 assigned_at=DEC1 - timedelta(days=4)))  # fmt: skip
        await uow.commit()
    return store


async def test_each_problem_is_counted_with_examples() -> None:
    store, services = await _store(), Services()
    async with store() as uow:
        found = {f.title: f for f in (await review(uow, services, DEC1)).findings}
    assert found["疑似重复客户(同一家公司两个名字)"].examples == ["杭州云启科技有限公司 / 云启科技"]
    assert found["负责人缺失或已停用的在跟客户"].examples == ["宁波海纳物流(负责人 离职的人)"]
    assert found["方案演示、报价谈判阶段没有金额"].examples == ["无锡金石机械(方案演示)"]
    assert found["报价谈判阶段没有预计签约日期"].count == 0
    assert found["上个月阶段倒退的客户"].examples == ["嘉兴万象生物(方案演示 → 意向初探,11-21)"]
    odd = found["金额异常(和同阶段的其他客户差得太远)"]
    assert odd.count == 1 and odd.examples[0].startswith("常州瑞达电子 300000万(报价谈判")
    assert found["分配后一直没有跟进的线索"].examples == ["绍兴宏图电子(张伟,11-27 分配)"]
    text = render(await _review(store, services), "2026-11")
    assert text.startswith("2026-11 数据质量检查") and "疑似重复客户(同一家公司两个名字):1 个" in text


async def _review(store: MemoryStore, services: Services) -> Review:
    async with store() as uow:
        return await review(uow, services, DEC1)


async def test_admins_hear_of_it_on_the_first_working_day_only() -> None:
    store, services = await _store(), Services()
    assert await monthly_review(store, services, DEC1 + timedelta(days=1)) == 0  # the second working day
    assert await monthly_review(store, services, DEC1) == 1
    assert await monthly_review(store, services, DEC1) == 0  # once
    async with store() as uow:
        [sent] = await uow.outbox.find()
    assert sent.to_user == "A01" and "数据质量检查" in str(sent.payload["text"])


def test_the_review_from_the_command_line(genjin: Any) -> None:
    (genjin.cwd / "e.csv").write_text("工号,姓名\nE01,张伟\n", encoding="utf-8")
    rows = "客户名称,负责人工号,阶段,金额\n杭州云启科技有限公司,E01,方案演示,\n云启科技,E01,意向初探,\n"
    (genjin.cwd / "c.csv").write_text(rows, encoding="utf-8")
    assert genjin("import", "employees", "e.csv").returncode == 0
    assert genjin("import", "customers", "c.csv").returncode == 0, genjin("import", "customers", "c.csv").stdout
    found = {f["title"]: f for f in json.loads(genjin("report", "quality", "--json").stdout)}
    assert found["疑似重复客户(同一家公司两个名字)"]["count"] == 1
    assert found["方案演示、报价谈判阶段没有金额"]["examples"] == ["杭州云启科技有限公司(方案演示)"]
    assert "数据质量检查" in genjin("report", "quality").stdout
