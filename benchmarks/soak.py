"""Fault and soak run: real `genjin serve` processes, a fake WeCom API that is slow and fails, kill -9s.

Run: python benchmarks/soak.py [--briefs 2000] [--instances 2] [--kills 3] [--latency 1.5] [--rate 20]
     python benchmarks/soak.py --short          (the form CI runs: 150 briefs, one kill, 0.2 s latency)

Two or more instances need PostgreSQL (GENJIN_TEST_POSTGRES_URL, e.g. from `source .ci/postgres.sh`);
without it one instance runs on SQLite. Briefs are posted as encrypted WeCom callbacks, round robin over
the live instances; a callback refused or cut off (an instance just killed) is posted again to another,
as WeCom retries. While they arrive, an instance is killed with SIGKILL and started again, ``--kills``
times. The fake API answers every send after ``--latency`` seconds and injects, at random, 42001/40014
(token expired/invalid), 45009 (rate limit), HTTP 500, dropped connections and calls that hang past the
client's timeout; once, gettoken refuses the secret (40001) for ``--secret-outage`` seconds.

Prints: acknowledged, handled, replies received, sent twice, lost (acknowledged but never answered), and
dropped by the per-member limit. Every brief names its own customer, so each reply is recognised by the
customer's name. Sending is at-least-once: a kill between a send and its mark-sent sends that reply again
(counted under "sent twice"). Exit status 1 when anything acknowledged was lost or a reply was dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_wecom import free_port, wait_for  # noqa: E402
from sales.model import Customer, Employee, InboxStatus, Role  # noqa: E402
from sales.stages import Stage  # noqa: E402
from store.database import Database  # noqa: E402
from tests.fakes.wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom, encrypted_callback, text_message  # noqa: E402

USERS = 100
FAULTS = (42001, 40014, 45009, 500, 0, -2)


def name(n: int) -> str:
    return f"杭州测试{n:04d}号科技"


async def seed(url: str, briefs: int) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 26, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    db = Database(url)
    await db.upgrade()
    async with db.uow() as uow:
        await uow.employees.add(Employee(id="A01", name="管理员", role=Role.ADMIN, accounts={"wecom": "admin"}))
        for u in range(USERS):
            await uow.employees.add(Employee(id=f"E{u:03d}", name=f"销售{u}", accounts={"wecom": f"user{u}"}))
        for n in range(briefs):
            await uow.customers.add(Customer(name=name(n), owner_id=f"E{n % USERS:03d}", stage=Stage.INITIAL,
                                             stage_entered_at=now, created_at=now))  # fmt: skip
        await uow.commit()
    await db.dispose()


@dataclass
class Instance:
    port: int
    env: dict[str, str]
    cwd: str
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "serve", env=self.env, cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await wait_for(f"http://127.0.0.1:{self.port}/healthz")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 15)


@dataclass
class Tally:
    acked: set[int] = field(default_factory=set)
    retried_posts: int = 0


async def post_all(instances: list[Instance], briefs: int, rate: float, tally: Tally) -> None:
    """Post every brief once acknowledged, round robin over live instances, at ``rate`` per second."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:

        async def one(n: int) -> None:
            text = f"测试{n:04d}号科技 电话沟通了,下周三做方案演示"
            query, body = encrypted_callback(text_message(f"user{n % USERS}", text, str(500_000 + n)), nonce=f"n{n}")
            for attempt in range(40):
                live = [i for i in instances if i.alive]
                target = live[(n + attempt) % len(live)] if live else None
                if target is not None:
                    try:
                        url = f"http://127.0.0.1:{target.port}/wecom/callback?{query}"
                        async with session.post(url, data=body) as resp:
                            if resp.status == 200:
                                tally.acked.add(n)
                                return
                    except (aiohttp.ClientError, TimeoutError):
                        pass
                tally.retried_posts += 1
                await asyncio.sleep(0.5)  # as WeCom retries

        tasks = []
        for n in range(briefs):
            tasks.append(asyncio.create_task(one(n)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)


async def killer(instances: list[Instance], kills: int, duration: float, log: list[str]) -> None:
    for k in range(kills):
        await asyncio.sleep(duration / (kills + 1))
        victim = instances[k % len(instances)]
        await victim.kill()
        log.append(f"kill -9 instance {k % len(instances)} at {time.strftime('%H:%M:%S')}")
        await asyncio.sleep(1.0)
        await victim.start()


async def secret_outage(fake: FakeWeCom, at: float, seconds: float, log: list[str]) -> None:
    """gettoken refuses the secret (40001) for a while; tokens expire, so every instance has to ask."""
    await asyncio.sleep(at)
    fake.secret_refused = True
    fake.expire_tokens()
    log.append(f"gettoken answers 40001 for {seconds:.0f} s from {time.strftime('%H:%M:%S')}")
    await asyncio.sleep(seconds)
    fake.secret_refused = False


async def settled(url: str, expected: int, deadline: float) -> tuple[int, int]:
    """Wait until every stored message is handled and every reply sent (or the deadline)."""
    db = Database(url)
    try:
        while True:
            async with db.uow() as uow:
                handled = await uow.inbox.count(InboxStatus.DONE) + await uow.inbox.count(InboxStatus.FAILED)
                pending, *_ = await uow.outbox.backlog()
            if (handled >= expected and pending == 0) or time.monotonic() > deadline:
                return handled, pending
            await asyncio.sleep(1.0)
    finally:
        await db.dispose()


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--briefs", type=int, default=2000)
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--kills", type=int, default=3)
    ap.add_argument("--latency", type=float, default=1.5)
    ap.add_argument("--rate", type=float, default=20.0, help="callbacks per second")
    ap.add_argument("--fault-rate", type=float, default=0.05)
    ap.add_argument("--secret-outage", type=float, default=10.0, help="seconds of 40001 from gettoken (0: none)")
    ap.add_argument("--short", action="store_true", help="the CI form: 150 briefs, one kill, 0.2 s latency")
    args = ap.parse_args()
    if args.short:
        args.briefs, args.kills, args.latency, args.rate, args.secret_outage = 150, 1, 0.2, 30.0, 0.0
    logging.getLogger("aiohttp").setLevel(logging.CRITICAL)  # the fake's dropped connections are on purpose
    pg = os.environ.get("GENJIN_TEST_POSTGRES_URL")
    instances_wanted = args.instances if pg else 1
    rng = random.Random(15)

    fake = FakeWeCom(latency=args.latency, hang=12.0)
    fake.fail_with = [rng.choice(FAULTS) if rng.random() < args.fault_rate else -1 for _ in range(args.briefs * 3)]
    runner = web.AppRunner(fake.app())
    await runner.setup()
    api_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()

    with tempfile.TemporaryDirectory() as tmp:
        if pg:
            url = pg
            engine_db = Database(url)
            from store import migrate

            await migrate.downgrade(engine_db.engine, "base")
            await engine_db.dispose()
        else:
            url = f"sqlite:///{Path(tmp) / 'soak.db'}"
        await seed(url, args.briefs)
        instances = []
        for _ in range(instances_wanted):
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("GENJIN_")}
            env.update(
                GENJIN_DATABASE_URL=url, GENJIN_PORT=str(port), GENJIN_LOG_LEVEL="ERROR", PYTHONPATH=str(ROOT),
                GENJIN_WECOM_CORP_ID=CORP_ID, GENJIN_WECOM_AGENT_ID=str(AGENT_ID), GENJIN_WECOM_SECRET=SECRET,
                GENJIN_WECOM_TOKEN=TOKEN, GENJIN_WECOM_AES_KEY=AES_KEY,
                GENJIN_WECOM_API_BASE=f"http://127.0.0.1:{api_port}",
            )  # fmt: skip
            instances.append(Instance(port, env, tmp))
        for instance in instances:
            await instance.start()
        tally = Tally()
        log: list[str] = []
        started = time.monotonic()
        duration = args.briefs / args.rate
        try:
            chaos = [killer(instances, args.kills, duration, log)]
            if args.secret_outage:
                chaos.append(secret_outage(fake, duration / 3, args.secret_outage, log))
            await asyncio.gather(post_all(instances, args.briefs, args.rate, tally), *chaos)
            handled, pending = await settled(url, len(tally.acked), time.monotonic() + max(300.0, duration * 3))
        finally:
            for instance in instances:
                await instance.stop()
            await runner.cleanup()
        elapsed = time.monotonic() - started

    replies: dict[int, int] = {}
    other = 0
    for message in fake.messages:
        body = message.get(message["msgtype"], {})
        text = str(body.get("content") or body.get("sub_title_text") or "")
        found = set(re.findall(r"杭州测试(\d{4})号科技", text))
        if len(found) == 1:
            n = int(found.pop())
            replies[n] = replies.get(n, 0) + 1
        else:
            other += 1
    lost = sorted(tally.acked - set(replies))
    twice = sum(c - 1 for c in replies.values() if c > 1)
    mode = f"{instances_wanted} instance(s) on {'PostgreSQL' if pg else 'SQLite'}"
    kills = sum(1 for line in log if line.startswith("kill -9"))
    print(f"soak: {args.briefs} briefs, {mode}, {kills} kill -9, API latency {args.latency} s, "
          f"fault rate {args.fault_rate:.0%}, {elapsed:.0f} s")  # fmt: skip
    for line in log:
        print(f"  {line}")
    print(f"acknowledged {len(tally.acked)} (posts retried after a refusal or a kill: {tally.retried_posts})")
    print(f"handled {handled}, still waiting to be sent {pending}")
    print(f"replies received {sum(replies.values())} for {len(replies)} briefs; other messages {other}")
    print(f"sent twice {twice} (at-least-once: a kill between a send and its mark-sent)")
    print(f"lost {len(lost)}" + (f": {lost[:10]}" if lost else ""))
    print(f"dropped by the per-member limit {fake.dropped_over_limit}")
    return 1 if lost or fake.dropped_over_limit or len(tally.acked) < args.briefs else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
