"""The ``forecast`` answer and the weekly snapshot that makes its accuracy measurable."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from sales.people import display_names
from usecases.forecast import build_forecast, render_forecast
from usecases.reports import scope

router = Router("forecast")


@router.message(query_is("forecast"))
async def answer(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    teams = [t.name for t in await ctx.uow.teams.find() if t.name in message.text]
    try:
        owners, who = await scope(ctx.uow, ctx.employee, teams[0] if teams else None)
    except ValueError:
        return [Reply(f"「{teams[0]}」不是你的团队,看不到它的预测。")]
    f = await build_forecast(ctx.uow, ctx.services, ctx.now, owners)
    names = display_names(await ctx.uow.employees.find())
    return [Reply(render_forecast(f, who, names))]
