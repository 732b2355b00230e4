"""What a chat platform plugs into Genjin, and nothing more.

A platform is a package under ``bot/`` with an adapter: its way in (HTTP routes, or a connection it
runs itself), its sender, and what it can do. The rest of the bot — inbox, outbox, handlers, the
scheduler — sees only this interface and the platform's name; a person's id on a platform is data
(``Employee.accounts``), read by the one rule in ``sales.accounts``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from bot.config import Settings
from sales.model import InboxMessage, OutboxMessage


@dataclass(frozen=True)
class Capabilities:
    """What a platform shows and allows; the outbox and the replies adapt to it."""

    images: bool = False  # a chart goes out as a picture after its text
    files: bool = False  # a document goes out as a file (elsewhere its message's text, a link, goes)
    buttons: bool = False  # a question's answers are buttons (elsewhere the outbox writes them out to type)
    per_member: tuple[int, float] | None = None  # (messages, seconds) one person may receive, beyond: merged
    text_limit: int = 2048  # bytes in one message; longer replies are split


class PlatformSender(Protocol):
    """Delivers one outbox message; raises the outbox's Transient/PermanentSendError."""

    platform: str
    capabilities: Capabilities

    async def send(self, message: OutboxMessage) -> None: ...


class BatchSender(Protocol):
    """A platform that reaches several people with one call (the same text to each)."""

    batch_size: int

    def batchable(self, message: OutboxMessage) -> bool: ...

    async def send_batch(self, messages: list[OutboxMessage]) -> list[OutboxMessage]:
        """Send to all; the messages the platform throttled come back, to go again later."""
        ...


@dataclass(frozen=True)
class Wiring:
    """What the app lends an adapter: settings, the shared HTTP session, the inbox's door, the clock."""

    settings: Settings
    http: Callable[[], aiohttp.ClientSession]  # created on first use, closed by the app
    put: Callable[[InboxMessage], Coroutine[Any, Any, bool]]  # store an incoming message; False for a repeat
    clock: Callable[[], datetime]


class PlatformAdapter(Protocol):
    """One platform, built from the settings at start-up and started/stopped by ``serve``."""

    @property
    def name(self) -> str: ...

    @property
    def sender(self) -> PlatformSender: ...

    @property
    def batch(self) -> BatchSender | None:
        """The sender again where the platform sends to many in one call, else None."""
        ...

    def routes(self) -> Sequence[web.RouteDef]:
        """Its HTTP callbacks (none for a platform that holds its own connection)."""
        ...

    async def start(self) -> None:
        """Open the platform's own connection, if it has one (off the event loop)."""
        ...

    async def stop(self) -> None:
        """Close it again: no message arrives after this returns."""
        ...

    def trouble(self) -> str | None:
        """What keeps messages from arriving right now (a connection down for a while), in Chinese; else None."""
        ...

    def token_fetches(self) -> int:
        """How often an access token was fetched (a metric; a storm means a wrong secret)."""
        ...


@dataclass(frozen=True)
class Registration:
    """How a platform is found: its name, its Chinese name, when it is on, and how it is built."""

    name: str
    label: str  # 企业微信, 钉钉, … (import columns 「<label>账号」, texts)
    enabled: Callable[[Settings], bool]
    build: Callable[[Wiring], PlatformAdapter]
