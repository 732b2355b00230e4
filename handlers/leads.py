"""``把XX分给李娜``: a supervisor (or an admin) hands a lead or a customer to another rep of theirs."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router
from nlu.intents import CHANNEL_REPORT, POOL_CLAIM, POOL_LIST, REASSIGN
from sales.model import AuditEntry, Role
from sales.months import month_key
from sales.permissions import may_update, named_colleague
from usecases.channels import build_channels, months_label, render_channels
from usecases.delivery import notify
from usecases.leads import reassign
from usecases.pool import POOL_ID, claim, listing
from usecases.stalls import visible_owners

router = Router("leads")


def _asked(m: Incoming, ctx: Context) -> bool:
    return ctx.employee is not None and ctx.employee.role is not Role.REP and REASSIGN.match(m.text.strip()) is not None


@router.message(lambda m, ctx: ctx.employee is not None and CHANNEL_REPORT.match(m.text.strip()) is not None)
async def channel_report(message: Incoming, ctx: Context) -> list[Reply]:
    """Marketing's and sales' shared numbers: supervisors and admins (a rep's own leads are in their customer list)."""
    assert ctx.employee is not None
    if ctx.employee.role is Role.REP:
        return [Reply("渠道效果给主管和管理员看;你自己的线索在「我的客户」里。")]
    today = ctx.now.astimezone(ctx.services.timezone).date()
    months = [month_key(today)] if "本月" in message.text else None
    lines = await build_channels(ctx.uow, ctx.services, months)
    return [Reply(render_channels(lines, months_label(months)))]


@router.message(lambda m, ctx: ctx.employee is not None and POOL_LIST.match(m.text.strip()) is not None)
async def pool_list(message: Incoming, ctx: Context) -> list[Reply]:
    return [Reply(await listing(ctx.uow, ctx.services, ctx.now))]


@router.message(lambda m, ctx: ctx.employee is not None and POOL_CLAIM.match(m.text.strip()) is not None)
async def pool_claim(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    match = POOL_CLAIM.match(message.text.strip())
    assert match is not None
    return [Reply(await claim(ctx.uow, ctx.services, ctx.employee, match["name"], ctx.now))]


@router.message(_asked)
async def hand_over(message: Incoming, ctx: Context) -> list[Reply] | None:
    assert ctx.employee is not None
    match = REASSIGN.match(message.text.strip())
    assert match is not None
    staff = await ctx.uow.employees.find()
    target = named_colleague(match["who"], staff, ctx.employee)
    if target is None or target.role is not Role.REP or not target.active:
        return None  # not a colleague's name: some other message (a brief that says 交给…)
    if not may_update(ctx.employee, target):
        return [Reply(f"{target.name}不在你的团队,不能分给他/她。")]
    owners = await visible_owners(ctx.uow, ctx.employee)  # another team's customers are not even named
    mine = sorted({*owners, POOL_ID}) if owners is not None else None  # the pool's are anyone's to hand out
    names = [c for c in await ctx.uow.customers.find(owner_ids=mine) if match["what"] in c.name]
    exact = [c for c in names if c.name == match["what"]]
    found = exact or names
    if not found:
        return [Reply(f"没有找到「{match['what']}」这个线索或客户,请带上全名再说一次。")]
    if len(found) > 1:
        listed = "、".join(c.name for c in found[:5])
        return [Reply(f"「{match['what']}」对应好几个客户:{listed}。请带上全名再说一次。")]
    customer = found[0]
    owner = next((e for e in staff if e.id == customer.owner_id), None)
    if customer.owner_id != POOL_ID and not may_update(ctx.employee, owner):
        return [Reply(f"「{customer.name}」不在你的团队,不能改派。")]
    if customer.owner_id == target.id:
        return [Reply(f"「{customer.name}」本来就是{target.name}在跟。")]
    previous = customer.owner_id  # before the hand-over changes it
    note = await reassign(ctx.uow, ctx.services, customer, target, ctx.now)
    detail = {"customer": customer.name, "from": previous, "to": target.id}
    await ctx.uow.audit.add(AuditEntry(at=ctx.now, action="lead.reassign", actor=ctx.employee.id, detail=detail))
    if owner is not None and owner.id != ctx.employee.id:
        await notify(ctx.uow, owner, f"「{customer.name}」已由{ctx.employee.name}改派给{target.name},你不用再跟进了。",
                     key=f"reassign:{customer.id}:{ctx.now.isoformat()}:from", now=ctx.now,
                     platforms=ctx.services.platforms)  # fmt: skip
    await notify(ctx.uow, target, f"{ctx.employee.name}把「{customer.name}」分给你了。{note}",
                 key=f"reassign:{customer.id}:{ctx.now.isoformat()}:to", now=ctx.now,
                 platforms=ctx.services.platforms)  # fmt: skip
    was = owner.name if owner else previous
    return [Reply(f"已把「{customer.name}」从{was}改派给{target.name},已通知双方。")]
