"""What each dashboard page shows, for whom it is shown: the chat's use cases (``usecases``), read the same way and
limited by the same rules (``visible_owners``, ``may_see``). A page is a few typed tables and what its template
draws beside them; nothing here knows HTTP."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from markupsafe import Markup

from recommender.leadscore import Score
from sales.forecast import BUCKETS
from sales.goals import Kpi
from sales.model import Customer, Employee, Role
from sales.months import month_key
from sales.people import display_names
from sales.permissions import may_see
from sales.points import leaderboard, week_start
from sales.quotes import QuoteStatus
from sales.reports import PERIODS, Listed
from sales.stages import OPEN_STAGES, Stage
from store.repositories import UnitOfWork
from usecases.commission import build_statements, peers, report_rows
from usecases.forecast import WhatIf, build_forecast, forecast_and_deals
from usecases.format import win_line
from usecases.goals import goal_state
from usecases.heavy import together
from usecases.points import board_people
from usecases.pool import POOL_ID
from usecases.recommend import render as render_recommendation
from usecases.reports import activity_and_stalled, build_activity, build_funnel
from usecases.services import Services
from usecases.stalls import by_urgency, find_stalled, start_of, visible_owners
from web import svg
from web.tables import Cell, Heat, Link, Money, Percent, Table

LEVELS = {1: "提醒本人", 2: "已告知主管", 3: "高风险"}
MONTH = re.compile(r"20[0-9]{2}-(0[1-9]|1[0-2])", re.ASCII)  # with fullmatch: 2000-01 to 2099-12, no newline
ID = re.compile(r"[0-9]{1,9}", re.ASCII)  # a record id: ASCII digits within the 32-bit column
SHOWN_ROWS = 200  # a customer list shows this many; its export has them all
STALLED_ROWS = 100  # today's stalled customers shown, the most urgent first


def _cap(table: Table, total: int, rows: int, which: str = "") -> None:
    """Show the first ``rows`` of a long table and say so; the export has every row (only an export builds them
    all: ``_wanted``)."""
    if total > rows:
        table.shown = rows
        table.note = f"共 {total} 行,页面显示{which}前 {rows} 行;导出包含全部。"


def _wanted(query: Mapping[str, str], rows: int) -> int | None:
    """How many rows of a long table to build: all of them for an export, else those the page shows."""
    return None if query.get("export") else rows


class NotFound(Exception):
    """Not there, or not the viewer's to see: both answer 404, so an id tells nothing about another team."""


@dataclass
class Viewer:
    """Who is looking, and what they may see, read once per request."""

    uow: UnitOfWork
    services: Services
    employee: Employee
    now: datetime
    staff: list[Employee]
    owners: set[str] | None  # whose customers and numbers: None is everyone's (an admin)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.services.timezone).date()

    @property
    def names(self) -> dict[str, str]:
        return display_names(self.staff)

    @property
    def scope(self) -> str:
        role = self.employee.role
        return (
            "全公司" if role is Role.ADMIN else (f"{self.employee.team or ''}团队" if role is Role.SUPERVISOR else "我")
        )

    def sees(self, owner_id: str) -> bool:
        return self.owners is None or owner_id in self.owners

    @property
    def reps(self) -> list[Employee]:
        return [e for e in self.staff if e.active and e.role is Role.REP and self.sees(e.id)]


async def viewer(uow: UnitOfWork, services: Services, employee: Employee, now: datetime) -> Viewer:
    staff = await uow.employees.find()
    return Viewer(uow, services, employee, now, staff, await visible_owners(uow, employee))


@dataclass
class Page:
    template: str
    title: str
    tables: list[Table] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _customer_link(customer_id: int, name: str) -> Link:
    return Link(name, f"/web/customers/{customer_id}")


# --- team today -------------------------------------------------------------------------------------------------


async def today(v: Viewer, query: Mapping[str, str]) -> Page:
    """Who sent a brief today and this week, stalled customers by level, the latest standup's answers."""
    services, names = v.services, v.names
    activity, found = await activity_and_stalled(v.uow, services, v.now, v.owners)
    found = by_urgency(found)
    sent_today, sent_week = set(activity.sent_today), set(activity.sent_week)
    briefs = Table("briefs", "今日简报", ["销售", "今天", "本周", "近 7 个工作日简报数"])
    for rep in sorted(activity.heat, key=lambda r: (r in sent_today, names.get(r, r))):
        counts = activity.heat[rep]
        briefs.rows.append([names.get(rep, rep), "已发" if rep in sent_today else "未发",
                            "已发" if rep in sent_week else "未发", sum(counts[-7:])])  # fmt: skip
    stalled = Table("stalled", "停滞客户", ["客户", "负责人", "阶段", "原因", "工作日", "级别"])
    for item in found[: _wanted(query, STALLED_ROWS)]:
        row, f = item.row, item.finding
        why = "阶段停留过久" if f.reason == "stall" else f"计划「{row.next_action or '下一步'}」已过期"
        stalled.rows.append([_customer_link(row.id, row.name), names.get(row.owner_id, row.owner_id),
                             row.stage.label, why, f.days, LEVELS.get(f.level, str(f.level))])  # fmt: skip
    _cap(stalled, len(found), STALLED_ROWS, "最紧急的")
    levels = {label: sum(1 for i in found if i.finding.level == level) for level, label in LEVELS.items()}
    standup = Table("standup", "本周站会", ["团队", "成员", "本周完成", "阻塞", "下周计划", "回答时间"])
    teams = sorted({e.team for e in v.staff if e.team and (v.owners is None or e.id in v.owners)})
    tz = services.timezone
    for team in teams:
        held = await v.uow.standups.latest(team)
        if held is None or held.id is None or (v.today - held.day).days > 6:
            continue
        answered = {e.employee_id: e for e in await v.uow.standups.entries(held.id)}
        for member in [e for e in v.staff if e.team == team and e.active and e.role is Role.REP and v.sees(e.id)]:
            entry = answered.get(member.id)
            if entry is None:
                standup.rows.append([team, names.get(member.id, member.id), "未回答", "", "", None])
            else:
                standup.rows.append([team, names.get(member.id, member.id), entry.done, entry.blockers, entry.plans,
                                     f"{entry.received_at.astimezone(tz):%m-%d %H:%M}"])  # fmt: skip
    return Page("today.html", f"{v.scope}今日", [briefs, stalled, standup], {"levels": levels})


# --- funnel, forecast, activity -------------------------------------------------------------------------------


async def funnel(v: Viewer, query: Mapping[str, str]) -> Page:
    key = query.get("period", "this_month")
    key = key if key in PERIODS else "this_month"
    f = await build_funnel(v.uow, v.services, v.now, v.owners, key)
    stages = Table("stages", f"{f.period.label}漏斗({f.period.start:%m-%d} 至 {f.period.end:%m-%d})",
                   ["阶段", "客户数", "金额", "本期进入", "已推进比例", "停留中位(工作日)"])  # fmt: skip
    for line in f.stages:
        conv = f.conversion.get(line.stage)
        rate = Percent(conv[1] / conv[0]) if conv and conv[0] else None
        days = f.median_days.get(line.stage)
        stages.rows.append([line.stage.label, line.count, Money(line.amount), f.entered.get(line.stage, 0), rate,
                            None if days is None else round(days, 1)])  # fmt: skip
    stages.rows.append([Stage.WON.label, f.won.count, Money(f.won.amount), None, None, None])
    stages.rows.append([Stage.LOST.label, f.lost.count, Money(f.lost.amount), None, None, None])
    owners = Table("owners", "各人在手客户", ["销售", *(s.label for s in OPEN_STAGES)])
    names = v.names
    for owner, counts in sorted(f.per_owner.items(), key=lambda kv: names.get(kv[0], kv[0])):
        owners.rows.append([names.get(owner, owner), *(counts.get(s, 0) for s in OPEN_STAGES)])
    chart = svg.bars([(line.stage.label, float(line.count), f"{line.count} 个") for line in f.stages]
                     + [(Stage.WON.label, float(f.won.count), f"{f.won.count} 个")])  # fmt: skip
    return Page("funnel.html", f"{v.scope}漏斗", [stages, owners],
                {"chart": chart, "period": key, "periods": PERIODS})  # fmt: skip


def parse_what_if(form: Mapping[str, str], today: date) -> tuple[WhatIf, list[str]]:
    """The what-if form: ``rate_<stage>`` in per cent, ``move_deal`` with ``move_month`` (YYYY-MM). Wrong values are
    left out with a message each, never an error page."""
    rates: dict[Stage, float] = {}
    problems: list[str] = []
    for stage in OPEN_STAGES:
        raw = form.get(f"rate_{stage.value}", "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            problems.append(f"{stage.label}的赢单率「{raw}」不是数字")
            continue
        if not 0 <= value <= 100:
            problems.append(f"{stage.label}的赢单率要在 0 到 100 之间")
            continue
        rates[stage] = value / 100
    closes: dict[int, date] = {}
    deal, month = form.get("move_deal", "").strip(), form.get("move_month", "").strip()
    if deal and month:
        if ID.fullmatch(deal) and MONTH.fullmatch(month):
            year, mon = (int(x) for x in month.split("-"))
            closes[int(deal)] = date(year, mon, 15)
        else:
            problems.append("要移动的客户或月份不对(月份写成 YYYY-MM)")
    return WhatIf(rates, closes), problems


async def forecast(v: Viewer, query: Mapping[str, str], form: Mapping[str, str] | None = None) -> Page:
    """The forecast with its band, each rep's correction and last quarter's error, and a what-if (never saved)."""
    what_if, problems = parse_what_if(form or {}, v.today)
    base, deals = await forecast_and_deals(v.uow, v.services, v.now, v.owners)
    rates = base.rates
    # a rate typed back as the form shows it (one decimal) is no change: the deals keep their own probabilities
    kept = {s: r for s, r in what_if.rates.items() if round(r * 100, 1) != round(rates.get(s, 0.0) * 100, 1)}
    what_if = WhatIf(kept, what_if.closes)
    changed = (
        await build_forecast(v.uow, v.services, v.now, v.owners, what_if) if what_if.rates or what_if.closes else None
    )
    shown = changed or base
    buckets = Table("buckets", "成交预测(金额 × 赢单概率,按预计签约月份)", ["时段", "预计", "低", "高"])
    for key, label in BUCKETS.items():
        b = shown.buckets[key]
        buckets.rows.append([label, Money(b.expected), Money(b.low), Money(b.high)])
    names = v.names
    reps = Table("reps", "各人预测与准确度", ["销售", "本季度预计", "历史校正系数", "上季度误差"])
    for rep in sorted({*shown.per_owner, *shown.owner_error, *(o for o in shown.bias if v.sees(o))},
                      key=lambda o: names.get(o, o)):  # fmt: skip
        error = shown.owner_error.get(rep)
        reps.rows.append([names.get(rep, rep), Money(shown.per_owner.get(rep, Decimal(0))),
                          round(shown.bias.get(rep, 1.0), 2), None if error is None else Percent(error)])  # fmt: skip
    deals = sorted((d for d in deals if d.amount), key=lambda d: (-(d.amount or 0), d.id))
    chart = svg.band([(label, shown.buckets[k].low, shown.buckets[k].expected, shown.buckets[k].high)
                      for k, label in BUCKETS.items()])  # fmt: skip
    extra = {
        "chart": chart, "error": shown.error, "rates": {s: rates.get(s, 0.0) for s in OPEN_STAGES},
        "what_if": what_if, "problems": problems, "deals": deals[:100],
        "base": {k: base.buckets[k].expected for k in BUCKETS}, "changed": changed is not None,
        "form": dict(form or {}),
    }  # fmt: skip
    return Page("forecast.html", f"{v.scope}成交预测", [buckets, reps], extra)


async def activity(v: Viewer, query: Mapping[str, str]) -> Page:
    a = await build_activity(v.uow, v.services, v.now, v.owners)
    names = v.names
    heat = Table("heat", f"近 {len(a.days)} 个工作日每人简报数", ["销售", *(f"{d:%m-%d}" for d in a.days), "合计"])
    for rep, counts in sorted(a.heat.items(), key=lambda kv: names.get(kv[0], kv[0])):
        heat.rows.append([names.get(rep, rep), *(Heat(n) for n in counts), sum(counts)])
    stalled = Table("stalled_per_rep", "停滞客户最多的人", ["销售", "停滞客户数"])
    stalled.rows = [[names.get(r, r), n] for r, n in a.stalled]
    return Page("page.html", f"{v.scope}活跃度", [heat, stalled])


# --- goals, points, commission ----------------------------------------------------------------------------------


def _month(query: Mapping[str, str], today: date) -> str:
    month = query.get("month", "")
    return month if MONTH.fullmatch(month) else month_key(today)


async def goals(v: Viewer, query: Mapping[str, str]) -> Page:
    month = _month(query, v.today)
    state = await goal_state(v.uow, v.services, v.today, month)
    table = Table("goals", f"{month} 目标与进度", ["销售", "指标", "目标", "完成", "完成率", "差额", "每个工作日需"])
    names = v.names
    for rep in sorted(v.reps, key=lambda e: names.get(e.id, e.id)):
        for kpi, p in state.rep(rep.id).items():
            table.rows.append([names.get(rep.id, rep.id), *_progress(kpi, p)[1:]])
    totals = Table("totals", f"{month} 团队与公司", ["范围", "指标", "目标", "完成", "完成率", "差额", "每个工作日需"])
    scopes: list[tuple[str, dict[Kpi, Any]]] = []
    if v.employee.role is Role.ADMIN:
        scopes.append(("全公司", state.company()))
        scopes += [(f"{team}团队", state.team(team)) for team in sorted(state.members) if team]
    elif v.employee.role is Role.SUPERVISOR and v.employee.team:
        scopes.append((f"{v.employee.team}团队", state.team(v.employee.team)))
    for label, progress in scopes:
        for kpi, p in progress.items():
            totals.rows.append([label, *_progress(kpi, p)[1:]])
    tables = [totals, table] if scopes else [table]
    return Page("page.html", f"{v.scope}目标", tables,
                {"note": f"本月还剩 {state.left} 个工作日", "month": month})  # fmt: skip


def _progress(kpi: Kpi, p: Any) -> list[Cell]:
    """A KPI's progress as cells: amounts in yuan, counts whole."""
    money = kpi.money

    def value(x: Decimal) -> Cell:
        return Money(x) if money else int(x)

    per_day = p.per_day()
    return ["", kpi.label, value(p.target), value(p.actual), Percent(p.done), value(p.gap),
            None if per_day is None else (Money(per_day) if money else float(per_day))]  # fmt: skip


async def points(v: Viewer, query: Mapping[str, str]) -> Page:
    tz = v.services.timezone
    people = board_people(v.employee, v.staff)
    names = display_names(people)
    end = start_of(v.today + timedelta(days=1), tz)
    tables = []
    for key, label, since in (("week", "本周", week_start(v.today)), ("month", "本月", v.today.replace(day=1))):
        earned = await v.uow.points.earned(start_of(since, tz), end)
        table = Table(key, f"{label}积分排行", ["名次", "销售", "积分"])
        table.rows = [[rank, names[who], n] for rank, who, n in leaderboard(earned, names)]
        tables.append(table)
    return Page("page.html", f"{v.scope}积分排行", tables)


async def commission(v: Viewer, query: Mapping[str, str]) -> Page:
    """A rep sees their own statement, a supervisor the team's, an admin everyone's: the rows of ``genjin
    commission report``."""
    month = _month(query, v.today)
    if v.employee.role is Role.REP:  # ranked among the team, as in the chat; only the rep's own row is shown
        people = peers(v.employee, v.staff)
    else:  # deactivated reps too, as the command's report: their pay for the month is still due
        people = [
            e for e in v.staff if e.role is Role.REP and e.id != POOL_ID and v.sees(e.id) and may_see(v.employee, e)
        ]
    statements = await build_statements(v.uow, v.services, month, people)
    rows = report_rows(statements, v.staff, v.services)
    if v.employee.role is Role.REP:
        rows = [r for r in rows if r["employee_id"] == v.employee.id]
    totals = Table("totals", f"{month} 提成", ["工号", "销售", "团队", "成交单数", "提成合计", "团队名次"])
    lines = Table("deals", f"{month} 提成明细", ["销售", "客户", "签约日", "合同额", "毛利率", "档位", "比例",
                                                "提成", "奖励", "合计"])  # fmt: skip
    for row in rows:
        deals: list[dict[str, Any]] = row["deals"]  # type: ignore[assignment]
        totals.rows.append([str(row["employee_id"]), str(row["name"]), str(row["team"] or "—"), len(deals),
                            _pay(str(row["total"])), f"{row['team_rank']}/{row['team_size']}"])  # fmt: skip
        for d in deals:
            bonus = sum((Decimal(b) for b in d["bonuses"].values()), Decimal(0))
            lines.rows.append([str(row["name"]), d["customer"], date.fromisoformat(d["signed_on"]),
                               _pay(d["amount"]), Percent(float(d["margin"])), f"第{d['band']}档",
                               Percent(float(d["rate"])), _pay(d["commission"]), _pay(str(bonus)),
                               _pay(d["total"])])  # fmt: skip
    return Page("page.html", f"{'我的' if v.employee.role is Role.REP else v.scope}提成", [totals, lines],
                {"month": month})  # fmt: skip


def _pay(amount: str) -> Money:
    """Pay is shown to the fen, as the statement has it."""
    return Money(Decimal(amount), exact=True)


# --- customers --------------------------------------------------------------------------------------------------


async def customers(v: Viewer, query: Mapping[str, str]) -> Page:
    """Filters: owner, stage, stalled only, expected close month."""
    owner = query.get("owner", "")
    stage = next((s for s in Stage if s.value == query.get("stage")), None)
    only_stalled = query.get("stalled") == "1"
    close = query.get("close", "")
    owners = sorted(v.owners) if v.owners is not None else None
    if owner and v.sees(owner):
        owners = [owner]

    async def listed() -> list[Listed]:  # on a connection of its own, beside the stall scan
        async with v.uow.beside() as side:
            return await side.customers.listed(owners, [stage] if stage else None)

    found, items = await together(listed(), find_stalled(v.uow, v.services.calendar, v.services.stall, v.today,
                                                         v.services.timezone, owners))  # fmt: skip
    if close and MONTH.fullmatch(close):
        found = [c for c in found if c.expected_close is not None and month_key(c.expected_close) == close]
    stalled = {item.row.id: item.finding.level for item in items}
    if only_stalled:
        found = [c for c in found if c.id in stalled]
    scores = await v.services.recommender.scores() if v.services.recommender is not None else {}
    names = v.names
    table = Table("customers", "客户", ["客户", "负责人", "阶段", "金额", "预计签约", "下一步", "下一步日期",
                                        "赢单概率", "停滞"])  # fmt: skip
    found.sort(key=lambda c: (c.stage.is_closed, -(c.amount or 0), c.name))
    for c in found[: _wanted(query, SHOWN_ROWS)]:
        assert c.id is not None
        p = scores.get(c.name) if not c.stage.is_closed else None
        table.rows.append([_customer_link(c.id, c.name), names.get(c.owner_id, c.owner_id), c.stage.label,
                           None if c.amount is None else Money(c.amount), c.expected_close, c.next_action,
                           c.next_action_date, None if p is None else Percent(p),
                           LEVELS.get(stalled[c.id]) if c.id in stalled else ""])  # fmt: skip
    _cap(table, len(found), SHOWN_ROWS)
    filters = {"owner": owner, "stage": stage.value if stage else "", "stalled": only_stalled, "close": close}
    choices = [(e.id, names.get(e.id, e.id)) for e in v.staff if v.sees(e.id) and e.role is not Role.ADMIN]
    return Page("customers.html", f"{v.scope}客户", [table],
                {"filters": filters, "owners": sorted(choices, key=lambda x: x[1]), "stages": list(Stage)})  # fmt: skip


async def customer(v: Viewer, customer_id: int) -> Page:
    """One customer: stage history, brief timeline, next step, win probability with its reasons, the
    recommendation. 404 for one the viewer may not see."""
    found: Customer | None = await v.uow.customers.get(customer_id)
    if found is None or found.id is None:
        raise NotFound(customer_id)
    owner = next((e for e in v.staff if e.id == found.owner_id), None)
    if not may_see(v.employee, owner):
        raise NotFound(customer_id)
    tz, names = v.services.timezone, v.names
    history = Table("stages", "阶段历史", ["时间", "从", "到", "操作人"])
    for change in await v.uow.stages.for_customer(found.id):
        history.rows.append([f"{change.changed_at.astimezone(tz):%Y-%m-%d %H:%M}",
                             change.from_stage.label if change.from_stage else "新建", change.to_stage.label,
                             names.get(change.employee_id or "", change.employee_id or "—")])  # fmt: skip
    timeline = Table("briefs", "跟进记录", ["时间", "发送人", "内容"])
    for brief in await v.uow.briefs.for_customer(found.id, limit=50):
        timeline.rows.append([f"{brief.received_at.astimezone(tz):%Y-%m-%d %H:%M}",
                              names.get(brief.sender_id, brief.sender_id), brief.text])  # fmt: skip
    quotes = Table("quotes", "报价单", ["编号", "版本", "日期", "合计", "状态", "PDF", "Excel"])
    for q in reversed(await v.uow.quotes.for_customer(found.id)):
        sent = q.status is QuoteStatus.SENT
        quotes.rows.append([q.number, q.version, f"{q.created_at.astimezone(tz):%Y-%m-%d}", Money(q.total),
                            QUOTE_STATUS[q.status], Link("下载", f"/web/quotes/{q.id}.pdf") if sent else "",
                            Link("下载", f"/web/quotes/{q.id}.xlsx") if sent else ""])  # fmt: skip
    score: Score | None = None
    advice = ""
    recommender = v.services.recommender
    if recommender is not None and not found.stage.is_closed:
        score = await recommender.score(found.name)
        rec = await recommender.recommend(found.name, v.sees)
        advice = render_recommendation(rec) if rec is not None else ""
    entered = found.stage_entered_at.astimezone(tz).date()
    facts: list[tuple[str, Cell]] = [
        ("负责人", names.get(found.owner_id, found.owner_id)),
        ("阶段", f"{found.stage.label}(自 {entered:%Y-%m-%d},{(v.today - entered).days} 天)"),
        ("金额", None if found.amount is None else Money(found.amount)),
        ("预计签约", found.expected_close),
        ("下一步", f"{found.next_action or '—'} {found.next_action_date or ''}".strip()),
    ]
    extra = {"customer": found, "facts": facts, "win": win_line(score) if score is not None else "",
             "advice": Markup("<br>").join(advice.split("\n")) if advice else ""}  # fmt: skip
    tables = [history, timeline] + ([quotes] if quotes.rows else [])
    return Page("customer.html", found.name, tables, extra)


QUOTE_STATUS = {QuoteStatus.PENDING: "待审批", QuoteStatus.SENT: "已发出", QuoteStatus.REJECTED: "已驳回",
                QuoteStatus.SUPERSEDED: "已作废"}  # fmt: skip


async def quote_file(v: Viewer, quote_id: int, kind: str) -> tuple[str, bytes]:
    """A kept quote document the viewer may see (its customer's owner is theirs to see): its file name and bytes.
    Another team's quote is NotFound, as a quote that does not exist."""
    from usecases.quote_docs import file_name

    quote = await v.uow.quotes.get(quote_id)
    if quote is None:
        raise NotFound(quote_id)
    customer = await v.uow.customers.get(quote.customer_id)
    owner = next((e for e in v.staff if customer is not None and e.id == customer.owner_id), None)
    if customer is None or not may_see(v.employee, owner):
        raise NotFound(quote_id)
    data = await v.uow.quotes.file(quote_id, kind)
    if data is None:
        raise NotFound(quote_id)
    return file_name(quote, kind), data
