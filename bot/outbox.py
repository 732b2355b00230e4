"""The outbox sender: delivers queued messages through each platform, with retries.

A message is leased before it is sent, so two senders never send it at the same time,
and it is marked sent after; a crash in between sends it again once the lease runs out,
under the same key, which the platforms use to drop the duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import ErrorHandler
from bot.loops import run_until_stopped
from sales.model import OutboxMessage
from store.repositories import UnitOfWorkFactory

log = logging.getLogger("genjin.outbox")


class TransientSendError(Exception):
    """Worth trying again later: network trouble, 5xx, a platform's rate limit."""


class PermanentSendError(Exception):
    """Trying again will not help: unknown user, bad credentials, a rejected message."""


class PlatformSender(Protocol):
    """What each adapter provides to deliver one message."""

    platform: str

    async def send(self, message: OutboxMessage) -> None: ...


def backoff(attempt: int, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: 2, 4, 8, … capped."""
    return float(min(cap, base * 2 ** max(0, attempt - 1)))


class OutboxSender:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        senders: dict[str, PlatformSender],
        errors: ErrorHandler,
        clock: Callable[[], datetime],
        *,
        lease_seconds: float = 60.0,
        give_up_after: timedelta = timedelta(hours=6),
        batch: int = 50,
        poll_seconds: float = 1.0,
    ) -> None:
        self.uow = uow
        self.senders = senders
        self.errors = errors
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.give_up_after = give_up_after
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()

    async def drain_once(self) -> int:
        """Send what is due now; how many were delivered."""
        if not self.senders:
            return 0
        now = self.clock()
        async with self.uow() as uow:
            due = await uow.outbox.lease_due(
                now, now + timedelta(seconds=self.lease_seconds), self.batch, list(self.senders)
            )
            await uow.commit()
        delivered = 0
        for message in due:
            delivered += await self._deliver(message)
        return delivered

    async def _deliver(self, message: OutboxMessage) -> int:
        assert message.id is not None
        sender = self.senders[message.platform]
        try:
            await sender.send(message)
        except PermanentSendError as exc:
            await self._record(message.id, failed=f"{exc}")
            log.warning("outbox %s gave up: %s", message.key, exc)
            return 0
        except Exception as exc:
            if not isinstance(exc, TransientSendError):
                self.errors.on_job(exc, f"send {message.key}")
            now = self.clock()
            if now - message.created_at >= self.give_up_after:
                await self._record(message.id, failed=f"gave up after {message.attempts} attempts: {exc}")
            else:
                retry_at = now + timedelta(seconds=backoff(message.attempts))
                await self._record(message.id, retry=(f"{type(exc).__name__}: {exc}", retry_at))
            return 0
        await self._record(message.id, sent=self.clock())
        return 1

    async def _record(
        self,
        message_id: int,
        *,
        sent: datetime | None = None,
        failed: str | None = None,
        retry: tuple[str, datetime] | None = None,
    ) -> None:
        async with self.uow() as uow:
            if sent is not None:
                await uow.outbox.mark_sent(message_id, sent)
            elif failed is not None:
                await uow.outbox.mark_failed(message_id, failed[:2000])
            elif retry is not None:
                await uow.outbox.retry_later(message_id, retry[0][:2000], retry[1])
            await uow.commit()

    async def drain(self) -> int:
        total = 0
        while (sent := await self.drain_once()) > 0:
            total += sent
        return total

    async def run(self, stop: asyncio.Event) -> None:
        await run_until_stopped(
            self.drain, stop=stop, wake=self.wake, poll_seconds=self.poll_seconds, errors=self.errors, name="outbox"
        )
