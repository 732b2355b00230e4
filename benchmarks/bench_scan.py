"""A stall scan over 100,000 customers on SQLite (target: under 2 seconds).

Run: python benchmarks/bench_scan.py [--customers 10000,30000,100000] [--rounds 5]
Each size in turn; the last lines show seconds per 100,000 customers at each size (flat means linear).
Seeds a SQLite file directly (fast bulk insert), then times `scheduler.reminders.scan` in
dry-run mode (finding and digesting, no sending) and once for real (recording and queueing).
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sales.calendar import WorkCalendar, china_provider  # noqa: E402
from sales.stall import StallPolicy  # noqa: E402
from scheduler.reminders import scan  # noqa: E402
from store.database import Database  # noqa: E402
from usecases.services import Services  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
STAGES = ["initial", "qualified", "demo", "negotiation", "won", "lost"]


def seed(path: Path, count: int, reps: int = 500, *, worst: bool = False) -> None:
    """A pipeline like a real one (40 % closed, most open customers recent), or with ``worst``
    every stage equally likely and entry up to 60 days back, so that most are overdue."""
    rng = random.Random(3)
    db = sqlite3.connect(path)
    db.execute(
        "insert into teams (name, standup_enabled, standup_time, standup_window_minutes) values ('T', 1, '15:00', 15)"
    )
    db.executemany(
        "insert into employees (id, name, role, team, supervisor_id, active) values (?, ?, ?, 'T', ?, 1)",
        [("S0", "主管", "supervisor", None)] + [(f"E{n}", f"销售{n}", "rep", "S0") for n in range(reps)],
    )
    now = datetime(2026, 11, 26, 2, tzinfo=UTC)
    rows = []
    open_stages, closed = STAGES[:4], STAGES[4:]
    for n in range(count):
        if worst:
            stage, age = rng.choice(STAGES), rng.uniform(0, 60)
        else:
            stage = rng.choice(closed) if rng.random() < 0.4 else rng.choice(open_stages)
            age = min(rng.expovariate(1 / 7), 120)
        entered = now - timedelta(days=age)
        step = (now + timedelta(days=rng.randint(-15, 15))).date() if rng.random() < 0.6 else None
        follow = now - timedelta(days=rng.randint(0, 30)) if rng.random() < 0.8 else None
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        rows.append((f"客户{n:06d}", "[]", f"E{n % reps}", stage, entered.strftime(fmt),
                     step.isoformat() if step else None, follow.strftime(fmt) if follow else None,
                     entered.strftime(fmt)))  # fmt: skip
    db.executemany(
        "insert into customers (name, aliases, owner_id, stage, stage_entered_at, next_action_date, last_followup_at,"
        " created_at) values (?, ?, ?, ?, ?, ?, ?, ?)", rows,
    )  # fmt: skip
    db.commit()
    db.close()


async def one_size(customers: int, rounds: int, worst: bool) -> tuple[float, float]:
    """Seed ``customers`` and time the scans; (dry-run median, first real scan) in seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scan.db"
        database = Database(f"sqlite:///{path}")
        await database.upgrade()
        await database.dispose()
        started = time.perf_counter()
        seed(path, customers, worst=worst)
        print(f"seeded {customers:,} customers in {time.perf_counter() - started:.1f} s")
        database = Database(f"sqlite:///{path}")
        services = Services(timezone=TZ, calendar=WorkCalendar(provider=china_provider()), stall=StallPolicy())
        now = datetime(2026, 11, 26, 10, tzinfo=TZ)
        services.calendar.workdays_after(date(2026, 1, 1), date(2026, 12, 31))  # warm the day cache
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            notices = await scan(database.uow, services, now, dry_run=True)
            times.append(time.perf_counter() - started)
        flagged = sum(len(n.items) for n in notices if n.kind == "reminder")
        spread = f"min {min(times):.2f}, max {max(times):.2f}"
        print(f"  dry-run scan: median {statistics.median(times):.2f} s over {rounds} rounds ({spread}); "
              f"{flagged} customers due, {len(notices)} digests")  # fmt: skip
        started = time.perf_counter()
        await scan(database.uow, services, now)
        real = time.perf_counter() - started
        print(f"  first real scan (records reminders, queues digests): {real:.2f} s")
        started = time.perf_counter()
        again = await scan(database.uow, services, now + timedelta(hours=1))
        print(f"  repeat scan with nothing new: {time.perf_counter() - started:.2f} s ({len(again)} digests)")
        await database.dispose()
    return statistics.median(times), real


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", default="10000,30000,100000", help="company sizes, comma-separated")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--worst", action="store_true", help="most customers overdue (a stress case)")
    args = ap.parse_args()
    sizes = [int(n) for n in args.customers.split(",")]
    results = {n: await one_size(n, args.rounds, args.worst) for n in sizes}
    print("seconds per 100,000 customers at each size (" + " / ".join(f"{n:,}" for n in sizes) + "):")
    for index, label in enumerate(("dry-run scan", "first real scan")):
        print(f"  {label:<16} " + " / ".join(f"{results[n][index] * 100_000 / n:.2f}" for n in sizes))


if __name__ == "__main__":
    asyncio.run(main())
