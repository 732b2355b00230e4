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
the ratio of acknowledgement throughput to a bare aiohttp handler that only decrypts. ``--rounds`` bursts (5 by
default), each followed by the same burst at the bare handler once every brief of it is handled, every reply sent and
serve idle: each round's ratio pairs two bursts some seconds apart, and the summary gives the medians, since this
machine's speed drifts by up to twice within minutes. CPU per acknowledgement counts serve's processes and, on
PostgreSQL, the database server's.
``--split`` runs the acknowledgements and the handling in separate processes (``serve --role web`` and
``--role worker``; ``--split 2``: two worker processes, PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.wecom.crypto import CallbackCrypto  # noqa: E402
from sales.model import Customer, Employee  # noqa: E402
from sales.stages import Stage  # noqa: E402
from store.database import Database  # noqa: E402
from tests.fakes.wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom, encrypted_callback, text_message  # noqa: E402  # noqa: E402

USERS = 1000  # reps, a round's two briefs each: past WeCom's 30 messages a minute per person, replies are merged


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def seed(url: str, users: int) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 26, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    db = Database(url)
    if db.dialect == "postgresql":
        await db.wipe()
    else:
        await db.upgrade()
    async with db.uow() as uow:
        for u in range(users):
            await uow.employees.add(Employee(id=f"E{u:03d}", name=f"销售{u}", accounts={"wecom": f"user{u}"}))
            await uow.customers.add(Customer(name=f"杭州测试{u:03d}号科技", owner_id=f"E{u:03d}",
                                             stage=Stage.INITIAL, stage_entered_at=now, created_at=now))  # fmt: skip
        await uow.commit()
    await db.dispose()


def payloads(count: int, first: int, users: int) -> list[tuple[str, bytes]]:
    out = []
    for n in range(first, first + count):
        u = n % users
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


HAS_PROC = Path("/proc/self/stat").exists()


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> float:
    """CPU seconds the processes have used (0 where /proc is missing; one that ended meanwhile counts nothing)."""
    total = 0.0
    for pid in pids if HAS_PROC else []:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


def database_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine: its work for each callback counts as serve's, since the
    bare handler stores nothing."""
    found = []
    for entry in Path("/proc").iterdir() if HAS_PROC else []:
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                found.append(int(entry.name))
    return found


async def unfinished(database: Database) -> int:
    """Messages still new in the inbox and replies not yet sent: read outside any transaction, so that on SQLite it
    never takes (or waits for) the writer's lock."""
    async with database.engine.connect() as plain:
        connection = await plain.execution_options(isolation_level="AUTOCOMMIT")
        query = ("SELECT (SELECT count(*) FROM inbox WHERE status = 'new')"
                 " + (SELECT count(*) FROM outbox WHERE status = 'pending')")  # fmt: skip
        return int((await connection.execute(text(query))).scalar_one())


async def until_idle(pids: list[int], share: float = 0.03, limit: float = 60.0) -> None:
    """Until the processes use under ``share`` of a core over half a second: after a burst `serve` still refreshes
    the recommender's index, which would otherwise slow the bare handler's burst."""
    if not HAS_PROC:
        await asyncio.sleep(2)
        return
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids)
        await asyncio.sleep(0.5)
        if sum(cpu_seconds(pid) for pid in pids) - before < share * 0.5:
            return
    print(f"(serve still busy after {limit:.0f} s)")


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


def _percentile_99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[int(len(ordered) * 0.99) - 1]


@dataclasses.dataclass
class Round:
    """One burst at `genjin serve` (acknowledgements, then every brief answered) and the same burst at the bare
    handler just after."""

    latencies: list[float]
    elapsed: float
    answered: int
    processed: float
    bare_latencies: list[float]
    bare_elapsed: float
    serve_cpu: float  # CPU seconds `serve` (all its processes) used during the burst
    bare_cpu: float

    @property
    def cpu_ratio(self) -> float:
        """The bare handler's CPU per acknowledgement over serve's: far steadier than the rates on a shared machine,
        whose speed changes from one burst to the next."""
        return self.bare_cpu / self.serve_cpu if self.serve_cpu else float("nan")

    @property
    def ack_median(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def ack_p99(self) -> float:
        return _percentile_99(self.latencies) * 1000

    @property
    def ack_rate(self) -> float:
        return len(self.latencies) / self.elapsed

    @property
    def brief_rate(self) -> float:
        return self.answered / self.processed

    @property
    def bare_rate(self) -> float:
        return len(self.bare_latencies) / self.bare_elapsed

    @property
    def ratio(self) -> float:
        return self.ack_rate / self.bare_rate

    def print(self, number: int, sent: int) -> None:
        bare_median = statistics.median(self.bare_latencies) * 1000
        print(f"round {number}: genjin serve ack median {self.ack_median:.1f} ms, p99 {self.ack_p99:.1f} ms, "
              f"{self.ack_rate:.0f} acks/s; briefs answered {self.answered}/{sent} in {self.processed:.1f} s, "
              f"{self.brief_rate:.0f} briefs/s (callback in to reply at the fake); bare aiohttp (decrypt only) "
              f"median {bare_median:.1f} ms, p99 {_percentile_99(self.bare_latencies) * 1000:.1f} ms, "
              f"{self.bare_rate:.0f} acks/s; ratio {self.ratio:.2f}; CPU per ack {self.serve_cpu / sent * 1e6:.0f} µs "
              f"against {self.bare_cpu / sent * 1e6:.0f} µs, ratio {self.cpu_ratio:.2f}")  # fmt: skip


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--callbacks", type=int, default=2000, help="per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--users", type=int, default=USERS, help="reps sending the briefs, each with a customer")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--database-url", help="a PostgreSQL database to use (wiped); SQLite when not given")
    ap.add_argument("--inbox-workers", type=int, default=1, help="GENJIN_INBOX_WORKERS for the server (PostgreSQL)")
    ap.add_argument("--split", type=int, nargs="?", const=1, default=0, metavar="WORKERS",
                    help="serve --role web and WORKERS processes of --role worker (1 when not given)")  # fmt: skip
    ap.add_argument("--cold", action="store_true", help="fire as soon as serve listens, before its warm-up is done")
    args = ap.parse_args()
    if args.cold and args.rounds != 1:
        print("--cold: one round (later rounds would meet a warm server)")
        args.rounds = 1
    bursts = [payloads(args.callbacks, r * args.callbacks, args.users) for r in range(args.rounds)]
    CallbackCrypto(TOKEN, AES_KEY, CORP_ID)  # fail early if the crypto stack is missing

    fake = FakeWeCom()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    bare_port = free_port()
    script = BARE.format(root=str(ROOT), token=TOKEN, key=AES_KEY, corp=CORP_ID, port=bare_port)
    bare = await asyncio.create_subprocess_exec(sys.executable, "-c", script)
    rounds: list[Round] = []

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        roles = ("web",) + ("worker",) * args.split if args.split else ("all",)
        print(f"database: {url.split(':', 1)[0]}, inbox workers: {args.inbox_workers}, processes: {', '.join(roles)}")
        await seed(url, args.users)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
        env.update(
            GENJIN_DATABASE_URL=url, GENJIN_PORT=str(port), GENJIN_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT),
            GENJIN_WECOM_CORP_ID=CORP_ID, GENJIN_WECOM_AGENT_ID=str(AGENT_ID), GENJIN_WECOM_SECRET=SECRET,
            GENJIN_WECOM_TOKEN=TOKEN, GENJIN_WECOM_AES_KEY=AES_KEY, GENJIN_WECOM_API_BASE=f"http://127.0.0.1:{api_port}",
            GENJIN_INBOX_WORKERS=str(args.inbox_workers),
        )  # fmt: skip
        command = (sys.executable, "-m", "bot.cli", "serve", "--role")
        watch = Database(url)
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
            await wait_for(f"http://127.0.0.1:{bare_port}/wecom/callback")
            for number, burst in enumerate(bursts, 1):
                answered = len(fake.messages)
                pids = [process.pid for process in serving] + (database_pids() if url.startswith("postgresql") else [])
                started, cpu = time.perf_counter(), cpu_of(pids)
                latencies, elapsed = await fire(f"http://127.0.0.1:{port}", burst, args.concurrency)
                serve_cpu = cpu_of(pids) - cpu
                while await unfinished(watch) and time.perf_counter() - started < 600:  # noqa: ASYNC110
                    await asyncio.sleep(0.1)  # every brief handled and every reply sent (digests and retries too)
                processed = time.perf_counter() - started
                await until_idle(pids)  # its after-work would slow the bare one
                cpu = cpu_of([bare.pid])
                bare_latencies, bare_elapsed = await fire(f"http://127.0.0.1:{bare_port}", burst, args.concurrency)
                rounds.append(Round(latencies, elapsed, len(fake.messages) - answered, processed, bare_latencies,
                                    bare_elapsed, serve_cpu, cpu_of([bare.pid]) - cpu))  # fmt: skip
                rounds[-1].print(number, len(burst))
        finally:
            await watch.dispose()
            for process in [*serving, bare]:
                process.terminate()
            for process in [*serving, bare]:
                await asyncio.wait_for(process.wait(), 10)
    await runner.cleanup()
    written = Counter(f"user{n % args.users}" for n in range(args.callbacks * args.rounds))
    answers = Counter(m.get("touser") for m in fake.messages)
    print(f"briefs answered: {len(fake.messages)} of {args.callbacks * args.rounds}; users answered other than once "
          f"a brief: {sum(answers[user] != count for user, count in written.items())}; dropped by the fake for "
          f"WeCom's per-person limit: {fake.dropped_over_limit}")  # fmt: skip
    print(f"median of {len(rounds)} rounds: ack median {_median(r.ack_median for r in rounds):.1f} ms, "
          f"p99 {_median(r.ack_p99 for r in rounds):.1f} ms, {_median(r.ack_rate for r in rounds):.0f} acks/s, "
          f"{_median(r.brief_rate for r in rounds):.0f} briefs/s; bare {_median(r.bare_rate for r in rounds):.0f} "
          f"acks/s; ratio {_median(r.ratio for r in rounds):.2f} "
          f"(rounds {min(r.ratio for r in rounds):.2f}-{max(r.ratio for r in rounds):.2f}); CPU per ack, bare / serve "
          f"{_median(r.cpu_ratio for r in rounds):.2f} (rounds {min(r.cpu_ratio for r in rounds):.2f}-"
          f"{max(r.cpu_ratio for r in rounds):.2f})")  # fmt: skip


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


if __name__ == "__main__":
    asyncio.run(main())
