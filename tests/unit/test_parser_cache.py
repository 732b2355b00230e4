"""The parser's customer index follows the customer list: a customer added, renamed, given aliases or removed is
patched in place (seen by the very next brief, no rebuild); only a great many changes mean a rebuild."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from nlu.parser import BriefParser
from sales.model import Customer, Employee
from sales.stages import Stage
from tests.chatrig import ChatRig
from tests.conftest import NOW
from usecases.heavy import in_daemon_thread

EARLIER = NOW - timedelta(days=3)


def _customer(name: str) -> Customer:
    return Customer(name=name, owner_id="E01", stage=Stage.QUALIFIED, stage_entered_at=EARLIER, created_at=EARLIER)


async def _chat_with(*names: str) -> ChatRig:
    """A chat whose rep E01 owns these customers."""
    chat = ChatRig()
    async with chat.store() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        for name in names:
            await uow.customers.add(_customer(name))
        await uow.commit()
    return chat


async def test_a_customer_added_while_running_is_found_without_a_rebuild() -> None:
    chat = await _chat_with("浙江天成建材有限公司")
    first = await chat.say("天成建材 方案演示完成")
    assert "方案演示" in first["text"] and chat.services.parser.builds == 1
    async with chat.store() as uow:  # another way in (an import, another instance) adds a customer
        await uow.customers.add(_customer("宁波新港物流股份有限公司"))
        await uow.commit()
    second = await chat.say("新港物流 需求确认了,金额30万", minutes=5)
    assert "宁波新港物流" in second["text"] and "30万" in second["text"]
    assert (chat.services.parser.builds, chat.services.parser.patched) == (1, 1)  # in place, no rebuild
    async with chat.store() as uow:
        found = await uow.customers.by_name("宁波新港物流股份有限公司")
        assert found is not None and found.amount == 300000 and found.id is not None
        await uow.customers.delete(found.id)
        await uow.commit()
    gone = await chat.say("新港物流 报价已发", minutes=10)
    assert "宁波新港物流股份有限公司" not in gone["text"]  # removed from the index, not found as a known customer
    assert (chat.services.parser.builds, chat.services.parser.patched) == (1, 2)


async def test_a_rename_and_new_aliases_reach_the_next_brief_without_a_rebuild() -> None:
    """An import (or an admin) renames a customer and gives another one a short name: the next brief finds both by
    their new names, and the old name is no longer a known customer."""
    chat = await _chat_with("浙江天成建材有限公司", "宁波新港物流股份有限公司")
    await chat.say("天成建材 方案演示完成")
    async with chat.store() as uow:
        renamed = await uow.customers.by_name("浙江天成建材有限公司")
        aliased = await uow.customers.by_name("宁波新港物流股份有限公司")
        assert renamed is not None and aliased is not None
        renamed.name = "浙江恒远建材集团有限公司"
        aliased.aliases = ["小港"]
        await uow.customers.update(renamed)
        await uow.customers.update(aliased)
        await uow.commit()
    by_new_name = await chat.say("恒远建材 报价已发,金额20万", minutes=5)
    assert "浙江恒远建材集团有限公司" in by_new_name["text"] and "20万" in by_new_name["text"]
    by_alias = await chat.say("小港 需求确认了", minutes=10)
    assert "宁波新港物流股份有限公司" in by_alias["text"]
    assert (chat.services.parser.builds, chat.services.parser.patched) == (1, 3)  # one old name out, two in
    index = (await _parser(chat)).index
    assert "浙江天成建材有限公司" not in index._ids and len(index) == 2


async def _parser(chat: ChatRig) -> BriefParser:
    async with chat.store() as uow:
        return await chat.services.parser.get(uow)


async def test_a_great_many_changes_mean_one_rebuild() -> None:
    from usecases.services import INCREMENTAL_MAX

    chat = await _chat_with("浙江天成建材有限公司")
    await chat.say("天成建材 方案演示完成")
    async with chat.store() as uow:
        await uow.customers.add_many([_customer(f"测试{i:04d}号科技有限公司") for i in range(INCREMENTAL_MAX + 1)])
        await uow.commit()
    reply = await chat.say("测试0007号科技 需求确认了", minutes=5)
    assert "测试0007号科技有限公司" in reply["text"]
    assert (chat.services.parser.builds, chat.services.parser.patched) == (2, 0)


async def test_a_build_runs_in_a_thread_that_never_holds_up_the_exit() -> None:
    seen: list[tuple[str, bool]] = []

    def work() -> int:
        thread = threading.current_thread()
        seen.append((thread.name, thread.daemon))
        return 42

    def broken() -> int:
        raise ValueError("bad name list")

    assert await in_daemon_thread(work, "customer-index") == 42
    assert seen == [("customer-index", True)]
    with pytest.raises(ValueError, match="bad name list"):
        await in_daemon_thread(broken, "customer-index")


async def test_the_warm_up_and_an_idle_worker_build_one_index_not_several() -> None:
    """The worker prepares the index before each poll; with the start-up's warm-up under way it must wait for
    that build, not start its own (two builds side by side took twice the time and memory at 100,000)."""
    import asyncio

    from store.memory import MemoryStore
    from usecases.services import ParserCache

    store = MemoryStore()
    async with store() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        await uow.customers.add(_customer("浙江天成建材有限公司"))
        await uow.commit()
    cache = ParserCache()
    await asyncio.gather(cache.warm(store), cache.prepare(store), cache.prepare(store))
    assert cache.ready and cache.builds == 1
    await cache.prepare(store)  # nothing changed: no build, no wait
    assert cache.builds == 1


async def test_too_many_changes_seen_inside_a_transaction_are_rebuilt_before_the_next_one_and_a_failure_is_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``get`` runs inside the worker's transaction: it must not build there when an index exists (seconds holding
    SQLite's writer), only mark it; ``prepare`` rebuilds before the next transaction. A failed build says so."""
    from store.memory import MemoryStore
    from usecases import services as services_module
    from usecases.services import ParserCache

    store = MemoryStore()
    async with store() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        kept = await uow.customers.add(_customer("浙江天成建材有限公司"))
        gone = await uow.customers.add(_customer("宁波新港物流股份有限公司"))
        await uow.commit()
    cache = ParserCache()
    await cache.prepare(store)
    assert (cache.builds, cache.state) == (1, "ready") and kept.id is not None and gone.id is not None
    monkeypatch.setattr(services_module, "INCREMENTAL_MAX", 0)  # any change is too many to patch
    async with store() as uow:
        await uow.customers.delete(gone.id)
        await uow.commit()
        parser = await cache.get(uow)  # as inside the worker's transaction
    assert cache.builds == 1 and len(parser.index) == 2  # the index as it stood, for this one message
    await cache.prepare(store)
    assert cache.builds == 2
    async with store() as uow:
        assert len((await cache.get(uow)).index) == 1

    def broken(*_: object) -> object:
        raise ValueError("word table missing")

    monkeypatch.setattr(services_module, "_build", broken)
    failing = ParserCache()
    with pytest.raises(ValueError):
        await failing.warm(store)
    assert failing.state == "failed" and not failing.ready
