"""Quotes from a request: the lines priced from the list in force, numbered (a revision keeps its number), held for
approval when the discount passes the limits, and made into documents once final."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from nlu.quotes import Catalog, Item, Request
from sales.model import Customer, Employee, Role
from sales.quotes import (
    Approval,
    Discount,
    DiscountKind,
    Product,
    Quote,
    QuoteLine,
    QuoteRules,
    QuoteStatus,
    approval,
    capitals,
    current,
    number,
    totals,
)
from store.errors import ConflictError
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases import quote_docs
from usecases.delivery import notify
from usecases.services import Services


async def price_list(uow: UnitOfWork, on: date) -> tuple[dict[str, Product], Catalog]:
    """The products in force on ``on`` by code, and the catalog requests are read against."""
    products = {p.code: p for p in current(await uow.quotes.products(), on)}
    return products, Catalog([Item(p.code, p.name, p.unit, p.aliases) for p in products.values()])


def valid_until(request: Request, today: date, rules: QuoteRules) -> date:
    if request.valid_until is not None:
        try:
            return date(*request.valid_until)
        except ValueError:
            pass
    return today + timedelta(days=request.valid_days or rules.valid_days)


def discount_of(request: Request) -> Discount | None:
    if request.rate is not None:
        return Discount(DiscountKind.RATE, request.rate)
    if request.off is not None:
        return Discount(DiscountKind.AMOUNT, request.off)
    return None


async def approver(uow: UnitOfWork, rep: Employee, level: Approval, *, after: str | None = None) -> Employee | None:
    """Who approves next: the rep's supervisor first; for an admin-level quote an active admin after them (the
    first by id). None when nobody is there to ask (the quote then waits for any admin)."""
    staff = {e.id: e for e in await uow.employees.find(active_only=True)}
    supervisor = staff.get(rep.supervisor_id or "")
    admins = sorted((e for e in staff.values() if e.role is Role.ADMIN and e.id != rep.id), key=lambda e: e.id)
    chain = [supervisor] if supervisor is not None and supervisor.id != rep.id else []
    if level is Approval.ADMIN or not chain:
        chain += [a for a in admins if a not in chain][:1]
    if after is None:
        return chain[0] if chain else None
    ids = [e.id for e in chain]
    return chain[ids.index(after) + 1] if after in ids and ids.index(after) + 1 < len(ids) else None


def amended(previous: Quote, lines: list[QuoteLine], request: Request) -> tuple[list[QuoteLine], Request]:
    """A revision that changes part of the last version (改成5台, 其余不变, 去掉实施服务): its lines with the
    quantities given now, the new products added, the removed ones gone; its discount, validity and payment terms
    unless given again."""
    given = {x.code: x for x in lines}
    merged = [given.pop(x.code, x) for x in previous.lines if x.code not in request.removed] + list(given.values())
    if request.rate is None and request.off is None and previous.discount is not None:
        kind = previous.discount.kind
        request.rate = previous.discount.value if kind is DiscountKind.RATE else None
        request.off = previous.discount.value if kind is DiscountKind.AMOUNT else None
    if request.payment_terms is None:
        request.payment_terms = previous.payment_terms
    if request.valid_days is None and request.valid_until is None:
        request.valid_days = max((previous.valid_until - previous.created_at.date()).days, 1)
    return merged, request


async def create(
    uow: UnitOfWork,
    rules: QuoteRules,
    rep: Employee,
    customer: Customer,
    lines: list[QuoteLine],
    request: Request,
    now: datetime,
    today: date,
) -> Quote:
    """A new quote version: the customer's open quote number again (a revision) unless its deal closed since, else
    the year's next number. Numbered again when another request took the number at the same moment."""
    assert customer.id is not None
    latest = await uow.quotes.latest(customer.id)
    discount = discount_of(request)
    figures = totals(lines, discount)
    level, why = approval(figures, rules.admin_rate)
    for _ in range(5):
        revision = latest is not None and not (
            customer.closed_at is not None and customer.closed_at > latest.created_at
        )
        if revision and latest is not None:
            label, version = latest.number, latest.version + 1
        else:
            label, version = number(today.year, await uow.quotes.next_serial(today.year)), 1
        quote = Quote(label, version, customer.id, customer.name, rep.id, tuple(lines), discount,
                      valid_until(request, today, rules), request.payment_terms, now,
                      status=QuoteStatus.PENDING if level is not Approval.NONE else QuoteStatus.SENT,
                      approval=level, note=";".join(why) or None, total=figures.total)  # fmt: skip
        if level is not Approval.NONE:
            first = await approver(uow, rep, level)
            quote.waiting_for = first.id if first else None
        try:
            added = await uow.quotes.add(quote)
        except ConflictError:
            latest = await uow.quotes.latest(customer.id)
            continue
        for older in await uow.quotes.versions(added.number):  # a waiting older version can no longer be approved
            if older.status is QuoteStatus.PENDING and older.id != added.id:
                waiting = older.waiting_for
                older.status, older.waiting_for = QuoteStatus.SUPERSEDED, None
                older.note = f"已被第{added.version}版取代"
                await uow.quotes.decide(older, QuoteStatus.PENDING, waiting)
        return added
    raise ConflictError("quote number taken five times")


async def documents(uow: UnitOfWork, rules: QuoteRules, quote: Quote) -> tuple[bytes | None, bytes]:
    """Make and keep the PDF and the XLSX of a final quote (in a thread: a PDF takes a quarter of a second)."""
    assert quote.id is not None
    rep = await uow.employees.get(quote.rep_id)
    pdf, xlsx = await asyncio.to_thread(lambda: (quote_docs.pdf(quote, rules, rep), quote_docs.xlsx(quote, rules, rep)))
    await uow.quotes.put_files(quote.id, pdf, xlsx)
    return pdf, xlsx


def summary(quote: Quote) -> str:
    """The quote in a few lines: each line, subtotal, discount, tax and the total in figures and capitals."""
    f = quote.figures()
    lines = [f"报价单 {quote.label}|{quote.customer_name}"]
    for i, t in enumerate(f.lines, start=1):
        lines.append(f"{i}. {t.line.name} {t.line.quantity.normalize():f}{t.line.unit} × {t.line.list_price:,.2f}"
                     f" = {t.amount:,.2f}")  # fmt: skip
    lines.append(f"小计 {f.subtotal:,.2f} 元(不含税)")
    if f.discount:
        assert quote.discount is not None
        lines.append(f"{quote.discount.words(f.discount)}:-{f.discount:,.2f}")
    lines.append(f"税额 {f.tax:,.2f}")
    lines.append(f"合计 ¥{f.total:,.2f}({capitals(f.total)})")
    lines.append(f"有效期至 {quote.valid_until.isoformat()}" + (f";付款:{quote.payment_terms}"
                                                               if quote.payment_terms else ""))  # fmt: skip
    return "\n".join(lines)


async def decide(
    uow: UnitOfWork, quote: Quote, by: Employee, approve: bool, reason: str | None
) -> tuple[str, Employee | None]:
    """An approver's answer: ``rejected``, ``approved`` (final), ``passed`` (to the admin, returned) or ``stale``
    (decided meanwhile, or not theirs to decide)."""
    if quote.status is not QuoteStatus.PENDING or not may_decide(quote, by):
        return "stale", None
    was = quote.waiting_for
    if not approve:
        quote.status, quote.decided_by = QuoteStatus.REJECTED, by.id
        quote.note = (reason or "").strip() or quote.note
        return ("rejected" if await uow.quotes.decide(quote, QuoteStatus.PENDING, was) else "stale"), None
    rep = await uow.employees.get(quote.rep_id)
    following = None
    if quote.approval is Approval.ADMIN and by.role is not Role.ADMIN and rep is not None:
        following = await approver(uow, rep, Approval.ADMIN, after=by.id)
    if following is not None:
        quote.waiting_for, quote.decided_by = following.id, by.id
        return ("passed" if await uow.quotes.decide(quote, QuoteStatus.PENDING, was) else "stale"), following
    quote.status, quote.decided_by, quote.waiting_for = QuoteStatus.SENT, by.id, None
    return ("approved" if await uow.quotes.decide(quote, QuoteStatus.PENDING, was) else "stale"), None


def may_decide(quote: Quote, by: Employee) -> bool:
    """The approver it waits for, or an admin; never the quote's own rep (an admin's own quote waits for another)."""
    if by.id == quote.rep_id:
        return False
    return by.id == quote.waiting_for or by.role is Role.ADMIN


async def remind_approvers(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> int:
    """On working days, each approver hears of the quotes that have waited for them since an earlier day (a quote
    nobody was assigned to goes to every admin); how many were told."""
    today = now.astimezone(services.timezone).date()
    if not services.calendar.is_workday(today):
        return 0
    told = 0
    async with uow_factory() as uow:
        waiting = [q for q in await uow.quotes.pending() if q.created_at.astimezone(services.timezone).date() < today]
        if not waiting:
            return 0
        staff = await uow.employees.find(active_only=True)
        admins = [e.id for e in staff if e.role is Role.ADMIN]
        by_approver: dict[str, list[Quote]] = {}
        for q in waiting:
            for who in [q.waiting_for] if q.waiting_for else [a for a in admins if a != q.rep_id]:
                by_approver.setdefault(who, []).append(q)
        names = {e.id: e.name for e in staff}
        for approver in staff:
            mine = by_approver.get(approver.id)
            if not mine:
                continue
            lines = [f"有 {len(mine)} 份报价在等你审批:"]
            for q in mine:
                days = services.calendar.workdays_after(q.created_at.astimezone(services.timezone).date(), today)
                lines.append(f"· {q.label} {q.customer_name} ¥{q.total:,.2f}({names.get(q.rep_id, q.rep_id)},"
                             f"已等 {days} 个工作日):{q.note or ''}")  # fmt: skip
            lines.append(f"回复「批准 {mine[0].number}」或「驳回 {mine[0].number} 原因」")
            told += await notify(uow, approver, "\n".join(lines), key=f"quote-approvals:{today}:{approver.id}",
                                 now=now, platforms=services.platforms)  # fmt: skip
        await uow.commit()
    return told
