"""HTTP mode: ``POST /dingtalk/callback`` with DingTalk's timestamp and sign headers."""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from bot.bodies import BodyTooLarge, read_body
from bot.dingtalk.api import sign
from bot.dingtalk.messages import DINGTALK_HOSTS, problem, to_inbox
from sales.model import InboxMessage

log = logging.getLogger("genjin.dingtalk")

MAX_SKEW_MS = 3600 * 1000


class DingTalkCallback:
    def __init__(
        self,
        put: Callable[[InboxMessage], Awaitable[bool]],
        clock: Callable[[], datetime],
        *,
        app_secret: str,
        max_body: int,
        hosts: frozenset[str] = DINGTALK_HOSTS,
    ) -> None:
        self.put = put
        self.clock = clock
        self.app_secret = app_secret
        self.max_body = max_body
        self.hosts = hosts  # where a sessionWebhook may point

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
        try:
            body = await read_body(request, self.max_body)
        except BodyTooLarge:
            return self._refuse(request, 413, "body too large")
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also a 5,000-digit integer
            return self._refuse(request, 400, "not JSON")
        wrong = problem(data, self.hosts)
        if wrong is not None:  # a retry cannot fix it: 400, not 503
            return self._refuse(request, 400, wrong)
        message = to_inbox(data, self.clock())
        try:
            await self.put(message)
        except Exception as exc:
            log.error("DingTalk message %s not stored: %s", data.get("msgId"), exc)
            return web.json_response({"error": "busy, retry later"}, status=503)
        return web.json_response({})

    @staticmethod
    def _refuse(request: web.Request, status: int, reason: str) -> web.Response:
        log.warning("DingTalk callback refused from %s: %s", request.remote, reason)
        return web.json_response({"error": "invalid request"}, status=status)
