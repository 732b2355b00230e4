"""The channel report (渠道效果, `genjin report channels`): leads, qualified, won, CAC and LTV per channel, each
by its one definition (``sales.metrics``), which the answer names."""

from __future__ import annotations

from sales.leads import working_hours
from sales.metrics import BY_KEY, ChannelLine, LeadOutcome, channels
from sales.months import month_key
from sales.stages import Stage
from sales.values import wan
from store.repositories import UnitOfWork
from usecases.format import fit
from usecases.services import Services

MAX_IDS = 5000


async def build_channels(uow: UnitOfWork, services: Services, months: list[str] | None = None) -> list[ChannelLine]:
    """Every lead (those received in ``months`` when given) by its channel, with the spend of those months."""
    tz, rules = services.timezone, services.leads
    leads = [x for x in await uow.leads.find()
             if months is None or month_key(x.received_at.astimezone(tz).date()) in months]  # fmt: skip
    ids = [x.customer_id for x in leads if x.customer_id is not None]
    wanted = ids if len(ids) <= MAX_IDS else None  # a long list is read whole (PostgreSQL takes 32,767 parameters)
    customers = {c.id: c for c in await uow.customers.find(ids=wanted)} if ids else {}
    handed = {x.customer_id: x.assigned_at for x in leads if x.customer_id is not None and x.assigned_at is not None}
    reached: dict[int, set[Stage]] = {}
    for change in await uow.stages.everything(wanted) if ids else []:
        since = handed.get(change.customer_id)
        if since is not None and change.changed_at >= since:  # what happened after the lead was handed out
            reached.setdefault(change.customer_id, set()).add(change.to_stage)
    outcomes = []
    for lead in leads:
        customer = customers.get(lead.customer_id) if lead.customer_id is not None else None
        if (
            customer is not None
            and customer.closed_at is not None
            and lead.assigned_at is not None
            and customer.closed_at < lead.assigned_at
        ):  # closed before this lead came: not its outcome
            customer = None  # fmt: skip
        stages = frozenset(reached.get(lead.customer_id or 0, set()) | ({customer.stage} if customer else set()))
        response = (
            working_hours(lead.assigned_at, lead.first_response_at, services.calendar.is_workday, tz, rules.day)
            if lead.assigned_at is not None and lead.first_response_at is not None
            else None
        )
        cycle = (
            (customer.closed_at.astimezone(tz).date() - lead.received_at.astimezone(tz).date()).days
            if customer is not None and customer.stage is Stage.WON and customer.closed_at is not None
            else None
        )
        cycle = cycle if cycle is None or cycle >= 0 else None
        outcomes.append(LeadOutcome(lead.channel, stages, customer.stage if customer else None,
                                    customer.amount if customer else None, response, cycle))  # fmt: skip
    return channels(outcomes, await uow.leads.spend(months))


def as_json(lines: list[ChannelLine]) -> list[dict[str, object]]:
    def money(value: object) -> str | None:
        return None if value is None else str(value)

    return [{
        "channel": x.channel, "leads": x.leads, "qualified": x.qualified, "won": x.won, "lost": x.lost,
        "win_rate": None if x.win_rate is None else round(x.win_rate, 4), "spend": str(x.spend),
        "cac": money(x.cac), "ltv": money(x.ltv), "revenue": str(x.revenue),
        "median_first_response_hours": None if x.median_response is None else round(x.median_response, 1),
        "median_cycle_days": x.median_cycle,
    } for x in lines]  # fmt: skip


def render_channels(lines: list[ChannelLine], when: str) -> str:
    """Short, with the definitions it used named (the full text: docs/metrics.md)."""
    if not lines:
        return "还没有线索。用 `genjin import leads` 导入,或让网站推送到 /api/events。"
    out = [f"渠道效果({when}):"]
    for x in lines:
        rate = f",赢单率 {x.win_rate:.0%}" if x.win_rate is not None else ""
        cac = f",获客成本 {wan(x.cac)}" if x.cac is not None else ""
        ltv = f",LTV {wan(x.ltv)}" if x.ltv is not None else ""
        speed = f",首次响应中位 {x.median_response:.1f} 工作小时" if x.median_response is not None else ""
        out.append(f"· {x.channel}:线索 {x.leads},合格 {x.qualified},成交 {x.won}{rate}{cac}{ltv}{speed}")
    names = "、".join(
        f"{BY_KEY[k].name}={BY_KEY[k].formula.split(' = ', 1)[1]}" for k in ("qualified_lead", "cac", "ltv")
    )
    out.append(f"口径:{names}(全文见 docs/metrics.md)")
    return fit(out)


def months_label(months: list[str] | None) -> str:
    return "全部时间" if not months else "、".join(months)
