"""The inbox worker: takes stored messages one at a time and turns them into outbox replies.

A message, its handling and its replies are committed together, so a crash leaves the
message new (handled again later) or done with its replies queued, never half-handled.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.errors import ErrorHandler
from bot.loops import run_until_stopped
from bot.metrics import Metrics
from handlers.access import resolve_sender
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router
from sales.accounts import platform_user
from sales.model import Employee, InboxMessage, InboxStatus, OutboxMessage
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.services import Services

log = logging.getLogger("genjin.inbox")

Clock = Callable[[], datetime]
REPLY_KEYS = ("reply_webhook", "reply_webhook_expires")
GIVE_WAY_SECONDS = 0.25  # the longest the worker waits for callbacks being stored before its next message


def to_incoming(message: InboxMessage) -> Incoming:
    return Incoming(
        platform=message.platform,
        user_id=message.user_id,
        text=message.text,
        received_at=message.received_at,
        msg_id=message.msg_id,
        chat_id=message.chat_id,
        is_group=message.is_group,
        kind=message.kind,
        extra=dict(message.raw.get("extra", {})) if isinstance(message.raw, dict) else {},
    )


async def enqueue_replies(
    uow: UnitOfWork, message: Incoming, employee: Employee | None, replies: list[Reply], now: datetime
) -> None:
    """Address each reply and queue it under a key derived from the message, so it is queued once."""
    for index, reply in enumerate(replies):
        to_user: str | None = message.user_id
        to_chat = message.chat_id if message.is_group else None
        back_here = reply.to_employee is None and reply.to_chat is None
        if reply.to_employee is not None:
            target = await uow.employees.get(reply.to_employee)
            to_user = platform_user(target, message.platform) if target else None
            to_chat = None
            if to_user is None:
                log.warning("reply to %s has no %s account; dropped", reply.to_employee, message.platform)
                continue
        if reply.to_chat is not None:
            to_user, to_chat = None, reply.to_chat
        await uow.outbox.enqueue(
            OutboxMessage(
                platform=message.platform,
                key=f"reply:{message.platform}:{message.msg_id}:{index}",
                created_at=now,
                payload={
                    "text": reply.text,
                    "format": reply.format,
                    "buttons": [{"key": b.key, "label": b.label} for b in reply.buttons],
                    "sender": employee.id if employee else None,
                    **({"image_b64": base64.b64encode(reply.image).decode()} if reply.image else {}),
                    # a platform's way back to this very conversation (DingTalk's sessionWebhook), while valid
                    **({k: message.extra[k] for k in REPLY_KEYS if message.extra.get(k)} if back_here else {}),
                },
                to_user=to_user,
                to_chat=to_chat,
                kind="image" if reply.image else reply.format,
            )
        )


class InboxWorker:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        router: Router,
        errors: ErrorHandler,
        clock: Clock,
        *,
        services: Services,
        auto_register: bool = False,
        poll_seconds: float = 1.0,
        metrics: Metrics | None = None,
        reader: UnitOfWorkFactory | None = None,
        workers: int = 1,
    ) -> None:
        self.metrics = metrics
        self.reader = reader or uow
        self.workers = workers
        self.services = services
        self.uow = uow
        self.router = router
        self.errors = errors
        self.clock = clock
        self.auto_register = auto_register
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        # in a process that also stores callbacks: waits while a batch of them is being stored (``InboxWriter``)
        self.give_way: Callable[[], Awaitable[None]] | None = None

    async def process_one(self) -> bool:
        """Handle the oldest new message; False when there was none."""
        # A rebuild of the parser's index (slow, in a thread) happens before the write transaction opens,
        # so that callbacks are never kept waiting on the database behind it.
        await self.services.parser.prepare(self.reader)
        async with self.uow() as uow:
            stored = await uow.inbox.claim_next()
            if stored is None or stored.id is None:
                return False
            message = to_incoming(stored)
            now = self.clock()
            employee: Employee | None = None
            started = time.perf_counter()
            try:
                async with uow.savepoint():
                    employee = await resolve_sender(uow, message, auto_register=self.auto_register)
                    ctx = Context(uow=uow, now=now, employee=employee, services=self.services)
                    replies = await self.router.dispatch(message, ctx) or []
                    await enqueue_replies(uow, message, employee, replies, now)
                status, error = InboxStatus.DONE, None
                if self.metrics is not None and ctx.parsed is not None:
                    self.metrics.parsed.labels(ctx.parsed.intent).inc()
            except Exception as exc:  # one error handler for every message
                replies = self.errors.on_message(exc, message)
                await enqueue_replies(uow, message, None, replies, now)
                status, error = InboxStatus.FAILED, ErrorHandler.summary(exc)
            await uow.inbox.finish(stored.id, status, now, error)
            await uow.commit()
            if self.metrics is not None:
                self.metrics.handled.labels(status.value).inc()
                self.metrics.handler_seconds.observe(time.perf_counter() - started)
            return True

    async def drain(self) -> int:
        """Handle every waiting message; how many were handled."""
        handled = 0
        while True:
            if self.give_way is not None:
                await self.give_way()
            if not await self.process_one():
                return handled
            handled += 1

    async def run(self, stop: asyncio.Event) -> None:
        """``workers`` loops side by side. Where the database locks rows (PostgreSQL) they handle different reps'
        messages at once, each rep's in order (see ``claim_next``); on SQLite one loop is all the writer allows."""
        loops = [
            run_until_stopped(
                self.drain, stop=stop, wake=self.wake, poll_seconds=self.poll_seconds, errors=self.errors, name="inbox"
            )
            for _ in range(self.workers)
        ]
        await asyncio.gather(*loops)


class InboxWriter:
    """Stores incoming messages in batches: callbacks that arrive while one write is under way
    are committed together in the next, so a single-writer SQLite keeps up with bursts.
    """

    def __init__(self, uow: UnitOfWorkFactory, wake: asyncio.Event) -> None:
        self.uow = uow
        self.wake = wake
        self._waiting: list[tuple[InboxMessage, asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def let_pass(self, limit: float = GIVE_WAY_SECONDS) -> None:
        """Wait (up to ``limit``) while callbacks are waiting to be stored or being stored. The worker calls this
        before each message: a platform waits for the answer to a callback (WeCom retries after 5 s), a brief's reply
        can wait a moment. Without it, in a burst each batch of callbacks queued for the writer behind a whole brief,
        whose handling the callbacks' own work kept stretching: acknowledgements fell to a third of the bare
        handler's rate. The worker still handles a message between two batches, so a long burst slows it, never
        stops it."""
        flushing = self._flushing
        if flushing is None or flushing.done():
            return
        await asyncio.wait({flushing}, timeout=limit)  # the limit: a flood that never pauses still lets briefs by

    async def settle(self) -> None:
        """Wait for the batch being written, before the database closes: its callbacks are owed an answer."""
        while self._flushing is not None and not self._flushing.done():
            await asyncio.gather(self._flushing, return_exceptions=True)

    async def put(self, message: InboxMessage) -> bool:
        """Store ``message``; False when the platform already delivered it (a retry)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                async with self.uow() as uow:
                    stored = await uow.inbox.put_many([message for message, _ in batch])
                    await uow.commit()
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), new in zip(batch, stored, strict=True):
                if not future.done():
                    future.set_result(new)
            if any(stored):
                self.wake.set()
