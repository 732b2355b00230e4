"""The forecast from the store, written out for the chat and `genjin report`, and the weekly snapshots its
accuracy is judged by."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sales.forecast import (
    BUCKETS,
    Forecast,
    OpenDeal,
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
from usecases.heavy import heavy
from usecases.services import Services


async def _inputs(uow: UnitOfWork, services: Services) -> tuple[list[OpenDeal], dict[int, float], dict[Stage, int]]:
    """Open deals and their win probabilities, and each stage's median days to close: aggregates
    from the store, so a forecast never reads the whole history row by row."""
    deals = await uow.customers.open_deals()
    rates = win_rates(await uow.stages.reach_outcomes())
    scores = await services.recommender.scores(uow) if services.recommender is not None else {}
    probability = {d.id: scores.get(d.name, rates.get(d.stage, 0.0)) for d in deals}
    return deals, probability, close_days(await uow.stages.close_day_counts(services.timezone))


@heavy
async def build_forecast(uow: UnitOfWork, services: Services, now: datetime, owners: set[str] | None) -> Forecast:
    tz = services.timezone
    today = now.astimezone(tz).date()
    deals, probability, days = await _inputs(uow, services)
    signed = await uow.customers.signed()
    snapshots = await uow.forecasts.first_snapshots(last_quarter(today))

    def compute() -> Forecast:  # tens of thousands of deals: off the event loop
        actual = won_by_month(signed, tz)
        bias = bias_factors(snapshots, actual, today)
        mine = [d for d in deals if owners is None or d.owner_id in owners]
        return forecast(mine, probability, days, bias, today, error=quarter_error(snapshots, actual, today, owners))

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
