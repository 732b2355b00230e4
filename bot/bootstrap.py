"""The composition root: everything is built here, at start-up, and nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from bot import platforms
from bot.config import Settings
from bot.errors import ErrorHandler
from bot.inbox import InboxWorker, InboxWriter
from bot.metrics import AlertRules, Alerts, Metrics
from bot.outbox import OutboxSender
from bot.platform import PlatformAdapter, PlatformSender, Wiring
from handlers import DeferredRouter
from handlers.routing import Router
from nlu.index_cache import cache_dir
from recommender.embeddings import Embedder, SentenceTransformerEmbedder, TfidfEmbedder, packaged_minilm
from recommender.service import Recommender
from sales.calendar import WorkCalendar, china_provider, read_overrides
from sales.stages import Stage
from sales.stall import StallPolicy
from store.database import Database
from store.repositories import UnitOfWorkFactory
from usecases.heavy import in_daemon_thread
from usecases.services import ParserCache, Services

if TYPE_CHECKING:
    from scheduler.jobs import Scheduler

log = logging.getLogger("genjin")


@dataclass
class App:
    settings: Settings
    database: Database
    uow: UnitOfWorkFactory
    router: Router
    errors: ErrorHandler
    clock: Callable[[], datetime]
    worker: InboxWorker
    outbox: OutboxSender
    services: Services
    inbox: InboxWriter
    senders: dict[str, PlatformSender] = field(default_factory=dict)
    adapters: list[PlatformAdapter] = field(default_factory=list)  # the enabled platforms, started by serve
    http: aiohttp.ClientSession | None = None  # for the platforms' APIs
    metrics: Metrics = field(default_factory=Metrics)
    alerts: Alerts | None = None
    warmed: bool = False  # serve's warm-up (handlers, customer index, a rehearsed brief) is over

    def troubles(self) -> list[tuple[str, str]]:
        """The platforms whose way in is down now (for alerts and /healthz). A worker process opens none of them
        (the web process receives), so it has none to report: an unopened connection is not a broken one."""
        if self.settings.role == "worker":
            return []
        return [(a.name, t) for a in self.adapters if (t := a.trouble()) is not None]

    def adapter(self, name: str) -> PlatformAdapter:
        """The enabled platform called ``name``."""
        return next(a for a in self.adapters if a.name == name)

    @property
    def routes(self) -> list[web.RouteDef]:
        """The platforms' HTTP callbacks."""
        return [route for adapter in self.adapters for route in adapter.routes()]

    def session(self) -> aiohttp.ClientSession:
        """One HTTP session for every platform's API, made on first use and closed with the app."""
        if self.http is None:
            self.http = aiohttp.ClientSession()
        return self.http

    def scheduler(self) -> Scheduler:
        """The scheduler over this app's store and services (built here, started by serve). Its module, with
        APScheduler, is imported on first use, not with this one: serve imports it in a thread once it listens."""
        from scheduler.jobs import Scheduler

        return Scheduler(self.uow, self.services, self.clock, self._job_failed, scan_time=self.settings.scan_time,
                         on_done=lambda job: self.metrics.job(job, True))  # fmt: skip

    def _job_failed(self, exc: BaseException, job: str) -> None:
        self.errors.on_job(exc, job)
        self.metrics.job(job, False)
        if self.alerts is not None:
            self.alerts.job_failed(job)

    async def close(self) -> None:
        if self.services.recommender is not None:
            await self.services.recommender.close()
        if self.http is not None:
            await self.http.close()
        await self.database.dispose()


def work_calendar(settings: Settings) -> WorkCalendar:
    """chinesecalendar where it has data, the admin's file over it (checked at start-up)."""
    overrides = read_overrides(settings.holidays_file) if settings.holidays_file else {}
    return WorkCalendar(overrides, provider=china_provider())


def embedder_factory(settings: Settings) -> Callable[[], Embedder]:
    """TF-IDF by default; sentence-transformers from a local model path when configured."""
    if settings.embedding_backend == "sentence-transformers":
        path = settings.embedding_model_path or packaged_minilm()
        if path is None:
            raise ValueError("embedding_model_path is required for the sentence-transformers backend")
        return lambda: SentenceTransformerEmbedder(path)
    return TfidfEmbedder


def stall_policy(settings: Settings) -> StallPolicy:
    limits = {
        Stage.INITIAL: settings.stall_initial_days,
        Stage.QUALIFIED: settings.stall_qualified_days,
        Stage.DEMO: settings.stall_demo_days,
        Stage.NEGOTIATION: settings.stall_negotiation_days,
    }
    return StallPolicy(limits, settings.stall_supervisor_after, settings.stall_high_risk_after)


def inbox_workers(settings: Settings, database: Database) -> int:
    """As set on PostgreSQL (row locks let several take turns), one on SQLite (one writer). One by default: two
    workers handle different reps' messages in concurrent transactions, and a customer written by both (a supervisor
    reassigning it while its rep files a brief) is written whole by each, so the later one wins; several instances
    already share that risk. Measured on two cores, 1/2/4 workers: 15/21/20 briefs a second end to end."""
    return max(1, settings.inbox_workers) if database.dialect == "postgresql" else 1


def system_clock(settings: Settings) -> Callable[[], datetime]:
    tz = settings.tz
    return lambda: datetime.now(tz)


async def build_app(
    settings: Settings,
    *,
    database_url: str | None = None,
    clock: Callable[[], datetime] | None = None,
    senders: dict[str, PlatformSender] | None = None,
    migrate_schema: bool = True,
) -> App:
    """Engine, migrations, router, worker and sender, wired once."""
    database = Database(database_url or settings.database_url)
    if migrate_schema:
        await database.upgrade()
    uow = database.uow
    clock = clock or system_clock(settings)
    errors = ErrorHandler()
    router = DeferredRouter()  # the handlers are imported after the server listens (serve's warm-up)
    senders = dict(senders or {})
    services = Services(
        parser=ParserCache(cache_dir(settings.index_cache)),
        timezone=settings.tz,
        calendar=work_calendar(settings),
        stall=stall_policy(settings),
        commission=settings.commission_rules(),
        points=settings.points_rules(),
        rewards=settings.rewards(),
        leads=settings.lead_rules(),
        pool=settings.pool_rules(),
        quotes=settings.quote_rules(),
        web_url=settings.web_url() if settings.web_enabled else None,
        web_link_ttl=timedelta(minutes=settings.web_link_minutes),
        web_session_ttl=timedelta(hours=settings.web_session_hours),
    )
    metrics = Metrics()
    worker = InboxWorker(uow, router, errors, clock, services=services, auto_register=settings.auto_register,
                         metrics=metrics, reader=database.reader, poll_seconds=settings.inbox_poll(),
                         workers=inbox_workers(settings, database))  # fmt: skip
    outbox = OutboxSender(uow, senders, errors, clock, metrics=metrics, concurrency=settings.send_concurrency)
    # it only reads: on SQLite its reads never take the writer's lock
    services.recommender = Recommender(
        database.reader, services.calendar, settings.tz, lambda: clock().astimezone(settings.tz).date(),
        embedder_factory(settings), offload=lambda work: in_daemon_thread(work, "recommender"),
    )  # fmt: skip
    inbox = InboxWriter(database.store_callbacks, worker.wake)
    worker.give_way = inbox.let_pass  # in one process the callbacks go first, for the CPU
    if database.dialect == "sqlite":  # …and for the one writer, between two messages of a batch too
        worker.hold_up = inbox.busy
    app = App(settings, database, uow, router, errors, clock, worker, outbox, services, inbox, senders,
              metrics=metrics)  # fmt: skip
    wiring = Wiring(settings, app.session, inbox.put, clock)
    for registration in platforms.enabled(settings):
        if registration.name in senders:  # a test's or the console's own sender stands in for the platform
            continue
        adapter = registration.build(wiring)
        app.adapters.append(adapter)
        app.senders[adapter.name] = adapter.sender
        if adapter.batch is not None:
            outbox.batchers[adapter.name] = adapter.batch
        metrics.tokens.sources[adapter.name] = adapter.token_fetches
    services.platforms = platforms.reach_order(app.senders)
    services.image_platforms = tuple(name for name, sender in app.senders.items() if sender.capabilities.images)
    services.file_platforms = tuple(name for name, sender in app.senders.items() if sender.capabilities.files)
    app.alerts = Alerts(uow, clock, services.platforms, database.ping, app.senders,
                        AlertRules(stale_minutes=settings.alert_after_minutes), troubles=app.troubles,
                        reader=database.reader)  # fmt: skip
    return app
