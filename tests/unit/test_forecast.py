"""The forecast on a fixed history, by hand: buckets, the band, a rep who overestimates by 30 %."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sales.calendar import WorkCalendar
from sales.forecast import Snapshot, bias_factors, forecast, quarter_error, stage_win_rates
from sales.model import Confidence, Customer, Employee, StageChange
from sales.stages import Stage
from sales.stall import StallPolicy
from store.memory import MemoryStore
from tests.conftest import TZ
from usecases.forecast import build_forecast, take_snapshot
from usecases.services import Services

TODAY = date(2026, 11, 26)


def at(d: date) -> datetime:
    return datetime.combine(d, time(10), TZ)


def customer(i: int, stage: Stage, amount: int, close: date | None, owner: str = "E01",
             confidence: Confidence | None = None) -> Customer:  # fmt: skip
    return Customer(name=f"C{i}", owner_id=owner, stage=stage, stage_entered_at=at(TODAY), created_at=at(TODAY), id=i,
                    amount=Decimal(amount), expected_close=close, confidence=confidence)  # fmt: skip


def test_buckets_and_band_by_hand() -> None:
    open_ = [
        customer(1, Stage.NEGOTIATION, 1_000_000, date(2026, 11, 30), confidence=Confidence.HIGH),  # this month
        customer(2, Stage.DEMO, 500_000, date(2026, 12, 15)),  # next month, this quarter
        customer(3, Stage.QUALIFIED, 200_000, None),  # no date: 45 days after today → 2027-01-10
        customer(4, Stage.QUALIFIED, 300_000, date(2026, 11, 1)),  # a date already past: counts as now
    ]
    p = {1: 0.8, 2: 0.5, 3: 0.2, 4: 0.1}
    f = forecast(open_, p, {Stage.QUALIFIED: 45}, {}, TODAY)
    assert f.buckets["this_month"].expected == Decimal("830000.0")  # 800,000 + 30,000
    assert f.buckets["next_month"].expected == Decimal("250000.0")
    assert f.buckets["this_quarter"].expected == Decimal("1080000.0")
    assert f.buckets["next_90_days"].expected == Decimal("1120000.0")  # + 40,000 in January
    # low keeps 90 % of a high-confidence expectation and half of an unmarked one
    assert f.buckets["this_month"].low == Decimal("720000.00") + Decimal("15000.00")
    # high lifts the probability (1.4× marked high, capped at 1) → 1,000,000 + 300,000 × 0.12
    assert f.buckets["this_month"].high == Decimal("1000000") + Decimal("36000.0")


def test_a_rep_who_overestimates_by_30_percent_gets_a_bias_factor() -> None:
    snapshots, actual = [], {}
    for month in ("2026-08", "2026-09", "2026-10"):
        day = date(int(month[:4]), int(month[5:]), 3)
        snapshots += [Snapshot("E01", month, Decimal(1_300_000), day), Snapshot("E02", month, Decimal(1_000_000), day)]
        actual[("E01", month)] = Decimal(1_000_000)
        actual[("E02", month)] = Decimal(1_000_000)
    bias = bias_factors(snapshots, actual, TODAY)
    assert round(bias["E01"], 3) == round(1 / 1.3, 3) and bias["E02"] == 1.0
    f = forecast([customer(1, Stage.NEGOTIATION, 1_300_000, date(2026, 11, 30))], {1: 1.0}, {}, bias, TODAY)
    assert round(float(f.buckets["this_month"].expected)) == 1_000_000  # corrected
    # last quarter (Jul–Sep): E01 +30 %, E02 exact → company error (2.3 − 2.0) / 2.0 = 15 % in Aug and Sep
    assert round(quarter_error(snapshots, actual, TODAY, None) or 0, 3) == 0.15
    assert round(quarter_error(snapshots, actual, TODAY, {"E01"}) or 0, 3) == 0.3


def test_stage_win_rates_are_smoothed_shares() -> None:
    customers = [customer(1, Stage.WON, 1, None), customer(2, Stage.LOST, 1, None), customer(3, Stage.WON, 1, None)]
    changes = [StageChange(1, None, Stage.DEMO, at(TODAY)), StageChange(2, None, Stage.DEMO, at(TODAY)),
               StageChange(3, None, Stage.QUALIFIED, at(TODAY))]  # fmt: skip
    rates = stage_win_rates(customers, changes)
    assert rates[Stage.DEMO] == (1 + 1) / (2 + 2) and rates[Stage.QUALIFIED] == (1 + 1) / (1 + 2)


async def test_monday_snapshot_and_the_answer() -> None:
    store = MemoryStore()
    services = Services(timezone=TZ, calendar=WorkCalendar(), stall=StallPolicy())
    async with store() as uow:
        await uow.employees.add(Employee(id="E01", name="张伟"))
        await uow.customers.add(customer(1, Stage.NEGOTIATION, 1_000_000, date(2026, 12, 10)))
        await uow.stages.add(StageChange(1, None, Stage.NEGOTIATION, at(TODAY)))
        await uow.commit()
    assert await take_snapshot(store, services, at(date(2026, 11, 24))) == 0  # a Tuesday
    assert await take_snapshot(store, services, at(date(2026, 11, 23))) == 1  # Monday
    assert await take_snapshot(store, services, at(date(2026, 11, 23))) == 0  # kept once
    async with store() as uow:
        [snap] = await uow.forecasts.snapshots()
        assert (snap.owner_id, snap.month) == ("E01", "2026-12")
        f = await build_forecast(uow, services, at(TODAY), None)
    assert f.buckets["next_month"].expected > 0 and f.error is None


def test_median_days_from_counts_equal_the_median_of_the_days_themselves() -> None:
    """``close_days`` reads a histogram (the store counts it); its median is ``int(statistics.median(days))``."""
    import random
    import statistics

    from sales.forecast import DEFAULT_CLOSE_DAYS, close_days

    rng = random.Random(7)
    for _ in range(300):
        days = [rng.randint(-3, 90) for _ in range(rng.randint(1, 25))]
        counts: dict[int, int] = {}
        for d in days:
            counts[d] = counts.get(d, 0) + 1
        assert close_days({Stage.DEMO: counts})[Stage.DEMO] == int(statistics.median(days)), days
    assert close_days({})[Stage.INITIAL] == DEFAULT_CLOSE_DAYS[Stage.INITIAL]
    assert close_days({Stage.QUALIFIED: {10: 0}})[Stage.QUALIFIED] == DEFAULT_CLOSE_DAYS[Stage.QUALIFIED]


def test_the_first_snapshots_give_the_same_accuracy_as_all_of_them() -> None:
    """A store hands the forecast only ``first_snapshots``; bias and last quarter's error come out the same."""
    import random

    from sales.forecast import first_snapshots, last_quarter
    from sales.months import month_key, month_start

    rng = random.Random(11)
    today = date(2026, 11, 26)
    snaps, seen = [], set()
    for _ in range(600):
        owner, ahead = f"E{rng.randint(1, 6)}", rng.randint(0, 3)
        taken = date(2026, rng.randint(1, 11), rng.randint(1, 28))
        month = month_key(month_start(taken, ahead))
        if (owner, month, taken) not in seen:
            seen.add((owner, month, taken))
            snaps.append(Snapshot(owner, month, Decimal(rng.randint(0, 500_000)), taken))
    snaps.sort(key=lambda s: s.taken_on)
    actual = {(f"E{o}", f"2026-{m:02d}"): Decimal(rng.randint(0, 400_000)) for o in range(1, 7) for m in range(1, 12)}
    kept = first_snapshots(snaps, last_quarter(today))
    assert len(kept) < len(snaps) / 2 and kept == sorted(kept, key=lambda s: s.taken_on)
    assert bias_factors(kept, actual, today) == bias_factors(snaps, actual, today) != {}
    for owners in (None, {"E1", "E2"}):
        assert quarter_error(kept, actual, today, owners) == quarter_error(snaps, actual, today, owners) is not None


def test_one_offset_takes_each_instant_into_the_zone() -> None:
    """A clock change at local midnight: the hours after it in UTC are the new offset already (Cairo left summer
    time at 00:00 on 2026-10-30, 21:00 UTC the day before); a zone without changes keeps its one offset."""
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from store.sql import one_offset

    cairo, shanghai = ZoneInfo("Africa/Cairo"), ZoneInfo("Asia/Shanghai")
    start = datetime(2026, 10, 1, tzinfo=UTC)
    assert one_offset(cairo, start, datetime(2026, 10, 29, 20, 30, tzinfo=UTC)) == timedelta(hours=3)
    assert one_offset(cairo, start, datetime(2026, 10, 29, 21, 30, tzinfo=UTC)) is None
    assert one_offset(shanghai, datetime(2000, 1, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)) == timedelta(
        hours=8
    )
