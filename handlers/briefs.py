"""A rep's brief in chat becomes customer updates, confirmed where a guess could be wrong."""

from __future__ import annotations

from handlers.intake import Outcome, apply_update, conversation, opened_change, store_questions, summary
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, intent_is
from sales.events import BriefFiled
from sales.model import Brief, BriefStatus

router = Router("briefs")


@router.message(intent_is("brief"))
async def on_brief(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None and ctx.parsed is not None
    parsed = ctx.parsed
    brief = await ctx.uow.briefs.add(
        Brief(
            sender_id=ctx.employee.id,
            platform=message.platform,
            platform_msg_id=message.msg_id,
            text=message.text,
            received_at=ctx.now,
            parse_result=parsed.to_dict(message.msg_id),
        )
    )
    assert brief.id is not None
    outcome = Outcome()
    for update in parsed.updates:
        await apply_update(ctx, message, brief.id, update, outcome)
    await store_questions(ctx, outcome)
    asked = {q.id for q in outcome.asked}
    earlier = await ctx.uow.pending.for_conversation(*conversation(message))
    outcome.waiting = sorted((q for q in earlier if q.id not in asked and q.expires_at > ctx.now),
                             key=lambda q: q.id or 0, reverse=True)  # fmt: skip  # still open: asked again below
    if parsed.updates:
        outcome.points += await ctx.publish(
            BriefFiled(ctx.employee.id, brief.id, ctx.now, opened_change(ctx, brief.id))
        )
    if not parsed.updates:
        status = BriefStatus.UNPARSED
    elif outcome.asked:  # this brief's own questions, not ones still open from before
        status = BriefStatus.PENDING
    else:
        status = BriefStatus.APPLIED
    await ctx.uow.briefs.set_status(brief.id, status)
    if ctx.services.recommender is not None and parsed.updates:
        ctx.services.recommender.notice()  # the history changed: similar customers and scores follow
    text, buttons = summary(outcome, unparsed=not parsed.updates)
    return [Reply(text, buttons=buttons)]
