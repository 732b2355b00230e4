"""The ``overdue`` query: the same rules as the reminders, for the asker's own or team's customers."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from sales.people import display_names
from usecases.format import fit
from usecases.stalls import by_urgency, describe, find_stalled, in_scope, stage_in, visible_owners

router = Router("overdue")


@router.message(query_is("overdue"))
async def overdue(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    services = ctx.services
    today = ctx.now.astimezone(services.timezone).date()
    owners = await visible_owners(ctx.uow, ctx.employee)
    found = await find_stalled(ctx.uow, services.calendar, services.stall, today, services.timezone, owners)
    stage = stage_in(message.text)
    items = in_scope(found, owners, stage)
    scope = f"{stage.label}阶段" if stage else ""
    if not items:
        return [Reply(f"没有超期的{scope}客户,保持得不错!")]
    names = display_names(await ctx.uow.employees.find())
    mine_only = all(i.row.owner_id == ctx.employee.id for i in items)
    items = by_urgency(items)
    lines = [f"超期的{scope}客户共 {len({i.row.id for i in items})} 个(按工作日计算):"]
    lines += [describe(i, owner=None if mine_only else names.get(i.row.owner_id)) for i in items]
    return [Reply(fit(lines, more=lambda n: f"……还有 {n} 个没有列出"))]
