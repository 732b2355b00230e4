"""The message path: inbox → router → outbox → platform sender, with its failure modes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import typing
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from bot.errors import APOLOGY, ErrorHandler
from bot.inbox import InboxWorker
from bot.outbox import OutboxSender, PermanentSendError, TransientSendError, backoff
from bot.platform import Capabilities
from handlers import build_router
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, text_is
from sales.model import Employee, InboxMessage, InboxStatus, OutboxMessage, OutboxStatus, Role
from store.memory import MemoryStore
from store.repositories import UnitOfWorkFactory
from tests.conftest import NOW, Clock
from usecases.services import Services


class RecordingSender:
    platform = "wecom"
    capabilities = Capabilities()

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.sent: list[OutboxMessage] = []

    async def send(self, message: OutboxMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


class Hanging(RecordingSender):
    """A platform whose calls for u0 hang until ``release`` is set."""

    def __init__(self, release: asyncio.Event) -> None:
        super().__init__()
        self.release = release

    async def send(self, message: OutboxMessage) -> None:
        if message.to_user == "u0":
            await self.release.wait()
        self.sent.append(message)


async def _queue_replies(
    uow_factory: UnitOfWorkFactory,
    prefix: str,
    count: int,
    *,
    text: Callable[[int], str] = str,
    to_user: Callable[[int], str] = lambda n: f"u{n}",
) -> None:
    """``count`` WeCom replies keyed ``<prefix><n>``, queued in one unit of work."""
    async with uow_factory() as uow:
        for n in range(count):
            await uow.outbox.enqueue(OutboxMessage(platform="wecom", key=f"{prefix}{n}", created_at=NOW,
                                                   payload={"text": text(n)}, to_user=to_user(n)))  # fmt: skip
        await uow.commit()


async def _put(uow_factory: UnitOfWorkFactory, msg_id: str, text: str, user: str = "zhangwei") -> None:
    async with uow_factory() as uow:
        await uow.inbox.put(InboxMessage(platform="wecom", msg_id=msg_id, user_id=user, text=text, received_at=NOW))
        await uow.commit()


async def _employee(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟", accounts={"wecom": "zhangwei"}))
        await uow.employees.add(Employee(id="A01", name="王敏", role=Role.ADMIN))
        await uow.commit()


async def test_message_is_answered_once_through_the_outbox(uow_factory: UnitOfWorkFactory) -> None:
    await _employee(uow_factory)
    clock, sender = Clock(NOW), RecordingSender()
    worker = InboxWorker(uow_factory, build_router(), ErrorHandler(), clock, services=Services())
    outbox = OutboxSender(uow_factory, {"wecom": sender}, ErrorHandler(), clock)
    for _ in range(3):  # the platform retried the callback
        await _put(uow_factory, "m1", "帮助")
    assert await worker.drain() == 1
    assert await outbox.drain() == 1
    assert await outbox.drain() == 0
    assert len(sender.sent) == 1 and "Genjin" in sender.sent[0].payload["text"]
    assert sender.sent[0].to_user == "zhangwei"
    async with uow_factory() as uow:
        assert await uow.inbox.count(InboxStatus.DONE) == 1


async def test_stranger_is_told_whom_to_ask_and_message_kept(uow_factory: UnitOfWorkFactory) -> None:
    await _employee(uow_factory)
    worker = InboxWorker(uow_factory, build_router(), ErrorHandler(), Clock(NOW), services=Services())
    await _put(uow_factory, "m2", "今天拜访了瑞达", user="stranger")
    await worker.drain()
    async with uow_factory() as uow:
        [reply] = await uow.outbox.find(to_user="stranger")
        assert "王敏" in reply.payload["text"]
        assert await uow.inbox.claim() == [] and await uow.inbox.count() == 1
        assert await uow.employees.by_platform_user("wecom", "stranger") is None


async def test_auto_register_makes_a_stranger_a_rep(uow_factory: UnitOfWorkFactory) -> None:
    worker = InboxWorker(
        uow_factory, build_router(), ErrorHandler(), Clock(NOW), services=Services(), auto_register=True
    )
    await _put(uow_factory, "m3", "帮助", user="newbie")
    await worker.drain()
    async with uow_factory() as uow:
        employee = await uow.employees.by_platform_user("wecom", "newbie")
        assert employee is not None and employee.role is Role.REP
        [reply] = await uow.outbox.find(to_user="newbie")
        assert "Genjin" in reply.payload["text"]


async def test_a_failing_handler_keeps_the_message_and_apologises(uow_factory: UnitOfWorkFactory) -> None:
    await _employee(uow_factory)
    router = Router("boom")

    @router.message(text_is("炸"))
    async def boom(message: Incoming, ctx: Context) -> list[Reply]:
        await ctx.uow.audit.add(__import__("sales.model").model.AuditEntry(at=NOW, action="half-done"))
        raise RuntimeError("handler bug")

    errors = ErrorHandler()
    worker = InboxWorker(uow_factory, router, errors, Clock(NOW), services=Services())
    await _put(uow_factory, "m4", "炸")
    await worker.drain()
    assert errors.count == 1
    async with uow_factory() as uow:
        stored = (await uow.inbox.count(InboxStatus.FAILED), await uow.audit.recent())
        assert stored == (1, [])  # the handler's half-done write was rolled back
        [reply] = await uow.outbox.find()
        assert reply.payload["text"] == APOLOGY


async def test_transient_errors_are_retried_with_backoff_then_delivered(uow_factory: UnitOfWorkFactory) -> None:
    clock = Clock(NOW)
    sender = RecordingSender([TransientSendError("45009"), TransientSendError("timeout")])
    outbox = OutboxSender(uow_factory, {"wecom": sender}, ErrorHandler(), clock)
    async with uow_factory() as uow:
        await uow.outbox.enqueue(OutboxMessage(platform="wecom", key="r1", created_at=NOW, payload={"text": "x"}))
        await uow.commit()
    assert await outbox.drain_once() == 0
    assert await outbox.drain_once() == 0  # not due yet
    clock.now += timedelta(seconds=backoff(1) + 0.1)
    assert await outbox.drain_once() == 0
    clock.now += timedelta(seconds=backoff(2) + 0.1)
    assert await outbox.drain_once() == 1
    async with uow_factory() as uow:
        sent = await uow.outbox.by_key("r1")
        assert sent is not None and sent.status is OutboxStatus.SENT and sent.attempts == 3


async def test_permanent_error_and_giving_up_are_recorded(uow_factory: UnitOfWorkFactory) -> None:
    clock = Clock(NOW)
    sender = RecordingSender([PermanentSendError("81013 all users invalid")] + [TransientSendError("down")] * 50)
    outbox = OutboxSender(uow_factory, {"wecom": sender}, ErrorHandler(), clock, give_up_after=timedelta(minutes=5))
    async with uow_factory() as uow:
        for key in ("p1", "p2"):
            await uow.outbox.enqueue(OutboxMessage(platform="wecom", key=key, created_at=NOW, payload={}))
        await uow.commit()
    for _ in range(12):
        await outbox.drain_once()
        clock.now += timedelta(minutes=1)
    async with uow_factory() as uow:
        p1, p2 = await uow.outbox.by_key("p1"), await uow.outbox.by_key("p2")
        assert p1 is not None and p1.status is OutboxStatus.FAILED and "81013" in (p1.last_error or "")
        assert p2 is not None and p2.status is OutboxStatus.FAILED and "gave up" in (p2.last_error or "")


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]
    assert backoff(50) == 300.0


@pytest.mark.parametrize("kind", ["image", "voice", "file"])
async def test_non_text_is_kept_and_explained(uow_factory: UnitOfWorkFactory, kind: str) -> None:
    await _employee(uow_factory)
    async with uow_factory() as uow:
        await uow.inbox.put(InboxMessage(platform="wecom", msg_id=kind, user_id="zhangwei", kind=kind, received_at=NOW))
        await uow.commit()
    await InboxWorker(uow_factory, build_router(), ErrorHandler(), Clock(NOW), services=Services()).drain()
    async with uow_factory() as uow:
        [reply] = await uow.outbox.find()
        assert "文字" in reply.payload["text"]


async def test_outbox_is_idempotent_across_restarts(uow_factory: UnitOfWorkFactory) -> None:
    """A sender that dies after leasing leaves the message hidden, then due again once; never twice."""
    clock = Clock(NOW)
    async with uow_factory() as uow:
        await uow.outbox.enqueue(OutboxMessage(platform="wecom", key="once", created_at=NOW, payload={"text": "x"}))
        assert not await uow.outbox.enqueue(OutboxMessage(platform="wecom", key="once", created_at=NOW, payload={}))
        await uow.commit()
    async with uow_factory() as uow:  # the first process leases it, then dies before sending
        assert len(await uow.outbox.lease_due(NOW, NOW + timedelta(seconds=60), 10, ["wecom"])) == 1
        await uow.commit()
    sender = RecordingSender()
    restarted = OutboxSender(uow_factory, {"wecom": sender}, ErrorHandler(), clock, lease_seconds=60)
    assert await restarted.drain() == 0  # still leased to the dead process
    clock.now += timedelta(seconds=61)
    assert await restarted.drain() == 1
    other = OutboxSender(uow_factory, {"wecom": sender}, ErrorHandler(), clock)
    clock.now += timedelta(hours=1)
    assert await other.drain() == 0 and len(sender.sent) == 1


async def test_a_slow_api_never_lets_a_second_instance_send_the_tail_again(uow_factory: UnitOfWorkFactory) -> None:
    """Instance A leases five messages for 10 s; each send takes 4 s. While A sends the third, instance B finds
    the last two due (A's lease on them ran out) and sends them. A must not send them too."""
    clock = Clock(NOW)
    await _queue_replies(uow_factory, "k", 5, text=lambda n: f"m{n}")
    fast = RecordingSender()
    b = OutboxSender(uow_factory, {"wecom": fast}, ErrorHandler(), clock, lease_seconds=10)

    class Slow(RecordingSender):
        async def send(self, message: OutboxMessage) -> None:
            clock.now += timedelta(seconds=4)
            if len(self.sent) == 2:
                await b.drain_once()  # the other instance, meanwhile
            self.sent.append(message)

    slow = Slow()
    a = OutboxSender(uow_factory, {"wecom": slow}, ErrorHandler(), clock, lease_seconds=10)
    await a.drain_once()
    keys = [m.key for m in slow.sent + fast.sent]
    assert sorted(keys) == [f"k{n}" for n in range(5)]  # each once
    assert [m.key for m in fast.sent] == ["k3", "k4"]
    async with uow_factory() as uow:
        assert {m.status for m in await uow.outbox.find()} == {OutboxStatus.SENT}


class LimitedPlatform(RecordingSender):
    """WeCom's rule: a member's 31st message within a minute is dropped silently."""

    capabilities = Capabilities(per_member=(30, 60.0), text_limit=2048)

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.dropped = 0

    async def send(self, message: OutboxMessage) -> None:
        recent = [m for m in self.sent if (self.clock() - m.created_at).total_seconds() < 60]
        if len(recent) >= 30:
            self.dropped += 1
            return
        self.sent.append(dataclasses.replace(message, created_at=self.clock()))  # created_at: when it arrived


async def test_two_instances_share_one_members_limit(uow_factory: UnitOfWorkFactory) -> None:
    """Sixty replies to one busy member, sent by two instances at once: together they stay within 30 a minute
    (the rest merged into a digest or waiting for the next minute), and nothing is dropped by the platform."""
    if isinstance(uow_factory, MemoryStore):
        pytest.skip("the in-memory store publishes whole states: no concurrent units of work")
    clock = Clock(NOW)
    await _queue_replies(uow_factory, "r", 60, text=lambda n: f"第 {n} 条回复", to_user=lambda n: "busy")
    platform = LimitedPlatform(clock)
    a, b = (OutboxSender(uow_factory, {"wecom": platform}, ErrorHandler(), clock, batch=30) for _ in range(2))
    await asyncio.gather(a.drain_once(), b.drain_once())
    assert len(platform.sent) <= 30 and platform.dropped == 0
    for _ in range(3):
        clock.now += timedelta(seconds=61)
        await asyncio.gather(a.drain(), b.drain())
    assert platform.dropped == 0
    delivered = sum(int(m.payload["text"].split("合并发送的 ")[1].split(" 条")[0]) if "合并发送" in m.payload["text"]
                    else 1 for m in platform.sent)  # fmt: skip
    assert delivered == 60
    async with uow_factory() as uow:
        assert {m.status for m in await uow.outbox.find()} == {OutboxStatus.SENT}


async def test_one_hanging_call_holds_up_only_its_own_recipient(uow_factory: UnitOfWorkFactory) -> None:
    """Sends go to several recipients side by side; one recipient's order is kept; a call that hangs (a 10 s
    timeout on the platform) does not hold up everyone else's replies."""
    if isinstance(uow_factory, MemoryStore):
        pytest.skip("the in-memory store publishes whole states: no concurrent units of work")
    await _queue_replies(uow_factory, "c", 12, to_user=lambda n: f"u{n % 4}")
    release = asyncio.Event()
    platform = Hanging(release)
    sender = OutboxSender(uow_factory, {"wecom": platform}, ErrorHandler(), Clock(NOW), concurrency=4)
    task = asyncio.create_task(sender.drain_once())
    for _ in range(200):
        if len(platform.sent) == 9:
            break
        await asyncio.sleep(0.01)
    assert sorted(m.to_user or "" for m in platform.sent) == ["u1"] * 3 + ["u2"] * 3 + ["u3"] * 3  # while u0 hangs
    release.set()
    assert await task == 12
    for user in ("u0", "u1", "u2", "u3"):
        assert [m.key for m in platform.sent if m.to_user == user] == [
            f"c{n}" for n in range(12) if f"u{n % 4}" == user
        ]


async def test_a_drain_writes_what_it_learnt_in_one_unit_of_work(uow_factory: UnitOfWorkFactory) -> None:
    """Ten replies to ten people under WeCom's per-person limit: the lease, the windows and the results are three
    units of work for the whole drain (three per reply before), and every reply ends up marked sent or failed."""
    await _queue_replies(uow_factory, "w", 10)
    opened = 0

    def counting() -> Any:
        nonlocal opened
        opened += 1
        return uow_factory()

    class OneUnknown(LimitedPlatform):
        async def send(self, message: OutboxMessage) -> None:
            if message.to_user == "u3":
                raise PermanentSendError("unknown user")
            await super().send(message)

    platform = OneUnknown(Clock(NOW))
    sender = OutboxSender(counting, {"wecom": platform}, ErrorHandler(), Clock(NOW), concurrency=4)
    assert await sender.drain_once() == 9
    assert opened == 3
    async with uow_factory() as uow:
        statuses = sorted(m.status.value for m in await uow.outbox.find())
    assert statuses == ["failed"] + ["sent"] * 9


async def test_a_send_hanging_past_half_the_lease_leaves_nothing_sent_unmarked(uow_factory: UnitOfWorkFactory) -> None:
    """One recipient's call hangs; the others' replies went out. Once half the lease has passed (real time: the
    platform's clock is not the sender's), what was sent is marked, so no other sender can lease and send it
    again while the hanging call goes on."""
    if isinstance(uow_factory, MemoryStore):
        pytest.skip("the in-memory store publishes whole states: no concurrent units of work")
    await _queue_replies(uow_factory, "h", 3)
    release = asyncio.Event()
    sender = OutboxSender(uow_factory, {"wecom": Hanging(release)}, ErrorHandler(), Clock(NOW), concurrency=3,
                          lease_seconds=0.4)  # fmt: skip
    task = asyncio.create_task(sender.drain_once())
    try:
        for _ in range(100):
            await asyncio.sleep(0.02)
            async with uow_factory() as uow:
                sent = sorted(m.key for m in await uow.outbox.find() if m.status is OutboxStatus.SENT)
            if sent:
                break
        assert sent == ["h1", "h2"] and not task.done()
    finally:
        release.set()
    assert await task == 3


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_several_workers_answer_each_rep_in_order(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Four worker loops taking batches of two: on PostgreSQL different reps are handled side by side, on SQLite one
    at a time; either way a rep's messages are handled in the order they came, each exactly once."""
    from store.database import Database
    from tests.conftest import postgres_url

    database = Database(f"sqlite:///{tmp_path / 'w.db'}" if backend == "sqlite" else postgres_url())
    if backend == "postgres":
        await database.wipe()
    else:
        await database.upgrade()
    router, handled, busy, most, all_in = Router("record"), list[tuple[str, str]](), [0], [0], asyncio.Event()

    @router.message(lambda m, _ctx: True)
    async def record(message: Incoming, ctx: Context) -> list[Reply]:
        busy[0] += 1
        most[0] = max(most[0], busy[0])
        await asyncio.sleep(0.01)  # a handler's database round trips: the others get their turn
        handled.append((message.user_id, message.text))
        busy[0] -= 1
        if len(handled) == 40:
            all_in.set()
        return [Reply(f"收到 {message.text}")]

    users = ["u1", "u2", "u3", "u4"]
    async with database.uow() as uow:
        await uow.inbox.put_many(
            [
                InboxMessage(platform="wecom", msg_id=f"m{n}", user_id=users[n % 4], text=str(n), received_at=NOW)
                for n in range(40)
            ]
        )
        await uow.commit()
    worker = InboxWorker(database.uow, router, ErrorHandler(), Clock(NOW), services=Services(), workers=4, batch=2)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    async with asyncio.timeout(30):
        await all_in.wait()
    stop.set()
    worker.wake.set()
    await running
    for user in users:
        mine = [int(text) for who, text in handled if who == user]
        assert mine == sorted(mine) and len(mine) == 10
    assert len(handled) == 40 and (most[0] > 1) == (backend == "postgres")
    async with database.uow() as uow:
        assert await uow.inbox.count(InboxStatus.DONE) == 40 and len(await uow.outbox.find()) == 40
    await database.dispose()


@pytest.mark.postgres
async def test_the_inbox_listener_comes_back_after_its_connection_is_killed(pg_url: str) -> None:
    """A held LISTEN connection is never pinged by the pool: killed (a restart, a failover), it is opened again, the
    worker is woken once for what arrived meanwhile, and later messages wake it again."""
    import asyncio

    from sqlalchemy import text

    from sales.model import InboxMessage
    from store.database import Database
    from tests.conftest import NOW

    database = Database(pg_url)
    await database.wipe()
    woken = asyncio.Event()
    try:
        async with database.inbox_wakeups(woken.set) as listening:
            assert listening

            async def store(msg_id: str) -> None:
                message = InboxMessage(platform="wecom", msg_id=msg_id, user_id="u1", text="帮助", received_at=NOW)
                assert await database.store_callbacks([message]) == [True]

            await store("m1")
            await asyncio.wait_for(woken.wait(), 10)
            woken.clear()
            async with database.engine.connect() as conn:
                kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"
                await conn.execute(text(kill + " AND pid <> pg_backend_pid()"))
                await conn.commit()
            await asyncio.wait_for(woken.wait(), 10)  # opened again, and woken once for the gap
            woken.clear()
            await store("m2")
            await asyncio.wait_for(woken.wait(), 10)
    finally:
        await database.dispose()


async def test_one_failing_message_in_a_batch_leaves_the_others_handled(uow_factory: UnitOfWorkFactory) -> None:
    """Three reps' messages in one transaction: the middle one's handler fails after a write. Its write is rolled
    back (its savepoint) and it is kept as failed with an apology; the others' writes and replies are committed."""
    from sales.model import AuditEntry

    router, batches = Router("batch"), []

    @router.message(lambda m, _ctx: True)
    async def note(message: Incoming, ctx: Context) -> list[Reply]:
        await ctx.uow.audit.add(AuditEntry(at=NOW, action=f"saw {message.text}"))
        if message.text == "炸":
            raise RuntimeError("handler bug")
        return [Reply(f"收到 {message.text}")]

    for n, (user, text) in enumerate([("u1", "一"), ("u2", "炸"), ("u3", "三")]):
        await _put(uow_factory, f"b{n}", text, user=user)
    worker = InboxWorker(uow_factory, router, ErrorHandler(), Clock(NOW), services=Services())
    original = worker.process_batch

    async def counted(*, held_for: float = 0.0) -> int:
        batches.append(await original(held_for=held_for))
        return batches[-1]

    worker.process_batch = counted  # type: ignore[method-assign]
    assert await worker.drain() == 3 and batches == [3, 0]  # all three in one batch
    async with uow_factory() as uow:
        assert sorted(a.action for a in await uow.audit.recent()) == ["saw 一", "saw 三"]
        assert (await uow.inbox.count(InboxStatus.DONE), await uow.inbox.count(InboxStatus.FAILED)) == (2, 1)
        texts = {m.to_user: m.payload["text"] for m in await uow.outbox.find()}
        assert texts == {"u1": "收到 一", "u2": APOLOGY, "u3": "收到 三"}


async def test_a_batch_ends_after_a_message_that_changed_customer_names(uow_factory: UnitOfWorkFactory) -> None:
    """The parser's index takes names in only once committed: a message that adds a customer ends its batch, so
    the next message is read after the commit."""
    from sales.model import Customer
    from sales.stages import Stage

    await _employee(uow_factory)
    router, batches = Router("names"), []

    @router.message(lambda m, _ctx: True)
    async def maybe_add(message: Incoming, ctx: Context) -> list[Reply]:
        if message.text.startswith("新"):
            await ctx.uow.customers.add(Customer(name=message.text[1:], owner_id="E01", stage=Stage.INITIAL,
                                                 stage_entered_at=NOW, created_at=NOW))  # fmt: skip
        return [Reply("好")]

    for n, text in enumerate(["一", "新瑞达机电", "二", "三"]):
        await _put(uow_factory, f"n{n}", text, user=f"u{n}")
    worker = InboxWorker(uow_factory, router, ErrorHandler(), Clock(NOW), services=Services())
    while done := await worker.process_batch():
        batches.append(done)
    assert batches == [2, 2]
    async with uow_factory() as uow:
        assert await uow.customers.by_name("瑞达机电") is not None


async def _deadlocking(
    uow_factory: UnitOfWorkFactory, texts: list[str], fails: Callable[[str], bool]
) -> tuple[InboxWorker, ErrorHandler, list[str]]:
    """A worker whose handler meets a deadlock (PostgreSQL's "try again") for the messages ``fails`` picks; the texts
    are queued from one sender each."""
    from sqlalchemy.exc import OperationalError

    class Deadlock(Exception):
        sqlstate = "40P01"

    router, seen = Router("deadlock"), list[str]()

    @router.message(lambda m, _ctx: True)
    async def record(message: Incoming, ctx: Context) -> list[Reply]:
        seen.append(message.text)
        if fails(message.text):
            raise OperationalError("UPDATE customers …", {}, Deadlock("deadlock detected"))
        return [Reply(f"收到 {message.text}")]

    for n, text in enumerate(texts):
        await _put(uow_factory, f"d{n}", text, user=f"u{n}")
    errors = ErrorHandler()
    return InboxWorker(uow_factory, router, errors, Clock(NOW), services=Services()), errors, seen


async def test_a_transient_database_error_leaves_the_message_new(uow_factory: UnitOfWorkFactory) -> None:
    """A deadlock with another worker (the database says try again) rolls back that message only: the others of the
    batch are handled and committed, it is handled again next time, nobody gets an apology."""
    once = [True]

    def first_time(text: str) -> bool:
        if text == "二" and once[0]:
            once[0] = False
            return True
        return False

    worker, errors, seen = await _deadlocking(uow_factory, ["一", "二", "三"], first_time)
    assert await worker.process_batch() == 2
    assert await worker.process_batch() == 1
    assert seen == ["一", "二", "三", "二"] and errors.count == 0
    async with uow_factory() as uow:
        assert await uow.inbox.count(InboxStatus.DONE) == 3
        assert sorted(m.payload["text"] for m in await uow.outbox.find()) == ["收到 一", "收到 三", "收到 二"]


async def test_a_message_that_keeps_meeting_transient_errors_fails_in_the_end(uow_factory: UnitOfWorkFactory) -> None:
    """A "try again" that never clears must not hold the inbox: the other senders' messages go through meanwhile,
    and after ``TRANSIENT_TRIES`` attempts the message fails like any other, with an apology."""
    from bot.inbox import TRANSIENT_TRIES

    worker, errors, _ = await _deadlocking(uow_factory, ["卡", "一", "二"], lambda text: text == "卡")
    handled = [await worker.process_batch() for _ in range(TRANSIENT_TRIES + 1)]
    assert handled == [2] + [0] * (TRANSIENT_TRIES - 2) + [1, 0]  # the others at once, the stuck one failed at last
    assert errors.count == 1
    async with uow_factory() as uow:
        assert (await uow.inbox.count(InboxStatus.DONE), await uow.inbox.count(InboxStatus.FAILED)) == (2, 1)
        [apology] = await uow.outbox.find(to_user="u0")
        assert apology.payload["text"] == APOLOGY


async def test_after_waiting_out_a_flood_briefs_are_handled_for_a_while(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Callbacks that never pause: each batch is cut after one message while they wait for the writer, except the
    batch after the worker's wait ran out, which goes on for ``FLOOD_BATCH_SECONDS`` first (the briefs do not fall
    to one per wait, a callback does not wait for a whole batch)."""
    from bot import inbox as inbox_module

    router = Router("flood")

    @router.message(lambda m, _ctx: True)
    async def ok(message: Incoming, ctx: Context) -> list[Reply]:
        return [Reply("好")]

    for n in range(5):
        await _put(uow_factory, f"f{n}", str(n), user=f"u{n}")
    worker = InboxWorker(uow_factory, router, ErrorHandler(), Clock(NOW), services=Services())
    worker.hold_up = lambda: True
    assert await worker.process_batch() == 1
    assert await worker.process_batch(held_for=60.0) == 4

    async def waited_out() -> bool:
        return True

    for n in range(5, 8):
        await _put(uow_factory, f"f{n}", str(n), user=f"u{n}")
    worker.give_way = waited_out
    monkeypatch.setattr(inbox_module, "FLOOD_BATCH_SECONDS", 60.0)  # longer than any machine takes for three
    sizes, original = list[tuple[int, float]](), worker.process_batch

    async def recorded(*, held_for: float = 0.0) -> int:
        sizes.append((await original(held_for=held_for), held_for))
        return sizes[-1][0]

    worker.process_batch = recorded  # type: ignore[method-assign]
    assert await worker.drain() == 3 and sizes == [(3, 60.0), (0, 60.0)]


async def test_a_rehearsal_chosen_as_a_deadlocks_victim_rehearses_again(uow_factory: UnitOfWorkFactory) -> None:
    """Worker processes started together rehearse with the same rep and customer, and on PostgreSQL one of them can
    be a deadlock's victim: it rehearses again (warm-up failed with a warning before). Any other failure, or a
    deadlock every time, is raised."""
    from sqlalchemy.exc import OperationalError

    from sales.model import Customer
    from sales.stages import Stage

    class Deadlock(Exception):
        sqlstate = "40P01"

    await _employee(uow_factory)
    async with uow_factory() as uow:
        await uow.customers.add(Customer(name="瑞达机电", owner_id="E01", stage=Stage.INITIAL, stage_entered_at=NOW,
                                         created_at=NOW))  # fmt: skip
        await uow.commit()
    failures: list[Exception] = []
    tried = [0]

    async def dispatch(message: Incoming, ctx: Context) -> list[Reply] | None:
        tried[0] += 1
        if failures:
            raise failures.pop(0)
        return [Reply("好的")]

    worker = InboxWorker(uow_factory, build_router(), ErrorHandler(), Clock(NOW), services=Services())
    worker.router.dispatch = dispatch  # type: ignore[method-assign]
    failures[:] = [OperationalError("INSERT INTO points_ledger …", {}, Deadlock("deadlock detected"))]
    assert await worker.rehearse() is True and tried == [2]
    failures[:] = [OperationalError("INSERT …", {}, Deadlock("deadlock detected"))] * 3
    with pytest.raises(OperationalError):
        await worker.rehearse()
    failures[:] = [ValueError("a bug")]
    with pytest.raises(ValueError):
        await worker.rehearse()
    assert tried == [2 + 3 + 1]


async def test_a_rehearsed_brief_leaves_no_trace(uow_factory: UnitOfWorkFactory) -> None:
    """The warm-up's brief goes through the real handlers (a rep's brief about their own customer, which moves it
    on) and is rolled back: the customer, the briefs, the points, the outbox, the inbox and the metrics are as they
    were. With nobody to rehearse with, nothing happens."""
    from bot.metrics import Metrics
    from sales.model import Customer
    from sales.stages import Stage

    metrics = Metrics()
    worker = InboxWorker(uow_factory, build_router(), ErrorHandler(), Clock(NOW), services=Services(), metrics=metrics)
    assert await worker.rehearse() is False
    await _employee(uow_factory)
    async with uow_factory() as uow:
        await uow.customers.add(Customer(name="瑞达机电", owner_id="E01", stage=Stage.INITIAL, stage_entered_at=NOW,
                                         created_at=NOW))  # fmt: skip
        await uow.commit()
    await _put(uow_factory, "waiting", "帮助")
    seen: list[str] = []
    original = worker.router.dispatch

    async def dispatch(message: Incoming, ctx: Context) -> list[Reply] | None:
        replies = await original(message, ctx)
        seen.append(ctx.parsed.intent if ctx.parsed else "")
        [customer] = await ctx.uow.customers.find()
        seen.append(customer.stage.value)  # inside the rehearsal: the brief did move it on
        return replies

    worker.router.dispatch = dispatch  # type: ignore[method-assign]
    assert await worker.rehearse() is True
    assert seen == ["brief", Stage.QUALIFIED.value]
    async with uow_factory() as uow:
        [customer] = await uow.customers.find()
        assert customer.stage is Stage.INITIAL and customer.next_action is None
        assert await uow.briefs.by_sender("E01") == [] and await uow.outbox.find() == []
        assert await uow.points.balance("E01") == 0
        [waiting] = await uow.inbox.claim()
        assert waiting.msg_id == "waiting" and waiting.attempts == 0 and await uow.inbox.count() == 1
    assert b"genjin_parse_total{" not in metrics.text()


async def test_a_batch_ends_early_when_callbacks_wait_for_the_writer(uow_factory: UnitOfWorkFactory) -> None:
    """``hold_up`` (callbacks waiting to be stored) ends a batch after the message in hand: what is handled is
    committed, the rest stays new for the next batch; a batch always handles at least one message."""
    router, seen = Router("record"), list[str]()

    @router.message(lambda m, _ctx: True)
    async def record(message: Incoming, ctx: Context) -> list[Reply]:
        seen.append(message.text)
        return [Reply("好")]

    for n in range(4):
        await _put(uow_factory, f"h{n}", str(n), user=f"u{n}")
    worker = InboxWorker(uow_factory, router, ErrorHandler(), Clock(NOW), services=Services())
    worker.hold_up = lambda: len(seen) >= 2  # callbacks arrive while the second message is handled
    assert await worker.process_batch() == 2
    async with uow_factory() as uow:
        assert await uow.inbox.count(InboxStatus.NEW) == 2 and len(await uow.outbox.find()) == 2
    assert await worker.process_batch() == 1  # still held up: one message, never none
    worker.hold_up = None
    assert await worker.process_batch() == 1 and seen == ["0", "1", "2", "3"]
    assert await worker.process_batch() == 0


async def test_the_worker_gives_way_while_callbacks_are_being_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    """In one process the callbacks go first: while a batch of them waits to be stored (on SQLite, for the writer
    the worker would take), or until a burst of them pauses, the worker does not start its next batch; it waits at
    most ``limit``."""
    from bot import inbox as inbox_module
    from bot.inbox import BURST_CALLBACKS, InboxWriter

    store = MemoryStore()
    held = asyncio.Event()

    async def slow(messages: list[InboxMessage]) -> list[bool]:  # storing callbacks waits until the test lets it go
        await held.wait()
        async with store() as uow:
            stored = await uow.inbox.put_many(messages)
            await uow.commit()
        return stored

    writer = InboxWriter(slow, asyncio.Event())
    storing = asyncio.create_task(
        writer.put(InboxMessage(platform="wecom", msg_id="m1", user_id="zhangwei", text="你好", received_at=NOW))
    )
    await asyncio.sleep(0)
    waiting = asyncio.create_task(writer.let_pass(limit=5.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # the batch is still being stored
    held.set()
    await asyncio.wait_for(waiting, 1.0)
    assert await storing is True
    held.clear()
    storing = asyncio.create_task(
        writer.put(InboxMessage(platform="wecom", msg_id="m2", user_id="zhangwei", text="你好", received_at=NOW))
    )
    await asyncio.sleep(0)
    await asyncio.wait_for(writer.let_pass(limit=0.05), 1.0)  # never longer than the limit
    held.set()
    assert await storing is True
    # the pauses measured with a long QUIET_SECONDS: a loaded machine's delays never pass for one
    quiet, limit = 0.3, 1.0
    monkeypatch.setattr(inbox_module, "QUIET_SECONDS", quiet)
    loop = asyncio.get_running_loop()

    async def waited() -> float:
        started = loop.time()
        assert await writer.let_pass(limit) is False  # ended by a pause, not by the limit
        return loop.time() - started

    assert await waited() < quiet / 2  # a callback now and then, all stored: straight through

    def burst(start: int) -> list[Any]:
        return [writer.put(InboxMessage(platform="wecom", msg_id=f"b{n}", user_id="u", text="好", received_at=NOW))
                for n in range(start, start + BURST_CALLBACKS)]  # fmt: skip

    # a burst, all stored, that may go on: the worker waits for a pause of QUIET_SECONDS since its last callback
    assert all(await asyncio.gather(*burst(0)))
    assert quiet / 2 < await waited() < limit
    await asyncio.sleep(quiet)  # the burst is over: straight through
    assert await waited() < quiet / 2
    # a write slower than the pause: its callbacks' senders had no answer meanwhile, so it was no pause
    held.clear()
    storing_all = asyncio.gather(*burst(100))
    await asyncio.sleep(quiet * 2)
    held.set()
    assert all(await storing_all)
    assert quiet / 2 < await waited() < limit
    # a flood that never pauses: the limit ends the wait, and says so
    assert all(await asyncio.gather(*burst(200)))
    flood = asyncio.create_task(writer.let_pass(0.1))
    n = 300
    while not flood.done():
        assert await writer.put(InboxMessage(platform="wecom", msg_id=f"f{n}", user_id="u", text="好", received_at=NOW))
        n += 1
        await asyncio.sleep(0.005)
    assert flood.result() is True


async def test_results_a_failed_write_kept_are_written_by_the_next_drain(uow_factory: UnitOfWorkFactory) -> None:
    """The drain's one write of its results fails (the database away for a moment): they are kept, and the next drain
    writes them before it leases anything, even when nothing is due, so the sent replies are not sent again once
    their lease runs out."""
    await _queue_replies(uow_factory, "f", 2)
    failures = [RuntimeError("database away")]

    @contextlib.asynccontextmanager
    async def flaky() -> Any:
        async with uow_factory() as uow:
            original_commit, original_mark = uow.commit, uow.outbox.mark_sent
            marked = False

            async def mark_sent(message_id: int, at: Any) -> None:
                nonlocal marked
                marked = True
                await original_mark(message_id, at)

            async def commit() -> None:
                if marked and failures:
                    raise failures.pop()
                await original_commit()

            uow.outbox.mark_sent = mark_sent  # type: ignore[method-assign]
            uow.commit = commit  # type: ignore[method-assign]
            yield uow

    platform = RecordingSender()
    sender = OutboxSender(typing.cast(UnitOfWorkFactory, flaky), {"wecom": platform}, ErrorHandler(), Clock(NOW),
                          concurrency=2)  # fmt: skip
    with pytest.raises(RuntimeError, match="database away"):
        await sender.drain_once()
    assert len(platform.sent) == 2
    assert await sender.drain_once() == 0  # nothing due: the leases still hold
    async with uow_factory() as uow:
        assert {m.status for m in await uow.outbox.find()} == {OutboxStatus.SENT}
