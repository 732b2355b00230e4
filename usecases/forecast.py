"""The forecast from the store, written out for the chat and `genjin report`, and the weekly snapshots its
accuracy is judged by."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sales.forecast import (
    BUCKETS,
    Forecast,
    OpenDeal,
    Signed,
    Snapshot,
    bias_factors,
    close_days,
    forecast,
    last_quarter,
    owner_months,
    quarter_error,
    win_rates,
    won_by_month,
)
from sales.stages import Stage
from sales.values import wan
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.format import fit
from usecases.heavy import heavy, together
from usecases.services import Services


async def _history(uow: UnitOfWork, services: Services) -> tuple[dict[Stage, float], dict[Stage, int]]:
    """Each stage's win rate and median days to close, from the closed deals' history: aggregates in the store, on a
    connection of its own (``beside``), so that they are read while the first connection reads the open deals. Kept
    while the history's version stays (``Services.forecast_history``); the version is read first, so that what is
    kept is never older than its key."""
    async with uow.beside() as side:
        version = await side.stages.history_version()
        kept = services.forecast_history
        if kept is not None and kept[0] == version:
            return kept[1], kept[2]
        rates = win_rates(await side.stages.reach_outcomes())
        days = close_days(await side.stages.close_day_counts(services.timezone))
    services.forecast_history = (version, rates, days)
    return rates, days


async def _probability(
    uow: UnitOfWork, services: Services, deals: list[OpenDeal], rates: dict[Stage, float]
) -> dict[int, float]:
    scores = await services.recommender.scores() if services.recommender is not None else {}
    return {d.id: scores.get(d.name, rates.get(d.stage, 0.0)) for d in deals}


async def _inputs(uow: UnitOfWork, services: Services) -> tuple[list[OpenDeal], dict[int, float], dict[Stage, int]]:
    """Open deals and their win probabilities, and each stage's median days to close: never the whole history row by
    row."""
    (rates, days), deals = await together(_history(uow, services), uow.customers.open_deals())
    return deals, await _probability(uow, services, deals, rates), days


@dataclass(frozen=True)
class WhatIf:
    """A supervisor's "what if" on the dashboard, never saved: a stage's win rate set to another value (each deal's
    own probability in that stage scaled by new ÷ old, so that the deals keep their order), and deals' expected
    close moved to another date."""

    rates: Mapping[Stage, float] = field(default_factory=dict)
    closes: Mapping[int, date] = field(default_factory=dict)

    def apply(
        self, deals: list[OpenDeal], probability: dict[int, float], rates: Mapping[Stage, float]
    ) -> tuple[list[OpenDeal], dict[int, float]]:
        moved = [dataclasses.replace(d, expected_close=self.closes[d.id]) if d.id in self.closes else d for d in deals]
        changed = dict(probability)
        for d in deals:
            if d.stage in self.rates:
                old = rates.get(d.stage, 0.0)
                p = probability.get(d.id, old)
                changed[d.id] = min(1.0, p * self.rates[d.stage] / old) if old > 0 else self.rates[d.stage]
        return moved, changed


@heavy
async def build_forecast(
    uow: UnitOfWork, services: Services, now: datetime, owners: set[str] | None, what_if: WhatIf | None = None
) -> Forecast:
    return (await forecast_and_deals(uow, services, now, owners, what_if))[0]


@heavy
async def forecast_and_deals(
    uow: UnitOfWork, services: Services, now: datetime, owners: set[str] | None, what_if: WhatIf | None = None
) -> tuple[Forecast, list[OpenDeal]]:
    """The closed deals' history on a second connection while this one reads the open deals, what was signed and the
    snapshots: two lanes of about the same length (0.90 -> 0.47-0.71 s at 100,000 customers on two cores, by the
    day). Each rep's own error of last quarter comes with it (``Forecast.owner_error``)."""
    tz = services.timezone
    today = now.astimezone(tz).date()

    async def open_and_past() -> tuple[list[OpenDeal], list[Signed], list[Snapshot]]:
        mine = sorted(owners) if owners is not None else None  # a team's forecast reads the team's deals only
        deals = await uow.customers.open_deals(mine)
        return deals, await uow.customers.signed(mine), await uow.forecasts.first_snapshots(last_quarter(today))

    (rates, days), (deals, signed, snapshots) = await together(_history(uow, services), open_and_past())
    probability = await _probability(uow, services, deals, rates)

    def compute() -> tuple[Forecast, list[OpenDeal]]:  # tens of thousands of deals: off the event loop
        actual = won_by_month(signed, tz)
        # each rep's correction, for whom the forecast is: the signed deals were read for them alone
        bias = bias_factors([s for s in snapshots if owners is None or s.owner_id in owners], actual, today)
        mine = [d for d in deals if owners is None or d.owner_id in owners]
        chances = probability
        if what_if is not None:
            mine, chances = what_if.apply(mine, probability, rates)
        result = forecast(mine, chances, days, bias, today, error=quarter_error(snapshots, actual, today, owners))
        seen = sorted({s.owner_id for s in snapshots if owners is None or s.owner_id in owners})
        result.owner_error = {o: e for o in seen if (e := quarter_error(snapshots, actual, today, {o})) is not None}
        result.rates = dict(rates)
        return result, mine

    return await asyncio.to_thread(compute)


@heavy
async def take_snapshot(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> int:
    """Monday: keep every rep's uncorrected forecast for each month ahead."""
    today = now.astimezone(services.timezone).date()
    if not services.calendar.is_first_workday_of_week(today):
        return 0
    async with uow_factory() as uow:
        deals, probability, days = await _inputs(uow, services)
        values = owner_months(deals, probability, days, today)
        kept = await uow.forecasts.snapshot([Snapshot(o, m, v, today) for (o, m), v in values.items()])
        await uow.commit()
    return kept


def render_forecast(f: Forecast, who: str, names: dict[str, str]) -> str:
    lines = [f"{who}成交预测(金额 × 赢单概率,按预计签约月份计):"]
    for key, label in BUCKETS.items():
        band = f.buckets[key]
        lines.append(f"· {label}:预计 {wan(band.expected)}(区间 {wan(band.low)} – {wan(band.high)})")
    corrected = {o: b for o, b in f.bias.items() if abs(b - 1) >= 0.05}
    if corrected:
        shown = [f"{names.get(o, o)} ×{b:.2f}({'常高估' if b < 1 else '常低估'})" for o, b in sorted(corrected.items())]
        lines.append("按各人历史准确度校正:" + "、".join(shown))
    if f.error is not None:
        lines.append(f"上季度预测误差:{f.error:.0%}(月初预测与实际成交相比)")
    else:
        lines.append("上季度还没有足够的预测快照来算误差(每周一自动保存)。")
    return fit(lines)
