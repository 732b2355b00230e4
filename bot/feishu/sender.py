"""Delivering outbox messages through Feishu: text, a card with buttons for a question, and documents as files."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from functools import partial

from bot.feishu.api import FeishuClient
from bot.feishu.cards import button_card
from bot.feishu.messages import PLATFORM
from bot.messages import with_typed_choices
from bot.outbox import send_parts
from bot.platform import Capabilities
from sales.model import OutboxMessage
from usecases.format import split

TEXT_LIMIT = 4000  # bytes per message we send (Feishu takes far more; long replies read better cut)
CARD_BUTTONS = 9  # three rows of three


def receive_id_type(user: str) -> str:
    """Feishu's app-scoped open_id starts ou_; anything else is the tenant's user_id (the imported account)."""
    return "open_id" if user.startswith("ou_") else "user_id"


class FeishuSender:
    platform = PLATFORM
    capabilities = Capabilities(buttons=True, files=True, text_limit=TEXT_LIMIT)

    def __init__(self, client: FeishuClient) -> None:
        self.client = client

    async def send(self, message: OutboxMessage) -> None:
        if message.to_chat:
            kind, target = "chat_id", message.to_chat
        else:
            assert message.to_user, "a Feishu message needs a user or a chat"
            kind, target = receive_id_type(message.to_user), message.to_user
        if message.payload.get("file_b64"):  # a document: uploaded, then sent by its file_key
            data = base64.b64decode(str(message.payload["file_b64"]))
            name = str(message.payload.get("file_name") or "file")
            file_key = await self.client.upload_file(data, name)
            await self.client.send(kind, target, "file", {"file_key": file_key}, uuid=_uuid(message.key, "file"))
            return
        text = str(message.payload.get("text", ""))
        buttons = list(message.payload.get("buttons") or [])
        if buttons and len(buttons) <= CARD_BUTTONS:
            body, _, question = text.rpartition("\n")
        else:  # more choices than a card holds: written out to type
            body, question = with_typed_choices(text, buttons), ""
        parts: list[Callable[[], Awaitable[object]]] = []
        for index, part in enumerate(split(body, TEXT_LIMIT) if body else []):
            parts.append(partial(self.client.send, kind, target, "text", {"text": part},
                                 uuid=_uuid(message.key, index)))  # fmt: skip
        if question:
            card = button_card(question, [(str(b["label"]), str(b["key"])) for b in buttons])
            parts.append(partial(self.client.send, kind, target, "interactive", card, uuid=_uuid(message.key, "card")))
        await send_parts(message, parts)  # a retry starts after the parts that went out


def _uuid(key: str, part: object) -> str:
    """Feishu drops a second message with the same uuid within an hour: a resend after a crash is not doubled."""
    return hashlib.sha1(f"{key}:{part}".encode()).hexdigest()
