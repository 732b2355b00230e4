"""A quote request to its documents (issue 22: ≤ 1 s median) with a price list of 5,000 products, on SQLite.

Run: python benchmarks/bench_quote.py [--products 5000] [--rounds 9]

Each round is one chat message through the whole path: the inbox, the parser, the price list read and matched,
the quote numbered and stored, its PDF (Chinese font embedded) and XLSX made and kept, the customer's amount and
stage written through the intake, and the replies with the files queued in the outbox. Prints the median, fastest
and slowest time, and the first round's (the parser and the font are loaded then).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.errors import ErrorHandler  # noqa: E402
from bot.inbox import InboxWorker  # noqa: E402
from handlers import build_router  # noqa: E402
from sales.model import Customer, Employee, InboxMessage, Role, Team  # noqa: E402
from sales.quotes import Product  # noqa: E402
from sales.stages import Stage  # noqa: E402
from store.database import Database  # noqa: E402
from usecases.quote_docs import cjk_font  # noqa: E402
from usecases.services import Services  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 10, tzinfo=TZ)
TARGET = 1.0
KINDS = ("设备", "控制柜", "传感器", "服务器", "软件许可", "配件包", "模块", "网关")


def products(n: int) -> list[Product]:
    """``n`` products with distinct names (型号 + kind), prices and limits; three the requests name."""
    out = [Product("A100", "A型设备", "台", Decimal("12800"), Decimal("0.13"), date(2026, 1, 1), Decimal(10000),
                   Decimal("0.15"), ("A型",)),
           Product("S01", "实施服务", "年", Decimal("36000"), Decimal("0.06"), date(2026, 1, 1), None, Decimal("0.2")),
           Product("T01", "现场培训", "人天", Decimal("2333.33"), Decimal("0.06"), date(2026, 1, 1))]  # fmt: skip
    for i in range(n - len(out)):
        kind = KINDS[i % len(KINDS)]
        out.append(Product(f"P{i:05d}", f"{chr(ord('B') + i % 20)}{i:04d}型{kind}", "台", Decimal(1000 + i * 7),
                           Decimal("0.13"), date(2026, 1, 1), None, Decimal("0.1")))  # fmt: skip
    return out


async def run(count: int, rounds: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'quote.db'}")
        await database.upgrade()
        async with database.uow() as uow:
            await uow.teams.add(Team(name="华东一组"))
            await uow.employees.add(Employee(id="S01", name="陈静", role=Role.SUPERVISOR, team="华东一组"))
            await uow.employees.add(Employee(id="E01", name="张伟", team="华东一组", supervisor_id="S01"))
            for i in range(rounds):
                await uow.customers.add(Customer(name=f"杭州瑞达{i:02d}科技有限公司", owner_id="E01", stage=Stage.DEMO,
                                                 stage_entered_at=NOW - timedelta(days=3),
                                                 created_at=NOW - timedelta(days=30)))  # fmt: skip
            await uow.quotes.put_products(products(count))
            await uow.commit()
        services = Services(timezone=TZ)
        services.file_platforms = ("console",)
        router = build_router()
        times = []
        for i in range(rounds):
            text = f"给杭州瑞达{i:02d}科技有限公司出个报价:A型设备10台,实施服务1年,培训3人天,九折,有效期一个月"
            started = time.perf_counter()
            async with database.uow() as uow:
                await uow.inbox.put(InboxMessage(platform="console", msg_id=f"q{i}", user_id="E01",
                                                 chat_id="console:E01", text=text, received_at=NOW))  # fmt: skip
                await uow.commit()
            await InboxWorker(database.uow, router, ErrorHandler(), lambda: NOW, services=services).drain()
            times.append(time.perf_counter() - started)
            async with database.uow() as uow:
                files = [m for m in await uow.outbox.find() if m.payload.get("file_b64")]
            assert len(files) == 2 * (i + 1) or (cjk_font(None) is None and len(files) == i + 1), len(files)
        await database.dispose()
        return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--products", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    times = asyncio.run(run(args.products, args.rounds))
    rest = times[1:] or times
    median = statistics.median(rest)
    print(f"{args.products:,} products, {args.rounds} requests (PDF font: {cjk_font(None) or 'none: XLSX only'})")
    print(f"  first request (parser and font loaded): {times[0] * 1000:.0f} ms")
    verdict = "ok" if median <= TARGET else "OVER"
    print(
        f"  message to documents: median {median * 1000:.0f} ms, fastest {min(rest) * 1000:.0f} ms, slowest "
        f"{max(rest) * 1000:.0f} ms   target ≤ {TARGET * 1000:.0f} ms  {verdict}"
    )


if __name__ == "__main__":
    main()
