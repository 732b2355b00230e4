"""APScheduler, wrapped once, with an explicit time zone; job errors go to the shared error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from handlers.services import Services
from scheduler.reminders import scan
from store.repositories import UnitOfWorkFactory

log = logging.getLogger("genjin.scheduler")

OnError = Callable[[BaseException, str], None]


@dataclass(frozen=True)
class Job:
    id: str
    description: str
    trigger: CronTrigger
    run: Callable[[], Awaitable[object]]


class Scheduler:
    """The bot's clockwork. Every job decides for itself whether today is a working day."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        services: Services,
        clock: Callable[[], datetime],
        on_error: OnError,
        *,
        scan_time: str = "10:00",
    ) -> None:
        self.uow = uow
        self.services = services
        self.clock = clock
        self.on_error = on_error
        tz: ZoneInfo = services.timezone
        hour, minute = (int(x) for x in scan_time.split(":"))
        self.jobs = [
            Job("stall-scan", "停滞客户提醒与升级(工作日)", CronTrigger(hour=hour, minute=minute, timezone=tz),
                self.stall_scan),
        ]  # fmt: skip
        self._scheduler = AsyncIOScheduler(timezone=tz)

    async def stall_scan(self) -> object:
        return await scan(self.uow, self.services, self.clock())

    def _guarded(self, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await job.run()
            except Exception as exc:
                self.on_error(exc, job.id)

        return run

    def start(self) -> None:
        for job in self.jobs:
            self._scheduler.add_job(self._guarded(job), job.trigger, id=job.id, coalesce=True,
                                    misfire_grace_time=3600, max_instances=1)  # fmt: skip
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def next_runs(self, now: datetime) -> list[tuple[Job, datetime | None]]:
        return [(job, job.trigger.get_next_fire_time(None, now)) for job in self.jobs]
