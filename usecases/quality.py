"""The monthly data-quality review: what makes the numbers wrong, counted, with the first few examples, for the
admins on the first working day of the month (and `genjin report quality` any time)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from nlu.names import parse_name
from sales.model import Customer, Employee, Role
from sales.stages import OPEN_STAGES, Stage
from sales.values import wan
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.delivery import notify
from usecases.format import fit
from usecases.pool import POOL_ID
from usecases.services import Services

EXAMPLES = 3
ORDER = {s: i for i, s in enumerate(OPEN_STAGES)} | {Stage.WON: len(OPEN_STAGES)}
NEEDS_AMOUNT = (Stage.DEMO, Stage.NEGOTIATION)  # by a demo a deal has a size
NEEDS_CLOSE = (Stage.NEGOTIATION,)  # in negotiation it has an expected close
OUTLIER_FENCE = 3.0  # interquartile ranges beyond the quartiles, on the log of the amount


@dataclass
class Finding:
    title: str
    examples: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, example: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(example)


@dataclass
class Review:
    findings: list[Finding]

    @property
    def clean(self) -> bool:
        return all(f.count == 0 for f in self.findings)

    def as_json(self) -> list[dict[str, object]]:
        return [{"title": f.title, "count": f.count, "examples": f.examples} for f in self.findings]


def _same_company(a: Customer, b: Customer) -> bool:
    """Two names of one company: the same brand and trade, and no place that tells them apart."""
    x, y = parse_name(a.name), parse_name(b.name)
    if not x.brand or x.brand != y.brand or x.trades != y.trades:
        return False
    places_x, places_y = {p for p, _ in x.places}, {p for p, _ in y.places}
    return not places_x or not places_y or bool(places_x & places_y)


def duplicates(customers: list[Customer]) -> list[tuple[Customer, Customer]]:
    by_brand: dict[str, list[Customer]] = defaultdict(list)
    for c in customers:
        brand = parse_name(c.name).brand
        if brand:
            by_brand[brand].append(c)
    pairs = []
    for group in by_brand.values():
        for i, a in enumerate(group):
            pairs += [(a, b) for b in group[i + 1 :] if _same_company(a, b)]
    return pairs


def outliers(customers: list[Customer]) -> list[tuple[Customer, float]]:
    """Open deals whose amount is far from the others of their stage (on a log scale: 10 and 100,000 are as far as
    100,000 and a billion), with the stage's median."""
    out = []
    for stage in OPEN_STAGES:
        here = [c for c in customers if c.stage is stage and c.amount is not None and c.amount > 0]
        if len(here) < 8:
            continue
        logs = sorted(math.log10(float(c.amount or 0)) for c in here)
        q1, _, q3 = statistics.quantiles(logs, n=4)
        low, high = q1 - OUTLIER_FENCE * (q3 - q1 or 0.1), q3 + OUTLIER_FENCE * (q3 - q1 or 0.1)
        median = 10 ** statistics.median(logs)
        out += [(c, median) for c in here if not low <= math.log10(float(c.amount or 0)) <= high]
    return out


async def review(uow: UnitOfWork, services: Services, now: datetime) -> Review:
    tz = services.timezone
    staff = {e.id: e for e in await uow.employees.find()}
    customers = await uow.customers.find()
    open_ = [c for c in customers if not c.stage.is_closed]
    dup = Finding("疑似重复客户(同一家公司两个名字)")
    for a, b in duplicates(customers):
        dup.add(f"{a.name} / {b.name}")
    owners = Finding("负责人缺失或已停用的在跟客户")
    amounts = Finding("方案演示、报价谈判阶段没有金额")
    closes = Finding("报价谈判阶段没有预计签约日期")
    for c in open_:
        owner = staff.get(c.owner_id)
        if c.owner_id != POOL_ID and (owner is None or not owner.active):
            owners.add(f"{c.name}(负责人 {owner.name if owner else c.owner_id})")
        if c.stage in NEEDS_AMOUNT and c.amount is None:
            amounts.add(f"{c.name}({c.stage.label})")
        if c.stage in NEEDS_CLOSE and c.expected_close is None:
            closes.add(c.name)
    backwards = Finding("上个月阶段倒退的客户")
    month_ago = now - timedelta(days=31)
    names = {c.id: c.name for c in customers}
    for change in await uow.stages.everything():  # every customer's: a list of ids would pass PostgreSQL's limit
        before, after = change.from_stage, change.to_stage
        if before is None or after is Stage.LOST or change.changed_at < month_ago:
            continue
        if ORDER.get(after, 0) < ORDER.get(before, 0):
            backwards.add(f"{names.get(change.customer_id, change.customer_id)}({before.label} → {after.label},"
                          f"{change.changed_at.astimezone(tz):%m-%d})")  # fmt: skip
    odd = Finding("金额异常(和同阶段的其他客户差得太远)")
    for c, median in outliers(open_):
        odd.add(f"{c.name} {wan(c.amount)}({c.stage.label},同阶段中位 {wan(Decimal(round(median)))})")
    silent = Finding("分配后一直没有跟进的线索")
    for lead in await uow.leads.waiting_for_contact():
        if lead.assigned_at is not None and now - lead.assigned_at >= timedelta(days=1):
            who = staff.get(lead.owner_id or "")
            silent.add(
                f"{lead.name}({who.name if who else lead.owner_id},{lead.assigned_at.astimezone(tz):%m-%d} 分配)"
            )
    return Review([dup, owners, amounts, closes, backwards, odd, silent])


def render(r: Review, month: str) -> str:
    if r.clean:
        return f"{month} 数据质量检查:没有发现问题。"
    lines = [f"{month} 数据质量检查(每项列前 {EXAMPLES} 个例子):"]
    for f in r.findings:
        if f.count:
            lines.append(f"· {f.title}:{f.count} 个。例如 " + ";".join(f.examples))
    lines.append("改正后下个月的报表、预测和提成才准。")
    return fit(lines)


async def monthly_review(uow_factory: UnitOfWorkFactory, services: Services, now: datetime) -> int:
    """On the first working day of the month, to every active admin; how many were told."""
    today = now.astimezone(services.timezone).date()
    first = today.replace(day=1)
    workdays = [first + timedelta(days=i) for i in range((today - first).days + 1)]
    if not services.calendar.is_workday(today) or any(services.calendar.is_workday(d) for d in workdays[:-1]):
        return 0
    told = 0
    async with uow_factory() as uow:
        text = render(await review(uow, services, now), f"{today:%Y-%m}")
        admins: list[Employee] = [e for e in await uow.employees.find(active_only=True) if e.role is Role.ADMIN]
        for admin in admins:
            told += await notify(uow, admin, text, key=f"quality:{today:%Y-%m}:{admin.id}", now=now,
                                 platforms=services.platforms)  # fmt: skip
        await uow.commit()
    return told
