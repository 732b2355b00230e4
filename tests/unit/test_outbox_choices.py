"""Buttons only where a platform shows them: elsewhere the outbox writes the choices out, once, for every
sender alike (the senders no longer each do it their own way)."""

from __future__ import annotations

from bot.errors import ErrorHandler
from bot.outbox import OutboxSender
from bot.platform import Capabilities
from sales.model import OutboxMessage
from store.memory import MemoryStore
from tests.conftest import NOW

BUTTONS = [{"key": "q1:yes", "label": "确认"}, {"key": "q1:no", "label": "不改"}]


class Recorder:
    def __init__(self, platform: str, capabilities: Capabilities) -> None:
        self.platform, self.capabilities = platform, capabilities
        self.sent: list[OutboxMessage] = []

    async def send(self, message: OutboxMessage) -> None:
        self.sent.append(message)


async def test_choices_are_written_out_only_where_there_are_no_buttons() -> None:
    store = MemoryStore()
    plain, cards = Recorder("plain", Capabilities()), Recorder("cards", Capabilities(buttons=True))
    async with store() as uow:
        for platform in ("plain", "cards"):
            payload = {"text": "天成建材改成成交?", "buttons": BUTTONS}
            await uow.outbox.enqueue(OutboxMessage(platform, f"k-{platform}", NOW, payload, to_user="u1"))
        await uow.commit()
    outbox = OutboxSender(store, {"plain": plain, "cards": cards}, ErrorHandler(), lambda: NOW)
    assert await outbox.drain_once() == 2
    [written], [shown] = plain.sent, cards.sent
    assert written.payload == {"text": "天成建材改成成交?\n(回复:确认 / 不改)"}
    assert shown.payload["buttons"] == BUTTONS and shown.payload["text"] == "天成建材改成成交?"
