"""Feishu's event subscription over HTTP: the URL check, signed and encrypted events, one row per event_id."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from bot.bodies import BodyTooLarge, read_body
from bot.feishu.crypto import CallbackRejected, FeishuCrypto, url_challenge
from bot.feishu.messages import to_inbox
from sales.model import InboxMessage

log = logging.getLogger("genjin.feishu")
PATH = "/feishu/callback"


class FeishuCallback:
    def __init__(
        self,
        put: Callable[[InboxMessage], Awaitable[bool]],
        clock: Callable[[], datetime],
        crypto: FeishuCrypto,
        *,
        max_body: int,
    ) -> None:
        self.put = put
        self.clock = clock
        self.crypto = crypto
        self.max_body = max_body

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        try:
            try:
                body = await read_body(request, self.max_body)
            except BodyTooLarge as exc:
                raise CallbackRejected(str(exc), 413) from exc
            payload = self.crypto.open(request.headers, body, time.time())
        except CallbackRejected as exc:
            log.warning("Feishu callback refused from %s: %s", request.remote, exc.reason)
            return web.json_response({"error": "invalid request"}, status=exc.status)
        challenge = url_challenge(payload)
        if challenge is not None:  # the developer console checks the address once, when it is saved
            return web.json_response({"challenge": challenge})
        message = to_inbox(payload, self.clock())
        if message is None:  # an event we do not read: acknowledged, so Feishu does not send it again
            return web.json_response({})
        try:
            new = await self.put(message)
        except Exception as exc:  # not stored: a non-200 makes Feishu deliver it again, nothing is lost
            log.error("Feishu event %s not stored: %s", message.msg_id, exc)
            return web.json_response({"error": "busy, retry later"}, status=503)
        if not new:
            log.info("duplicate Feishu event %s ignored", message.msg_id)
        return web.json_response({})
