"""A DingTalk robot message (the same JSON in stream and HTTP mode) as an inbox row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sales.model import InboxMessage

PLATFORM = "dingtalk"
SINGLE, GROUP = "1", "2"  # conversationType is a string


def to_inbox(data: dict[str, Any], now: datetime) -> InboxMessage:
    """The inbox row for one robot message; a group message not addressed to the bot is kept but ignored."""
    conversation_type = str(data.get("conversationType", SINGLE))
    is_group = conversation_type == GROUP
    msgtype = str(data.get("msgtype", "text"))
    text = ""
    kind = msgtype
    if msgtype == "text":
        text = str((data.get("text") or {}).get("content", "")).strip()
        kind = "text"
    elif msgtype == "picture":
        kind = "image"
    if is_group and not data.get("isInAtList", False):
        kind = "event:group_not_for_us"
    extra = {
        "sender_name": data.get("senderNick"),
        "reply_webhook": data.get("sessionWebhook"),
        "reply_webhook_expires": data.get("sessionWebhookExpiredTime"),
    }
    return InboxMessage(
        platform=PLATFORM,
        msg_id=str(data.get("msgId") or ""),
        user_id=str(data.get("senderStaffId") or data.get("senderId") or ""),
        received_at=now,
        chat_id=str(data.get("conversationId") or "") or None,
        is_group=is_group,
        kind=kind,
        text=text,
        raw={"dingtalk": data, "extra": extra},
    )


def is_valid(data: Any) -> bool:
    return (
        isinstance(data, dict) and bool(data.get("msgId")) and bool(data.get("senderStaffId") or data.get("senderId"))
    )
