"""``本周任务`` / ``下周要跟哪些客户``: the week's to-do list, the same one the Monday message brings."""

from __future__ import annotations

import re

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from sales.months import month_key
from usecases.goals import goal_state
from usecases.stalls import find_stalled
from usecases.tasks import task_lines, team_of

router = Router("tasks")
_NEXT_WEEK = re.compile(r"下周|下个?礼拜|下个?星期")


@router.message(query_is("tasks"))
async def tasks(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    services = ctx.services
    today = ctx.now.astimezone(services.timezone).date()
    staff = await ctx.uow.employees.find(active_only=True)
    stalled = await find_stalled(
        ctx.uow, services.calendar, services.stall, today, services.timezone, team_of(ctx.employee, staff)
    )
    goals = await goal_state(ctx.uow, services, today, month_key(today))
    lines = await task_lines(
        ctx.uow, services, ctx.employee, staff, stalled, goals, today, next_week=bool(_NEXT_WEEK.search(message.text))
    )
    return [Reply("\n".join(lines))]
