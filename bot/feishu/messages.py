"""A Feishu event (a message to the bot, a click on a card button) as an inbox row."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from bot.feishu.cards import obj, parse_click
from bot.feishu.crypto import event_type
from sales.model import InboxMessage

PLATFORM = "feishu"
MESSAGE_EVENT = "im.message.receive_v1"
CARD_EVENT = "card.action.trigger"
MENTION = re.compile(r"@_user_\d+\s*")  # Feishu writes an @-mention into the text as a placeholder


def post_text(content: str) -> str:
    """The plain words of a rich-text (post) message: its title, then each paragraph's text and links."""
    try:
        post = json.loads(content)
    except ValueError:
        return ""
    if isinstance(post, dict) and "content" not in post:  # some events wrap it per language: {"zh_cn": {...}}
        post = next((v for v in post.values() if isinstance(v, dict)), {})
    if not isinstance(post, dict):
        return ""
    lines = [str(post.get("title") or "")]
    for paragraph in post.get("content") or []:
        if isinstance(paragraph, list):
            lines.append("".join(str(e.get("text", "")) for e in paragraph
                                 if isinstance(e, dict) and e.get("tag") in ("text", "a")))  # fmt: skip
    return MENTION.sub("", "\n".join(line for line in lines if line.strip())).strip()


def user_of(ids: dict[str, Any]) -> str:
    """The id we know a person by: their user_id (the 工号 an admin imports), else the app's open_id."""
    return str(ids.get("user_id") or ids.get("open_id") or "")


def to_inbox(payload: dict[str, Any], now: datetime) -> InboxMessage | None:
    """The inbox row for one event, or None for events the bot does not read (acknowledged, not kept).

    The event_id is the row's id: Feishu sends an event again when it saw no answer in time, with the
    same event_id, and the inbox keeps one row per id."""
    header = obj(payload, "header")
    event = obj(payload, "event")
    event_id = str(header.get("event_id") or "")
    kind = event_type(payload)
    if not event_id:
        return None
    raw: dict[str, Any] = {"feishu": payload}
    if kind == CARD_EVENT:
        try:
            click = parse_click(payload)
        except ValueError:
            return None
        # the key of the button is read as the person's answer, in the chat the card was sent to
        return InboxMessage(PLATFORM, event_id, click.user_id, now, chat_id=click.chat_id or None, text=click.key,
                            raw=raw)  # fmt: skip
    if kind != MESSAGE_EVENT:
        return None
    message = obj(event, "message")
    user = user_of(obj(obj(event, "sender"), "sender_id"))
    if not user:
        return None
    is_group = message.get("chat_type") == "group"
    kind = str(message.get("message_type") or "unknown")
    text = ""
    if kind == "text":
        try:
            content = json.loads(str(message.get("content") or "{}"))
        except ValueError:
            content = {}
        text = MENTION.sub("", str(content.get("text", "") if isinstance(content, dict) else "")).strip()
    elif kind == "post":  # rich text (a pasted brief often is): its words, line by line
        text = post_text(str(message.get("content") or "{}"))
        kind = "text" if text else "post"
    if is_group and not message.get("mentions"):
        kind = "event:group_not_for_us"  # kept, but a group message not addressed to the bot is not answered
    return InboxMessage(
        PLATFORM, event_id, user, now, chat_id=str(message.get("chat_id") or "") or None, is_group=is_group,
        kind=kind, text=text, raw=raw,
    )  # fmt: skip
