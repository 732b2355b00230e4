"""Delivering outbox messages through DingTalk: the session webhook first, the robot APIs after."""

from __future__ import annotations

import base64
import time
from urllib.parse import urlsplit

from bot.dingtalk.api import MAX_BATCH, DingTalkClient, file_body
from bot.dingtalk.messages import DINGTALK_HOSTS, PLATFORM
from bot.outbox import TransientSendError
from bot.platform import Capabilities
from sales.model import OutboxMessage
from usecases.format import split

TEXT_LIMIT = 4000  # bytes per message we send; DingTalk's own limit is higher
ROBOT_PREFIX = "robot:"  # a group's custom robot: robot:<access_token>:<secret>
WEBHOOK_MARGIN_MS = 60_000  # do not use a session webhook in its last minute


class DingTalkSender:
    platform = PLATFORM
    batch_size = MAX_BATCH
    # choices are written out; no pictures sent; documents go as the robot's sampleFile
    capabilities = Capabilities(files=True, text_limit=TEXT_LIMIT)

    def __init__(self, client: DingTalkClient, hosts: frozenset[str] = DINGTALK_HOSTS) -> None:
        self.client = client
        self.hosts = hosts  # a session webhook elsewhere (a row stored before the door checked it) is not used

    def _webhook(self, message: OutboxMessage) -> str | None:
        """The session webhook to answer on, if it is DingTalk's and still has a minute to live."""
        webhook = message.payload.get("reply_webhook")
        raw = str(message.payload.get("reply_webhook_expires") or "0")
        expires = int(raw) if raw.isdigit() and len(raw) <= 16 else 0
        if not isinstance(webhook, str) or (urlsplit(webhook).hostname or "") not in self.hosts:
            return None
        return webhook if expires - WEBHOOK_MARGIN_MS > time.time() * 1000 else None

    async def send(self, message: OutboxMessage) -> None:
        if message.payload.get("file_b64") and not (message.to_chat or "").startswith(ROBOT_PREFIX):
            await self._file(message)
            return
        text = self._text(message)
        markdown = message.payload.get("format") == "markdown"
        webhook = self._webhook(message)
        if webhook:
            for part in split(text, TEXT_LIMIT):
                await self.client.session_send(str(webhook), part, markdown=markdown)
            return
        if message.to_chat:
            if message.to_chat.startswith(ROBOT_PREFIX):
                token, _, secret = message.to_chat[len(ROBOT_PREFIX) :].partition(":")
                for index, part in enumerate(split(text, TEXT_LIMIT)):
                    await self.client.custom_robot_send(token, secret, part, key=f"{message.key}:{index}")
                return
            for part in split(text, TEXT_LIMIT):
                await self.client.group_send(message.to_chat, part, markdown=markdown)
            return
        assert message.to_user, "a DingTalk message needs a user or a group"
        for part in split(text, TEXT_LIMIT):
            if await self.client.batch_send([message.to_user], part, markdown=markdown):
                raise TransientSendError(f"{message.to_user} is throttled by DingTalk")

    async def _file(self, message: OutboxMessage) -> None:
        """A document: uploaded, then sent by the robot (a session webhook takes no files; a custom robot gets the
        message's text instead)."""
        name = str(message.payload.get("file_name") or "file.pdf")
        media_id = await self.client.upload_file(base64.b64decode(str(message.payload["file_b64"])), name)
        key, param = file_body(media_id, name)
        if message.to_chat:
            await self.client.group_send_body(message.to_chat, key, param)
            return
        assert message.to_user, "a DingTalk message needs a user or a group"
        if await self.client.batch_send_body([message.to_user], key, param):
            raise TransientSendError(f"{message.to_user} is throttled by DingTalk")

    async def send_batch(self, messages: list[OutboxMessage]) -> list[OutboxMessage]:
        """The same message to several people, 20 a call; those DingTalk throttled come back."""
        assert len(messages) <= MAX_BATCH
        first = messages[0]
        throttled = await self.client.batch_send(
            [str(m.to_user) for m in messages], self._text(first), markdown=first.payload.get("format") == "markdown"
        )
        return [m for m in messages if m.to_user in throttled]

    @staticmethod
    def batchable(message: OutboxMessage) -> bool:
        """Proactive one-to-one text that fits one call: no group, no webhook, no buttons."""
        payload = message.payload
        return bool(message.to_user) and not message.to_chat and not payload.get("reply_webhook") \
            and not payload.get("file_b64") \
            and len(str(payload.get("text", "")).encode()) <= TEXT_LIMIT  # fmt: skip

    @staticmethod
    def _text(message: OutboxMessage) -> str:
        return str(message.payload.get("text", ""))  # no buttons here: the outbox wrote the choices out
