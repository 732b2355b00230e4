"""The ``customer`` query: one customer's state and its last five updates."""

from __future__ import annotations

from handlers.format import day, fit
from handlers.intake import CONFIDENCE_LABEL
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from sales.permissions import may_see
from sales.values import wan

router = Router("customers")


@router.message(query_is("customer"))
async def customer_state(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None and ctx.parsed is not None
    name = ctx.parsed.customer
    if not name:
        return [Reply("想查哪个客户?带上客户名称问我,例如「天成建材现在到哪一步了」。")]
    customer = await ctx.uow.customers.by_name(name)
    if customer is None or customer.id is None:
        return [Reply(f"没有找到客户「{name}」。")]
    owner = await ctx.uow.employees.get(customer.owner_id)
    if not may_see(ctx.employee, owner):
        who = owner.name if owner else customer.owner_id
        return [Reply(f"「{customer.name}」由 {who} 负责,你看不到它的详情;需要的话请联系 {who} 或主管。")]
    tz = ctx.services.timezone
    entered = customer.stage_entered_at.astimezone(tz).date()
    days = (ctx.now.astimezone(tz).date() - entered).days
    lines = [
        f"{customer.name}(负责人 {owner.name if owner else customer.owner_id})",
        f"阶段:{customer.stage.label},已 {days} 天(自 {day(entered)})",
    ]
    if customer.next_action or customer.next_action_date:
        lines.append(f"下一步:{customer.next_action or '—'} {day(customer.next_action_date)}")
    facts = []
    if customer.expected_close:
        facts.append(f"{'签约' if customer.stage.value == 'won' else '预计签约'} {day(customer.expected_close)}")
    if customer.amount is not None:
        facts.append(f"金额 {wan(customer.amount)}")
    if customer.confidence:
        facts.append(f"把握 {CONFIDENCE_LABEL[customer.confidence.value]}")
    if facts:
        lines.append(" · ".join(facts))
    if ctx.services.recommender is not None and not customer.stage.is_closed:
        score = await ctx.services.recommender.score(customer.name, ctx.uow)
        if score is not None:
            lines.append(f"赢单概率:{score.probability:.0%}(" + ";".join(score.reasons[:2]) + ")")
    history = await ctx.uow.briefs.for_customer(customer.id, limit=5)
    if history:
        lines.append("最近的跟进:")
        for brief in history:
            sender = await ctx.uow.employees.get(brief.sender_id)
            when = brief.received_at.astimezone(tz)
            text = brief.text if len(brief.text) <= 60 else brief.text[:60] + "…"
            lines.append(f"· {when.month}月{when.day}日 {sender.name if sender else brief.sender_id}:{text}")
    return [Reply(fit(lines))]
