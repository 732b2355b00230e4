"""The ``customer`` query (one customer's state and its last five updates) and ``customers`` (a rep's list)."""

from __future__ import annotations

from handlers.intake import CONFIDENCE_LABEL
from handlers.messages import Button, Incoming, Reply
from handlers.routing import Context, Router, query_is
from sales.model import Customer, Role
from sales.permissions import may_see, named_colleague
from sales.stages import Stage
from sales.values import wan
from usecases.format import day, fit, win_line

router = Router("customers")
# A button's words: a question the parser reads as the same kind about the chosen customer.
ASK_AGAIN = {"customer": "{name}现在什么情况", "recommend": "{name}下一步怎么推进"}


MAX_CHOICES = 5


async def which_one(ctx: Context, kind: str, candidates: tuple[str, ...]) -> list[Reply] | None:
    """A question whose short name fits several customers: ask which one, with a button each.

    Only the customers the asker may see are offered, their own first, at most five.
    """
    if not candidates:
        return None
    assert ctx.employee is not None
    ranked: list[tuple[int, str]] = []
    for name in candidates:
        customer = await ctx.uow.customers.by_name(name)
        owner = await ctx.uow.employees.get(customer.owner_id) if customer else None
        if customer is not None and may_see(ctx.employee, owner):
            ranked.append((0 if customer.owner_id == ctx.employee.id else 1, name))
    if not ranked:
        return [Reply("这个简称对应的客户你都看不到。带上全名再问一次,或问问负责的同事。")]
    shown = [name for _, name in sorted(ranked)][:MAX_CHOICES]
    template = ASK_AGAIN.get(kind, "{name}现在什么情况")
    listed = " ".join(f"{i}. {name}" for i, name in enumerate(shown, start=1))
    more = f"(另有 {len(ranked) - len(shown)} 个,请带上更全的名称)" if len(ranked) > len(shown) else ""
    # A button's label is the words to type where the platform has no buttons.
    buttons = tuple(Button(template.format(name=name), template.format(name=name)) for name in shown)
    return [Reply(f"你问的是哪一个?{listed}{more}(点一下,或带上全名再问一次)", buttons=buttons)]


@router.message(query_is("customer"))
async def customer_state(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None and ctx.parsed is not None
    name = ctx.parsed.customer
    ask = await which_one(ctx, "customer", ctx.parsed.candidates)
    if ask is not None:
        return ask
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
        score = await ctx.services.recommender.score(customer.name)
        if score is not None:
            lines.append(win_line(score, reasons=2))
    history = await ctx.uow.briefs.for_customer(customer.id, limit=5)
    if history:
        lines.append("最近的跟进:")
        for brief in history:
            sender = await ctx.uow.employees.get(brief.sender_id)
            when = brief.received_at.astimezone(tz)
            text = brief.text if len(brief.text) <= 60 else brief.text[:60] + "…"
            lines.append(f"· {when.month}月{when.day}日 {sender.name if sender else brief.sender_id}:{text}")
    return [Reply(fit(lines))]


@router.message(query_is("customers"))
async def customer_list(message: Incoming, ctx: Context) -> list[Reply]:
    """Whose customers: the asker's, or a colleague named in the question if the asker may see theirs."""
    assert ctx.employee is not None
    asker = ctx.employee
    staff = await ctx.uow.employees.find()
    other = named_colleague(message.text, staff, asker)
    if other is not None and (asker.role is Role.REP or not may_see(asker, other)):
        return [Reply(f"{other.name}的客户只有本人和所在团队的主管能看。发「我的客户」看你自己的。")]
    owner = other or asker
    customers = await ctx.uow.customers.find(owner_ids=[owner.id])
    who = "你" if owner is asker else owner.name
    if not customers:
        return [Reply(f"{who}名下还没有客户。")]
    return [Reply(fit(render_list(who, customers)))]


def render_list(who: str, customers: list[Customer]) -> list[str]:
    """Open customers by stage (latest stage first, the next step beside each), then the closed ones counted."""
    open_ = [c for c in customers if not c.stage.is_closed]
    lines = [f"{who}名下有 {len(customers)} 个客户,跟进中 {len(open_)} 个:"]
    for stage in reversed([s for s in Stage if not s.is_closed]):
        here = sorted((c for c in open_ if c.stage is stage), key=lambda c: c.next_action_date or c.created_at.date())
        if not here:
            continue
        lines.append(f"{stage.label}({len(here)}):")
        for c in here:
            step = f" · 下一步 {c.next_action or '跟进'} {day(c.next_action_date)}" if c.next_action_date else ""
            lines.append(f"· {c.name}{step}")
    won = sum(1 for c in customers if c.stage is Stage.WON)
    lost = sum(1 for c in customers if c.stage is Stage.LOST)
    if won or lost:
        lines.append(f"已成交 {won} 个,已流失 {lost} 个。")
    return lines
