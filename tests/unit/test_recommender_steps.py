"""The recommender follows briefs step by step: what a brief writes changes the next answer without a full build."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np
import pytest

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from recommender.embeddings import _normalise
from recommender.service import REFIT_DRIFT, Feed, Recommender
from sales.calendar import WorkCalendar
from sales.model import AuditEntry, Customer, Employee, InboxMessage, Role, Team
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import NOW, TZ
from usecases.services import Services

if TYPE_CHECKING:
    from recommender.embeddings import Vectors

TODAY = NOW.date()
FILLERS = 20
NOTE = "做了温控冷库改造的方案,客户在现场测温很满意,准备做POC验证"
CUSTOMERS = {"华东冷链物流": "物流", "江南纺织": "物流", "北方钢铁": "物流", "宁波港务": "物流"}
OTHER = {
    "江南纺织": "聊了聊网站改版和年会安排",
    "北方钢铁": "老板出差了,下个月再约",
    "宁波港务": "送了中秋月饼,寒暄几句",
}


class Harness:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.day = TODAY
        self.seconds = 0.0
        self.recommender = Recommender(self.store, WorkCalendar(), TZ, lambda: self.day, clock=lambda: self.seconds)
        self.services = Services(recommender=self.recommender)
        self.sent = 0

    async def org(self) -> None:
        async with self.store() as uow:
            await uow.teams.add(Team(name="一组"))
            await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="一组"))
            await uow.employees.add(Employee(id="E01", name="张伟", team="一组", supervisor_id="S01"))
            others = {f"远方{n:02d}号百货": "零售" for n in range(FILLERS)}  # a step is a small part of the whole
            for name, industry in (CUSTOMERS | others).items():
                await uow.customers.add(Customer(name=name, owner_id="E01", stage=Stage.INITIAL, stage_entered_at=NOW,
                                                 created_at=NOW, industry=industry, region="上海"))  # fmt: skip
            await uow.commit()

    async def say(self, text: str) -> str:
        self.sent += 1
        async with self.store() as uow:
            await uow.inbox.put(InboxMessage(platform="console", msg_id=f"m{self.sent}", user_id="E01",
                                             chat_id="console:E01", text=text, received_at=NOW))  # fmt: skip
            await uow.commit()
        await InboxWorker(self.store, build_router(), ErrorHandler(), lambda: NOW, services=self.services).drain()
        async with self.store() as uow:
            return str((await uow.outbox.find())[-1].payload["text"])

    async def nearest(self, name: str) -> list[str]:
        found = await self.recommender.recommend(name, lambda _owner: True)
        assert found is not None
        return [n.history.customer.name for n in found.similar]


async def test_an_added_brief_changes_the_next_answer_without_a_full_build() -> None:
    h = Harness()
    await h.org()
    await h.say(f"华东冷链物流 {NOTE}")
    for name, note in OTHER.items():
        await h.say(f"{name} {note}")
    before = await h.nearest("华东冷链物流")
    assert before[0] != "宁波港务" and h.recommender.builds == 1
    await h.say(f"宁波港务 {NOTE}")
    after = await h.nearest("华东冷链物流")
    assert after[0] == "宁波港务"  # now it wrote what this one did
    assert (h.recommender.builds, h.recommender.steps) == (1, 1)
    score = await h.recommender.score("宁波港务")
    assert score is not None  # the scorer holds the customer as it is now


async def test_a_new_customer_and_its_stage_are_put_in_place() -> None:
    h = Harness()
    await h.org()
    await h.say(f"华东冷链物流 {NOTE}")
    assert "浙江海运集团" not in await h.nearest("华东冷链物流")
    await h.say(f"新客户 浙江海运集团 {NOTE}")
    await h.say("是")  # the new customer is confirmed: a pending answer writes it
    assert "浙江海运集团" in await h.nearest("华东冷链物流")
    await h.say("浙江海运集团 确认了需求")
    snap = await h.recommender.ready()
    moved = snap.histories[snap.by_name["浙江海运集团"]]
    assert moved.customer.stage is Stage.QUALIFIED and [s for s, _ in moved.path][-1] is Stage.QUALIFIED
    assert h.recommender.builds == 1 and h.recommender.steps == 2  # the first answer built; two steps since


async def test_other_processes_briefs_are_read_on_the_next_look() -> None:
    h = Harness()
    await h.org()
    await h.say(f"华东冷链物流 {NOTE}")
    for name, note in OTHER.items():
        await h.say(f"{name} {note}")
    await h.nearest("华东冷链物流")
    other = Services()  # another worker process: it writes the brief, this recommender is not told
    h.services, mine = other, h.services
    await h.say(f"宁波港务 {NOTE}")
    h.services = mine
    assert (await h.nearest("华东冷链物流"))[0] != "宁波港务"  # not looked yet
    h.seconds += 5
    assert (await h.nearest("华东冷链物流"))[0] == "宁波港务"
    assert h.recommender.builds == 1


async def test_a_new_day_an_undo_and_drift_build_in_full() -> None:
    h = Harness()
    await h.org()
    await h.say(f"华东冷链物流 {NOTE}")
    await h.nearest("华东冷链物流")
    h.day = TODAY + timedelta(days=1)  # days in a stage moved on
    await h.nearest("华东冷链物流")
    assert h.recommender._rebuild is not None
    await h.recommender._rebuild
    assert h.recommender.builds == 2
    for name in CUSTOMERS:
        await h.say(f"{name} 确认了需求")
        await h.nearest("华东冷链物流")
    await h.say("远方00号百货 确认了需求")
    await h.nearest("华东冷链物流")
    assert h.recommender.steps == 5  # five customers of 24 put in place: past REFIT_DRIFT of the fit
    assert 5 / (len(CUSTOMERS) + FILLERS) > REFIT_DRIFT and h.recommender._rebuild is not None
    await h.recommender._rebuild  # started by that answer, beside it
    assert h.recommender.builds == 3 and h.recommender.snapshot is not None
    assert h.recommender.snapshot.index.drift == 0
    await h.say("撤销")  # 远方00号百货 back in 意向初探: an undo deletes what steps read, so it is built again
    await h.nearest("华东冷链物流")  # the look finds the undo and starts the build
    await h.recommender._rebuild
    snap = await h.recommender.ready()
    assert h.recommender.builds == 4 and snap.histories[snap.by_name["远方00号百货"]].customer.stage is Stage.INITIAL


async def test_an_import_builds_again() -> None:
    h = Harness()
    await h.org()
    snap = await h.recommender.ready()
    async with h.store() as uow:  # `genjin import customers` in another process: customers rewritten, no brief
        customer = await uow.customers.by_name("江南纺织")
        assert customer is not None
        await uow.customers.update(dataclasses.replace(customer, industry="纺织"))
        await uow.audit.add(AuditEntry(at=NOW, action="import.customers"))
        await uow.commit()
    h.seconds += 5
    await h.recommender.ready()  # the look finds the import and starts the build
    assert h.recommender._rebuild is not None
    snap = await h.recommender._rebuild
    assert h.recommender.builds == 2 and snap.histories[snap.by_name["江南纺织"]].customer.industry == "纺织"


class Letters:
    """An embedder with no fit and a width of its own, as sentence-transformers."""

    name = "letters"

    def fit(self, texts: list[str]) -> None:
        pass

    def encode(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        for i, text in enumerate(texts):
            for char in text:
                out[i, ord(char) % 8] += 1
        return _normalise(out)


async def test_a_first_build_of_nobody_then_a_brief() -> None:
    h = Harness()
    h.recommender = h.services.recommender = Recommender(h.store, WorkCalendar(), TZ, lambda: h.day,
                                                         embedder=Letters, clock=lambda: h.seconds)  # fmt: skip
    async with h.store() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组"))
        await uow.commit()
    assert await h.recommender.scores() == {}  # a forecast on day one: built of nobody, no notes
    async with h.store() as uow:
        for name in ("华东冷链物流", "宁波港务"):
            await uow.customers.add(Customer(name=name, owner_id="E01", stage=Stage.INITIAL, stage_entered_at=NOW,
                                             created_at=NOW, industry="物流"))  # fmt: skip
        await uow.commit()
    await h.say(f"华东冷链物流 {NOTE}")
    await h.recommender.ready()  # a fit that saw no note has no place for one: built again, not stepped
    assert h.recommender._rebuild is not None
    await h.recommender._rebuild
    assert await h.nearest("华东冷链物流") == ["宁波港务"] and h.recommender.builds == 2


def test_an_id_taken_earlier_and_committed_later_is_read() -> None:
    feed, written = Feed().take([(1, 10), (2, 11)], now=0.0)
    assert (feed.mark, written, feed.missing) == (2, {10, 11}, [])
    feed, written = feed.take([(5, 12)], now=1.0)  # 3 and 4 are not committed yet (or never will be)
    assert (feed.mark, written, feed.missing) == (5, {12}, [3, 4])
    feed, written = feed.take([(3, 13)], now=2.0)
    assert (feed.mark, written, feed.missing) == (5, {13}, [4])
    feed, _ = feed.take([], now=1_000.0)  # a rolled-back id is looked for a while, not for ever
    assert feed.missing == []


async def test_moves_are_mined_once_per_set_of_deals_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Customers of one industry are weighed over the same deals: mined once; a step (a new version) mines again."""
    from recommender import service

    calls: list[int] = []

    def mine(won: list[object], lost: list[object], calendar: object, tz: object) -> list[object]:
        calls.append(len(won))
        return []

    monkeypatch.setattr(service, "mine_moves", mine)
    h = Harness()
    await h.org()
    snap = await h.recommender.ready()
    deals = ([snap.histories[1]], [snap.histories[2]])
    for _ in range(3):
        assert await h.recommender._mined(snap, deals) == []
    assert calls == [1]
    snap.version += 1
    await h.recommender._mined(snap, deals)
    assert calls == [1, 1] and len(h.recommender._mined_moves) == 1  # the older version's entry is gone
