"""HTTP mode: ``POST /dingtalk/callback`` with DingTalk's timestamp and sign headers."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.dingtalk.api import sign
from bot.dingtalk.messages import is_valid, to_inbox
from bot.inbox import InboxWriter

log = logging.getLogger("genjin.dingtalk")

MAX_SKEW_MS = 3600 * 1000


class DingTalkCallback:
    def __init__(self, inbox: InboxWriter, clock: Callable[[], datetime], *, app_secret: str, max_body: int) -> None:
        self.inbox = inbox
        self.clock = clock
        self.app_secret = app_secret
        self.max_body = max_body

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/dingtalk/callback", self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        timestamp, signature = request.headers.get("timestamp", ""), request.headers.get("sign", "")
        if not timestamp.isdigit() or not signature:
            return self._refuse(request, 400, "missing timestamp or sign")
        if abs(time.time() * 1000 - int(timestamp)) > MAX_SKEW_MS:
            return self._refuse(request, 403, "timestamp more than an hour off")
        if not hmac.compare_digest(sign(self.app_secret, timestamp), signature):
            return self._refuse(request, 403, "bad sign")
        if request.content_length is not None and request.content_length > self.max_body:
            return self._refuse(request, 413, "body too large")
        body = await request.content.read(self.max_body + 1)
        if len(body) > self.max_body:
            return self._refuse(request, 413, "body too large")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return self._refuse(request, 400, "not JSON")
        if not is_valid(data):
            return self._refuse(request, 400, "not a robot message")
        try:
            await self.inbox.put(to_inbox(data, self.clock()))
        except Exception as exc:
            log.error("DingTalk message %s not stored: %s", data.get("msgId"), exc)
            return web.json_response({"error": "busy, retry later"}, status=503)
        return web.json_response({})

    @staticmethod
    def _refuse(request: web.Request, status: int, reason: str) -> web.Response:
        log.warning("DingTalk callback refused from %s: %s", request.remote, reason)
        return web.json_response({"error": "invalid request"}, status=status)
