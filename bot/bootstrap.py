"""The composition root: everything is built here, at start-up, and nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.config import Settings
from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from bot.outbox import OutboxSender, PlatformSender
from handlers import build_router
from handlers.routing import Router
from handlers.services import Services
from store.database import Database
from store.repositories import UnitOfWorkFactory

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
    senders: dict[str, PlatformSender] = field(default_factory=dict)

    async def close(self) -> None:
        await self.database.dispose()


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
    services = Services(timezone=settings.tz)
    worker = InboxWorker(uow, router, errors, clock, services=services, auto_register=settings.auto_register)
    outbox = OutboxSender(uow, senders, errors, clock)
    return App(settings, database, uow, router, errors, clock, worker, outbox, services, senders)
