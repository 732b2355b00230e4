"""Leads scored from what they did and handed to reps by the admin's rules; the rep hears of it in the chat."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sales.events import CustomerFollowedUp, Event
from sales.leads import (
    Assignment,
    Lead,
    LeadEvent,
    LeadScore,
    Learned,
    Level,
    Rep,
    assign,
    features,
    score,
    working_hours,
)
from sales.model import Customer, Employee, Role, StageChange
from sales.permissions import supervisors_of
from sales.stages import Stage
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.delivery import notify
from usecases.services import Services

PRIOR = (1, 10)  # a channel's conversion before its leads are known: 1 won of 10, pulled towards by few leads


def channel_rates(outcomes: dict[str, tuple[int, int]]) -> dict[str, float]:
    """Each channel's share of won among its assigned leads, smoothed towards PRIOR (few leads say little)."""
    won0, n0 = PRIOR
    return {c: (won + won0) / (n + n0) for c, (n, won) in outcomes.items()}


async def learned(uow: UnitOfWork, services: Services, rates: dict[str, float]) -> tuple[Learned, Learned] | None:
    """The models learnt from the leads that were handed out and then won or lost (their behaviour up to the
    hand-over); None while there are too few. Kept until a stage changes or another lead closes."""
    handed = [x for x in await uow.leads.find() if x.customer_id is not None and x.assigned_at is not None]
    version = (*await uow.stages.history_version(), len(handed))
    kept = services.lead_models
    if kept is not None and kept[0] == version:
        return kept[1]
    ids = [x.customer_id for x in handed if x.customer_id]
    customers = {c.id: c for c in await uow.customers.find(ids=ids if len(ids) <= 5000 else None)}
    closed = [x for x in handed if (c := customers.get(x.customer_id)) is not None and c.stage.is_closed]
    events = await uow.leads.events([x.id for x in closed if x.id is not None])
    by_lead: dict[int, list[LeadEvent]] = {}
    for e in events:
        by_lead.setdefault(e.lead_id, []).append(e)
    rules = services.leads.score
    outcomes = await uow.leads.channel_outcomes()

    def left_out(lead: Lead, won: bool) -> float:
        """The channel's rate without this lead's own outcome: a model must not learn from the answer."""
        n, wins = outcomes.get(lead.channel, (0, 0))
        return (wins - won + PRIOR[0]) / (max(n - 1, 0) + PRIOR[1])

    rows = []
    for x in closed:
        if x.assigned_at is None or x.customer_id is None:
            continue
        won = customers[x.customer_id].stage is Stage.WON
        rows.append((features(by_lead.get(x.id or 0, []), x.assigned_at, rules), left_out(x, won), won))
    from recommender.leadmodel import learn  # numpy: imported where first needed

    models = await asyncio.to_thread(learn, rows)
    services.lead_models = (version, models)
    return models


async def rescore(uow: UnitOfWork, services: Services, leads: Collection[Lead], now: datetime) -> dict[int, LeadScore]:
    """Score these leads from their events and their channel (by the models learnt from closed leads once there
    are enough, else by the admin's weights), and keep each score on the lead."""
    ids = [x.id for x in leads if x.id is not None]
    events = await uow.leads.events(ids)
    rates = channel_rates(await uow.leads.channel_outcomes())
    models = await learned(uow, services, rates)
    out: dict[int, LeadScore] = {}
    for lead in leads:
        assert lead.id is not None
        mine = [e for e in events if e.lead_id == lead.id]
        out[lead.id] = score(mine, now, services.leads.score, rates.get(lead.channel), models)
        if lead.score is None or abs(lead.score - out[lead.id].score) >= 0.05:
            lead.score = round(out[lead.id].score, 1)
            await uow.leads.update(lead)
    return out


@dataclass(frozen=True)
class Handed:
    lead: Lead
    assignment: Assignment
    score: LeadScore


async def assign_waiting(uow: UnitOfWork, services: Services, now: datetime) -> list[Handed]:
    """Every lead without a rep, best first: the top band to senior reps, the rest in turn, none past the cap. Each
    assigned lead becomes a customer in 意向初探 owned by the rep (a brief about it then stops the first-response
    clock), and the rep is told with the score's reasons."""
    waiting = await uow.leads.unassigned()
    if not waiting:
        return []
    scores = await rescore(uow, services, waiting, now)
    staff = await uow.employees.find(active_only=True)
    people = {e.id: e for e in staff}
    handed: list[Handed] = []
    ruled: list[Lead] = []
    for lead in waiting:  # an owner asked for in the file, or a customer already someone's: no rule needed
        customer = await uow.customers.by_name(lead.name)
        owner = customer.owner_id if customer is not None else lead.owner_id
        if owner is None or owner not in people:
            ruled.append(lead)
            continue
        why = "已经是该销售的客户" if customer is not None else "导入时指定了负责人"
        item = Assignment(lead.id or 0, owner, why)
        await _hand(uow, lead, owner, now)
        handed.append(Handed(lead, item, scores[lead.id or 0]))
        await _tell(uow, services, people[owner], lead, item, scores[lead.id or 0], now)
    if not ruled:
        return handed
    load: dict[str, int] = {}
    for total in await uow.customers.stage_totals():
        load[total.owner_id] = load.get(total.owner_id, 0) + total.count
    reps = [Rep(e.id, e.team, Level(e.seniority) if e.seniority in Level.__members__.values() else Level.JUNIOR,
                load.get(e.id, 0)) for e in staff if e.role is Role.REP]  # fmt: skip
    if not reps:
        return handed
    rules = services.leads
    in_turn = [x for x in await uow.leads.find(owner_ids=[r.id for r in reps])
               if x.score is None or x.score < rules.score.top_band]  # fmt: skip
    turn = len(in_turn) % len(reps)  # where the round went on to last time (the top band goes by load, not in turn)
    plan, _ = assign([(x.id, scores[x.id].score) for x in ruled if x.id is not None], reps,
                     top_band=rules.score.top_band, cap=rules.cap, turn=turn)  # fmt: skip
    waiting = ruled
    by_id = {x.id: x for x in waiting}
    for item in plan:
        lead = by_id[item.lead_id]
        if item.rep_id is None:
            continue
        await _hand(uow, lead, item.rep_id, now)
        handed.append(Handed(lead, item, scores[item.lead_id]))
        await _tell(uow, services, people[item.rep_id], lead, item, scores[item.lead_id], now)
    return handed


async def _tell(
    uow: UnitOfWork, services: Services, rep: Employee, lead: Lead, item: Assignment, scored: LeadScore, now: datetime
) -> None:
    text = (f"新线索「{lead.name}」分给你了(来源:{lead.channel}"
            + (f",联系人:{lead.contact}" if lead.contact else "") + f")。\n{scored.line()}\n"
            f"分配原因:{item.why}。联系后发一条简报提到它,就算首次响应。")  # fmt: skip
    await notify(uow, rep, text, key=f"lead:{lead.id}:{rep.id}", now=now, platforms=services.platforms)


async def _hand(uow: UnitOfWork, lead: Lead, rep_id: str, now: datetime) -> None:
    """The lead is the rep's: a customer of the same name (new, in 意向初探) that briefs can name."""
    customer = await uow.customers.by_name(lead.name)
    if customer is None:  # entered 意向初探 now, in the stage history as every new customer (the funnel counts it)
        customer = await uow.customers.add(Customer(name=lead.name, owner_id=rep_id, stage=Stage.INITIAL,
                                                    stage_entered_at=now, created_at=now))  # fmt: skip
        assert customer.id is not None
        await uow.stages.add(StageChange(customer.id, None, Stage.INITIAL, now, rep_id))
    lead.owner_id, lead.assigned_at, lead.customer_id = rep_id, now, customer.id
    await uow.leads.update(lead)


async def reassign(uow: UnitOfWork, services: Services, customer: Customer, rep: Employee, now: datetime) -> str:
    """A customer (and its lead, if it came as one) to another rep: the first-response clock starts again for them.
    What to tell the new rep about the lead."""
    customer.owner_id = rep.id
    await uow.customers.update(customer)
    lead = await uow.leads.by_name(customer.name)
    if lead is None:
        return ""
    lead.owner_id, lead.assigned_at, lead.customer_id = rep.id, now, customer.id
    lead.first_response_at = None
    await uow.leads.update(lead)
    scored = (await rescore(uow, services, [lead], now)).get(lead.id or 0)
    return scored.line() if scored else ""


async def on_event(uow: UnitOfWork, services: Services, event: Event) -> int:
    """The first brief about a lead stops its first-response clock (the time is kept on the lead)."""
    if not isinstance(event, CustomerFollowedUp):
        return 0
    lead = await uow.leads.for_customer(event.customer_id)
    if lead is None or lead.first_response_at is not None or lead.assigned_at is None:
        return 0
    lead.first_response_at = max(event.at, lead.assigned_at)
    await uow.leads.update(lead)
    return 0


async def hand_out_waiting(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> int:
    """Leads that waited because every rep was at the cap go out as soon as someone has room (the job runs with the
    first-response ladder); how many went."""
    async with uow_factory() as uow:
        if not await uow.leads.unassigned():
            return 0
        handed = await assign_waiting(uow, services, now)
        await uow.commit()
    return len(handed)


async def response_ladder(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> int:
    """Leads handed out and not yet mentioned in a brief: after ``response_hours`` working hours the rep is reminded,
    after twice that their supervisor hears of it with the rep copied; each once per hand-over (the outbox's key).
    How many messages were queued."""
    rules, tz = services.leads, services.timezone
    sent = 0
    async with uow_factory() as uow:
        waiting = await uow.leads.waiting_for_contact()
        if not waiting:
            return 0
        staff = await uow.employees.find()
        people = {e.id: e for e in staff}
        for lead in waiting:
            rep = people.get(lead.owner_id or "")
            if rep is None or lead.assigned_at is None or not rep.active:
                continue
            hours = working_hours(lead.assigned_at, now, services.calendar.is_workday, tz, rules.day)
            if hours < rules.response_hours:
                continue
            handed = lead.assigned_at.astimezone(tz)
            when = f"{handed.month}月{handed.day}日 {handed:%H:%M}"
            key = f"lead-response:{lead.id}:{lead.assigned_at.isoformat()}"
            text = (f"线索「{lead.name}」{when}分给你,已过 {hours:.0f} 个工作小时还没有跟进记录。"
                    "联系后发一条简报提到它。")  # fmt: skip
            sent += await notify(uow, rep, text, key=f"{key}:1", now=now, platforms=services.platforms)
            if hours < 2 * rules.response_hours:
                continue
            for boss in supervisors_of(rep, staff):
                note = (f"{rep.name}的线索「{lead.name}」{when}分配,已过 {hours:.0f} 个工作小时还没有首次跟进"
                        f"(已提醒本人)。")  # fmt: skip
                sent += await notify(uow, boss, note, key=f"{key}:2:{boss.id}", now=now, platforms=services.platforms)
            sent += await notify(uow, rep, f"线索「{lead.name}」还没有跟进,已告知主管。", key=f"{key}:2:cc",
                                 now=now, platforms=services.platforms)  # fmt: skip
        await uow.commit()
    return sent
