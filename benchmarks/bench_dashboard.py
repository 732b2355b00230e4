"""Every dashboard page rendered for a supervisor of 50 reps in a company of 100,000 customers (target, issue 20:
≤ 300 ms a page), through HTTP as a browser asks for it: session cookie, the page's reads, the template.

Run: python benchmarks/bench_dashboard.py [--customers 100000] [--rounds 5]
Seeds SQLite as ``bench_reports.py`` does (a year of briefs, ten per customer; half a year of forecast snapshots)
with 500 reps in ten teams of 50. The recommender is off, as in ``bench_reports.py`` (with it, a page reads the
win probabilities of its latest snapshot, built once in a thread). Prints each page's median, fastest and slowest
time, the first request's (a fresh process: the forecast's history aggregates are computed once per version of
the history, ``Services.forecast_history``) and the page's size.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from benchmarks import bench_reports  # noqa: E402
from sales.calendar import WorkCalendar, china_provider  # noqa: E402
from sales.stall import StallPolicy  # noqa: E402
from store.database import Database  # noqa: E402
from usecases.services import Services  # noqa: E402
from usecases.web_auth import open_session  # noqa: E402
from web.app import COOKIE, Deps, WebConfig, make_dashboard  # noqa: E402

PAGES = ("/web/", "/web/funnel", "/web/forecast", "/web/activity", "/web/goals", "/web/points", "/web/customers",
         "/web/customers?stalled=1", "/web/commission")  # fmt: skip
TARGET = 0.3


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--db", type=Path, help="keep the seeded database here, and use it when it is there already")
    args = ap.parse_args()
    bench_reports.TEAMS, bench_reports.PER_TEAM = 10, 50  # a supervisor of 50 reps
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "dashboard.db"
        if not path.exists():
            database = Database(f"sqlite:///{path}")
            await database.upgrade()
            await database.dispose()
            started = time.perf_counter()
            bench_reports.seed(path, args.customers, args.customers * 10)
            print(f"seeded {args.customers:,} customers in {time.perf_counter() - started:.0f} s")
        database = Database(f"sqlite:///{path}")
        services = Services(timezone=bench_reports.TZ, calendar=WorkCalendar(provider=china_provider()),
                            stall=StallPolicy())  # fmt: skip
        services.calendar.workdays_after(date(2025, 1, 1), date(2026, 12, 31))  # warm the day cache
        now = bench_reports.NOW

        deps = Deps(database.uow, database.reader, services, lambda: now, WebConfig("http://127.0.0.1"))
        async with database.uow() as uow:
            supervisor = await uow.employees.get("S0")
            assert supervisor is not None
            opened = await open_session(uow, supervisor, now, timedelta(hours=1))
            await uow.commit()
        app: web.Application = web.Application()
        app.add_subapp("/web", make_dashboard(deps))
        async with TestClient(TestServer(app)) as client:
            client.session.cookie_jar.update_cookies({COOKIE: opened.token})
            print(f"{args.customers:,} customers, team of 50 reps, median of {args.rounds} rounds (min – max), "
                  f"target ≤ {TARGET * 1000:.0f} ms:")  # fmt: skip
            for page in PAGES:
                times, size = [], 0
                for _ in range(args.rounds + 1):  # the first round warms the connection and the templates
                    begun = time.perf_counter()
                    resp = await client.get(page)
                    body = await resp.read()
                    times.append(time.perf_counter() - begun)
                    assert resp.status == 200, (page, resp.status)
                    size = len(body)
                first, times = times[0], times[1:]
                median = statistics.median(times)
                verdict = "ok" if median <= TARGET else "OVER"
                print(f"  {page:<26} {median * 1000:7.0f} ms ({min(times) * 1000:.0f} – {max(times) * 1000:.0f})"
                      f"  first {first * 1000:5.0f} ms  {size / 1024:6.0f} KB  {verdict}")  # fmt: skip
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
