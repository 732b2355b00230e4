"""Conversations, one module (and one router) each, assembled by ``build_router``."""

from __future__ import annotations

import threading
from collections.abc import Callable

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router


async def parse_once(message: Incoming, ctx: Context) -> None:
    """Read the message with the org's parser, once, before any handler below looks at it."""
    if ctx.parsed is None and message.kind == "text":
        parser = await ctx.services.parser.get(ctx.uow)
        ctx.parsed = parser.parse(message.text, ctx.now)


def build_router() -> Router:
    """The one place the order of routers is decided: who-is-it first, answers to questions
    next, then everything that needs the parsed text, the fallback last. The handler modules are imported here, so
    that ``handlers.messages`` and ``handlers.routing`` stay cheap to import for the layers below."""
    from handlers import (
        access,
        briefs,
        commands,
        commission,
        customers,
        dashboard,
        fallback,
        forecast,
        goals,
        help,
        leads,
        overdue,
        pending,
        points,
        quotes,
        recommend,
        reports,
        standup,
        tasks,
        teams,
    )

    understood = Router("understood")
    understood.before(parse_once)
    understood.include(
        help.router,
        teams.router,
        quotes.router,
        leads.router,
        goals.router,
        points.router,
        commands.router,
        dashboard.router,
        customers.router,
        tasks.router,
        overdue.router,
        recommend.router,
        reports.router,
        forecast.router,
        commission.router,
        briefs.router,
        fallback.router,
    )
    return Router("root").include(access.router, fallback.unaddressed, pending.router, standup.router, understood)


class DeferredRouter(Router):
    """``build_router()`` done on first use instead of at start-up: importing every handler (and through them the
    parser) takes a good part of a second, which a server should spend after it listens. ``build`` is thread-safe,
    so the warm-up runs it in a thread and the first message finds it done."""

    def __init__(self, factory: Callable[[], Router] = build_router) -> None:
        super().__init__("deferred")
        self._factory = factory
        self._built: Router | None = None
        self._guard = threading.Lock()

    def build(self) -> Router:
        with self._guard:
            if self._built is None:
                self._built = self._factory()
            return self._built

    async def dispatch(self, message: Incoming, ctx: Context) -> list[Reply] | None:
        return await self.build().dispatch(message, ctx)
