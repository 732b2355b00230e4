"""The bot's commands besides help: 撤销 (undo the last brief)."""

from __future__ import annotations

from handlers.format import day
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, command_is
from sales.customers import restore
from sales.model import BriefStatus

router = Router("commands")
UNDOABLE = (BriefStatus.APPLIED, BriefStatus.PENDING)


@router.message(command_is("undo"))
async def undo(message: Incoming, ctx: Context) -> list[Reply]:
    """Revert the sender's last brief of the last 24 hours: values, stage history, new customers."""
    assert ctx.employee is not None
    uow = ctx.uow
    recent = await uow.briefs.by_sender(ctx.employee.id, since=ctx.now - ctx.services.undo_window)
    target = next((b for b in reversed(recent) if b.status in UNDOABLE), None)
    if target is None or target.id is None:
        return [Reply("24 小时内没有可以撤销的简报。")]
    restored: set[str] = set()
    removed: list[str] = []
    kept: set[str] = set()
    for update in reversed(await uow.briefs.updates_for(target.id)):
        customer = await uow.customers.get(update.customer_id)
        if customer is None:
            continue
        if update.created_customer:
            await uow.customers.delete(update.customer_id)
            removed.append(customer.name)
            continue
        customer, untouched = restore(customer, update.before, update.after)
        await uow.customers.update(customer)
        restored.add(customer.name)
        if untouched:
            kept.add(customer.name)
    await uow.stages.delete_for_brief(target.id)
    await uow.points.delete_for_brief(target.id)  # what the brief earned goes with it
    await uow.pending.delete_for_brief(target.id)
    await uow.briefs.set_status(target.id, BriefStatus.UNDONE)
    when = target.received_at.astimezone(ctx.services.timezone)
    lines = [f"已撤销你 {day(when)} {when:%H:%M} 发的简报「{_short(target.text)}」。"]
    if restored:
        lines.append(f"恢复了 {len(restored)} 个客户的资料:" + "、".join(sorted(restored)) + "。")
    if removed:
        lines.append("删除了它新建的客户:" + "、".join(removed) + "。")
    if kept:
        lines.append("这些客户之后又被改过,那些新的改动保留了:" + "、".join(sorted(kept)) + "。")
    return [Reply("\n".join(lines))]


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
