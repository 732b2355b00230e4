"""The ``recommend`` query: how customers like this one were won, for one the asker may see."""

from __future__ import annotations

from handlers.customers import which_one
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from nlu.intents import refers_back
from sales.permissions import may_see
from usecases.recommend import render
from usecases.stalls import visible_owners

router = Router("recommend")


@router.message(query_is("recommend"))
async def recommend(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None and ctx.parsed is not None
    recommender = ctx.services.recommender
    if recommender is None:
        return [Reply("推进建议暂时不可用。")]
    ask = await which_one(ctx, "recommend", ctx.parsed.candidates)
    if ask is not None:
        return ask
    name = ctx.parsed.customer
    if not name and refers_back(message.text):  # 这个客户怎么推进: the one of the asker's last brief
        name = await _last_talked_about(ctx)
    if not name:
        return [Reply("想问哪个客户?例如「天成建材这类客户怎么推进」。")]
    customer = await ctx.uow.customers.by_name(name)
    if customer is None:
        return [Reply(f"没有找到客户「{name}」。")]
    owner = await ctx.uow.employees.get(customer.owner_id)
    if not may_see(ctx.employee, owner):
        return [Reply(f"「{customer.name}」不是你能查看的客户。")]
    owners = await visible_owners(ctx.uow, ctx.employee)
    rec = await recommender.recommend(customer.name, lambda owner_id: owners is None or owner_id in owners)
    if rec is None:
        return [Reply("推进建议还在准备中,请稍后再问。")]
    return [Reply(render(rec))]


async def _last_talked_about(ctx: Context) -> str | None:
    """The first customer of the asker's latest brief, for "这个客户怎么推进"."""
    assert ctx.employee is not None
    for brief in reversed(await ctx.uow.briefs.by_sender(ctx.employee.id)):
        updates = (brief.parse_result or {}).get("updates") or []
        if updates and not updates[0].get("candidates"):
            return str(updates[0]["customer"])
    return None
