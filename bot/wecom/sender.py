"""Delivering outbox messages through WeCom: text, markdown, button cards, group chats."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from functools import partial

from bot.messages import with_typed_choices
from bot.outbox import send_parts
from bot.platform import Capabilities
from bot.wecom.api import WeComClient
from sales.model import OutboxMessage
from usecases.format import TEXT_LIMIT, clip, split

PLATFORM = "wecom"
MARKDOWN_LIMIT = 4096  # the group robot's; the app's markdown shares text's 2,048 bytes
CARD_BUTTONS = 6  # a button_interaction card holds at most six
WEBHOOK_PREFIX = "webhook:"  # a team's group target given as a group robot key


class WeComSender:
    """One outbox message may become several WeCom messages when it is long."""

    platform = PLATFORM
    # WeCom drops (silently) a member's 31st message in a minute
    capabilities = Capabilities(images=True, files=True, buttons=True, per_member=(30, 60.0), text_limit=TEXT_LIMIT)

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    async def send(self, message: OutboxMessage) -> None:
        payload = message.payload
        if payload.get("image_b64"):
            await self._image(message, base64.b64decode(str(payload["image_b64"])))
            return
        if payload.get("file_b64") and not (message.to_chat or "").startswith(WEBHOOK_PREFIX):
            await self._file(
                message, base64.b64decode(str(payload["file_b64"])), str(payload.get("file_name") or "file")
            )
            return
        text = str(payload.get("text", ""))
        msgtype = "markdown" if payload.get("format") == "markdown" else "text"
        buttons = list(payload.get("buttons") or [])
        if message.to_chat:
            await self._to_group(message.to_chat, msgtype, text)
            return
        user = message.to_user
        assert user, "a WeCom message needs a user or a chat"
        parts: list[Callable[[], Awaitable[object]]] = []
        if buttons and len(buttons) <= CARD_BUTTONS:
            body, _, question = text.rpartition("\n")
            parts = [partial(self.client.send, user, msgtype, {"content": p}) for p in (split(body) if body else [])]
            parts.append(partial(self.client.send, user, "template_card", self._card(message, question, buttons)))
        else:  # more choices than a card holds: written out to type
            text = with_typed_choices(text, buttons)
            parts = [partial(self.client.send, user, msgtype, {"content": p}) for p in split(text)]
        await send_parts(message, parts)  # a retry after a failed card does not send the text again

    async def _image(self, message: OutboxMessage, png: bytes) -> None:
        """The app sends an uploaded media_id; a group robot takes the picture inline (base64 + md5)."""
        if message.to_chat and message.to_chat.startswith(WEBHOOK_PREFIX):
            content = {"base64": base64.b64encode(png).decode(), "md5": hashlib.md5(png).hexdigest()}
            await self.client.webhook_send(message.to_chat[len(WEBHOOK_PREFIX) :], "image", content)
            return
        media_id = await self.client.upload_image(png)
        if message.to_chat:
            await self.client.appchat_send(message.to_chat, "image", {"media_id": media_id})
        else:
            assert message.to_user, "a WeCom message needs a user or a chat"
            await self.client.send(message.to_user, "image", {"media_id": media_id})

    async def _file(self, message: OutboxMessage, data: bytes, name: str) -> None:
        """A document: uploaded as type file, then sent by its media_id (a group robot's target gets the text)."""
        media_id = await self.client.upload_file(data, name)
        if message.to_chat:
            await self.client.appchat_send(message.to_chat, "file", {"media_id": media_id})
        else:
            assert message.to_user, "a WeCom message needs a user or a chat"
            await self.client.send(message.to_user, "file", {"media_id": media_id})

    async def _to_group(self, target: str, msgtype: str, text: str) -> None:
        if target.startswith(WEBHOOK_PREFIX):
            key = target[len(WEBHOOK_PREFIX) :]
            limit = MARKDOWN_LIMIT if msgtype == "markdown" else TEXT_LIMIT
            for part in split(text, limit):
                await self.client.webhook_send(key, msgtype, {"content": part})
            return
        for part in split(text):
            await self.client.appchat_send(target, msgtype, {"content": part})

    @staticmethod
    def _card(message: OutboxMessage, question: str, buttons: list[dict[str, str]]) -> dict[str, object]:
        """A button card; the clicked key comes back as a template_card_event and is read as the answer."""
        task_id = hashlib.sha1(message.key.encode()).hexdigest()[:32]
        return {
            "card_type": "button_interaction",
            "main_title": {"title": "请选择"},
            "sub_title_text": clip(question, 300),
            "task_id": task_id,
            "button_list": [{"text": b["label"][:10], "style": 1, "key": b["key"]} for b in buttons],
        }
