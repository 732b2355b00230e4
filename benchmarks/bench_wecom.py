"""WeCom callbacks against `genjin serve` on SQLite: acknowledgement latency and throughput.

Run: python benchmarks/bench_wecom.py [--callbacks 2000] [--concurrency 50] [--database-url postgresql://…]
[--split [WORKERS]]
(SQLite in a temporary folder by default; a PostgreSQL database given is wiped first, e.g. after
``source .ci/postgres.sh``: ``--database-url "$GENJIN_TEST_POSTGRES_URL"``.)
Fires once `serve` says its warm-up is over (handlers imported, customer index built, a brief rehearsed), so a warm
server meets a warm bare handler; ``--cold`` fires as soon as it listens (a restart in the middle of a burst:
the warm-up's imports then compete with the first acknowledgements for the interpreter).
Sends encrypted callbacks (the official sample keys) to a real `genjin serve` whose WeCom API
is a local fake, and prints: acknowledgement latency (median, p99), acknowledgements per
second, briefs fully processed per second (callback in to reply received by the fake), and
the ratio of acknowledgement throughput to a bare aiohttp handler that only decrypts.
``--split`` runs the acknowledgements and the handling in separate processes (``serve --role web`` and
``--role worker``; ``--split 2``: two worker processes, PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.wecom.crypto import CallbackCrypto  # noqa: E402
from sales.model import Customer, Employee  # noqa: E402
from sales.stages import Stage  # noqa: E402
from store.database import Database  # noqa: E402
from tests.fakes.wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom, encrypted_callback, text_message  # noqa: E402  # noqa: E402

USERS = 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(url: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 26, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    db = Database(url)
    if db.dialect == "postgresql":
        await db.wipe()
    else:
        await db.upgrade()
    async with db.uow() as uow:
        for u in range(USERS):
            await uow.employees.add(Employee(id=f"E{u:03d}", name=f"销售{u}", accounts={"wecom": f"user{u}"}))
            await uow.customers.add(Customer(name=f"杭州测试{u:03d}号科技", owner_id=f"E{u:03d}",
                                             stage=Stage.INITIAL, stage_entered_at=now, created_at=now))  # fmt: skip
        await uow.commit()
    await db.dispose()


def payloads(count: int) -> list[tuple[str, bytes]]:
    out = []
    for n in range(count):
        u = n % USERS
        text = f"测试{u:03d}号科技 今天沟通了需求,确认要上系统,预算{20 + n % 50}万,下周三做方案演示,预计月底签约"
        out.append(encrypted_callback(text_message(f"user{u}", text, str(10_000 + n)), nonce=f"n{n}"))
    return out


async def fire(base: str, items: list[tuple[str, bytes]], concurrency: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            query, body = queue.get_nowait()
            started = time.perf_counter()
            async with session.post(f"{base}/wecom/callback?{query}", data=body) as resp:
                await resp.read()
                assert resp.status == 200, resp.status
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return latencies, time.perf_counter() - started


async def wait_ready(url: str) -> None:
    """Until the serving process's /healthz says its warm-up is over: the handlers imported, the customer index
    built and one brief rehearsed (``InboxWorker.rehearse``)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url) as resp:
                    if resp.status == 200 and (await resp.json()).get("warm_up") == "done":
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never said ready")


async def wait_for(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            try:
                async with session.get(url) as resp:
                    if resp.status in (200, 400):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


BARE = """
import sys
from aiohttp import web
sys.path.insert(0, {root!r})
from bot.wecom.crypto import CallbackCrypto
crypto = CallbackCrypto({token!r}, {key!r}, {corp!r})
async def handle(request):
    q = request.query
    crypto.decrypt(await request.read(), q["msg_signature"], q["timestamp"], q["nonce"])
    return web.Response(body=b"")
app = web.Application()
app.router.add_post("/wecom/callback", handle)
app.router.add_get("/wecom/callback", lambda r: web.Response(status=400))
web.run_app(app, host="127.0.0.1", port={port}, print=None)
"""


def report(name: str, latencies: list[float], elapsed: float) -> float:
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    rate = len(latencies) / elapsed
    print(f"{name}: ack median {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, {rate:.0f} acks/s")
    return rate


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--callbacks", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--database-url", help="a PostgreSQL database to use (wiped); SQLite when not given")
    ap.add_argument("--inbox-workers", type=int, default=1, help="GENJIN_INBOX_WORKERS for the server (PostgreSQL)")
    ap.add_argument("--split", type=int, nargs="?", const=1, default=0, metavar="WORKERS",
                    help="serve --role web and WORKERS processes of --role worker (1 when not given)")  # fmt: skip
    ap.add_argument("--cold", action="store_true", help="fire as soon as serve listens, before its warm-up is done")
    args = ap.parse_args()
    items = payloads(args.callbacks)
    CallbackCrypto(TOKEN, AES_KEY, CORP_ID)  # fail early if the crypto stack is missing

    fake = FakeWeCom()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        roles = ("web",) + ("worker",) * args.split if args.split else ("all",)
        print(f"database: {url.split(':', 1)[0]}, inbox workers: {args.inbox_workers}, processes: {', '.join(roles)}")
        await seed(url)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
        env.update(
            GENJIN_DATABASE_URL=url, GENJIN_PORT=str(port), GENJIN_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT),
            GENJIN_WECOM_CORP_ID=CORP_ID, GENJIN_WECOM_AGENT_ID=str(AGENT_ID), GENJIN_WECOM_SECRET=SECRET,
            GENJIN_WECOM_TOKEN=TOKEN, GENJIN_WECOM_AES_KEY=AES_KEY, GENJIN_WECOM_API_BASE=f"http://127.0.0.1:{api_port}",
            GENJIN_INBOX_WORKERS=str(args.inbox_workers),
        )  # fmt: skip
        command = (sys.executable, "-m", "bot.cli", "serve", "--role")
        serving: list[asyncio.subprocess.Process] = []
        try:
            ports = [port] + [free_port() for _ in roles[1:]]  # a worker beside a web process: /healthz on its own
            for role, role_port in zip(roles, ports, strict=True):
                role_env = env | {"GENJIN_PORT": str(role_port)}
                serving.append(await asyncio.create_subprocess_exec(*command, role, env=role_env, cwd=tmp))
            await wait_for(f"http://127.0.0.1:{port}/healthz")
            if not args.cold:  # the steady state: the handlers imported and the customer index built
                for worker_port in ports[1:] or ports:
                    await wait_ready(f"http://127.0.0.1:{worker_port}/healthz")
            started = time.perf_counter()
            latencies, elapsed = await fire(f"http://127.0.0.1:{port}", items, args.concurrency)
            while len(fake.messages) < args.callbacks and time.perf_counter() - started < 600:  # noqa: ASYNC110
                await asyncio.sleep(0.1)  # polling the fake's list; it has no event to wait on
            processed = time.perf_counter() - started
        finally:
            for serve in serving:
                serve.terminate()
            for serve in serving:
                await asyncio.wait_for(serve.wait(), 10)
    served_rate = report("genjin serve", latencies, elapsed)
    print(f"briefs fully processed: {len(fake.messages)}/{args.callbacks} in {processed:.1f} s, "
          f"{len(fake.messages) / processed:.0f} briefs/s (callback in to reply at the fake)")  # fmt: skip

    bare_port = free_port()
    script = BARE.format(root=str(ROOT), token=TOKEN, key=AES_KEY, corp=CORP_ID, port=bare_port)
    bare = await asyncio.create_subprocess_exec(sys.executable, "-c", script)
    try:
        await wait_for(f"http://127.0.0.1:{bare_port}/wecom/callback")
        bare_lat, bare_elapsed = await fire(f"http://127.0.0.1:{bare_port}", items, args.concurrency)
    finally:
        bare.terminate()
        await asyncio.wait_for(bare.wait(), 10)
    bare_rate = report("bare aiohttp (decrypt only)", bare_lat, bare_elapsed)
    print(f"ratio of acknowledgement throughput, genjin serve / bare handler: {served_rate / bare_rate:.2f}")
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
