"""The public pool (公海): a customer nobody has written a brief about for the stage's working days goes back to it
(its rep is told the day before), and any rep may claim it in chat, a few a day. Its history stays with it: the pool
is an owner of its own (an inactive employee, 公海), so briefs, stages and reports keep every row."""

from __future__ import annotations

from datetime import datetime, timedelta

from sales.leads import PoolRules
from sales.model import AuditEntry, Customer, Employee, Role
from sales.stages import Stage
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.delivery import notify
from usecases.format import fit
from usecases.services import Services
from usecases.stalls import start_of

POOL_ID = "POOL"
POOL_NAME = "公海"


async def pool_owner(uow: UnitOfWork) -> Employee:
    """The pool's own owner record, made once: inactive, so nothing is ever sent to it."""
    found = await uow.employees.get(POOL_ID)
    if found is None:
        found = Employee(id=POOL_ID, name=POOL_NAME, role=Role.REP, active=False)
        await uow.employees.add(found)
    return found


HANDED = ("pool.claim", "lead.reassign")  # the audit entries that give a customer to someone anew


def idle_days(customer: Customer, services: Services, now: datetime, handed: datetime | None = None) -> int:
    """Working days since the last brief about it, or since it entered its stage, or since it was last handed to its
    owner (claimed, reassigned), whichever is latest: a customer just claimed has its full time again."""
    tz = services.timezone
    last = max(
        customer.last_followup_at or customer.stage_entered_at,
        customer.stage_entered_at,
        handed or now.min.replace(tzinfo=tz),
    )
    return services.calendar.workdays_after(last.astimezone(tz).date(), now.astimezone(tz).date())


async def handed_at(uow: UnitOfWork, now: datetime, days: int = 400) -> dict[str, datetime]:
    """Per customer name, when it was last claimed or reassigned (the audit keeps it)."""
    out: dict[str, datetime] = {}
    for entry in await uow.audit.since(HANDED, now - timedelta(days=days)):
        name = entry.detail.get("customer")
        if isinstance(name, str):
            out[name] = max(out.get(name, entry.at), entry.at)
    return out


async def sweep(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> tuple[int, int]:
    """Each working day: warn the reps whose customers go back to the pool tomorrow, and return those whose days are
    up. (warned, returned)."""
    rules: PoolRules = services.pool
    today = now.astimezone(services.timezone).date()
    if not services.calendar.is_workday(today) or not any(rules.days.values()):
        return 0, 0
    warned = returned = 0
    async with uow_factory() as uow:
        staff = {e.id: e for e in await uow.employees.find()}
        handed = await handed_at(uow, now)
        stages = [s for s, n in rules.days.items() if n > 0 and not s.is_closed and s is not Stage.NEGOTIATION]
        for customer in await uow.customers.find(stages=stages):
            rep = staff.get(customer.owner_id)
            if customer.owner_id == POOL_ID or rep is None or customer.id is None:
                continue
            limit = rules.days[customer.stage]
            idle = idle_days(customer, services, now, handed.get(customer.name))
            if idle == limit - 1:
                text = (f"「{customer.name}」已经 {idle} 个工作日没有简报,明天会回到公海,别人就能领走。"
                        "发一条简报提到它就能留住。")  # fmt: skip
                warned += await notify(uow, rep, text, key=f"pool-warn:{customer.id}:{today}", now=now,
                                       platforms=services.platforms)  # fmt: skip
            elif idle >= limit:
                await pool_owner(uow)
                # only if it is still the rep's and no brief came since it was read: a brief at this very moment wins
                read = customer.last_followup_at or customer.stage_entered_at
                if not await uow.customers.change_owner(customer.id, rep.id, POOL_ID, followed_before=read):
                    continue
                await uow.audit.add(
                    AuditEntry(
                        at=now,
                        action="pool.return",
                        actor=None,
                        detail={"customer": customer.name, "from": rep.id, "days": idle},
                    )
                )
                text = f"「{customer.name}」{idle} 个工作日没有简报,已回到公海;想继续跟进就发「领取{customer.name}」。"
                await notify(uow, rep, text, key=f"pool-return:{customer.id}:{today}", now=now,
                             platforms=services.platforms)  # fmt: skip
                returned += 1
        await uow.commit()
    return warned, returned


async def claim(uow: UnitOfWork, services: Services, rep: Employee, name: str, now: datetime) -> str:
    """A rep takes a customer from the pool, within the day's limit; the answer in words."""
    if rep.role is not Role.REP:
        return "公海里的客户由销售领取;要分给某人,发「把XX分给某人」。"
    candidates = [c for c in await uow.customers.find(owner_ids=[POOL_ID]) if name in c.name]
    exact = [c for c in candidates if c.name == name] or candidates
    if not exact:
        return f"公海里没有「{name}」。发「公海」看看有哪些客户。"
    if len(exact) > 1:
        return f"公海里「{name}」对应好几个客户:{'、'.join(c.name for c in exact[:5])}。请带上全名再领一次。"
    customer = exact[0]
    assert customer.id is not None
    tz = services.timezone
    since = start_of(now.astimezone(tz).date(), tz)
    taken = await uow.audit.count("pool.claim", rep.id, since)
    if taken >= services.pool.claims_per_day:
        return f"你今天已经领了 {taken} 个,每天最多 {services.pool.claims_per_day} 个,明天再来。"
    if not await uow.customers.change_owner(customer.id, POOL_ID, rep.id):  # someone else was quicker
        return f"「{customer.name}」刚被别人领走了。发「公海」看看还有哪些。"
    await uow.audit.add(AuditEntry(at=now, action="pool.claim", actor=rep.id, detail={"customer": customer.name}))
    lead = await uow.leads.for_customer(customer.id or 0)
    if lead is not None:  # its first-response clock starts again, for the new owner
        lead.owner_id, lead.assigned_at, lead.first_response_at = rep.id, now, None
        await uow.leads.update(lead)
    left = services.pool.claims_per_day - taken - 1
    return f"已领取「{customer.name}」({customer.stage.label}),它的历史都还在。今天还能领 {left} 个。"


async def listing(uow: UnitOfWork, services: Services, now: datetime, limit: int = 15) -> str:
    """What is in the pool, the longest idle first (any rep may look)."""
    pooled = await uow.customers.find(owner_ids=[POOL_ID])
    if not pooled:
        return "公海里现在没有客户。"
    pooled.sort(key=lambda c: (-idle_days(c, services, now), c.name))
    lines = [f"公海里有 {len(pooled)} 个客户(发「领取+客户名」领走,每天最多 {services.pool.claims_per_day} 个):"]
    for c in pooled[:limit]:
        idle = idle_days(c, services, now)
        lines.append(f"· {c.name}({c.stage.label},{idle} 个工作日没有简报)")
    if len(pooled) > limit:
        lines.append(f"……还有 {len(pooled) - limit} 个")
    return fit(lines)
