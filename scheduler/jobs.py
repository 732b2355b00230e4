"""APScheduler, wrapped once, with an explicit time zone; job errors go to the shared error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler.prompts import ASK, NUDGE, brief_prompts, missing_report, monday_list
from scheduler.reminders import scan
from store.repositories import UnitOfWorkFactory
from usecases.forecast import take_snapshot
from usecases.leads import hand_out_waiting, response_ladder
from usecases.pool import sweep as pool_sweep
from usecases.quality import monthly_review
from usecases.quotes import remind_approvers
from usecases.recognition import monthly
from usecases.services import Services
from usecases.standup import tick as standup_tick
from usecases.web_auth import purge as purge_web

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
        on_done: Callable[[str], None] | None = None,
    ) -> None:
        self.on_done = on_done  # a job finished without error (metrics)
        self.uow = uow
        self.services = services
        self.clock = clock
        self.on_error = on_error
        tz: ZoneInfo = services.timezone
        hour, minute = (int(x) for x in scan_time.split(":"))

        def at(h: int, m: int) -> CronTrigger:
            return CronTrigger(hour=h, minute=m, timezone=tz)

        self.jobs = [
            Job("stall-scan", "停滞客户提醒与升级(工作日)", at(hour, minute), self.stall_scan),
            Job("brief-ask", "17:30 请没发简报的销售发简报(工作日)", at(17, 30), lambda: self._prompt(ASK)),
            Job("brief-nudge", "20:00 再提醒一次(工作日)", at(20, 0), lambda: self._prompt(NUDGE)),
            Job("brief-report", "09:00 告诉主管前一个工作日谁没发简报", at(9, 0),
                lambda: missing_report(self.uow, self.services, self.clock())),
            Job("monday-list", "每周第一个工作日 09:00 本周任务清单", at(9, 0),
                lambda: monday_list(self.uow, self.services, self.clock())),
            Job("forecast-snapshot", "每周第一个工作日 08:30 保存预测快照(用来算准确度)", at(8, 30),
                lambda: take_snapshot(self.uow, self.services, self.clock())),
            Job("monthly-recognition", "每月第一个工作日 09:30 预测准确积分,各团队群里表彰上月之星", at(9, 30),
                lambda: monthly(self.uow, self.services, self.clock())),
            Job("lead-response", "每 15 分钟:分出因满额等着的线索;新线索超过工作小时还没跟进,提醒本人,再久告知主管",
                CronTrigger(minute="*/15", timezone=tz), self.leads),
            Job("pool-sweep", "工作日 09:05:久未跟进的客户回到公海(前一天先提醒本人)", at(9, 5),
                lambda: pool_sweep(self.uow, self.services, self.clock())),
            Job("data-quality", "每月第一个工作日 09:40 给管理员发数据质量检查", at(9, 40),
                lambda: monthly_review(self.uow, self.services, self.clock())),
            Job("quote-approvals", "工作日 09:15 提醒审批人还在等的报价", at(9, 15),
                lambda: remind_approvers(self.uow, self.services, self.clock())),
            Job("web-purge", "每天 03:15 删除过期的看板登录链接和会话", at(3, 15),
                lambda: purge_web(self.uow, self.clock())),
            Job("standup", "每周最后一个工作日按各团队时间开站会,到时收尾", CronTrigger(minute="*", timezone=tz),
                lambda: standup_tick(self.uow, self.services, self.clock())),
        ]  # fmt: skip
        self._scheduler = AsyncIOScheduler(timezone=tz)

    async def leads(self) -> object:
        """Waiting leads out first, then the first-response ladder (which then counts them too)."""
        handed = await hand_out_waiting(self.uow, self.services, self.clock())
        return handed + await response_ladder(self.uow, self.services, self.clock())

    async def stall_scan(self) -> object:
        return await scan(self.uow, self.services, self.clock())

    async def _prompt(self, kind: str) -> object:
        return await brief_prompts(self.uow, self.services, self.clock(), kind)

    def _guarded(self, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await job.run()
            except Exception as exc:
                self.on_error(exc, job.id)
            else:
                if self.on_done is not None:
                    self.on_done(job.id)

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
