"""The recommender's steps on SQLite and PostgreSQL: it reads only what is committed, and an undo builds it again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from recommender.service import Recommender
from sales.calendar import WorkCalendar
from sales.model import UNDO, AuditEntry, Brief, BriefUpdate, Customer, Employee, StageChange, Team
from sales.stages import Stage
from store.database import Database
from tests.conftest import NOW, TZ, postgres_url

CHANGE = 7  # the applied change that moved 甲公司 on, which the undo takes back


async def _database(backend: str, tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'r.db'}" if backend == "sqlite" else postgres_url())
    if backend == "postgres":
        await database.wipe()
    else:
        await database.upgrade()
    return database


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_steps_read_what_is_committed_and_an_undo_builds_again(backend: str, tmp_path: Path) -> None:
    database = await _database(backend, tmp_path)
    async with database.uow() as uow:
        await uow.teams.add(Team(name="一组"))
        await uow.employees.add(Employee(id="E01", name="张伟", team="一组"))
        ids = {}
        for name in ("甲公司", "乙公司", "丙公司"):
            c = await uow.customers.add(Customer(name=name, owner_id="E01", stage=Stage.INITIAL, stage_entered_at=NOW,
                                                 created_at=NOW, industry="物流"))  # fmt: skip
            assert c.id is not None
            ids[name] = c.id
            await uow.stages.add(StageChange(c.id, None, Stage.INITIAL, NOW, "E01"))
        brief = await uow.briefs.add(Brief(sender_id="E01", platform="console", text="甲公司 确认了需求,要做POC",
                                           received_at=NOW))  # fmt: skip
        assert brief.id is not None
        await uow.briefs.add_update(BriefUpdate(brief.id, ids["甲公司"], {}, {}, change_id=CHANGE))
        await uow.stages.add(StageChange(ids["甲公司"], Stage.INITIAL, Stage.QUALIFIED, NOW, "E01", change_id=CHANGE))
        await uow.customers.update(dataclasses.replace(c, id=ids["甲公司"], name="甲公司", stage=Stage.QUALIFIED))
        await uow.commit()
    recommender = Recommender(database.reader, WorkCalendar(), TZ, lambda: NOW.date())

    def stage(name: str) -> Stage:
        assert recommender.snapshot is not None
        snap = recommender.snapshot
        return snap.histories[snap.by_name[name]].customer.stage

    await recommender.ready()
    assert stage("甲公司") is Stage.QUALIFIED

    # one batch, one transaction: 甲's move is undone, and another message asks for a score before the commit
    async with database.uow() as batch:
        assert await batch.stages.delete_for_change(CHANGE) == 1
        customer = await batch.customers.get(ids["甲公司"])
        assert customer is not None
        await batch.customers.update(dataclasses.replace(customer, stage=Stage.INITIAL))
        await batch.audit.add(AuditEntry(at=NOW, action=UNDO, actor="E01"))
        recommender.notice()
        await recommender.score("乙公司")  # reads beside the batch: nothing committed yet, nothing changes
        assert recommender.builds == 1 and stage("甲公司") is Stage.QUALIFIED
        await batch.commit()
    recommender.notice()
    await recommender.ready()  # the committed undo is found: built again
    assert recommender._rebuild is not None
    await recommender._rebuild
    assert recommender.builds == 2 and stage("甲公司") is Stage.INITIAL

    # a batch rolled back is never read; the next write (SQLite gives it the same id) is
    async with database.uow() as batch:
        await batch.stages.add(StageChange(ids["乙公司"], Stage.INITIAL, Stage.QUALIFIED, NOW, "E01"))
        recommender.notice()
        await recommender.score("丙公司")
        await batch.rollback()
    async with database.uow() as uow:
        await uow.stages.add(StageChange(ids["丙公司"], Stage.INITIAL, Stage.QUALIFIED, NOW, "E01"))
        third = await uow.customers.get(ids["丙公司"])
        assert third is not None
        await uow.customers.update(dataclasses.replace(third, stage=Stage.QUALIFIED))
        await uow.commit()
    recommender.notice()
    await recommender.ready()
    assert (recommender.builds, recommender.steps) == (2, 1)
    assert stage("丙公司") is Stage.QUALIFIED and stage("乙公司") is Stage.INITIAL
    await recommender.close()
    await database.dispose()
