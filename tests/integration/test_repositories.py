"""Each repository against the SQLAlchemy store (SQLite, PostgreSQL) and the in-memory fake."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sales.goals import Goal, Kpi, Level
from sales.model import (
    AppliedChange,
    AuditEntry,
    Brief,
    BriefStatus,
    BriefUpdate,
    Confidence,
    Customer,
    Employee,
    Finished,
    InboxMessage,
    InboxStatus,
    OutboxMessage,
    OutboxStatus,
    PendingQuestion,
    Role,
    StageChange,
    Team,
)
from sales.points import PointsEntry, Redemption, RedemptionStatus
from sales.stages import Stage
from store.errors import ConflictError
from store.repositories import UnitOfWorkFactory
from tests.conftest import NOW


async def _org(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.teams.add(Team(name="华东一组", channels={"wecom": "wrOgAAA"}))
        await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="华东一组"))
        await uow.employees.add(
            Employee(
                id="E01",
                name="张伟",
                team="华东一组",
                supervisor_id="S01",
                accounts={"wecom": "zhangwei", "dingtalk": "0123"},
            )
        )
        await uow.commit()


def _customer(name: str = "上海瑞达机电", owner: str = "E01", **kw: object) -> Customer:
    return Customer(name=name, owner_id=owner, stage=Stage.QUALIFIED, stage_entered_at=NOW, created_at=NOW, **kw)  # type: ignore[arg-type]


async def test_the_history_version_moves_with_every_change_undo_and_audit(uow_factory: UnitOfWorkFactory) -> None:
    """What a kept forecast history is keyed by: an added change, a deleted one (an undo) and an audit entry (an
    import) each give another version."""
    await _org(uow_factory)
    async with uow_factory() as uow:
        empty = await uow.stages.history_version()
        customer = await uow.customers.add(_customer())
        assert customer.id is not None
        first = await uow.stages.add(StageChange(customer.id, None, Stage.INITIAL, NOW, change_id=7))
        second = await uow.stages.add(StageChange(customer.id, Stage.INITIAL, Stage.QUALIFIED, NOW, change_id=8))
        await uow.commit()
    async with uow_factory() as uow:
        two = await uow.stages.history_version()
        assert empty == (0, 0, 0) and two[:2] == (second.id, 2)
        await uow.stages.delete_for_change(7)  # the first change undone: the last id stays, the count does not
        one = await uow.stages.history_version()
        assert one[0] == two[0] and one != two
        await uow.audit.add(AuditEntry(at=NOW, action="import.customers", actor="A01"))
        assert (await uow.stages.history_version())[2] > one[2]
    assert first.id is not None


async def test_employees_and_teams(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        e = await uow.employees.get("E01")
        assert e is not None and e.role is Role.REP and e.team == "华东一组"
        assert (await uow.employees.by_platform_user("wecom", "zhangwei")) == e
        assert (await uow.employees.by_platform_user("dingtalk", "0123")) == e
        assert (await uow.employees.by_platform_user("console", "E01")) == e
        assert await uow.employees.by_platform_user("wecom", "nobody") is None
        assert [x.id for x in await uow.employees.find(team="华东一组")] == ["E01", "S01"]
        e.mobile, e.active = "13800000000", False
        await uow.employees.update(e)
        team = await uow.teams.get("华东一组")
        assert team is not None and team.channels == {"wecom": "wrOgAAA"} and team.standup_time == "15:00"
        team.standup_time = "16:30"
        await uow.teams.update(team)
        await uow.commit()
    async with uow_factory() as uow:
        assert [x.id for x in await uow.employees.find(active_only=True)] == ["S01"]
        assert (await uow.employees.get("E01")).mobile == "13800000000"  # type: ignore[union-attr]
        assert [t.standup_time for t in await uow.teams.find()] == ["16:30"]


async def test_employee_uniqueness(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ConflictError):
            await uow.employees.add(Employee(id="E02", name="李娜", accounts={"wecom": "zhangwei"}))
    async with uow_factory() as uow:
        with pytest.raises(ConflictError):
            await uow.employees.add(Employee(id="E01", name="重复"))


async def test_customers_roundtrip_exact_values(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        added = await uow.customers.add(
            _customer(
                amount=Decimal("655000.10"),
                aliases=["瑞达"],
                expected_close=date(2026, 12, 20),
                confidence=Confidence.HIGH,
                next_action="方案演示",
                next_action_date=date(2026, 12, 2),
                margin=Decimal("0.3251"),
                paid_on=date(2026, 12, 31),
            )
        )
        other = await uow.customers.add(_customer("华东物流集团", owner="S01"))
        await uow.commit()
    assert added.id is not None and other.id is not None and added.id != other.id
    async with uow_factory() as uow:
        got = await uow.customers.get(added.id)
        assert got is not None
        assert got.amount == Decimal("655000.10") and got.aliases == ["瑞达"]
        assert got.stage is Stage.QUALIFIED and got.confidence is Confidence.HIGH
        assert got.stage_entered_at == NOW and got.stage_entered_at.tzinfo is not None
        assert got.expected_close == date(2026, 12, 20)
        assert got.margin == Decimal("0.3251") and got.paid_on == date(2026, 12, 31)
        assert (await uow.customers.by_name("华东物流集团")) is not None
        assert [c.name for c in await uow.customers.find(owner_ids=["E01"])] == ["上海瑞达机电"]
        # a whole table read (load_many: the driver's values converted column by column) gives the very same record
        listed = next(c for c in await uow.customers.find() if c.id == added.id)
        assert listed == got and repr(listed) == repr(got)  # Decimal exponents and time zones included
        assert [c.name for c in await uow.customers.find(stages=[Stage.QUALIFIED])] == ["上海瑞达机电", "华东物流集团"]
        assert [c.name for c in await uow.customers.find(stages=[Stage.QUALIFIED], limit=1)] == ["上海瑞达机电"]
        assert await uow.customers.count() == 2
        # what the parser's index reads: names with aliases in id order
        assert await uow.customers.names() == [("上海瑞达机电", ["瑞达"]), ("华东物流集团", [])]
        got.stage, got.amount = Stage.DEMO, None
        got.last_followup_at = NOW.astimezone(UTC) + timedelta(hours=1)
        await uow.customers.update(got)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.customers.get(added.id)
        assert again is not None and again.stage is Stage.DEMO and again.amount is None
        assert again.last_followup_at == NOW + timedelta(hours=1)
        await uow.customers.delete(added.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.customers.get(added.id) is None


async def test_customer_conflicts(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        await uow.customers.add(_customer())
        with pytest.raises(ConflictError):
            await uow.customers.add(_customer())
    async with uow_factory() as uow:
        with pytest.raises(ConflictError):
            await uow.customers.add(_customer("无主客户", owner="E99"))


async def test_stage_history_and_briefs(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        c = await uow.customers.add(_customer())
        assert c.id is not None
        b = await uow.briefs.add(
            Brief(
                sender_id="E01",
                platform="wecom",
                text="瑞达确认了需求",
                received_at=NOW,
                platform_msg_id="m1",
                parse_result={"intent": "brief"},
            )
        )
        assert b.id is not None
        await uow.stages.add(StageChange(c.id, Stage.INITIAL, Stage.QUALIFIED, NOW, "E01", b.id))
        await uow.stages.add(StageChange(c.id, None, Stage.INITIAL, NOW - timedelta(days=3), "E01"))
        await uow.briefs.add_update(BriefUpdate(b.id, c.id, {"stage": "initial"}, {"stage": "qualified"}))
        await uow.briefs.set_status(b.id, BriefStatus.APPLIED)
        await uow.commit()
    async with uow_factory() as uow:
        history = await uow.stages.for_customer(c.id)
        assert [(h.from_stage, h.to_stage) for h in history] == [
            (None, Stage.INITIAL),
            (Stage.INITIAL, Stage.QUALIFIED),
        ]
        brief = await uow.briefs.get(b.id)
        assert brief is not None and brief.status is BriefStatus.APPLIED and brief.parse_result == {"intent": "brief"}
        assert [x.id for x in await uow.briefs.by_sender("E01", since=NOW - timedelta(minutes=1))] == [b.id]
        assert await uow.briefs.by_sender("E01", since=NOW + timedelta(minutes=1)) == []
        updates = await uow.briefs.updates_for(b.id)
        assert updates[0].after == {"stage": "qualified"}
        with pytest.raises(ConflictError):  # one platform message id is one brief
            await uow.briefs.add(
                Brief(sender_id="E01", platform="wecom", text="x", received_at=NOW, platform_msg_id="m1")
            )


async def test_the_recommender_reads_what_was_written_past_its_mark(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        a, b, c = [await uow.customers.add(_customer(name)) for name in ("瑞达机电", "华东物流", "南方建材")]
        assert a.id and b.id and c.id
        brief = await uow.briefs.add(Brief(sender_id="E01", platform="wecom", text="瑞达和华东都确认了需求",
                                           received_at=NOW, platform_msg_id="m1"))  # fmt: skip
        assert brief.id
        first = await uow.briefs.add_update(BriefUpdate(brief.id, a.id, {}, {}))
        await uow.stages.add(StageChange(a.id, Stage.INITIAL, Stage.QUALIFIED, NOW, "E01", brief.id))
        await uow.stages.add(StageChange(c.id, None, Stage.INITIAL, NOW - timedelta(days=3), "E01"))
        second = await uow.briefs.add_update(BriefUpdate(brief.id, b.id, {}, {}))
        await uow.commit()
    async with uow_factory() as uow:
        assert first.id and second.id
        assert await uow.briefs.written_after(0) == [(first.id, a.id), (second.id, b.id)]
        assert await uow.briefs.written_after(first.id) == [(second.id, b.id)]
        assert await uow.briefs.written_after(second.id, [first.id]) == [(first.id, a.id)]  # a gap asked for again
        changes = await uow.stages.written_after(0)
        assert [customer for _, customer in changes] == [a.id, c.id]
        assert await uow.stages.written_after(changes[-1][0]) == []
        assert [x.name for x in await uow.customers.find(ids=[c.id, a.id])] == ["瑞达机电", "南方建材"]
        assert [x.customer_id for x in await uow.stages.everything(customer_ids=[a.id])] == [a.id]
        assert [x[0] for x in await uow.briefs.texts(customer_ids=[b.id])] == [b.id]
        assert {x[0] for x in await uow.briefs.texts()} == {a.id, b.id}


async def test_applied_changes_newest_first_and_what_each_wrote(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        c = await uow.customers.add(_customer())
        assert c.id is not None
        b = await uow.briefs.add(
            Brief(sender_id="E01", platform="wecom", text="…", received_at=NOW, platform_msg_id="a")
        )
        assert b.id is not None
        first = await uow.changes.add(AppliedChange("E01", b.id, NOW))
        second = await uow.changes.add(AppliedChange("E01", b.id, NOW))  # same time: the order applied decides
        assert first.id is not None and second.id is not None
        for change in (first, second):
            await uow.briefs.add_update(BriefUpdate(b.id, c.id, {}, {}, change_id=change.id))
            await uow.stages.add(StageChange(c.id, None, Stage.DEMO, NOW, "E01", b.id, change.id))
            await uow.points.award([PointsEntry("E01", f"k{change.id}", "advance", 3, NOW, brief_id=b.id,
                                                change_id=change.id)])  # fmt: skip
        await uow.commit()
    async with uow_factory() as uow:
        last = await uow.changes.last_live("E01", NOW - timedelta(hours=1))
        assert last is not None and last.id == second.id and last.brief_id == b.id
        assert await uow.changes.last_live("E01", NOW + timedelta(minutes=1)) is None  # outside the window
        assert [u.change_id for u in await uow.briefs.updates_for_change(second.id)] == [second.id]
        assert await uow.stages.delete_for_change(second.id) == 1 and await uow.points.delete_for_change(second.id) == 1
        await uow.changes.mark_undone(second.id, NOW)
        assert await uow.changes.live_for_brief(b.id) == 1
        await uow.commit()
    async with uow_factory() as uow:
        last = await uow.changes.last_live("E01", NOW - timedelta(hours=1))
        assert last is not None and last.id == first.id
        assert await uow.points.balance("E01") == 3 and len(await uow.stages.for_customer(c.id)) == 1


async def test_a_question_is_deleted_once(uow_factory: UnitOfWorkFactory) -> None:
    """Two answers racing (two instances, a double tap): only the first delete finds the question."""
    async with uow_factory() as uow:
        q = await uow.pending.add(PendingQuestion("console", "c", "u", "E01", "confirm", {}, NOW, NOW, None))
        await uow.commit()
    assert q.id is not None
    async with uow_factory() as uow:
        assert await uow.pending.delete(q.id) and not await uow.pending.delete(q.id)
        await uow.commit()


async def test_inbox_dedupes_and_hands_out_in_order(uow_factory: UnitOfWorkFactory) -> None:
    msg = InboxMessage(platform="wecom", msg_id="7001", user_id="zhangwei", text="你好", received_at=NOW)
    async with uow_factory() as uow:
        first = await uow.inbox.put(msg)
        assert first is not None and first.id is not None
        assert await uow.inbox.put(msg) is None  # the same callback again
        second = await uow.inbox.put(InboxMessage(platform="dingtalk", msg_id="7001", user_id="u", received_at=NOW))
        assert second is not None
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.put(msg) is None
        [claimed] = await uow.inbox.claim()
        assert claimed.id == first.id and claimed.attempts == 0
        await uow.inbox.finish([Finished(first.id, InboxStatus.DONE)], NOW)
        await uow.commit()
    async with uow_factory() as uow:
        [nxt] = await uow.inbox.claim()
        assert nxt.platform == "dingtalk"
        assert await uow.inbox.count() == 2 and await uow.inbox.count(InboxStatus.DONE) == 1
        done = await uow.inbox.get(first.id)
        assert done is not None and done.status is InboxStatus.DONE and done.processed_at == NOW
        assert done.attempts == 1  # counted when finished


async def test_inbox_batch_in_one_go_keeps_order_and_dedupes(uow_factory: UnitOfWorkFactory) -> None:
    def msg(msg_id: str, platform: str = "wecom") -> InboxMessage:
        return InboxMessage(platform=platform, msg_id=msg_id, user_id="u", text=msg_id, received_at=NOW)

    async with uow_factory() as uow:
        assert await uow.inbox.put(msg("a")) is not None
        await uow.commit()
    batch = [msg("b"), msg("a"), msg("c"), msg("b"), msg("a", "dingtalk"), msg("d")]
    async with uow_factory() as uow:
        # "a" came before, the second "b" is a retry inside the batch; the same id on another platform is new
        assert await uow.inbox.put_many(batch) == [True, False, True, False, True, True]
        assert await uow.inbox.put_many([]) == []
        await uow.commit()
    async with uow_factory() as uow:
        order = []
        while claimed := await uow.inbox.claim():
            order += [(m.platform, m.text) for m in claimed]
            await uow.inbox.finish([Finished(m.id or 0, InboxStatus.DONE) for m in claimed], NOW)
        assert order == [("wecom", "a"), ("wecom", "b"), ("wecom", "c"), ("dingtalk", "a"), ("wecom", "d")]


async def test_a_batch_claim_takes_each_senders_oldest_in_order_and_finishes_them_at_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A batch holds one message per sender (a rep's next one waits for the next batch, so each rep is answered in
    order), oldest first, up to the limit; a failure's error is kept."""

    def msg(n: int, user: str) -> InboxMessage:
        return InboxMessage(platform="wecom", msg_id=f"m{n}", user_id=user, text=f"{user}{n}", received_at=NOW)

    async with uow_factory() as uow:
        await uow.inbox.put_many([msg(1, "A"), msg(2, "A"), msg(3, "B"), msg(4, "C"), msg(5, "B"), msg(6, "D")])
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.text for m in await uow.inbox.claim(2)] == ["A1", "B3"]
        batch = await uow.inbox.claim(10)
        assert [m.text for m in batch] == ["A1", "B3", "C4", "D6"]
        done = [Finished(m.id or 0, InboxStatus.DONE) for m in batch[:3]] + [
            Finished(batch[3].id or 0, InboxStatus.FAILED, "ValueError: boom")
        ]
        await uow.inbox.finish(done, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.text for m in await uow.inbox.claim(10)] == ["A2", "B5"]
        failed = await uow.inbox.get(batch[3].id or 0)
        assert failed is not None and failed.status is InboxStatus.FAILED and failed.error == "ValueError: boom"
        assert await uow.inbox.count(InboxStatus.DONE) == 3


async def test_a_unit_beside_reads_what_was_committed_at_the_same_time(uow_factory: UnitOfWorkFactory) -> None:
    """``beside()``: a second, read-only unit of work on its own connection, whose reads run at the same time as the
    first's (a report's aggregates); it sees the last commit, not the first unit's own changes, and cannot commit."""
    await _org(uow_factory)
    async with uow_factory() as uow:
        await uow.customers.add(_customer())
        await uow.commit()
    async with uow_factory() as uow:
        await uow.customers.add(_customer("北京恒瑞达精密机械"))  # not committed
        async with uow.beside() as side:
            mine, theirs = await asyncio.gather(uow.customers.find(), side.customers.find())
            assert sorted(c.name for c in mine) == ["上海瑞达机电", "北京恒瑞达精密机械"]
            assert [c.name for c in theirs] == ["上海瑞达机电"]
            with pytest.raises(RuntimeError):
                await side.commit()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_claim_finds_the_senders_oldest_in_an_index_not_past_every_handled_message(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The inbox keeps every message it handled; a claim must not walk them (28 ms a claim after 2,000 briefs on
    PostgreSQL, growing for ever). The plan, on a database with stale statistics and then fresh ones, reads the
    sender's oldest new message from ``ix_inbox_sender_status``, and the statement has no parameters, so a prepared
    statement's generic plan cannot differ."""
    from sqlalchemy import text

    from store.database import Database
    from store.sql import _claiming

    url = request.getfixturevalue("pg_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'inbox.db'}"
    database = Database(url)
    await (database.wipe() if backend == "postgres" else database.upgrade())
    try:
        async with database.uow() as uow:
            await uow.inbox.put_many([InboxMessage(platform="wecom", msg_id=f"m{n}", user_id=f"u{n % 50}",
                                                   text="帮助", received_at=NOW) for n in range(3000)])  # fmt: skip
            await uow.commit()
        explain = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN "
        async with database.engine.connect() as conn:
            await conn.execute(text("UPDATE inbox SET status = 'done' WHERE id <= 2990"))
            compiled = _claiming(16).compile(dialect=conn.dialect)
            if backend == "postgres":  # a prepared statement's generic plan is this very plan
                assert not compiled.params
            sql = str(_claiming(16).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            for analyzed in (False, True):
                if analyzed:
                    await conn.execute(text("ANALYZE inbox" if backend == "postgres" else "ANALYZE"))
                plan = "\n".join(str(row[-1]) for row in await conn.execute(text(explain + sql)))
                assert "ix_inbox_sender_status" in plan, plan
            await conn.rollback()
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_workers_side_by_side_take_other_senders_never_a_senders_next_message(pg_url: str) -> None:
    """SKIP LOCKED lets several workers claim at once; a rep's second message is not claimable while the first
    is in another worker's hands (per-rep order), other reps' messages are."""
    from store.database import Database

    database = Database(pg_url)
    await database.wipe()

    def msg(n: int, user: str) -> InboxMessage:
        return InboxMessage(platform="wecom", msg_id=f"m{n}", user_id=user, text=f"{user}{n}", received_at=NOW)

    async with database.uow() as uow:
        await uow.inbox.put_many([msg(1, "A"), msg(2, "A"), msg(3, "B"), msg(4, "A"), msg(5, "B"), msg(6, "C")])
        await uow.commit()
    first, second, third, fourth = (database.uow() for _ in range(4))
    async with first as one, second as two, third as three:
        taken = [await one.inbox.claim(), await two.inbox.claim(), await three.inbox.claim()]
        assert [[m.text for m in t] for t in taken] == [["A1"], ["B3"], ["C6"]]
        async with fourth as four:  # A2 waits for A1, B5 for B3: nothing to take, in a batch either
            assert await four.inbox.claim(10) == []
        await one.inbox.finish([Finished(taken[0][0].id or 0, InboxStatus.DONE)], NOW)
        await one.commit()
        async with database.uow() as five:  # A1 done: A's next one is free, B's still waits
            assert [m.text for m in await five.inbox.claim(10)] == ["A2"]
    await database.dispose()


async def test_send_windows_of_many_recipients_are_reserved_at_once(uow_factory: UnitOfWorkFactory) -> None:
    """One call reserves every recipient's sends: a new recipient gets a window, a full one grants what is left and
    says when a slot frees, and the next call (another drain, another instance) sees what was taken."""
    from store.repositories import Wanted

    limit = (3, 60.0)
    async with uow_factory() as uow:
        first = await uow.outbox.reserve([Wanted("wecom", "a", limit, 2), Wanted("wecom", "b", limit, 5)], NOW)
        await uow.commit()
    assert first == {("wecom", "a"): (2, NOW + timedelta(seconds=60)), ("wecom", "b"): (3, NOW + timedelta(seconds=60))}
    later = NOW + timedelta(seconds=10)
    async with uow_factory() as uow:
        wanted = [Wanted("wecom", "b", limit, 1), Wanted("wecom", "a", limit, 2), Wanted("dingtalk", "a", limit, 1)]
        second = await uow.outbox.reserve(wanted, later)
        await uow.commit()
    minute = timedelta(seconds=60)
    assert second == {("wecom", "a"): (1, NOW + minute), ("wecom", "b"): (0, NOW + minute),
                      ("dingtalk", "a"): (1, later + minute)}  # fmt: skip
    async with uow_factory() as uow:
        assert await uow.outbox.reserve([], later) == {}


async def test_outbox_keys_leases_and_retries(uow_factory: UnitOfWorkFactory) -> None:
    def message(key: str) -> OutboxMessage:
        return OutboxMessage(platform="wecom", key=key, created_at=NOW, payload={"text": "hi"}, to_user="zhangwei")

    async with uow_factory() as uow:
        assert await uow.outbox.enqueue(message("k1"))
        assert not await uow.outbox.enqueue(message("k1"))
        assert await uow.outbox.enqueue(message("k2"))
        await uow.outbox.enqueue(OutboxMessage(platform="dingtalk", key="k3", created_at=NOW, payload={}))
        await uow.commit()
    async with uow_factory() as uow:
        leased = await uow.outbox.lease_due(NOW, NOW + timedelta(minutes=1), 10, ["wecom"])
        assert [m.key for m in leased] == ["k1", "k2"] and leased[0].attempts == 1
        await uow.commit()
    async with uow_factory() as uow:  # leased messages are hidden until the lease ends
        assert await uow.outbox.lease_due(NOW, NOW, 10, ["wecom"]) == []
        k1, k2 = leased
        assert k1.id is not None and k2.id is not None
        await uow.outbox.mark_sent(k1.id, NOW)
        await uow.outbox.retry_later(k2.id, "45009", NOW + timedelta(seconds=30))
        await uow.commit()
    async with uow_factory() as uow:
        later = NOW + timedelta(seconds=31)
        again = await uow.outbox.lease_due(later, later, 10, ["wecom"])
        assert [m.key for m in again] == ["k2"] and again[0].attempts == 2 and again[0].last_error == "45009"
        await uow.outbox.mark_failed(k2.id, "gave up")
        await uow.commit()
    async with uow_factory() as uow:
        sent = await uow.outbox.by_key("k1")
        assert sent is not None and sent.status is OutboxStatus.SENT and sent.sent_at == NOW
        failed = await uow.outbox.by_key("k2")
        assert failed is not None and failed.status is OutboxStatus.FAILED
        assert [m.key for m in await uow.outbox.find(to_user="zhangwei")] == ["k1", "k2"]


async def test_audit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.audit.add(AuditEntry(at=NOW, action="a", actor="E01", detail={"n": 1}))
        await uow.audit.add(AuditEntry(at=NOW, action="b"))
        await uow.commit()
    async with uow_factory() as uow:
        assert [e.action for e in await uow.audit.recent()] == ["b", "a"]


async def test_unit_of_work_rolls_back_without_commit(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.teams.add(Team(name="T"))
    async with uow_factory() as uow:
        assert await uow.teams.find() == []
        await uow.teams.add(Team(name="T1"))
        with pytest.raises(RuntimeError):
            async with uow.savepoint():
                await uow.teams.add(Team(name="T2"))
                raise RuntimeError("undo only the inner part")
        await uow.commit()
    async with uow_factory() as uow:
        assert [t.name for t in await uow.teams.find()] == ["T1"]


def test_naive_datetimes_are_refused() -> None:
    from store.orm import UTCDateTime

    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), None)  # type: ignore[arg-type]


async def test_a_nested_unit_of_work_on_sqlite_fails_fast_instead_of_hanging(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from store.database import Database

    database = Database(f"sqlite:///{tmp_path / 'n.db'}")
    await database.upgrade()
    async with database.uow():
        with pytest.raises(RuntimeError, match="inside another"):
            async with database.uow():
                pass
    async with database.uow() as uow:  # and the lock was released
        assert await uow.teams.find() == []
    await database.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_reader_reads_beside_a_writer_and_cannot_write(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Read-only work (the parser's change check, reports) must not queue behind the one SQLite writer."""
    import asyncio

    from store.database import Database
    from tests.conftest import postgres_url

    database = Database(f"sqlite:///{tmp_path / 'r.db'}" if backend == "sqlite" else postgres_url())
    if backend == "postgres":
        await database.wipe()
    else:
        await database.upgrade()
    await _org(database.uow)
    async with database.uow() as uow:
        await uow.customers.add(_customer())
        await uow.commit()
    async with database.uow() as writer:  # holds the writer (on SQLite the lock and BEGIN IMMEDIATE)
        await writer.customers.add(_customer("杭州新客户"))
        async with asyncio.timeout(2), database.reader() as reader:
            assert await reader.customers.by_name("上海瑞达机电") is not None
            assert await reader.customers.by_name("杭州新客户") is None  # not committed yet: not seen
            with pytest.raises(RuntimeError, match="read-only"):
                await reader.commit()
        await writer.commit()
    if backend == "postgres":  # PostgreSQL refuses the write itself
        with pytest.raises(Exception, match="read-only"):
            async with database.reader() as reader:
                await reader.customers.add(_customer("不该写进去"))
    await database.dispose()


async def test_report_aggregates_match_the_pure_functions(uow_factory: UnitOfWorkFactory) -> None:
    """The store's GROUP BYs for reports equal what sales/ computes from the records themselves."""
    from sales.forecast import close_day_counts, reach_outcomes, won_entries
    from sales.reports import moves, stage_totals

    await _org(uow_factory)
    day = timedelta(days=1)
    plan = [  # name, owner, final stage, amount, path of (stage, days before NOW)
        ("甲", "E01", Stage.WON, "300000", [(Stage.INITIAL, 40), (Stage.DEMO, 20), (Stage.WON, 5)]),
        ("乙", "E01", Stage.LOST, None, [(Stage.INITIAL, 30), (Stage.LOST, 2)]),
        ("丙", "E01", Stage.DEMO, "120000.50", [(Stage.INITIAL, 50), (Stage.QUALIFIED, 3), (Stage.DEMO, 1)]),
        ("丁", "S01", Stage.DEMO, "80000", [(Stage.DEMO, 90)]),
        ("戊", "S01", Stage.QUALIFIED, None, [(Stage.QUALIFIED, 10)]),
    ]
    async with uow_factory() as uow:
        for name, owner, stage, amount, path in plan:
            closed_at = NOW - path[-1][1] * day if stage.is_closed else None
            c = await uow.customers.add(
                _customer(
                    name,
                    owner,
                    amount=Decimal(amount) if amount else None,
                    closed_at=closed_at,
                    confidence=Confidence.HIGH,
                )
            )
            c.stage = stage
            await uow.customers.update(c)
            previous = None
            for to, ago in path:
                assert c.id is not None
                await uow.stages.add(StageChange(c.id, previous, to, NOW - ago * day))
                previous = to
        await uow.commit()
    async with uow_factory() as uow:
        customers, changes = await uow.customers.find(), await uow.stages.everything()
        assert await uow.customers.stage_totals() == stage_totals(customers)
        [mine] = [t for t in await uow.customers.stage_totals(["E01"])]
        assert (mine.stage, mine.count, mine.amount) == (Stage.DEMO, 1, Decimal("120000.50"))
        closed = await uow.customers.closed_between(NOW - 3 * day, NOW, ["E01"])
        assert [c.name for c in closed] == ["乙"]
        deals = await uow.customers.open_deals()
        assert [(d.name, d.amount, d.confidence) for d in deals] == [
            ("丙", Decimal("120000.50"), Confidence.HIGH), ("丁", Decimal("80000.00"), Confidence.HIGH)]  # fmt: skip
        assert await uow.stages.reach_outcomes() == reach_outcomes(customers, changes) == {
            (Stage.INITIAL, Stage.WON): 1, (Stage.DEMO, Stage.WON): 1, (Stage.WON, Stage.WON): 1,
            (Stage.INITIAL, Stage.LOST): 1, (Stage.LOST, Stage.LOST): 1}  # fmt: skip
        for zone in ("Asia/Shanghai", "America/New_York", "Pacific/Kiritimati"):  # one offset; clock changes; +14 h
            tz = ZoneInfo(zone)
            counted = close_day_counts(won_entries(customers, changes), tz)
            assert await uow.stages.close_day_counts(tz) == counted == {Stage.INITIAL: {35: 1}, Stage.DEMO: {15: 1}}
        [signed] = await uow.customers.signed()
        assert (signed.owner_id, signed.amount, signed.closed_at) == ("E01", Decimal("300000.00"), NOW - 5 * day)
        # for some owners only (a team's forecast)
        assert [d.name for d in await uow.customers.open_deals(["E01"])] == ["丙"]
        assert [d.name for d in await uow.customers.open_deals(["S01"])] == ["丁"] and await uow.customers.signed(
            ["S01"]
        ) == []
        assert await uow.customers.signed(["E01", "S01"]) == [signed]
        listed = await uow.customers.listed(["E01"], [Stage.DEMO, Stage.WON])
        assert [(c.name, c.stage, c.amount) for c in listed] == [(c.name, c.stage, c.amount) for c in customers
                                                                  if c.owner_id == "E01" and c.stage in
                                                                  (Stage.DEMO, Stage.WON)]  # fmt: skip
        assert len(await uow.customers.listed()) == len(customers)
        touched = await uow.stages.touched_since(NOW - 4 * day)
        assert {c.customer_id for c in touched} == {c.id for c in customers if c.name in ("乙", "丙")}
        whole = [c for c in changes if c.customer_id in {t.customer_id for t in touched}]  # their whole history
        assert sorted(touched, key=lambda c: c.id or 0) == moves(sorted(whole, key=lambda c: c.id or 0))
        assert len(touched) == 5
        assert {c.customer_id for c in await uow.stages.touched_since(NOW - 4 * day, ["S01"])} == set()


async def test_days_to_close_are_counted_between_local_dates(uow_factory: UnitOfWorkFactory) -> None:
    """The store counts days between local dates, as the forecast's pure function does: a deal that entered
    negotiation at 23:00 and was signed at 01:00 took one day in Shanghai and none in UTC."""
    from sales.forecast import close_day_counts, won_entries

    await _org(uow_factory)
    shanghai = ZoneInfo("Asia/Shanghai")

    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 11, day, hour, tzinfo=shanghai)

    plan = [("庚", at(25, 23), at(26, 1)), ("辛", at(20, 10), at(23, 9))]
    async with uow_factory() as uow:
        old = await uow.customers.add(
            _customer("壬")
        )  # a change in June: New York's clocks changed since, Shanghai's not
        assert old.id is not None
        await uow.stages.add(StageChange(old.id, None, Stage.INITIAL, datetime(2026, 6, 1, tzinfo=UTC)))
        for name, entered, signed in plan:
            c = await uow.customers.add(_customer(name, closed_at=signed.astimezone(UTC)))
            c.stage = Stage.WON
            await uow.customers.update(c)
            assert c.id is not None
            await uow.stages.add(StageChange(c.id, None, Stage.NEGOTIATION, entered.astimezone(UTC)))
            await uow.stages.add(StageChange(c.id, Stage.NEGOTIATION, Stage.WON, signed.astimezone(UTC)))
        await uow.commit()
    async with uow_factory() as uow:
        entries = won_entries(await uow.customers.find(), await uow.stages.everything())
        assert close_day_counts(entries, ZoneInfo("UTC")) == {Stage.NEGOTIATION: {0: 1, 3: 1}}
        for zone in ("Asia/Shanghai", "America/New_York", "Pacific/Kiritimati"):  # the database; Python; +14 h
            tz = ZoneInfo(zone)
            assert await uow.stages.close_day_counts(tz) == close_day_counts(entries, tz)
        assert await uow.stages.close_day_counts(shanghai) == {Stage.NEGOTIATION: {1: 1, 3: 1}}


async def test_the_store_picks_the_first_snapshots_as_the_pure_function_does(uow_factory: UnitOfWorkFactory) -> None:
    import random

    from sales.forecast import Snapshot, first_snapshots
    from sales.months import month_key, month_start

    await _org(uow_factory)
    rng = random.Random(5)
    snaps = {}
    for _ in range(200):
        taken = date(2026, rng.randint(5, 11), rng.randint(1, 28))
        month = month_key(month_start(taken, rng.randint(0, 2)))
        owner = rng.choice(["E01", "S01"])
        snaps[owner, month, taken] = Snapshot(owner, month, Decimal(rng.randint(1, 9_999_999)) / 100, taken)
    async with uow_factory() as uow:
        await uow.forecasts.snapshot(list(snaps.values()))
        await uow.commit()
    async with uow_factory() as uow:
        everything = await uow.forecasts.snapshots()
        for months in (["2026-07", "2026-08", "2026-09"], []):
            picked = await uow.forecasts.first_snapshots(months)
            assert picked == first_snapshots(everything, months) and 0 < len(picked) < len(everything)


async def test_the_store_counts_advances_as_the_goals_rule_does(uow_factory: UnitOfWorkFactory) -> None:
    """Forward moves per reporter in a window, counted by the database from ``ADVANCES``: the same as
    ``sales.goals.advances`` over the changes, edges of the window included."""
    import random

    from sales.goals import advances

    await _org(uow_factory)
    rng = random.Random(9)
    start, end = NOW - timedelta(days=10), NOW
    async with uow_factory() as uow:
        ids = []
        for n in range(6):
            c = await uow.customers.add(_customer(f"客户{n}"))
            assert c.id is not None
            ids.append(c.id)
        stages = [None, *Stage]
        moments = [start, end, start - timedelta(microseconds=1), end - timedelta(microseconds=1)]
        for _ in range(120):
            at = rng.choice(moments) if rng.random() < 0.2 else start + timedelta(hours=rng.uniform(-48, 290))
            await uow.stages.add(StageChange(rng.choice(ids), rng.choice(stages), rng.choice(list(Stage)), at,
                                             rng.choice(["E01", "S01", None])))  # fmt: skip
        for at in (start, end, end - timedelta(microseconds=1), start - timedelta(microseconds=1)):  # the edges
            await uow.stages.add(StageChange(ids[0], Stage.INITIAL, Stage.DEMO, at, "S01"))
        await uow.commit()
    async with uow_factory() as uow:
        counted = await uow.stages.advances(start, end)
        assert counted == advances(await uow.stages.everything(), start, end) and sum(counted.values()) > 5


async def test_reminders_recorded_in_batches_return_only_the_new_keys(uow_factory: UnitOfWorkFactory) -> None:
    """Several statements' worth (the store sends a few hundred rows per statement), some already kept, one repeated
    within the call: the keys really inserted come back, each once; the rows hold what was given."""
    from sales.stall import Reminder

    await _org(uow_factory)

    def reminder(n: int, level: int = 1) -> Reminder:
        return Reminder(n, "stall", f"stage:demo:{n}", level, "E01" if n % 2 else "S01", NOW - timedelta(minutes=n))

    async with uow_factory() as uow:
        first = await uow.reminders.record([reminder(n) for n in range(1, 301)])
        await uow.commit()
    assert first == {reminder(n).key for n in range(1, 301)}
    async with uow_factory() as uow:
        again = [reminder(n) for n in range(201, 401)] + [reminder(n, 2) for n in range(1, 51)] + [reminder(399)]
        second = await uow.reminders.record(again)
        await uow.commit()
    assert second == {reminder(n).key for n in range(301, 401)} | {reminder(n, 2).key for n in range(1, 51)}
    given = {reminder(n) for n in range(1, 401)} | {reminder(n, 2) for n in range(1, 51)}
    async with uow_factory() as uow:
        kept = await uow.reminders.sent(list(range(1, 401)))  # every row of every statement, as it was given
    assert len(kept) == len(given) and set(kept) == given


async def test_new_rows_in_any_column_order(tmp_path: Path) -> None:
    """The store's plain multi-row INSERT takes its columns in any order: each bound value is placed by the row and
    column its name says, not by where it happens to stand."""
    from sqlalchemy import Table

    from sales.stall import Reminder
    from store.database import Database
    from store.orm import ReminderRow

    database = Database(f"sqlite:///{tmp_path / 'n.db'}")
    await database.upgrade()
    rows = [Reminder(n, "stall", f"s{n}", n % 3 + 1, f"E{n}", NOW - timedelta(hours=n)) for n in range(1, 41)]
    names = ("sent_at", "level", "key", "to_employee", "stay", "reason", "customer_id")  # not the table's order
    try:
        async with database.uow() as uow:
            table = ReminderRow.__table__
            assert isinstance(table, Table)
            columns = {name: [getattr(r, name) for r in rows] for name in names}
            assert set(await uow.reminders._new_rows(table, columns, ("key",), "key")) == {r.key for r in rows}
            assert await uow.reminders._new_rows(table, columns, ("key",), "key") == []
            await uow.commit()
        async with database.uow() as uow:
            assert set(await uow.reminders.sent(list(range(1, 41)))) == set(rows)
    finally:
        await database.dispose()


async def test_briefs_per_local_day(uow_factory: UnitOfWorkFactory) -> None:
    """Counted in the database per Beijing day: 23:30 UTC is the next morning there."""
    from zoneinfo import ZoneInfo

    from sales.reports import per_day

    tz = ZoneInfo("Asia/Shanghai")
    await _org(uow_factory)
    times = [datetime(2026, 11, 24, 23, 30, tzinfo=UTC), datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
             datetime(2026, 11, 25, 15, 59, tzinfo=UTC), datetime(2026, 11, 25, 16, 0, tzinfo=UTC),
             datetime(2026, 11, 20, 9, 0, tzinfo=UTC)]  # fmt: skip
    async with uow_factory() as uow:
        for n, at in enumerate(times):
            b = await uow.briefs.add(Brief(sender_id="E01", platform="wecom", platform_msg_id=f"d{n}", text="t",
                                           received_at=at))  # fmt: skip
            if n == 1:
                assert b.id is not None
                await uow.briefs.set_status(b.id, BriefStatus.UNDONE)
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.briefs.sent_per_day(datetime(2026, 11, 21, tzinfo=UTC), tz)
        assert await uow.briefs.sent_per_day(datetime(2026, 11, 21, tzinfo=UTC), tz, {"E01", "S01"}) == got
        assert await uow.briefs.sent_per_day(datetime(2026, 11, 21, tzinfo=UTC), tz, {"S01"}) == []
    assert got == [("E01", date(2026, 11, 25), 2), ("E01", date(2026, 11, 26), 1)]
    kept = [("E01", at) for n, at in enumerate(times) if n != 1 and at >= datetime(2026, 11, 21, tzinfo=UTC)]
    assert got == per_day(kept, tz)
    # a zone whose clock changes inside the span is counted row by row, still per local day
    async with uow_factory() as uow:
        york = await uow.briefs.sent_per_day(datetime(2026, 10, 1, tzinfo=UTC), ZoneInfo("America/New_York"))
    assert sum(n for _, _, n in york) == 4 and ("E01", date(2026, 11, 24), 1) in york


async def test_goals_put_is_an_upsert(uow_factory: UnitOfWorkFactory) -> None:
    goal = Goal("2026-12", Level.TEAM, "华东一组", Kpi.SIGNED_AMOUNT, Decimal("5000000.00"), "Q4 冲刺")
    async with uow_factory() as uow:
        assert await uow.goals.put(goal) == "added"
        assert await uow.goals.put(Goal("2026-12", Level.REP, "E01", Kpi.BRIEFS, Decimal(20))) == "added"
        assert await uow.goals.put(Goal("2026-11", Level.COMPANY, "", Kpi.WON_COUNT, Decimal(9))) == "added"
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.goals.put(goal) == "unchanged"
        assert await uow.goals.put(Goal("2026-12", Level.REP, "E01", Kpi.BRIEFS, Decimal(25))) == "updated"
        await uow.commit()
    async with uow_factory() as uow:
        december = await uow.goals.for_month("2026-12")
        assert [(g.level, g.subject, g.kpi, g.target) for g in december] == [
            (Level.REP, "E01", Kpi.BRIEFS, Decimal(25)),
            (Level.TEAM, "华东一组", Kpi.SIGNED_AMOUNT, Decimal("5000000.00")),
        ]
        got = await uow.goals.get("2026-12", Level.TEAM, "华东一组", Kpi.SIGNED_AMOUNT)
        assert got is not None and got.objective == "Q4 冲刺"
        assert await uow.goals.get("2026-12", Level.COMPANY, "", Kpi.SIGNED_AMOUNT) is None


async def test_points_ledger_once_per_event_and_redemptions(uow_factory: UnitOfWorkFactory) -> None:
    def entry(key: str, points: int, at: datetime, rule: str = "brief", brief: int | None = None) -> PointsEntry:
        return PointsEntry("E01", key, rule, points, at, brief_id=brief)

    async with uow_factory() as uow:
        first = await uow.points.award([entry("brief:1", 2, NOW), entry("won:7", 10, NOW + timedelta(hours=1))])
        again = await uow.points.award([entry("brief:1", 2, NOW), entry("advance:7", 3, NOW, "advance", brief=None)])
        await uow.commit()
    assert [e.key for e in first] == ["brief:1", "won:7"] and [e.key for e in again] == ["advance:7"]
    async with uow_factory() as uow:
        assert await uow.points.balance("E01") == 15 and await uow.points.balance("S01") == 0
        assert [e.key for e in await uow.points.recent("E01", 2)] == ["won:7", "advance:7"]
        r = await uow.points.request(Redemption("E01", "咖啡券", 12, NOW))
        assert r.id is not None and await uow.points.pending_points("E01") == 12
        assert [p.id for p in await uow.points.pending_requests()] == [r.id]
        assert await uow.points.decide(r.id, RedemptionStatus.APPROVED, "S01", NOW)
        assert not await uow.points.decide(r.id, RedemptionStatus.REJECTED, "S01", NOW)  # decided once
        await uow.points.award([PointsEntry("E01", f"redeem:{r.id}", "redeem", -12, NOW)])
        await uow.points.award([entry("brief:2", 2, NOW + timedelta(days=1), brief=99)])
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.points.redemption(r.id)
        assert got is not None and got.status == RedemptionStatus.APPROVED and got.decided_by == "S01"
        assert await uow.points.pending_points("E01") == 0 and await uow.points.balance("E01") == 5
        assert await uow.points.pending_requests() == []
        assert await uow.points.earned(NOW, NOW + timedelta(hours=2)) == {"E01": 15}  # the redemption is not earning
        assert await uow.points.delete_for_brief(99) == 1 and await uow.points.balance("E01") == 3


async def test_customers_created_per_owner(uow_factory: UnitOfWorkFactory) -> None:
    await _org(uow_factory)
    async with uow_factory() as uow:
        await uow.customers.add(_customer("甲"))
        await uow.customers.add(dataclasses.replace(_customer("乙"), created_at=NOW - timedelta(days=40)))
        await uow.customers.add(_customer("丙", owner="S01"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.customers.created_per_owner(NOW - timedelta(days=1), NOW + timedelta(days=1)) == {
            "E01": 1, "S01": 1}  # fmt: skip


async def test_a_large_inbox_batch_is_written_in_pieces(uow_factory: UnitOfWorkFactory) -> None:
    """A burst bigger than one statement's bound parameters allow (13 per row) is still one commit, every row in."""
    batch = [
        InboxMessage(platform="wecom", msg_id=f"b{n}", user_id="u", text=str(n), received_at=NOW) for n in range(3100)
    ]
    async with uow_factory() as uow:
        assert await uow.inbox.put_many(batch) == [True] * 3100
        assert await uow.inbox.put_many(batch[:10]) == [False] * 10
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.count() == 3100


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_callbacks_are_stored_in_one_commit_whatever_the_batch(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``store_callbacks``: new ones, retries (earlier or inside the batch) and a batch larger than one statement
    takes, all in one transaction; a batch that fails is stored not at all, and the next one goes in; on PostgreSQL a
    held connection found dead is replaced and the batch stored."""
    from store.database import Database

    url = request.getfixturevalue("pg_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'in.db'}"
    database = Database(url)
    await (database.wipe() if backend == "postgres" else database.upgrade())

    def msg(n: int, **kw: Any) -> InboxMessage:
        return InboxMessage(platform="wecom", msg_id=f"m{n}", user_id=f"u{n % 7}", text=f"第{n}条",
                            received_at=NOW, raw={"n": n}, **kw)  # fmt: skip

    try:
        assert await database.store_callbacks([msg(0)]) == [True]
        batch = [msg(n) for n in range(150)] + [msg(3)]  # three statements' worth on SQLite
        assert await database.store_callbacks(batch) == [False] + [True] * 149 + [False]
        broken = [msg(n) for n in range(200, 300)] + [msg(300, status=None)]  # NOT NULL, in its last statement
        with pytest.raises(Exception):  # noqa: B017 - the driver's own integrity error
            await database.store_callbacks(broken)
        assert await database.store_callbacks([msg(400)]) == [True]
        if backend == "postgres":  # the held connection dropped (a restart, an idle timeout): opened again at once
            from sqlalchemy import text

            async with database.engine.connect() as conn:
                kill = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'WITH new AS%'"
                        " AND datname = current_database() AND pid <> pg_backend_pid()")  # fmt: skip
                assert (await conn.execute(text(kill))).scalar_one() is True
            assert await database.store_callbacks([msg(401)]) == [True]
        async with database.uow() as uow:
            assert await uow.inbox.count() == 151 + (backend == "postgres")
            stored = await uow.inbox.get(next(m.id for m in await uow.inbox.claim(1) if m.id))
            assert stored is not None and stored.raw == {"n": 0} and stored.received_at == NOW
    finally:
        await database.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_burst_of_callbacks_compiles_no_statement(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``open_intake`` (before the server listens) compiles the intake statement for every batch a burst brings: a
    shape compiled on first use held the event loop up to 25 ms in the middle of the burst."""
    from store import sql
    from store.database import Database

    url = request.getfixturevalue("pg_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'in.db'}"
    database = Database(url)
    await (database.wipe() if backend == "postgres" else database.upgrade())
    sql._new_rows_sql.cache_clear()
    try:
        await database.open_intake()
        compiled = sql._new_rows_sql.cache_info().misses
        sent = 0
        for size in [*range(1, 71), 129, 256] + ([300] if backend == "sqlite" else []):  # SQLite: any batch
            batch = [InboxMessage(platform="wecom", msg_id=f"m{sent + i}", user_id="u1", text="帮助", received_at=NOW)
                     for i in range(size)]  # fmt: skip
            assert await database.store_callbacks(batch) == [True] * size
            sent += size
        assert sql._new_rows_sql.cache_info().misses == compiled
    finally:
        await database.dispose()


async def test_storing_callbacks_goes_ahead_of_queued_work_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The platform waits for the acknowledgement: its write waits for the unit of work in progress only."""
    import asyncio

    from store.database import Database

    database = Database(f"sqlite:///{tmp_path / 'q.db'}")
    await database.upgrade()
    order: list[str] = []

    async def work(name: str, factory: UnitOfWorkFactory) -> None:
        async with factory() as uow:
            order.append(name)
            await uow.audit.add(AuditEntry(at=NOW, action=name))
            await uow.commit()

    async def callbacks_stored() -> None:
        message = InboxMessage(platform="wecom", msg_id="c1", user_id="u", text="好", received_at=NOW)
        assert await database.store_callbacks([message, message]) == [True, False]
        order.append("callbacks")  # straight after its writer was released, before the next holder resumes

    async with database.uow() as holder:  # a brief being handled
        await holder.audit.add(AuditEntry(at=NOW, action="brief"))
        queued = [asyncio.create_task(work(f"job{n}", database.uow)) for n in range(3)]
        await asyncio.sleep(0.05)
        callbacks = asyncio.create_task(callbacks_stored())
        await asyncio.sleep(0.05)
        assert order == []
        await holder.commit()
    await asyncio.gather(*queued, callbacks)
    assert order == ["callbacks", "job0", "job1", "job2"]
    await database.dispose()


async def test_names_version_follows_every_way_a_name_changes(uow_factory: UnitOfWorkFactory) -> None:
    """The parser's change check: one counter that moves with each added, renamed, re-aliased or deleted customer
    (on SQL by the database's own triggers), and the changes since a version, old names first."""
    await _org(uow_factory)
    async with uow_factory() as uow:
        start = await uow.customers.names_version()
        a = await uow.customers.add(_customer("上海瑞达机电"))
        b = await uow.customers.add(_customer("华东物流集团"))
        await uow.customers.add_many([_customer("苏州恒瑞达精密机械有限公司"), _customer("宁波新港物流股份有限公司")])
        await uow.commit()
    async with uow_factory() as uow:
        added = await uow.customers.names_version()
        assert added > start
        changes = await uow.customers.names_changed_since(start, 10)
        assert changes is not None and changes.gone == []
        assert sorted(n for n, _ in changes.current) == sorted(
            ["上海瑞达机电", "华东物流集团", "苏州恒瑞达精密机械有限公司", "宁波新港物流股份有限公司"]
        )
        assert await uow.customers.names_changed_since(start, 3) is None  # too many: the caller rebuilds
        assert a.id is not None and b.id is not None
        got_a, got_b = await uow.customers.get(a.id), await uow.customers.get(b.id)
        assert got_a is not None and got_b is not None
        got_a.stage, got_a.amount = Stage.DEMO, Decimal("10000")
        await uow.customers.update(got_a)  # no name touched: no new version
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.customers.names_version() == added
        got_a, got_b = await uow.customers.get(a.id), await uow.customers.get(b.id)
        assert got_a is not None and got_b is not None
        got_a.name = "上海瑞达机电设备有限公司"
        got_b.aliases = ["华东"]
        await uow.customers.update(got_a)
        await uow.customers.update(got_b)
        victim = await uow.customers.by_name("宁波新港物流股份有限公司")
        assert victim is not None and victim.id is not None
        await uow.customers.delete(victim.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.customers.names_version() > added
        changes = await uow.customers.names_changed_since(added, 10)
        assert changes is not None
        assert changes.gone == ["上海瑞达机电", "宁波新港物流股份有限公司"]
        assert changes.current == [("上海瑞达机电设备有限公司", []), ("华东物流集团", ["华东"])]


async def test_reads_after_writes_in_one_unit_of_work_see_the_writes(uow_factory: UnitOfWorkFactory) -> None:
    """Customers are read, added and updated by core statements built once: inside one unit of work an update is
    seen by the next read (no mapped object left stale), and a customer can be added for an employee added through
    the ORM in the same unit of work (the foreign key finds it)."""
    async with uow_factory() as uow:
        await uow.employees.add(Employee(id="E77", name="周敏"))
        added = await uow.customers.add(_customer("苏州恒瑞达精密机械有限公司", owner="E77"))
        assert added.id is not None
        first = await uow.customers.get(added.id)
        assert first is not None and first.stage is Stage.QUALIFIED
        first.stage, first.amount = Stage.NEGOTIATION, Decimal("120000.50")
        await uow.customers.update(first)
        again, by_name = await uow.customers.get(added.id), await uow.customers.by_name("苏州恒瑞达精密机械有限公司")
        assert again is not None and by_name is not None
        wanted = (Stage.NEGOTIATION, Decimal("120000.50"))
        assert (again.stage, again.amount) == (by_name.stage, by_name.amount) == wanted
        await uow.commit()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_names_version_is_read_once_a_second_or_after_this_process_changes_a_name(
    backend: str, tmp_path: Path
) -> None:
    """The parser checks the names version before every brief: from memory, read again at once after this process
    commits a name change, and otherwise once ``recheck`` has passed (another process's import shows then)."""
    from store.database import Database
    from store.sql import NamesClock
    from tests.conftest import postgres_url

    url = f"sqlite:///{tmp_path / 'n.db'}" if backend == "sqlite" else postgres_url()
    here, there = Database(url), Database(url)  # two processes on one database
    if backend == "postgres":
        await here.wipe()
    else:
        await here.upgrade()
    ticks = [100.0]
    here.names = NamesClock(recheck=1.0, clock=lambda: ticks[0])
    await _org(here.uow)

    async def version() -> int:
        async with here.reader() as uow:
            return await uow.customers.names_version()

    first = await version()
    reads = here.names.reads
    assert [await version() for _ in range(5)] == [first] * 5
    assert here.names.reads == reads  # no round trip while nothing changed here and the second has not passed

    async with there.uow() as uow:  # another process adds a customer
        await uow.customers.add(_customer("杭州新客户"))
        await uow.commit()
    assert await version() == first  # not seen within the second
    ticks[0] += 1.0
    theirs = await version()
    assert theirs > first and here.names.reads == reads + 1

    async with here.uow() as uow:  # an update that keeps the names: still no read
        found = await uow.customers.by_name("杭州新客户")
        assert found is not None
        found.stage = Stage.DEMO
        await uow.customers.update(found)
        await uow.commit()
    assert await version() == theirs and here.names.reads == reads + 1

    async with here.uow() as uow:  # this process renames one: seen by the very next check
        found = await uow.customers.by_name("杭州新客户")
        assert found is not None
        found.name = "杭州新客户科技有限公司"
        await uow.customers.update(found)
        assert await uow.customers.names_version() > theirs  # its own write, read in its own transaction
        await uow.commit()
    assert await version() > theirs
    await here.dispose()
    await there.dispose()
