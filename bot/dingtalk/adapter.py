"""DingTalk as a Genjin platform: the stream (its own thread) or the HTTP route, and the sender."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiohttp import web

from bot.dingtalk.api import DingTalkClient
from bot.dingtalk.callback import DingTalkCallback
from bot.dingtalk.messages import PLATFORM, webhook_hosts
from bot.dingtalk.sender import DingTalkSender
from bot.dingtalk.stream import StreamRunner
from bot.platform import Wiring

STREAM_STOP_SECONDS = 1.5


class DingTalkAdapter:
    name = PLATFORM

    def __init__(self, wiring: Wiring) -> None:
        s = wiring.settings
        assert s.dingtalk_app_key and s.dingtalk_app_secret
        self.client = DingTalkClient(
            wiring.http(), api_base=s.dingtalk_api_base, oapi_base=s.dingtalk_oapi_base, app_key=s.dingtalk_app_key,
            app_secret=s.dingtalk_app_secret, robot_code=s.dingtalk_robot_code or s.dingtalk_app_key,
        )  # fmt: skip
        hosts = webhook_hosts(s.dingtalk_api_base, s.dingtalk_oapi_base)
        self.sender = DingTalkSender(self.client, hosts)
        self.batch = self.sender
        self.callback: DingTalkCallback | None = None
        self.stream: StreamRunner | None = None
        if s.dingtalk_mode == "http":
            self.callback = DingTalkCallback(wiring.put, wiring.clock, app_secret=s.dingtalk_app_secret,
                                             max_body=s.max_body_bytes, hosts=hosts)  # fmt: skip
        else:
            self.stream = StreamRunner(
                app_key=s.dingtalk_app_key, app_secret=s.dingtalk_app_secret, api_base=s.dingtalk_api_base,
                put=wiring.put, clock=wiring.clock, watchdog_seconds=s.dingtalk_watchdog_seconds, hosts=hosts,
            )  # fmt: skip

    def routes(self) -> Sequence[web.RouteDef]:
        return self.callback.routes() if self.callback is not None else []

    async def start(self) -> None:
        if self.stream is not None:
            self.stream.start()

    async def stop(self) -> None:
        if self.stream is not None:  # the SDK's thread: closed first, so no new message arrives
            await asyncio.to_thread(self.stream.stop, STREAM_STOP_SECONDS)

    def trouble(self) -> str | None:
        if self.stream is not None and self.stream.started and not self.stream.running:
            return "钉钉 Stream 线程已停止,收不到钉钉消息"
        return None

    def token_fetches(self) -> int:
        return self.client.token_fetches
