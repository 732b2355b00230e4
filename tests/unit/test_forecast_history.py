"""The forecast keeps the closed deals' history aggregates while the history's version stays, and a team's forecast
reads and corrects only the team's reps."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from sales.forecast import Snapshot
from sales.model import Customer, Employee, StageChange
from sales.stages import Stage
from store.memory import MemoryStore
from tests.conftest import NOW
from usecases.forecast import WhatIf, build_forecast
from usecases.services import Services


async def _store() -> MemoryStore:
    store = MemoryStore()
    async with store() as uow:
        for owner in ("E01", "E02"):
            await uow.employees.add(Employee(id=owner, name=owner))
        for i, owner in enumerate(("E01", "E01", "E02", "E02", "E01", "E02")):
            stage = (Stage.WON, Stage.LOST, Stage.WON, Stage.DEMO, Stage.DEMO, Stage.NEGOTIATION)[i]
            c = await uow.customers.add(Customer(
                name=f"C{i}", owner_id=owner, stage=stage, stage_entered_at=NOW - timedelta(days=3),
                created_at=NOW - timedelta(days=40), amount=Decimal(100_000), closed_at=NOW - timedelta(days=3)
                if stage.is_closed else None, expected_close=NOW.date() if not stage.is_closed else None,
            ))  # fmt: skip
            assert c.id is not None
            await uow.stages.add(StageChange(c.id, None, Stage.DEMO, NOW - timedelta(days=30)))
            if stage is not Stage.DEMO:
                await uow.stages.add(StageChange(c.id, Stage.DEMO, stage, NOW - timedelta(days=3)))
        await uow.forecasts.snapshot([Snapshot(owner, month, Decimal(900_000), date(2026, int(month[-2:]), 1))
                                      for owner in ("E01", "E02") for month in ("2026-08", "2026-09")])  # fmt: skip
        await uow.commit()
    return store


async def test_the_history_is_kept_until_it_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    store, services = await _store(), Services()
    async with store() as uow:
        first = await build_forecast(uow, services, NOW, None)
    kept = services.forecast_history
    assert kept is not None and first.rates[Stage.DEMO] == kept[1][Stage.DEMO]

    async def refused(*_args: object) -> object:
        raise AssertionError("the kept history was read again")

    from store import memory

    monkeypatch.setattr(memory.MemoryStageHistory, "reach_outcomes", refused)
    async with store() as uow:
        again = await build_forecast(uow, services, NOW, None)
    assert again.rates == first.rates
    monkeypatch.undo()
    async with store() as uow:  # a deal in 方案演示 is lost: the history and its rates move on
        [open_demo] = [c for c in await uow.customers.find(stages=[Stage.DEMO]) if c.name == "C3"]
        assert open_demo.id is not None
        open_demo.stage, open_demo.closed_at = Stage.LOST, NOW
        await uow.customers.update(open_demo)
        await uow.stages.add(StageChange(open_demo.id, Stage.DEMO, Stage.LOST, NOW))
        await uow.commit()
    async with store() as uow:
        after = await build_forecast(uow, services, NOW, None)
    assert after.rates[Stage.DEMO] < first.rates[Stage.DEMO]


async def test_a_teams_forecast_corrects_only_its_reps() -> None:
    store, services = await _store(), Services()
    async with store() as uow:
        team = await build_forecast(uow, services, NOW, {"E01"})
        everyone = await build_forecast(uow, services, NOW, None)
    # both over-forecast August and September: corrected, each only where the forecast is theirs
    assert set(team.bias) == {"E01"} and set(everyone.bias) == {"E01", "E02"}
    assert set(team.per_owner) <= {"E01"}


async def test_a_what_if_scales_a_stage_and_moves_a_deal() -> None:
    store, services = await _store(), Services()
    async with store() as uow:
        base = await build_forecast(uow, services, NOW, None)
        deals = await uow.customers.open_deals()
        demo = next(d for d in deals if d.stage is Stage.DEMO)
        higher = await build_forecast(uow, services, NOW, None, WhatIf({Stage.DEMO: 1.0}))
        moved = await build_forecast(uow, services, NOW, None, WhatIf(closes={demo.id: date(2027, 6, 15)}))
    assert higher.buckets["this_month"].expected > base.buckets["this_month"].expected
    assert moved.buckets["this_month"].expected < base.buckets["this_month"].expected
    assert moved.by_month.get("2027-06", Decimal(0)) > 0
