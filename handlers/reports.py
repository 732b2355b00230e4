"""``funnel`` and ``activity`` answers: the numbers of sales.reports, for whom the asker may see."""

from __future__ import annotations

import asyncio

from handlers.charts import funnel_png, heatmap_png, picture
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from sales.people import display_names
from sales.reports import period_in
from usecases.reports import build_activity, build_funnel, render_activity, render_funnel, scope

router = Router("reports")


@router.message(query_is("funnel", "activity"))
async def report(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None and ctx.parsed is not None
    teams = [t.name for t in await ctx.uow.teams.find() if t.name in message.text]
    try:
        owners, who = await scope(ctx.uow, ctx.employee, teams[0] if teams else None)
    except ValueError:
        return [Reply(f"「{teams[0]}」不是你的团队,看不到它的数字;需要的话请找该团队主管。")]
    names = display_names(await ctx.uow.employees.find())
    pictures = message.platform in ctx.services.image_platforms
    if ctx.parsed.query == "funnel":
        f = await build_funnel(ctx.uow, ctx.services, ctx.now, owners, period_in(message.text))
        replies = [Reply(render_funnel(f, who, names))]
        png = await asyncio.to_thread(picture, funnel_png, f, f"{who}{f.period.label}漏斗") if pictures else None
    else:
        a = await build_activity(ctx.uow, ctx.services, ctx.now, owners)
        replies = [Reply(render_activity(a, who, names))]
        png = (
            await asyncio.to_thread(picture, heatmap_png, a, names, f"{who}近 {len(a.days)} 个工作日简报数")
            if pictures
            else None
        )
    if png:  # the text stands on its own; the picture follows it
        replies.append(Reply("", image=png))
    return replies
