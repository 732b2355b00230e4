"""Friday standup: opening it in the group, collecting answers, closing with a summary.

The answers arrive by direct message or by @-ing the bot in the group; both come here.
"""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router
from nlu.standup import parse_standup
from sales.events import StandupAnswered
from sales.model import StandupEntry

router = Router("standup")


@router.message(lambda m, ctx: m.kind == "text" and ctx.employee is not None and ctx.employee.team is not None)
async def answer(message: Incoming, ctx: Context) -> list[Reply] | None:
    """A member's 本周完成 / 阻塞 / 下周计划, while this week's standup is open (or late, after it)."""
    assert ctx.employee is not None and ctx.employee.team is not None
    parsed = parse_standup(message.text)
    if parsed is None:
        return None
    standup = await ctx.uow.standups.latest(ctx.employee.team)
    today = ctx.now.astimezone(ctx.services.timezone).date()
    if standup is None or standup.id is None or (today - standup.day).days > 3:
        return None
    late = standup.closed_at is not None or ctx.now > standup.closes_at
    await ctx.uow.standups.answer(StandupEntry(
        standup.id, ctx.employee.id, parsed.done, parsed.blockers, parsed.plans, ctx.now, late=late,
        via="group" if message.is_group else "dm",
    ))  # fmt: skip
    if late:
        return [Reply("站会已经结束,你的回答已记下,会放进主管的下一份周报。")]
    earned = await ctx.publish(StandupAnswered(ctx.employee.id, standup.id, ctx.now))
    bonus = f"积分 +{earned}" if earned else ""
    return [Reply("收到,已记入本周站会。" + ("阻塞会转给主管。" if parsed.blockers else "") + bonus)]
