"""Goals in chat: 「我的目标还差多少」, a supervisor's roll-up, 设定目标 for admins, 目标异议 to the supervisor.

Targets reach every rep (the seed's complaint: reps did not know their monthly target) and a rep can
push back on one; progress comes from the data, so nobody types it in.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, query_is
from nlu.intents import GOAL_OBJECTION, GOAL_SET, GOAL_VALUE
from sales.goals import Goal, Kpi, Level, Progress, kpi_in
from sales.model import AuditEntry, Employee, Role
from sales.months import month_in
from sales.people import display_names
from sales.permissions import may_see, named_colleague, supervisors_of
from sales.values import parse_amount
from usecases.format import fit
from usecases.goals import GoalState, amount, goal_state

router = Router("goals")


def percent_done(p: Progress) -> str:
    """Rounded down, so 99.7 % never reads as 100 % while something is still missing."""
    return f"{int(p.done * 100)}%"


def progress_line(p: Progress) -> str:
    head = f"· {p.kpi.label}:目标 {amount(p.kpi, p.target)},已完成 {amount(p.kpi, p.actual)}({percent_done(p)})"
    if p.gap <= 0:
        return head + ",已达成 ✓"
    pace = p.per_day()
    if pace is None:
        return head + f",差 {amount(p.kpi, p.gap)}"
    return head + f",还差 {amount(p.kpi, p.gap)},每个工作日需 {amount(p.kpi, pace)}"


def month_label(month: str) -> str:
    year, mon = month.split("-")
    return f"{year}年{int(mon)}月"


def header(state: GoalState, who: str) -> list[str]:
    left = f"剩 {state.left} 个工作日" if state.left else "本月已结束"
    lines = [f"{who}{month_label(state.month)}目标({left}):"]
    if state.plan.objectives:
        lines.append("公司目标:" + ";".join(state.plan.objectives))
    return lines


def render_rep(state: GoalState, employee: Employee, who: str = "你的") -> str:
    mine = state.rep(employee.id)
    if not mine:
        whom = who.removesuffix("的")
        return f"{month_label(state.month)}还没有给{whom}设定目标。目标由管理员导入或用「设定目标」设置。"
    lines = header(state, who) + [progress_line(p) for p in mine.values()]
    split_from = {p.source for p in mine.values()} - {Level.REP}
    if split_from:
        lines.append("(部分目标由" + ("公司" if Level.COMPANY in split_from else "团队") + "目标平均分解)")
    if who == "你的":
        lines.append("对目标有不同意见?发「目标异议 理由」,我转给主管。")
    return fit(lines)


def render_team(state: GoalState, team: str, names: dict[str, str]) -> list[str]:
    totals = state.team(team)
    if not totals:
        return [f"{team or '未分组'}:本月没有目标"]
    lines = [f"【{team}】"] + [progress_line(p) for p in totals.values()]
    for rep in sorted(state.members.get(team, []), key=lambda r: names.get(r, r)):
        mine = state.rep(rep)
        if mine:
            lines.append(
                f"  {names.get(rep, rep)}:" + "、".join(f"{p.kpi.label} {percent_done(p)}" for p in mine.values())
            )
    return lines


def render_scope(state: GoalState, asker: Employee, names: dict[str, str]) -> str:
    if asker.role is Role.ADMIN:
        company = state.company()
        if not company:
            how = "用 genjin import goals 导入,或发「设定目标 公司 新签合同额 500万」"
            return f"{month_label(state.month)}还没有设定目标。{how}。"
        lines = header(state, "全公司") + [progress_line(p) for p in company.values()]
        for team in sorted(t for t in state.members if t):
            lines += render_team(state, team, names)
        return fit(lines)
    team = asker.team or ""
    lines = header(state, f"{team}团队") + render_team(state, team, names)
    return fit(lines)


@router.message(query_is("goal"), lambda m, _ctx: not m.text.strip().startswith(("目标异议", "设定目标", "设置目标")))
async def answer(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    today = ctx.now.astimezone(ctx.services.timezone).date()
    state = await goal_state(ctx.uow, ctx.services, today, month_in(message.text, today))
    staff = await ctx.uow.employees.find()
    names = display_names(staff)
    other = named_colleague(message.text, staff, ctx.employee)
    if other is not None:
        if not may_see(ctx.employee, other):
            return [Reply(f"{other.name}的目标只有本人和主管能看。发「我的目标还差多少」看你自己的。")]
        return [Reply(render_rep(state, other, who=f"{other.name}的"))]
    if ctx.employee.role is Role.REP:
        return [Reply(render_rep(state, ctx.employee))]
    team = next((t.name for t in await ctx.uow.teams.find() if t.name in message.text), None)
    if team is not None and ctx.employee.role is not Role.ADMIN and team != ctx.employee.team:
        return [Reply(f"「{team}」不是你的团队,看不到它的目标。")]
    if team is not None:
        return [Reply(fit(header(state, f"{team}团队") + render_team(state, team, names)))]
    return [Reply(render_scope(state, ctx.employee, names))]


@router.message(lambda m, _ctx: GOAL_OBJECTION.match(m.text.strip()) is not None)
async def objection(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    match = GOAL_OBJECTION.match(message.text.strip())
    assert match is not None
    reason = match["reason"].strip()
    if not reason:
        return [Reply("请把理由一起发给我,例如「目标异议 新签合同额 80 万偏高,两个大客户的预算推到了明年」。")]
    today = ctx.now.astimezone(ctx.services.timezone).date()
    month = month_in(reason, today)
    state = await goal_state(ctx.uow, ctx.services, today, month)
    staff = await ctx.uow.employees.find()
    bosses = supervisors_of(ctx.employee, staff)
    await ctx.uow.audit.add(AuditEntry(at=ctx.now, action="goal.objection", actor=ctx.employee.id,
                                       detail={"month": month, "reason": reason,
                                               "to": [b.id for b in bosses]}))  # fmt: skip
    if not bosses:
        return [Reply("已记下你的异议,不过还没有登记你的主管,请直接联系管理员。")]
    mine = state.rep(ctx.employee.id)
    current = [progress_line(p) for p in mine.values()] or ["(本月还没有给他设定目标)"]
    forward = fit([f"{ctx.employee.name}对{month_label(month)}的目标有异议:", reason, "他现在的目标:", *current,
                   "可以直接找他聊,或用「设定目标 姓名 指标 数值」调整。"])  # fmt: skip
    replies = [Reply(forward, to_employee=b.id) for b in bosses]
    return [Reply(f"收到,你的异议已记下并转给{'、'.join(b.name for b in bosses)}。"), *replies]


def _who(word: str, staff: Sequence[Employee], teams: Sequence[str]) -> tuple[Level, str, str] | None:
    if word in ("公司", "全公司"):
        return Level.COMPANY, "", "全公司"
    if word in teams:
        return Level.TEAM, word, f"{word}团队"
    person = next((e for e in staff if word in (e.name, e.id)), None)
    return (Level.REP, person.id, person.name) if person else None


def may_set(asker: Employee, level: Level, subject: str, staff: Sequence[Employee]) -> bool:
    """Admins set any goal; a supervisor sets their own team's and its reps'."""
    if asker.role is Role.ADMIN:
        return True
    if asker.role is not Role.SUPERVISOR:
        return False
    if level is Level.TEAM:
        return subject == asker.team
    person = next((e for e in staff if e.id == subject), None)
    return level is Level.REP and person is not None and may_see(asker, person)


@router.message(lambda m, _ctx: GOAL_SET.match(m.text.strip()) is not None)
async def set_goal(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    usage = "格式:设定目标 <公司/团队/姓名> <指标> <数值> [月份],例如「设定目标 张伟 新签合同额 80万 12月」。"
    match = GOAL_SET.match(message.text.strip())
    assert match is not None
    rest = match["rest"].strip()
    first, _, tail = rest.partition(" ")
    staff = await ctx.uow.employees.find()
    teams = [t.name for t in await ctx.uow.teams.find()]
    who = _who(first, staff, teams)
    found = kpi_in(tail)
    words = tail.replace(found[1], " ", 1) if found else tail  # the KPI's name out of the way of the number
    value = GOAL_VALUE.search(words) if found else None
    if who is None:
        return [Reply(f"不认识「{first}」:请写公司、团队名或员工姓名。{usage}")]
    if found is None or value is None:
        return [Reply("指标或数值没看懂。指标可以是:" + "、".join(k.label for k in Kpi) + "。" + usage)]
    level, subject, label = who
    if not may_set(ctx.employee, level, subject, staff):
        return [Reply("只有管理员能设定目标(主管可以设定自己团队和组员的)。")]
    kpi = found[0]
    number = parse_amount(value["value"].replace(" ", ""))
    assert number is not None
    if not kpi.money:
        number = number.to_integral_value()
    today = ctx.now.astimezone(ctx.services.timezone).date()
    month = month_in(words[value.end() :], today, ahead=True)
    before = await ctx.uow.goals.get(month, level, subject, kpi)
    objective = before.objective if before else None
    await ctx.uow.goals.put(Goal(month, level, subject, kpi, number, objective))
    await ctx.uow.audit.add(AuditEntry(at=ctx.now, action="goal.set", actor=ctx.employee.id,
                                       detail={"month": month, "level": level.value, "subject": subject,
                                               "kpi": kpi.value, "target": str(number)}))  # fmt: skip
    was = f"(原 {amount(kpi, before.target)})" if before and before.target != number else ""
    return [Reply(f"已设定:{label} {month_label(month)} {kpi.label} {amount(kpi, number)}{was}。")]
