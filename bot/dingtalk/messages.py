"""A DingTalk robot message (the same JSON in stream and HTTP mode) as an inbox row."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

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


DINGTALK_HOSTS = frozenset({"oapi.dingtalk.com", "api.dingtalk.com"})


def webhook_hosts(*bases: str) -> frozenset[str]:
    """DingTalk's own hosts, and those of the configured API bases (a test's fake, a proxy)."""
    return DINGTALK_HOSTS | {urlsplit(b).hostname or "" for b in bases if b} - {""}


def problem(data: Any, webhook_hosts: frozenset[str] = DINGTALK_HOSTS) -> str | None:
    """Why a robot message can never be handled or answered (refused at the door), or None.

    ``webhook_hosts``: where a ``sessionWebhook`` may point (DingTalk's own hosts); a signed message must
    not be able to send our reply to any URL it names.
    """
    if not isinstance(data, dict):
        return "not an object"
    if not data.get("msgId") or not isinstance(data.get("msgId"), str | int):
        return "no msgId"
    if not (data.get("senderStaffId") or data.get("senderId")):
        return "no sender"
    if "text" in data and not isinstance(data["text"], dict):
        return "text is not an object"
    if isinstance(data.get("text"), dict) and not isinstance(data["text"].get("content", ""), str):
        return "text.content is not a string"
    expires = data.get("sessionWebhookExpiredTime")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int | float)):
        if not (isinstance(expires, str) and expires.isdigit() and len(expires) <= 16):
            return "sessionWebhookExpiredTime is not a time"
    webhook = data.get("sessionWebhook")
    if webhook is not None:
        if not isinstance(webhook, str):
            return "sessionWebhook is not a URL"
        parts = urlsplit(webhook)
        if parts.scheme not in ("https", "http") or (parts.hostname or "") not in webhook_hosts:
            return "sessionWebhook is not on DingTalk's host"
    return None
