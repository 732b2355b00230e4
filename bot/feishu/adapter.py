"""Feishu (飞书) as a Genjin platform: the long connection or the HTTP callback, and the sender."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiohttp import web

from bot.feishu.api import FeishuClient
from bot.feishu.callback import FeishuCallback
from bot.feishu.crypto import FeishuCrypto
from bot.feishu.messages import PLATFORM
from bot.feishu.sender import FeishuSender
from bot.feishu.stream import LongConnection
from bot.platform import BatchSender, Wiring

STOP_SECONDS = 1.5


class FeishuAdapter:
    name = PLATFORM
    batch: BatchSender | None = None

    def __init__(self, wiring: Wiring) -> None:
        s = wiring.settings
        assert s.feishu_app_id and s.feishu_app_secret
        self.client = FeishuClient(wiring.http(), base_url=s.feishu_api_base, app_id=s.feishu_app_id,
                                   app_secret=s.feishu_app_secret)  # fmt: skip
        self.sender = FeishuSender(self.client)
        self.callback: FeishuCallback | None = None
        self.connection: LongConnection | None = None
        if s.feishu_mode == "http":
            crypto = FeishuCrypto(s.feishu_encrypt_key, s.feishu_verification_token)
            self.callback = FeishuCallback(wiring.put, wiring.clock, crypto, max_body=s.max_body_bytes)
        else:
            self.connection = LongConnection(app_id=s.feishu_app_id, app_secret=s.feishu_app_secret,
                                             domain=s.feishu_api_base, put=wiring.put, clock=wiring.clock)  # fmt: skip

    def routes(self) -> Sequence[web.RouteDef]:
        return self.callback.routes() if self.callback is not None else []

    async def start(self) -> None:
        if self.connection is not None:
            self.connection.start()

    async def stop(self) -> None:
        if self.connection is not None:
            await asyncio.to_thread(self.connection.stop, STOP_SECONDS)

    def trouble(self) -> str | None:
        return self.connection.trouble() if self.connection is not None else None

    def token_fetches(self) -> int:
        return self.client.token_fetches
