"""The neutral message types: what adapters translate to and from.

They are defined here, at the inner layer, so handlers depend on nothing outside;
``bot.messages`` re-exports them for the adapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ReplyFormat = Literal["text", "markdown"]


@dataclass(frozen=True)
class Incoming:
    """One message from a person, whatever platform carried it."""

    platform: str
    user_id: str  # the platform's id of the sender
    text: str
    received_at: datetime
    msg_id: str
    chat_id: str | None = None
    is_group: bool = False
    kind: str = "text"  # text, image, voice, file, event:<name>, …
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    key: str
    label: str


@dataclass(frozen=True)
class Attachment:
    """A document to send as a file (a quote's PDF or XLSX)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Reply:
    """Something to say; by default back to where the message came from.

    ``to_employee`` sends it to one employee directly instead; ``to_chat`` to a group chat.
    """

    text: str
    format: ReplyFormat = "text"
    buttons: tuple[Button, ...] = ()
    to_employee: str | None = None
    to_chat: str | None = None
    image: bytes | None = None  # a PNG; only sent where the platform shows pictures
    file: Attachment | None = None  # sent as a file where the platform takes files; elsewhere the text goes
