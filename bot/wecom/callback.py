"""``GET/POST /wecom/callback``: verify, decrypt, store in the inbox, answer 200 at once.

The work happens after the answer (WeCom waits 5 s, then retries three times); a retried
callback is the same inbox row (MsgId, or FromUserName + CreateTime for events).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.bodies import BodyTooLarge, read_body
from bot.wecom.crypto import CallbackCrypto, CallbackRejected
from bot.wecom.sender import PLATFORM
from sales.model import InboxMessage

log = logging.getLogger("genjin.wecom")

NOT_TEXT = ("image", "voice", "video", "file", "location", "link")
TEXT_EVENTS = ("click", "template_card_event")  # a menu key or a button key, read as the user's words
MAX_SKEW_S = 3600  # a callback's timestamp may be this far from our clock (WeCom retries within seconds)


def to_inbox(fields: dict[str, str], now: datetime) -> InboxMessage:
    """The neutral inbox row for one decrypted WeCom message."""
    user = fields.get("FromUserName", "")
    msgtype = fields.get("MsgType", "")
    raw: dict[str, Any] = {"wecom": fields}
    if msgtype == "event":
        event = fields.get("Event", "")
        msg_id = f"event:{user}:{fields.get('CreateTime', '')}:{event}"
        if event in TEXT_EVENTS:
            return InboxMessage(PLATFORM, msg_id, user, now, kind="text", text=fields.get("EventKey", ""), raw=raw)
        return InboxMessage(PLATFORM, msg_id, user, now, kind=f"event:{event}", raw=raw)
    msg_id = fields.get("MsgId") or f"{user}:{fields.get('CreateTime', '')}"
    if msgtype == "text":
        return InboxMessage(PLATFORM, msg_id, user, now, kind="text", text=fields.get("Content", ""), raw=raw)
    return InboxMessage(PLATFORM, msg_id, user, now, kind=msgtype or "unknown", raw=raw)


class WeComCallback:
    def __init__(
        self,
        put: Callable[[InboxMessage], Awaitable[bool]],
        clock: Callable[[], datetime],
        crypto: CallbackCrypto,
        *,
        max_body: int,
    ) -> None:
        self.put = put
        self.clock = clock
        self.crypto = crypto
        self.max_body = max_body
        self.accepted = 0

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/wecom/callback", self.verify), web.post("/wecom/callback", self.receive)]

    @staticmethod
    def _query(request: web.Request, *names: str) -> list[str]:
        values = [request.query.get(n) for n in names]
        if not all(values):
            raise CallbackRejected("missing " + ", ".join(n for n, v in zip(names, values, strict=True) if not v))
        return [str(v) for v in values]

    async def verify(self, request: web.Request) -> web.Response:
        try:
            signature, timestamp, nonce, echostr = self._query(
                request, "msg_signature", "timestamp", "nonce", "echostr"
            )
            plain = self.crypto.verify_url(signature, timestamp, nonce, echostr)
        except CallbackRejected as exc:
            return self._refuse(request, exc)
        return web.Response(text=plain, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        try:
            signature, timestamp, nonce = self._query(request, "msg_signature", "timestamp", "nonce")
            if not timestamp.isdigit():
                raise CallbackRejected("timestamp is not a number")
            if abs(time.time() - int(timestamp)) > MAX_SKEW_S:
                raise CallbackRejected("timestamp more than an hour off", 403)  # a replayed callback
            try:
                body = await read_body(request, self.max_body)
            except BodyTooLarge as exc:
                raise CallbackRejected(str(exc), 413) from exc
            fields = self.crypto.decrypt(body, signature, timestamp, nonce)
            if not fields.get("FromUserName") or not fields.get("MsgType"):
                raise CallbackRejected("no sender or type: nobody to answer")  # signed, but never answerable
        except CallbackRejected as exc:
            return self._refuse(request, exc)
        message = to_inbox(fields, self.clock())
        try:
            new = await self.put(message)
        except Exception as exc:  # the database is busy or down: WeCom will retry, nothing is lost
            log.error("WeCom callback %s not stored: %s", message.msg_id, exc)
            return web.Response(status=503, text="busy, retry later")
        if new:
            self.accepted += 1
        else:
            log.info("duplicate WeCom callback %s ignored", message.msg_id)
        return web.Response(status=200, body=b"")

    @staticmethod
    def _refuse(request: web.Request, exc: CallbackRejected) -> web.Response:
        log.warning("WeCom callback refused from %s: %s", request.remote, exc.reason)
        return web.Response(status=exc.status, text="invalid request")
