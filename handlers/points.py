"""Points: awarded as events happen (once per event), the leaderboard, the balance, rewards with approval.
The monthly settling and recognition are in ``usecases.recognition``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from handlers.messages import Button, Incoming, Reply
from handlers.routing import Context, Router, query_is
from nlu.intents import REDEEM, REDEEM_DECISION
from sales.model import AuditEntry, Employee, Role
from sales.people import display_names
from sales.permissions import may_see, named_colleague, supervisors_of
from sales.points import (
    RULE_LABELS,
    PointsEntry,
    Redemption,
    RedemptionStatus,
    find_reward,
    leaderboard,
    week_start,
)
from usecases.format import fit
from usecases.points import board_people
from usecases.services import Services
from usecases.stalls import start_of

router = Router("points")


def earned_note(points: int) -> str:
    return f"积分 +{points}" if points else ""


# --- answers -------------------------------------------------------------------------------------------------


async def render_board(ctx: Context) -> str:
    assert ctx.employee is not None
    tz = ctx.services.timezone
    today = ctx.now.astimezone(tz).date()
    people = board_people(ctx.employee, await ctx.uow.employees.find())
    names = display_names(people)
    end = start_of(today + timedelta(days=1), tz)
    lines = [f"{'全公司' if ctx.employee.role is Role.ADMIN else (ctx.employee.team or '') + '团队'}积分排行榜:"]
    for label, since in (("本周", week_start(today)), ("本月", today.replace(day=1))):
        board = leaderboard(await ctx.uow.points.earned(start_of(since, tz), end), names)
        lines.append(f"【{label}】")
        shown = [row for row in board if row[2] > 0][:10]
        lines += [f"{rank}. {names[who]} {points} 分" + (" ← 你" if who == ctx.employee.id else "")
                  for rank, who, points in shown] or ["还没有人得分"]  # fmt: skip
        mine = next((row for row in board if row[1] == ctx.employee.id), None)
        if mine and mine not in shown:
            lines.append(f"你:第 {mine[0]} 名,{mine[2]} 分")
    return fit(lines)


async def render_mine(ctx: Context, whose: Employee | None = None) -> str:
    """The balance, what was earned this week and month, the latest entries: one's own, or a team member's
    for their supervisor."""
    assert ctx.employee is not None
    tz, me = ctx.services.timezone, (whose or ctx.employee).id
    you = f"{whose.name}" if whose else "你"
    today = ctx.now.astimezone(tz).date()
    end = start_of(today + timedelta(days=1), tz)
    week = (await ctx.uow.points.earned(start_of(week_start(today), tz), end)).get(me, 0)
    month = (await ctx.uow.points.earned(start_of(today.replace(day=1), tz), end)).get(me, 0)
    balance, held = await ctx.uow.points.balance(me), await ctx.uow.points.pending_points(me)
    lines = [f"{you}现在有 {balance} 积分" + (f"(其中 {held} 分的兑换在等主管审批)" if held else "") + "。",
             f"本周得 {week} 分,本月得 {month} 分。"]  # fmt: skip
    recent = await ctx.uow.points.recent(me, 5)
    if recent:
        lines.append("最近记录:")
        for e in recent:
            note = f" {e.note}" if e.note else ""
            lines.append(f"· {e.at.astimezone(tz):%m-%d} {RULE_LABELS.get(e.rule, e.rule)}{note} {e.points:+d}")
    if whose is None:
        lines.append(catalogue_hint(ctx.services))
    return fit(lines)


def catalogue_hint(services: Services) -> str:
    if not services.rewards:
        return "还没有可兑换的奖励(由管理员在配置里设置)。"
    return "可兑换:" + "、".join(f"{r.name}({r.points} 分)" for r in services.rewards) + ",发「兑换 奖励名」申请。"


@router.message(
    query_is("points"), lambda m, _ctx: not (REDEEM.match(m.text.strip()) or REDEEM_DECISION.match(m.text.strip()))
)
async def answer(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    text = message.text
    if re.search(r"排行|榜|排名|第几", text):
        return [Reply(await render_board(ctx))]
    if re.search(r"换什么|兑换什么|奖励|商城|能换", text) and not re.search(r"多少", text):
        return [Reply(catalogue_hint(ctx.services))]
    other = named_colleague(text, await ctx.uow.employees.find(), ctx.employee)
    if other is not None:
        if ctx.employee.role is Role.REP or not may_see(ctx.employee, other):
            return [Reply(f"{other.name}的积分明细只有本人和主管能看;大家的得分可以看「积分排行榜」。")]
        return [Reply(await render_mine(ctx, other))]
    return [Reply(await render_mine(ctx))]


@router.message(lambda m, _ctx: REDEEM.match(m.text.strip()) is not None)
async def redeem(message: Incoming, ctx: Context) -> list[Reply]:
    """Ask for a reward: the points are held until the supervisor approves (then deducted) or rejects."""
    assert ctx.employee is not None
    match = REDEEM.match(message.text.strip())
    assert match is not None
    found = find_reward(match["what"], ctx.services.rewards)
    if len(found) != 1:
        head = f"有几个奖励都对得上「{match['what']}」。" if found else f"没有叫「{match['what']}」的奖励。"
        return [Reply(head + catalogue_hint(ctx.services))]
    reward, me = found[0], ctx.employee
    balance, held = await ctx.uow.points.balance(me.id), await ctx.uow.points.pending_points(me.id)
    if balance - held < reward.points:
        return [Reply(f"积分不够:「{reward.name}」要 {reward.points} 分,你有 {balance} 分"
                      + (f"(其中 {held} 分在等审批)" if held else "") + "。")]  # fmt: skip
    bosses = supervisors_of(me, await ctx.uow.employees.find())
    if not bosses:
        return [Reply("还没有登记你的主管,没人能审批兑换,请联系管理员。")]
    request = await ctx.uow.points.request(Redemption(me.id, reward.name, reward.points, ctx.now))
    assert request.id is not None
    ask = (f"{me.name}申请用 {reward.points} 积分兑换「{reward.name}」(现有 {balance} 分)。"
           f"回复「同意兑换 {request.id}」或「拒绝兑换 {request.id}」。")  # fmt: skip
    buttons = tuple(Button(f"{verb}兑换 {request.id}", f"{verb}兑换 {request.id}") for verb in ("同意", "拒绝"))
    replies = [Reply(ask, buttons=buttons, to_employee=b.id) for b in bosses]
    sent = f"已把兑换「{reward.name}」的申请发给{'、'.join(b.name for b in bosses)},批准后扣 {reward.points} 分。"
    return [Reply(sent), *replies]


def may_decide(approver: Employee, rep: Employee | None, staff: Sequence[Employee]) -> bool:
    """The rep's supervisor (whoever hears their objections) or an admin."""
    if approver.role is Role.ADMIN:
        return True
    return rep is not None and approver.id in {b.id for b in supervisors_of(rep, staff)}


@router.message(lambda m, _ctx: REDEEM_DECISION.match(m.text.strip()) is not None)
async def decide(message: Incoming, ctx: Context) -> list[Reply] | None:
    """「同意兑换 7」 (a button's key, or typed); a bare 「同意」 when exactly one request waits on this person."""
    assert ctx.employee is not None
    match = REDEEM_DECISION.match(message.text.strip())
    assert match is not None
    staff = await ctx.uow.employees.find()
    people = {e.id: e for e in staff}
    if match["id"] is None:
        mine = [r for r in await ctx.uow.points.pending_requests()
                if may_decide(ctx.employee, people.get(r.employee_id), staff)]  # fmt: skip
        if not mine:
            return None  # 「同意」 about something else: let the rest of the bot read it
        if len(mine) > 1:
            listed = ";".join(f"{r.id} 号 {people[r.employee_id].name if r.employee_id in people else r.employee_id}"
                              f" 兑换「{r.reward}」" for r in mine[:10])  # fmt: skip
            return [Reply(f"有 {len(mine)} 个兑换申请在等你:{listed}。请回复「{match['verb']}兑换 编号」。")]
        request: Redemption | None = mine[0]
    else:
        request = await ctx.uow.points.redemption(int(match["id"]))
    if request is None:
        return [Reply(f"没有编号 {match['id']} 的兑换申请。")]
    rep = people.get(request.employee_id)
    if not may_decide(ctx.employee, rep, staff):
        return [Reply("这个兑换申请不归你审批。")]
    if request.status != RedemptionStatus.PENDING:
        state = "已批准" if request.status == RedemptionStatus.APPROVED else "已拒绝"
        return [Reply(f"这个申请之前{state},不用再处理。")]
    name = rep.name if rep else request.employee_id
    approve = match["verb"] in ("同意", "批准")
    if approve and await ctx.uow.points.balance(request.employee_id) < request.points:
        approve = False  # spent since asking: a debt would be worse than a refusal
        note = "积分已不够,自动拒绝"
    else:
        note = ""
    status = RedemptionStatus.APPROVED if approve else RedemptionStatus.REJECTED
    assert request.id is not None
    if not await ctx.uow.points.decide(request.id, status, ctx.employee.id, ctx.now):
        return [Reply("这个申请刚被处理过了。")]
    if approve:
        await ctx.uow.points.award([PointsEntry(request.employee_id, f"redeem:{request.id}", "redeem", -request.points,
                                                ctx.now, note=request.reward)])  # fmt: skip
    await ctx.uow.audit.add(AuditEntry(at=ctx.now, action=f"points.redeem.{status}", actor=ctx.employee.id,
                                       detail={"id": request.id, "employee": request.employee_id,
                                               "reward": request.reward, "points": request.points}))  # fmt: skip
    if approve:
        told = f"{ctx.employee.name}批准了你兑换「{request.reward}」,已扣 {request.points} 积分。"
        return [Reply(f"已批准,{name}的 {request.points} 积分已扣除。"), Reply(told, to_employee=request.employee_id)]
    why = f"({note})" if note else ""
    told = f"你兑换「{request.reward}」的申请没有通过{why},积分没有扣。有疑问可以找{ctx.employee.name}。"
    return [Reply(f"已拒绝{name}的兑换申请{why}。"), Reply(told, to_employee=request.employee_id)]


# --- the monthly recognition ---------------------------------------------------------------------------------
