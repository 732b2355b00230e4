"""The bot's commands besides help: 撤销 (undo the last change applied)."""

from __future__ import annotations

from handlers.intake import conversation
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, command_is
from sales.customers import restore
from sales.events import BriefUndone, ChangeUndone
from sales.model import UNDO, AuditEntry, BriefStatus, PendingQuestion
from usecases.format import day, fit

router = Router("commands")


@router.message(command_is("undo"))
async def undo(message: Incoming, ctx: Context) -> list[Reply]:
    """Take back the sender's last applied change of the undo window (a brief's, or a confirmed answer's):
    every field, the stage history, the points it earned, a customer it created. Again and again."""
    assert ctx.employee is not None
    uow = ctx.uow
    change = await uow.changes.last_live(ctx.employee.id, since=ctx.now - ctx.services.undo_window)
    if change is None or change.id is None:
        return [Reply("24 小时内没有可以撤销的改动。")]
    restored: list[str] = []
    removed: list[str] = []
    kept: list[str] = []
    for update in reversed(await uow.briefs.updates_for_change(change.id)):
        customer = await uow.customers.get(update.customer_id)
        if customer is None:
            continue
        if update.created_customer:
            await uow.customers.delete(update.customer_id)
            removed.append(customer.name)
            continue
        customer, untouched = restore(customer, update.before, update.after)
        await uow.customers.update(customer)
        restored.append(customer.name)
        if untouched:
            kept.append(customer.name)
    await uow.stages.delete_for_change(change.id)
    await ctx.publish(ChangeUndone(change.id, ctx.now))  # what the change earned goes with it
    await uow.changes.mark_undone(change.id, ctx.now)
    brief = await uow.briefs.get(change.brief_id)
    whole = await uow.changes.live_for_brief(change.brief_id) == 0
    if whole:  # nothing of the brief stands any more: its open questions and its own points go too
        await uow.pending.delete_for_brief(change.brief_id)
        await uow.briefs.set_status(change.brief_id, BriefStatus.UNDONE)
        if brief is not None:  # its own points go, the day's brief point may pass to another brief
            await ctx.publish(BriefUndone(brief, ctx.now))
    # every process's recommender builds again once this is committed (an undo deletes what steps read)
    await uow.audit.add(AuditEntry(at=ctx.now, action=UNDO, actor=ctx.employee.id,
                                   detail={"change": change.id, "brief": change.brief_id}))  # fmt: skip
    if ctx.services.recommender is not None:
        ctx.services.recommender.notice()
    when = change.applied_at.astimezone(ctx.services.timezone)
    source = f"(来自简报「{_short(brief.text)}」)" if brief is not None else ""
    lines = [f"已撤销 {day(when)} {when:%H:%M} 的改动{source}。"]
    if restored:
        lines.append(f"恢复了 {len(restored)} 个客户的资料:" + "、".join(dict.fromkeys(restored)) + "。")
    if removed:
        lines.append("删除了它新建的客户:" + "、".join(removed) + "。")
    if kept:
        lines.append("这些客户之后又被改过,那些新的改动保留了:" + "、".join(dict.fromkeys(kept)) + "。")
    if not whole:
        lines.append("同一条简报的其他改动还在;再发「撤销」继续往前撤。")
    waiting = [q for q in await uow.pending.for_conversation(*conversation(message)) if q.expires_at > ctx.now]
    if waiting:  # not written yet, so undo does not reach them; say so, or the rep undoes the wrong thing
        names = "、".join(dict.fromkeys(_asked_about(q) for q in waiting))
        lines.append(f"还有 {len(waiting)} 个问题等你回答({names}),那部分还没有写入;不要的话回复「取消」。")
    return [Reply(fit(lines))]


def _asked_about(question: PendingQuestion) -> str:
    payload = question.payload
    update = payload.get("update") or {}
    return str(payload.get("name") or update.get("customer") or update.get("mention") or "?")


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
