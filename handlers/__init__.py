"""Conversations, one module (and one router) each, assembled by ``build_router``."""

from __future__ import annotations

from handlers import (
    access,
    briefs,
    commands,
    commission,
    customers,
    fallback,
    forecast,
    goals,
    help,
    overdue,
    pending,
    points,
    recommend,
    reports,
    standup,
    tasks,
    teams,
)
from handlers.messages import Incoming
from handlers.routing import Context, Router


async def parse_once(message: Incoming, ctx: Context) -> None:
    """Read the message with the org's parser, once, before any handler below looks at it."""
    if ctx.parsed is None and message.kind == "text":
        parser = await ctx.services.parser.get(ctx.uow)
        ctx.parsed = parser.parse(message.text, ctx.now)


def build_router() -> Router:
    """The one place the order of routers is decided: who-is-it first, answers to questions
    next, then everything that needs the parsed text, the fallback last."""
    understood = Router("understood")
    understood.before(parse_once)
    understood.include(
        help.router,
        teams.router,
        goals.router,
        points.router,
        commands.router,
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
