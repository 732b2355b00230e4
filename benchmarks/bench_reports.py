"""Funnel, forecast, activity, goals and commission over up to 100,000 customers and 1,000,000 briefs on
SQLite (target, issue 18: each ≤ 0.7 s at 100,000, growing linearly). Answers are timed in read-only units
of work; in the chat they run inside the worker's unit of work (on SQLite, holding the writer meanwhile).

Run: python benchmarks/bench_reports.py [--customers 10000,30000,100000] [--briefs-per-customer 10] [--rounds 5]
Each size is seeded and timed in turn; the last table shows how each answer grows with the company
(seconds per 100,000 customers at each size: flat means linear).
Seeds a SQLite file directly (bulk insert): 500 reps in five teams, each customer with its path
through the stages, a year of briefs and half a year of weekly forecast snapshots. Then times
each answer as the chat builds it (reading the store and computing), for the company (admin)
and for one team (supervisor).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sales.calendar import WorkCalendar, china_provider  # noqa: E402
from sales.months import month_key  # noqa: E402
from sales.stall import StallPolicy  # noqa: E402
from store.database import Database  # noqa: E402
from usecases.commission import build_statements  # noqa: E402
from usecases.forecast import build_forecast  # noqa: E402
from usecases.goals import goal_state  # noqa: E402
from usecases.reports import build_activity, build_funnel  # noqa: E402
from usecases.services import Services  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
OPEN = ["initial", "qualified", "demo", "negotiation"]
FMT = "%Y-%m-%d %H:%M:%S.%f"
NOW = datetime(2026, 11, 26, 2, tzinfo=UTC)
TEAMS, PER_TEAM = 5, 100


def seed(path: Path, count: int, briefs: int) -> None:
    rng = random.Random(5)
    db = sqlite3.connect(path)
    db.executemany(
        "insert into teams (name, standup_enabled, standup_time, standup_window_minutes) values (?, 0, '15:00', 15)",
        [(f"T{t}",) for t in range(TEAMS)],
    )
    staff: list[tuple[str, str, str, str, str | None]] = [
        (f"S{t}", f"主管{t}", "supervisor", f"T{t}", None) for t in range(TEAMS)
    ]
    staff += [(f"E{n}", f"销售{n}", "rep", f"T{n // PER_TEAM}", f"S{n // PER_TEAM}") for n in range(TEAMS * PER_TEAM)]
    db.executemany(
        "insert into employees (id, name, role, team, supervisor_id, active) values (?, ?, ?, ?, ?, 1)", staff
    )
    reps = TEAMS * PER_TEAM
    customers, history = [], []
    for n in range(count):
        created = NOW - timedelta(days=rng.uniform(0, 365))
        steps = rng.randint(0, 3)
        stages = OPEN[: steps + 1]
        closed = rng.random() < 0.4
        if closed:
            stages.append("won" if rng.random() < 0.35 else "lost")
        at, times = created, []
        for _ in stages:
            times.append(at)
            at = min(at + timedelta(days=rng.expovariate(1 / 12)), NOW)
        stage, entered = stages[-1], times[-1]
        amount = rng.choice([None, rng.randint(5, 300) * 10_000])
        close = (NOW + timedelta(days=rng.randint(-20, 150))).date() if rng.random() < 0.5 else None
        confidence = rng.choice([None, "high", "medium", "low"])
        customers.append((n + 1, f"客户{n:06d}", "[]", f"E{n % reps}", stage, entered.strftime(FMT), amount,
                          close.isoformat() if close else None, confidence, created.strftime(FMT),
                          entered.strftime(FMT) if closed else None))  # fmt: skip
        previous: str | None = None
        for s, t in zip(stages, times, strict=True):
            history.append((n + 1, previous, s, t.strftime(FMT), f"E{n % reps}"))
            previous = s
    db.executemany(
        "insert into customers (id, name, aliases, owner_id, stage, stage_entered_at, amount, expected_close,"
        " confidence, created_at, closed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", customers,
    )  # fmt: skip
    db.executemany(
        "insert into stage_history (customer_id, from_stage, to_stage, changed_at, employee_id) values (?, ?, ?, ?, ?)",
        history,
    )
    rows = (
        (f"E{rng.randrange(reps)}", f"m{n}", (NOW - timedelta(days=rng.uniform(0, 365))).strftime(FMT))
        for n in range(briefs)
    )
    db.executemany(
        "insert into briefs (sender_id, platform, platform_msg_id, text, received_at, status)"
        " values (?, 'wecom', ?, '今天拜访了客户', ?, 'applied')",
        rows,
    )
    snaps = []
    for week in range(26):
        taken = (NOW - timedelta(weeks=week)).date() - timedelta(days=NOW.weekday())
        for r in range(reps):
            for ahead in range(3):
                first = date(taken.year + (taken.month + ahead - 1) // 12, (taken.month + ahead - 1) % 12 + 1, 1)
                snaps.append((f"E{r}", f"{first:%Y-%m}", rng.randint(0, 2_000_000), taken.isoformat()))
    db.executemany("insert into forecast_snapshots (owner_id, month, expected, taken_on) values (?, ?, ?, ?)", snaps)
    month = f"{NOW:%Y-%m}"  # the company's key results (in fen for money), split to teams and reps when read
    goals = [(month, "company", "", "signed_amount", 50_000_000_000), (month, "company", "", "briefs", 8_000_000)]
    goals += [(month, "team", f"T{t}", "won_count", 4_000) for t in range(TEAMS)]
    db.executemany("insert into goals (month, level, subject, kpi, target) values (?, ?, ?, ?, ?)", goals)
    db.commit()
    print(f"  {len(history):,} stage changes, {len(snaps):,} forecast snapshots")
    db.close()


async def timed(rounds: int, run: Callable[[], Awaitable[Any]]) -> tuple[float, float, float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


async def one_size(customers: int, briefs: int, rounds: int) -> dict[str, float]:
    """Seed a company of ``customers`` and time every answer; the medians by case."""
    medians: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "reports.db"
        database = Database(f"sqlite:///{path}")
        await database.upgrade()
        await database.dispose()
        started = time.perf_counter()
        seed(path, customers, briefs)
        print(f"seeded {customers:,} customers and {briefs:,} briefs in {time.perf_counter() - started:.0f} s")
        database = Database(f"sqlite:///{path}")
        services = Services(timezone=TZ, calendar=WorkCalendar(provider=china_provider()), stall=StallPolicy())
        services.calendar.workdays_after(date(2025, 1, 1), date(2026, 12, 31))  # warm the day cache
        now = NOW.astimezone(TZ)
        team = {f"E{n}" for n in range(PER_TEAM)}

        month = month_key(now.date())

        async def goals_company(uow: Any) -> Any:
            state = await goal_state(uow, services, now.date(), month)
            return state.company(), [state.rep(r) for reps in state.members.values() for r in reps]

        async def commission_all(uow: Any) -> Any:
            return await build_statements(uow, services, month, await uow.employees.find())

        def month_of(build: Callable[[Any], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
            async def run() -> Any:
                async with database.reader() as uow:
                    return await build(uow)

            return run

        def report(build: Callable[..., Awaitable[Any]], *extra: Any) -> Callable[[], Awaitable[Any]]:
            async def run() -> Any:
                async with database.reader() as uow:
                    return await build(uow, services, now, *extra)

            return run

        cases = {
            "funnel, company, this month": report(build_funnel, None, "this_month"),
            "funnel, one team, this quarter": report(build_funnel, team, "this_quarter"),
            "forecast, company": report(build_forecast, None),
            "forecast, one team": report(build_forecast, team),
            "activity, company": report(build_activity, None),
            "activity, one team": report(build_activity, team),
            "goals, company roll-up": month_of(goals_company),
            "commission, every rep": month_of(commission_all),
        }
        print(f"{customers:,} customers, median of {rounds} rounds (min – max), target ≤ 0.7 s each:")
        for label, run in cases.items():
            median, low, high = await timed(rounds, run)
            medians[label] = median
            verdict = "ok" if median <= 0.7 else "OVER"
            print(f"  {label:<32} {median:6.2f} s ({low:.2f} – {high:.2f})  {verdict}")
        await database.dispose()
    return medians


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", default="10000,30000,100000", help="company sizes, comma-separated")
    ap.add_argument("--briefs-per-customer", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    sizes = [int(n) for n in args.customers.split(",")]
    results = {n: await one_size(n, n * args.briefs_per_customer, args.rounds) for n in sizes}
    print("seconds per 100,000 customers at each size (" + " / ".join(f"{n:,}" for n in sizes) + "):")
    for label in results[sizes[0]]:
        print(f"  {label:<32} " + " / ".join(f"{results[n][label] * 100_000 / n:.2f}" for n in sizes))


if __name__ == "__main__":
    asyncio.run(main())
