"""``看板``: a personal sign-in link to the web dashboard, valid for minutes and for one use."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, command_is
from usecases.web_auth import issue_link

router = Router("dashboard")


@router.message(command_is("dashboard"))
async def link(message: Incoming, ctx: Context) -> list[Reply]:
    """Sent to the asker alone: in a group chat anyone could open the link first."""
    assert ctx.employee is not None
    services = ctx.services
    if services.web_url is None:
        return [Reply("看板网页没有启用,请联系管理员(设置 GENJIN_WEB_ENABLED)。")]
    url = await issue_link(ctx.uow, ctx.employee, services.web_url, ctx.now, services.web_link_ttl)
    minutes = int(services.web_link_ttl.total_seconds() // 60)
    text = f"你的看板登录链接({minutes} 分钟内有效,只能用一次,请勿转发):\n{url}"
    if message.is_group:
        return [Reply("看板链接是个人的,已经私聊发给你了。"), Reply(text, to_employee=ctx.employee.id)]
    return [Reply(text)]
