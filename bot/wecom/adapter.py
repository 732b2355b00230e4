"""WeCom as a Genjin platform: the callback route, the app's sender, one token cache."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.platform import BatchSender, Wiring
from bot.wecom.api import WeComClient
from bot.wecom.callback import WeComCallback
from bot.wecom.crypto import CallbackCrypto
from bot.wecom.sender import PLATFORM, WeComSender


class WeComAdapter:
    name = PLATFORM
    batch: BatchSender | None = None

    def __init__(self, wiring: Wiring) -> None:
        s = wiring.settings
        assert s.wecom_corp_id and s.wecom_secret and s.wecom_token and s.wecom_aes_key and s.wecom_agent_id
        self.client = WeComClient(
            wiring.http(), base_url=s.wecom_api_base, corp_id=s.wecom_corp_id, secret=s.wecom_secret,
            agent_id=s.wecom_agent_id,
        )  # fmt: skip
        self.sender = WeComSender(self.client)
        crypto = CallbackCrypto(s.wecom_token, s.wecom_aes_key, s.wecom_corp_id)
        self.callback = WeComCallback(wiring.put, wiring.clock, crypto, max_body=s.max_body_bytes)

    def routes(self) -> Sequence[web.RouteDef]:
        return self.callback.routes()

    async def start(self) -> None:
        """WeCom calls us; there is no connection of our own to open."""

    async def stop(self) -> None:
        """Nothing to close: the route goes with the web server."""

    def trouble(self) -> str | None:
        """WeCom calls us: nothing of ours to be down (the health check covers the server)."""
        return None

    def token_fetches(self) -> int:
        return self.client.token_fetches
