"""「绑定本群」: a supervisor (or an admin) says so in the team's group, and the team's group messages — the
Friday standup, the monthly recognition — go to this chat on this platform from then on."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router
from nlu.intents import BIND_GROUP, BIND_TEAM_SUFFIX
from sales.model import AuditEntry, Team
from sales.permissions import may_manage_team

router = Router("teams")


async def _named_team(ctx: Context, written: str) -> tuple[Team | None, str]:
    """The team as written, else without a trailing 团队/团队群; the name to show when there is none."""
    for name in dict.fromkeys((written, BIND_TEAM_SUFFIX.sub("", written))):
        team = await ctx.uow.teams.get(name) if name else None
        if team is not None:
            return team, name
    return None, BIND_TEAM_SUFFIX.sub("", written) or written


@router.message(lambda m, _ctx: m.kind == "text" and BIND_GROUP.match(m.text.strip()) is not None)
async def bind_group(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.employee is not None
    match = BIND_GROUP.match(message.text.strip())
    assert match is not None
    binding = match["verb"] == "绑定"
    if not message.is_group or not message.chat_id:
        return [Reply("请在团队群里 @我 说「绑定本群」。收不到群消息的应用(比如企业微信自建应用)由管理员用"
                      " genjin import teams 填团队群。")]  # fmt: skip
    written = match["team"] or ctx.employee.team or ""
    if not written:
        return [Reply("请说明是哪个团队的群,例如「绑定本群 华东一组」。")]
    team, shown = await _named_team(ctx, written)
    if team is None:
        known = "、".join(t.name for t in await ctx.uow.teams.find())
        return [Reply(f"没有叫「{shown}」的团队。" + (f"现有团队:{known}。" if known else ""))]
    if not may_manage_team(ctx.employee, team.name):
        return [Reply(f"只有「{team.name}」的主管或管理员能设置这个团队的群。")]
    current = team.channels.get(message.platform)
    if binding:
        team.channels[message.platform] = message.chat_id
    elif current == message.chat_id:
        del team.channels[message.platform]
    else:
        return [Reply(f"这个群不是「{team.name}」的团队群,没有改动。")]
    await ctx.uow.teams.update(team)
    await ctx.uow.audit.add(AuditEntry(
        at=ctx.now, action="team.group." + ("bind" if binding else "unbind"), actor=ctx.employee.id,
        detail={"team": team.name, "platform": message.platform, "chat": message.chat_id, "was": current},
    ))  # fmt: skip
    if binding:
        return [Reply(f"好的,「{team.name}」的群消息(周五站会、月度表彰)以后发到这个群。")]
    return [Reply(f"已解绑,「{team.name}」的群消息不再发到这个群。")]
