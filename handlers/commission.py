"""``我的提成``: each deal with its band, rate and bonus, the month's total and a rank — never a colleague's pay."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from sales.commission import Statement, ranks
from sales.model import Employee, Role
from sales.months import month_in
from sales.people import display_names
from sales.permissions import may_see, named_colleague
from sales.values import percent, wan, yuan
from store.repositories import UnitOfWork
from usecases.commission import build_statements, peers
from usecases.format import fit
from usecases.services import Services

router = Router("commission")


def render_lines(s: Statement, services: Services) -> list[str]:
    """One line per deal: amount, margin, band and rate, bonuses, and how far the next band is."""
    bands = services.commission.bands
    out = []
    for line in s.lines:
        margin = f"毛利 {percent(line.margin)}{'(默认)' if line.margin_is_default else ''}"
        parts = [f"· {line.deal.customer} {wan(line.deal.amount)},{margin} → 第 {line.band + 1} 档 "
                 f"{percent(line.rate)}:{yuan(line.base)}"]  # fmt: skip
        parts += [f";{name} {yuan(amount)}" for name, amount in line.bonuses]
        if line.to_next_band is not None:
            parts.append(f";毛利再高 {percent(line.to_next_band)} 可按 {percent(bands[line.band + 1].rate)} 计")
        out.append("".join(parts))
    return out


def render_own(s: Statement, rank: int, of: int, services: Services, who: str = "你") -> str:
    year, month = s.month.split("-")
    if not s.lines:
        lines = [f"{year}年{int(month)}月{who}还没有成交,提成 {yuan(s.total)}。"]
    else:
        lines = [f"{year}年{int(month)}月{who}的提成({len(s.lines)} 单):", *render_lines(s, services)]
        lines.append(f"合计 {yuan(s.total)}")
    lines.append(f"团队排名:第 {rank} 名(共 {of} 人)")
    return fit(lines)


def render_team(statements: dict[str, Statement], people: Sequence[Employee], month: str, who: str) -> str:
    """A supervisor's view: each member's deals and pay, ranked within each team."""
    year, mon = month.split("-")
    lines = [f"{year}年{int(mon)}月{who}提成:"]
    by_team: dict[str, list[Employee]] = {}
    for person in people:
        by_team.setdefault(person.team or "未分组", []).append(person)
    for team, members in sorted(by_team.items()):
        if len(by_team) > 1:
            lines.append(f"【{team}】")
        mine = [statements[m.id] for m in members]
        place = ranks(mine)
        shown = display_names(members)
        for m in sorted(members, key=lambda m: (place[m.id], m.name)):
            s = statements[m.id]
            lines.append(f"{place[m.id]}. {shown[m.id]}:{len(s.lines)} 单,{yuan(s.total)}")
    lines.append(f"合计 {yuan(sum((s.total for s in statements.values()), Decimal(0)))}")
    lines.append("发「<姓名>的提成」看某人的明细。")
    return fit(lines)


async def own_rank(
    uow: UnitOfWork, services: Services, month: str, employee: Employee, staff: Sequence[Employee]
) -> tuple[Statement, int, int]:
    group = peers(employee, staff)
    statements = await build_statements(uow, services, month, group)
    return statements[employee.id], ranks(list(statements.values()))[employee.id], len(group)


@router.message(query_is("commission"))
async def answer(message: Incoming, ctx: Context) -> list[Reply]:
    """Pay is private: asked in a group chat, the answer goes to the asker directly."""
    assert ctx.employee is not None
    replies = await _answer(message, ctx)
    if not message.is_group:
        return replies
    private = [Reply(r.text, to_employee=ctx.employee.id) for r in replies]
    return [Reply("提成只在私聊里说,已经单独发给你了。"), *private]


async def _answer(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    asker, services = ctx.employee, ctx.services
    month = month_in(message.text, ctx.now.astimezone(services.timezone).date())
    staff = await ctx.uow.employees.find()
    other = named_colleague(message.text, staff, asker)
    if other is not None:
        if asker.role is Role.REP or not may_see(asker, other):
            return [Reply(f"提成只有本人和所在团队的主管能看,{other.name}的提成我不能告诉你。"
                          "发「我的提成」看你自己的。")]  # fmt: skip
        s, rank, of = await own_rank(ctx.uow, services, month, other, staff)
        return [Reply(render_own(s, rank, of, services, who=other.name))]
    if asker.role is Role.REP:
        s, rank, of = await own_rank(ctx.uow, services, month, asker, staff)
        return [Reply(render_own(s, rank, of, services))]
    team = [e for e in staff if e.role is Role.REP and e.active and may_see(asker, e)]
    statements = await build_statements(ctx.uow, services, month, team)
    who = "全公司" if asker.role is Role.ADMIN else f"{asker.team or ''}团队"
    return [Reply(render_team(statements, team, month, who))]
