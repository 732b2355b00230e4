"""``帮助``: what the bot understands, assembled from the routers that are installed."""

from __future__ import annotations

from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router, text_is

router = Router("help")

HELP_WORDS = ("help", "/help", "帮助", "？", "?", "怎么用", "使用说明", "菜单")

# Each conversation module adds its own lines when it is installed, so help never
# promises what the bot cannot do.
HELP_LINES: list[str] = ["「帮助」— 看这份说明"]


def help_text() -> str:
    lines = ["我是跟进助手 Genjin,你可以这样用我:"]
    lines += [f"· {line}" for line in HELP_LINES]
    return "\n".join(lines)


@router.message(text_is(*HELP_WORDS))
async def show_help(message: Incoming, ctx: Context) -> list[Reply]:
    return [Reply(help_text())]
