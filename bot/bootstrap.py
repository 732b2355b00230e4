"""The composition root: everything is built here, at start-up, and nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot.config import Settings
from bot.errors import ErrorHandler
from bot.inbox import InboxWorker, InboxWriter
from bot.metrics import AlertRules, Alerts, Metrics
from bot.outbox import OutboxSender, PlatformSender
from handlers import build_router
from handlers.routing import Router
from recommender.embeddings import Embedder, SentenceTransformerEmbedder, TfidfEmbedder, packaged_minilm
from recommender.service import Recommender
from sales.calendar import WorkCalendar, china_provider, read_overrides
from sales.stages import Stage
from sales.stall import StallPolicy
from scheduler.jobs import Scheduler
from store.database import Database
from store.repositories import UnitOfWorkFactory
from usecases.services import Services

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
    routes: list[web.RouteDef] = field(default_factory=list)  # the platforms' callbacks
    http: aiohttp.ClientSession | None = None  # for the platforms' APIs
    extras: dict[str, Any] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)
    alerts: Alerts | None = None

    def scheduler(self) -> Scheduler:
        """The scheduler over this app's store and services (built here, started by serve)."""
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


def _fetches(client: Any) -> Callable[[], int]:
    return lambda: int(client.token_fetches)


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
    router = build_router()
    senders = dict(senders or {})
    services = Services(
        timezone=settings.tz,
        calendar=work_calendar(settings),
        stall=stall_policy(settings),
        commission=settings.commission_rules(),
        points=settings.points_rules(),
        rewards=settings.rewards(),
    )
    metrics = Metrics()
    worker = InboxWorker(uow, router, errors, clock, services=services, auto_register=settings.auto_register,
                         metrics=metrics)  # fmt: skip
    outbox = OutboxSender(uow, senders, errors, clock, metrics=metrics, concurrency=settings.send_concurrency)
    services.recommender = Recommender(
        uow, services.calendar, settings.tz, lambda: clock().astimezone(settings.tz).date(), embedder_factory(settings)
    )
    inbox = InboxWriter(uow, worker.wake)
    app = App(settings, database, uow, router, errors, clock, worker, outbox, services, inbox, senders,
              metrics=metrics)  # fmt: skip
    if settings.wecom_enabled and "wecom" not in senders:
        _install_wecom(app)
    if settings.dingtalk_enabled and "dingtalk" not in senders:
        _install_dingtalk(app)
    services.platforms = (*(p for p in ("wecom", "dingtalk") if p in app.senders), "console")
    for platform in ("wecom", "dingtalk"):
        client = app.extras.get(f"{platform}_client")
        if client is not None:
            metrics.tokens.sources[platform] = _fetches(client)
    app.alerts = Alerts(uow, clock, services.platforms, database.ping, app.senders,
                        AlertRules(stale_minutes=settings.alert_after_minutes))  # fmt: skip
    return app


def _install_dingtalk(app: App) -> None:
    """DingTalk's sender, and its way in: the stream thread (started by serve) or the HTTP route."""
    from bot.dingtalk.api import DingTalkClient
    from bot.dingtalk.callback import DingTalkCallback
    from bot.dingtalk.messages import webhook_hosts
    from bot.dingtalk.sender import DingTalkSender
    from bot.dingtalk.stream import StreamRunner

    s = app.settings
    assert s.dingtalk_app_key and s.dingtalk_app_secret
    app.http = app.http or aiohttp.ClientSession()
    client = DingTalkClient(
        app.http, api_base=s.dingtalk_api_base, oapi_base=s.dingtalk_oapi_base, app_key=s.dingtalk_app_key,
        app_secret=s.dingtalk_app_secret, robot_code=s.dingtalk_robot_code or s.dingtalk_app_key,
    )  # fmt: skip
    hosts = webhook_hosts(s.dingtalk_api_base, s.dingtalk_oapi_base)
    app.senders["dingtalk"] = DingTalkSender(client, hosts)
    app.extras["dingtalk_client"] = client
    if s.dingtalk_mode == "http":
        callback = DingTalkCallback(app.inbox, app.clock, app_secret=s.dingtalk_app_secret, max_body=s.max_body_bytes,
                                    hosts=hosts)  # fmt: skip
        app.routes.extend(callback.routes())
    else:
        app.extras["dingtalk_stream"] = StreamRunner(
            app_key=s.dingtalk_app_key, app_secret=s.dingtalk_app_secret, api_base=s.dingtalk_api_base,
            put=app.inbox.put, clock=app.clock, watchdog_seconds=s.dingtalk_watchdog_seconds, hosts=hosts,
        )  # fmt: skip


def _install_wecom(app: App) -> None:
    """The WeCom callback route and sender, sharing one HTTP session and one token cache."""
    from bot.wecom.api import WeComClient
    from bot.wecom.callback import WeComCallback
    from bot.wecom.crypto import CallbackCrypto
    from bot.wecom.sender import WeComSender

    s = app.settings
    assert s.wecom_corp_id and s.wecom_secret and s.wecom_token and s.wecom_aes_key and s.wecom_agent_id
    app.http = app.http or aiohttp.ClientSession()
    client = WeComClient(
        app.http, base_url=s.wecom_api_base, corp_id=s.wecom_corp_id, secret=s.wecom_secret, agent_id=s.wecom_agent_id
    )
    app.senders["wecom"] = WeComSender(client)
    callback = WeComCallback(
        app, CallbackCrypto(s.wecom_token, s.wecom_aes_key, s.wecom_corp_id), max_body=s.max_body_bytes
    )
    app.routes.extend(callback.routes())
    app.extras["wecom_client"] = client
    app.extras["wecom_callback"] = callback
