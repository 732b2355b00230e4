"""Console chat through the same path as the platforms: inbox → router → outbox → here."""

from __future__ import annotations

import asyncio
import base64
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.platform import Capabilities
from sales.model import InboxMessage, InboxStatus, OutboxMessage
from store.repositories import UnitOfWorkFactory

PLATFORM = "console"
EXIT_WORDS = {"exit", "quit", "退出", ":q"}


class ConsoleSender:
    """Prints replies; buttons become the words to type; a document (a quote) is saved in ``files`` and its path
    printed."""

    platform = PLATFORM
    capabilities = Capabilities(files=True, text_limit=64 * 1024)

    def __init__(self, out: TextIO, *, interactive: bool, files: Path = Path("genjin-files")) -> None:
        self.out = out
        self.interactive = interactive
        self.files = files

    async def send(self, message: OutboxMessage) -> None:
        text = str(message.payload.get("text", ""))  # the outbox wrote any choices out: no buttons here
        if message.payload.get("file_b64"):
            name = Path(str(message.payload.get("file_name") or "file")).name  # never a path of the sender's making
            data = base64.b64decode(str(message.payload["file_b64"]))
            target = self.files / name
            await asyncio.to_thread(self._save, target, data)
            text = f"📎 文件已保存: {target}"
        prefix = "Genjin> " if self.interactive else ""
        self.out.write(prefix + text + "\n")
        if not self.interactive:
            self.out.write("\n")
        self.out.flush()

    def _save(self, target: Path, data: bytes) -> None:
        self.files.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


class ConsoleChat:
    """Drives one employee's conversation; each line is one message."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        employee_id: str,
        clock: Callable[[], datetime],
        process: Callable[[], Awaitable[object]],
        deliver: Callable[[], Awaitable[object]],
    ) -> None:
        self.uow = uow
        self.employee_id = employee_id
        self.clock = clock
        self.process = process
        self.deliver = deliver

    async def say(self, text: str) -> None:
        """Store the line in the inbox, let the worker handle it, then print what it queued."""
        message = InboxMessage(
            platform=PLATFORM,
            msg_id=uuid.uuid4().hex,
            user_id=self.employee_id,
            chat_id=f"console:{self.employee_id}",
            text=text,
            received_at=self.clock(),
        )
        async with self.uow() as uow:
            stored = await uow.inbox.put(message)
            await uow.commit()
        assert stored is not None and stored.id is not None
        for _ in range(600):  # another process may have taken it; wait for it to finish
            await self.process()
            async with self.uow() as uow:
                current = await uow.inbox.get(stored.id)
            if current is not None and current.status is not InboxStatus.NEW:
                break
            await asyncio.sleep(0.05)
        await self.deliver()

    async def run(self, stdin: TextIO, *, interactive: bool, out: TextIO) -> None:
        while True:
            if interactive:
                out.write("你> ")
                out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            text = line.rstrip("\r\n")
            if interactive and text.strip().lower() in EXIT_WORDS:
                break
            if not interactive:
                text = text.replace("\\n", "\n")  # one message per line; a literal \n inside is a line break
            if not text.strip():
                continue
            await self.say(text)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()
