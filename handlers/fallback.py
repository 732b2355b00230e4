"""Anything no other handler took: never silence, always a pointer to help."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router

router = Router("fallback")

READABLE = "我目前能读文字消息"


@router.message(lambda m, ctx: m.kind != "text" and not m.kind.startswith("event:"))
async def not_text(message: Incoming, ctx: Context) -> list[Reply]:
    return [Reply(f"收到了,不过{READABLE},图片、语音和文件还看不懂。请用文字发给我,发送「帮助」看看我能做什么。")]


@router.message(lambda m, ctx: m.kind.startswith("event:"))
async def ignored_event(message: Incoming, ctx: Context) -> list[Reply]:
    return []


@router.message()
async def not_understood(message: Incoming, ctx: Context) -> list[Reply]:
    if not message.text.strip():
        return []
    return [Reply("收到,你的消息已保存,不过这句话我还没看懂。发送「帮助」看看我能做什么。")]
