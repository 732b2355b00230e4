"""What an operator watches: Prometheus metrics (``GET /metrics``) and the alerts sent to admins in chat.

The seed's story: the system went down at month-end and nobody knew until reps complained. Counters are
kept per app (a registry of its own, so several apps in one process never mix); queue depths and ages are
read from the database at each scrape, so every instance reports the same shared queues.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from bot.platform import PlatformSender
from sales.accounts import platform_user
from sales.model import Employee, InboxStatus, OutboxMessage, Role
from store.repositories import UnitOfWorkFactory
from usecases.delivery import notify

log = logging.getLogger("genjin.alerts")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _TokenFetches(Collector):
    """Access-token fetches per platform, read from the API clients' own counters."""

    def __init__(self) -> None:
        self.sources: dict[str, Callable[[], int]] = {}

    def collect(self) -> Iterable[CounterMetricFamily]:
        family = CounterMetricFamily(
            "genjin_token_refreshes", "Access tokens fetched from the platform", labels=["platform"]
        )
        for platform, read in sorted(self.sources.items()):
            family.add_metric([platform], float(read()))
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.handled = Counter("genjin_messages_handled", "Messages handled, by outcome", ["outcome"], registry=r)
        self.handler_seconds = Histogram(
            "genjin_handler_seconds", "Time to handle one message (parse, rules, store)", registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )  # fmt: skip
        self.parsed = Counter("genjin_parse", "Messages read by the parser, by intent", ["intent"], registry=r)
        self.sends = Counter("genjin_sends", "Deliveries to a platform, by result", ["platform", "result"], registry=r)
        self.job_runs = Counter("genjin_job_runs", "Scheduled job runs, by result", ["job", "result"], registry=r)
        self.inbox_waiting = Gauge("genjin_inbox_waiting", "Messages stored and not yet handled", registry=r)
        self.inbox_oldest = Gauge("genjin_inbox_oldest_age_seconds", "Age of the oldest unhandled message", registry=r)
        self.outbox_pending = Gauge("genjin_outbox_pending", "Replies and notices waiting to be sent", registry=r)
        self.outbox_oldest = Gauge("genjin_outbox_oldest_age_seconds", "Age of the oldest unsent message", registry=r)
        self.outbox_failing = Gauge("genjin_outbox_retrying", "Waiting messages tried three times or more", registry=r)
        self.outbox_failed = Gauge("genjin_outbox_failed", "Messages given up on", registry=r)
        self.database_up = Gauge("genjin_database_up", "1 when the database answered the last scrape", registry=r)
        self.tokens = _TokenFetches()
        r.register(self.tokens)

    def job(self, job_id: str, ok: bool) -> None:
        self.job_runs.labels(job_id, "ok" if ok else "failed").inc()

    async def refresh(self, uow: UnitOfWorkFactory, now: datetime) -> None:
        """Queue depths and ages from the database (shared by every instance)."""
        try:
            async with asyncio.timeout(2.0), uow() as unit:
                waiting, oldest_in = await unit.inbox.count(InboxStatus.NEW), await unit.inbox.oldest_waiting()
                pending, oldest_out, retrying, failed = await unit.outbox.backlog()
        except Exception as exc:
            log.warning("metrics: database unreachable: %s", exc)
            self.database_up.set(0)
            return
        self.database_up.set(1)
        self.inbox_waiting.set(waiting)
        self.inbox_oldest.set(max(0.0, (now - oldest_in).total_seconds()) if oldest_in else 0.0)
        self.outbox_pending.set(pending)
        self.outbox_oldest.set(max(0.0, (now - oldest_out).total_seconds()) if oldest_out else 0.0)
        self.outbox_failing.set(retrying)
        self.outbox_failed.set(failed)

    def text(self) -> bytes:
        return generate_latest(self.registry)


@dataclass
class AlertRules:
    stale_minutes: float = 5.0  # the oldest unhandled message older than this: the worker is stuck
    repeat_minutes: float = 30.0  # the same alert at most this often (shared by every instance: outbox keys)


@dataclass
class Alerts:
    """Checks the shared queues and tells the admins in chat, at most once per alert and period."""

    uow: UnitOfWorkFactory
    clock: Callable[[], datetime]
    platforms: Sequence[str]
    ping: Callable[[], Awaitable[None]]
    senders: Mapping[str, PlatformSender]
    rules: AlertRules = field(default_factory=AlertRules)
    active: list[str] = field(default_factory=list)  # the reasons of the last check, for /healthz
    failed_jobs: list[str] = field(default_factory=list)
    _failed_seen: int = -1
    _kinds: set[str] = field(default_factory=set)  # what is wrong, as stable words: the alert's key
    _admins: list[Employee] = field(default_factory=list)
    _sent_direct: dict[str, float] = field(default_factory=dict)
    troubles: Callable[[], list[tuple[str, str]]] = list  # (platform, what is wrong with its connection)
    reader: UnitOfWorkFactory | None = None  # for the checks' reads (on SQLite: not behind the writer)

    def job_failed(self, job_id: str) -> None:
        self.failed_jobs.append(job_id)

    async def check(self) -> list[str]:
        """The reasons the service is degraded now; each is sent to the admins (rate-limited)."""
        now = self.clock()
        reasons: list[str] = []
        self._kinds = set()
        try:
            async with asyncio.timeout(2.0):
                await self.ping()
        except Exception as exc:
            self.active = [f"数据库连不上:{type(exc).__name__}"]
            await self._direct(self.active[0])
            return self.active
        async with (self.reader or self.uow)() as uow:
            oldest = await uow.inbox.oldest_waiting()
            _, oldest_out, retrying, failed = await uow.outbox.backlog()
            self._admins = [e for e in await uow.employees.find(active_only=True) if e.role is Role.ADMIN]
        stale = timedelta(minutes=self.rules.stale_minutes)
        if oldest is not None and now - oldest > stale:
            minutes = int((now - oldest).total_seconds() // 60)
            reasons.append(f"有消息等了 {minutes} 分钟还没处理(处理进程可能停了)")
            self._kinds.add("stale")
        if oldest_out is not None and now - oldest_out > stale and retrying:
            waited = int((now - oldest_out).total_seconds() // 60)
            reasons.append(f"发送一直失败:{retrying} 条消息已重试 3 次以上,最早的等了 {waited} 分钟")
            self._kinds.add("sending")
        if self._failed_seen >= 0 and failed > self._failed_seen:
            reasons.append(f"有 {failed - self._failed_seen} 条消息发送失败,已放弃")
            self._kinds.add("failed")
        self._failed_seen = failed
        while self.failed_jobs:
            job = self.failed_jobs.pop(0)
            reasons.append(f"定时任务 {job} 运行失败")
            self._kinds.add(f"job-{job}")
        for name, trouble in self.troubles():
            reasons.append(trouble)
            self._kinds.add(f"platform-{name}")
        self.active = reasons
        if reasons:
            await self._tell(reasons, now)
        return reasons

    async def _tell(self, reasons: list[str], now: datetime) -> None:
        bucket = int(now.timestamp() // (self.rules.repeat_minutes * 60))
        text = "⚠️ 跟进助手告警:\n" + "\n".join(f"· {r}" for r in reasons) + "\n详情见 /metrics 和日志。"
        kinds = "|".join(sorted(self._kinds))
        async with self.uow() as uow:
            for admin in self._admins:
                await notify(uow, admin, text, key=f"alert:{bucket}:{admin.id}:{kinds}", now=now,
                             platforms=self.platforms)  # fmt: skip
            await uow.commit()

    async def _direct(self, reason: str) -> None:
        """The database is down, so the outbox is too: send straight through the platforms to the admins
        known from the last check, once per period."""
        last = self._sent_direct.get(reason, 0.0)
        if time.monotonic() - last < self.rules.repeat_minutes * 60:
            return
        self._sent_direct[reason] = time.monotonic()
        log.critical("alert: %s", reason)
        now = self.clock()
        for admin in self._admins:
            for platform in self.platforms:
                user = platform_user(admin, platform)
                sender = self.senders.get(platform)
                if not user or sender is None:
                    continue
                text = f"⚠️ 跟进助手告警:{reason}"
                key = f"alert-direct:{now.isoformat()}:{admin.id}"
                message = OutboxMessage(
                    platform=platform, key=key, created_at=now, payload={"text": text}, to_user=user
                )
                try:
                    await sender.send(message)
                except Exception as exc:
                    log.error("alert to %s not sent: %s", admin.id, exc)
                break

    async def run(self, stop: asyncio.Event, every: float = 60.0) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception as exc:  # an alert check never takes the service down
                log.error("alert check failed: %s", exc)
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
