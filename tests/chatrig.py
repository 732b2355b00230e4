"""The chat in process (in-memory store): a message in through the inbox, the bot's last reply out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.errors import ErrorHandler
from bot.inbox import InboxWorker
from handlers import build_router
from sales.model import InboxMessage
from store.memory import MemoryStore
from tests.conftest import NOW
from usecases.services import Services


class ChatRig:
    def __init__(self) -> None:
        self.store, self.services, self.n = MemoryStore(), Services(), 0

    async def say(self, text: str, user: str = "E01", minutes: int = 0) -> dict[str, Any]:
        """Send ``text`` as ``user`` at NOW + ``minutes``; the payload of the last message the bot queued."""
        self.n += 1
        when = NOW + timedelta(minutes=minutes)
        async with self.store() as uow:
            await uow.inbox.put(InboxMessage(platform="console", msg_id=f"m{self.n}", user_id=user,
                                             chat_id=f"console:{user}", text=text, received_at=when))  # fmt: skip
            await uow.commit()
        await InboxWorker(self.store, build_router(), ErrorHandler(), lambda: when, services=self.services).drain()
        async with self.store() as uow:
            return dict((await uow.outbox.find())[-1].payload)
