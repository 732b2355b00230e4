"""``genjin serve``: the aiohttp application, the inbox worker and the outbox sender."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.bootstrap import App
from bot.metrics import CONTENT_TYPE
from bot.platform import PlatformAdapter
from handlers import DeferredRouter
from usecases.heavy import in_daemon_thread

if TYPE_CHECKING:
    from scheduler.jobs import Scheduler

log = logging.getLogger("genjin.server")

APP_KEY = web.AppKey("genjin", App)
HEALTH_TIMEOUT = 2.0
STOP_GRACE = 2.0  # with the stream stop and the 1 s HTTP shutdown, SIGTERM to exit stays within 5 s


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers (``degraded`` with the reasons of the last alert check), 503 when not."""
    app = request.app[APP_KEY]
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT):
            await app.database.ping()
    except Exception as exc:
        log.warning("health check failed: %s", exc)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    reasons = list(app.alerts.active) if app.alerts is not None else []
    # briefs wait for the index; callbacks do not. A web-only process has none: its worker is elsewhere
    role = app.settings.role
    index: dict[str, str] = (
        {}
        if role == "web"
        else {"customer_index": app.services.parser.state, "warm_up": "done" if app.warmed else "running"}
    )
    index |= {"role": role} if role != "all" else {}
    if reasons:
        return web.json_response({"status": "degraded", "reasons": reasons, **index})
    return web.json_response({"status": "ok", **index})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: counters of this instance, queue depths and ages of the shared database."""
    app = request.app[APP_KEY]
    await app.metrics.refresh(app.database.reader, app.clock())
    return web.Response(body=app.metrics.text(), headers={"Content-Type": CONTENT_TYPE})


def dashboard(app: App) -> web.Application:
    """The web dashboard (``web``), with the platforms' sign-in it can use: WeCom OAuth where WeCom is set up."""
    from web.app import Deps, SignIn, WebConfig, make_dashboard

    settings = app.settings
    sign_in: dict[str, SignIn] = {}
    if settings.wecom_enabled:
        sign_in["wecom"] = app.adapter("wecom").client.user_of_code  # type: ignore[attr-defined]
    config = WebConfig(
        settings.web_url(), tuple(settings.web_frame_ancestors), settings.web_link_attempts,
        settings.wecom_corp_id, settings.wecom_agent_id, settings.web_behind_proxy,
    )  # fmt: skip
    return make_dashboard(Deps(app.uow, app.database.reader, app.services, app.clock, config, sign_in))


def make_web_app(app: App, *, client_max_size: int = 1024 * 1024, callbacks: bool = True) -> web.Application:
    """The health check and metrics, and unless this is a worker process, the platforms' callbacks and the
    dashboard."""
    web_app = web.Application(client_max_size=client_max_size)
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    if callbacks:
        web_app.add_routes(app.routes)
        if app.settings.web_enabled:
            web_app.add_subapp("/web", dashboard(app))
        if app.settings.events_token:
            from bot.events_api import routes

            web_app.add_subapp("/api", routes(app))
    return web_app


def lower_priority(step: int) -> None:
    """Lower this process's scheduling priority by ``step``. On Linux a priority belongs to each thread, and a new
    thread takes its creator's: the threads already running (a SQLite connection's, opened by the migrations) are
    lowered one by one, the rest follow the main thread's."""
    if step <= 0:
        return
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        os.nice(step)
        return
    for name in os.listdir(tasks):
        with contextlib.suppress(OSError, ValueError):  # a thread that ended meanwhile
            thread = int(name)
            os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + step))


async def _warm(app: App) -> None:
    """The handlers imported and the customer index built in threads once the server listens, then one brief
    rehearsed (``InboxWorker.rehearse``); /healthz says when it is over. The recommender's numeric libraries are
    not imported here: that is seconds of GIL-heavy work that would slow every acknowledgement meanwhile, so
    the first recommendation pays for it, in its own thread."""
    try:
        if isinstance(app.router, DeferredRouter):  # the handlers' imports, off the event loop
            await in_daemon_thread(app.router.build, "handlers-import")
        await app.services.parser.warm(app.database.reader)
        await app.worker.rehearse()  # a brief handled and rolled back: the first real one is not the slow one
    except Exception as exc:  # built again on first use; a failure here is not fatal
        log.warning("warm-up failed: %s", exc)
    finally:
        app.warmed = True
    # The customer index and the libraries live as long as the process: millions of objects the collector
    # would otherwise walk on every full collection.
    gc.freeze()


async def _start_scheduler(app: App, stop: asyncio.Event) -> Scheduler | None:
    """Import the scheduler's module (APScheduler and the jobs) off the event loop, then start it: the server
    answers meanwhile. Not started once a stop was asked for; a scheduler that cannot start stops the service, as
    it did when it was built before listening (a worker without its schedule must not run on quietly)."""
    try:
        await asyncio.to_thread(importlib.import_module, "scheduler.jobs")
        if stop.is_set():
            return None
        scheduler = app.scheduler()
        scheduler.start()
        return scheduler
    except Exception as exc:
        log.error("the scheduler did not start: %s", exc, exc_info=exc)
        stop.set()
        return None


async def serve(app: App, *, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGTERM/SIGINT (or ``stop``); then finish the message in hand and exit.

    ``role`` splits the work between processes. ``web`` listens, stores and acknowledges (HTTP callbacks and the
    platforms' own connections); ``worker`` handles the stored messages, sends and runs the schedule. Apart, the
    worker's handling never holds up an acknowledgement (in one process they share the event loop and the GIL),
    and on PostgreSQL more workers can be started beside it. ``all`` does both in one process."""
    stop = stop or asyncio.Event()
    receives, works = app.settings.role in ("all", "web"), app.settings.role in ("all", "worker")
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner: web.AppRunner | None = None
    starting: asyncio.Task[Scheduler | None] | None = None  # the scheduler, started once its module is imported
    warmup: asyncio.Task[Any] | None = None
    started: list[PlatformAdapter] = []
    tasks: list[asyncio.Task[None]] = []
    wakeups = contextlib.AsyncExitStack()
    try:
        # a worker listens too, for /healthz and /metrics only (give it its own port beside a web process)
        if receives:
            await app.database.open_intake()
        else:  # a worker beside a web process on one machine: the acknowledgements, due in seconds, get the CPU first
            lower_priority(app.settings.worker_nice)
        runner = web.AppRunner(make_web_app(app, callbacks=receives), shutdown_timeout=1.0, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, app.settings.host, app.settings.port)
        await site.start()
        log.info("Genjin (%s) listening on http://%s:%s", app.settings.role, app.settings.host, app.settings.port)
        if app.settings.role != "all" and app.database.dialect == "sqlite":
            log.warning(
                "role %s on SQLite: two processes take turns at its one writer lock; split on PostgreSQL",
                app.settings.role,
            )
        if works:
            starting = asyncio.create_task(_start_scheduler(app, stop), name="scheduler")
            # listening first (callbacks are stored and acknowledged at once), then the handlers are imported and
            # the customer index is built in threads; the first brief waits for them
            warmup = asyncio.create_task(_warm(app), name="warm-up")
        for adapter in app.adapters if receives else ():
            await adapter.start()
            started.append(adapter)
        if works:
            # on PostgreSQL a message stored by any process wakes this worker at once (its polling stays as a net)
            if await wakeups.enter_async_context(app.database.inbox_wakeups(app.worker.wake.set)):
                log.info("woken by new inbox messages from every process (LISTEN)")
            tasks = [
                asyncio.create_task(app.worker.run(stop), name="inbox"),
                asyncio.create_task(app.outbox.run(stop), name="outbox"),
            ]
        if app.alerts is not None:  # every role: a web process's /healthz must see a stale inbox too
            tasks.append(asyncio.create_task(app.alerts.run(stop), name="alerts"))
        log.info("Genjin running as %s", app.settings.role)
        await stop.wait()
        log.info("stopping")
    finally:
        if starting is not None:  # a scheduler still being imported never starts after this
            starting.cancel()
            [scheduler] = await asyncio.gather(starting, return_exceptions=True)
            if scheduler is not None and not isinstance(scheduler, BaseException):
                scheduler.shutdown()
        # the platforms' own connections closed first (side by side), so no new message arrives
        await asyncio.gather(*(adapter.stop() for adapter in started), return_exceptions=True)
        if runner is not None:
            await runner.cleanup()
        stop.set()
        await app.inbox.settle()  # callbacks (or stream messages) in the batch being written get their answer
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
            for task in pending:  # a step that outlives the grace period is rolled back, not half-done
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        try:  # the listener closes without a network round trip; still, nothing here may stop the rest of the exit
            async with asyncio.timeout(STOP_GRACE):
                await wakeups.aclose()
        except Exception as exc:
            log.warning("closing the inbox listener: %s", exc)
        if warmup is not None and not warmup.done():
            warmup.cancel()
            await asyncio.gather(warmup, return_exceptions=True)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await app.close()
