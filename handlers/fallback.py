"""Anything no other handler took: never silence, always a pointer to help."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, intent_is

router = Router("fallback")

READABLE = "我目前能读文字消息"
UNADDRESSED = "event:group_not_for_us"  # the platforms mark a group message that is not for the bot so
QUERY_NAMES: dict[str, str] = {}  # query kinds the parser knows and no handler answers yet


@router.message(lambda m, ctx: m.kind != "text" and not m.kind.startswith("event:"))
async def not_text(message: Incoming, ctx: Context) -> list[Reply]:
    return [Reply(f"收到了,不过{READABLE},图片、语音和文件还看不懂。请用文字发给我,发送「帮助」看看我能做什么。")]


@router.message(lambda m, ctx: m.kind.startswith("event:"))
async def ignored_event(message: Incoming, ctx: Context) -> list[Reply]:
    return []


unaddressed = Router("unaddressed")


@unaddressed.message(lambda m, ctx: m.kind == UNADDRESSED)
async def not_for_us(message: Incoming, ctx: Context) -> list[Reply]:
    """A group message that did not @ the bot is kept, but no command, answer or brief is read from it."""
    return []


@router.message(intent_is("query"))
async def query_not_yet(message: Incoming, ctx: Context) -> list[Reply]:
    assert ctx.parsed is not None
    name = QUERY_NAMES.get(ctx.parsed.query or "", "这类")
    return [Reply(f"「{name}」查询还没有上线,你的问题已记下。发送「帮助」看看现在能做什么。")]


@router.message(intent_is("command"))
async def command_not_yet(message: Incoming, ctx: Context) -> list[Reply]:
    return [Reply("这个命令我还不会。发送「帮助」看看现在能做什么。")]


@router.message()
async def chitchat(message: Incoming, ctx: Context) -> list[Reply]:
    if not message.text.strip():
        return []
    if any(w in message.text for w in ("谢谢", "多谢", "感谢", "辛苦")):
        return [Reply("不客气!有客户进展随时发给我。")]
    return [Reply("你好!我是跟进助手,直接发今天的客户进展给我就行;发送「帮助」看看我能做什么。")]
