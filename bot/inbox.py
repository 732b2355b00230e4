"""The inbox worker: takes stored messages in batches and turns them into outbox replies.

A batch of messages, their handling and their replies are committed together, each message's handling in a
savepoint of its own, so a crash leaves the messages new (handled again later) or done with their replies queued,
never half-handled, and one message's failure undoes only its own work.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.errors import ErrorHandler
from bot.loops import run_until_stopped
from bot.metrics import Metrics
from handlers.access import resolve_sender
from handlers.messages import Incoming, Reply
from handlers.routing import Context, Router
from sales.accounts import CONSOLE, platform_user
from sales.model import Employee, Finished, InboxMessage, InboxStatus, OutboxMessage, Role
from sales.stages import OPEN_STAGES
from store.errors import is_transient
from store.repositories import UnitOfWork, UnitOfWorkFactory
from usecases.services import Services

log = logging.getLogger("genjin.inbox")

Clock = Callable[[], datetime]
REPLY_KEYS = ("reply_webhook", "reply_webhook_expires")
BATCH = 16  # messages handled in one transaction at most
GIVE_WAY_SECONDS = 0.25  # the longest the worker waits for callbacks being stored before its next message
QUIET_SECONDS = 0.02  # …and for a pause in a burst of them,
BURST_CALLBACKS, BURST_SECONDS = 20, 0.1  # a burst: callbacks faster than 200 a second
TRANSIENT_TRIES = 3  # a message whose handling meets a transient database error is tried this often in all
FLOOD_BATCH_SECONDS = 0.02  # after waiting out a flood, the worker handles briefs this long before callbacks go first


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


async def address_replies(
    uow: UnitOfWork, message: Incoming, employee: Employee | None, replies: list[Reply], now: datetime
) -> list[OutboxMessage]:
    """Address each reply, under a key derived from the message so that it is queued once."""
    out: list[OutboxMessage] = []
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
        out.append(
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
                    **(
                        {"file_b64": base64.b64encode(reply.file.data).decode(), "file_name": reply.file.name}
                        if reply.file
                        else {}
                    ),
                    # a platform's way back to this very conversation (DingTalk's sessionWebhook), while valid
                    **({k: message.extra[k] for k in REPLY_KEYS if message.extra.get(k)} if back_here else {}),
                },
                to_user=to_user,
                to_chat=to_chat,
                kind="image" if reply.image else "file" if reply.file else reply.format,
            )
        )
    return out


class _TryAgain(Exception):
    """A message's handling met a transient database error (its savepoint rolled back): leave it new."""


async def _sample(uow: UnitOfWork, tries: int = 50) -> tuple[str, str, str] | None:
    """A rep's platform, user id and one of their open customers' names, for ``InboxWorker.rehearse``: one customer
    read per employee tried, reps first, at most ``tries`` of them."""
    staff = sorted(await uow.employees.find(active_only=True), key=lambda e: (e.role is not Role.REP, e.id))
    for employee in staff[:tries]:
        platform, user_id = next(iter(sorted(employee.accounts.items())), (CONSOLE, employee.id))
        customers = await uow.customers.find(owner_ids=[employee.id], stages=OPEN_STAGES, limit=1)
        if customers:
            return platform, user_id, customers[0].name
    return None


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
        batch: int = BATCH,
    ) -> None:
        self.batch = batch
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
        # in a process that also stores callbacks: waits while a batch of them is stored or a burst goes on
        self.give_way: Callable[[], Awaitable[bool]] | None = None
        # …and tells, between two messages of a batch, whether callbacks wait for the writer
        self.hold_up: Callable[[], bool] | None = None
        self._transient: dict[int, int] = {}  # message id -> transient failures so far

    async def process_batch(self, *, held_for: float = 0.0) -> int:
        """Handle up to ``batch`` of the oldest new messages (each its sender's oldest) in one transaction, each in
        a savepoint of its own; how many were handled. One commit, one claim, one finish and one insert of the
        replies for the batch: per message these were a third of a brief's statements. A batch ends after the message
        in hand when ``hold_up`` says callbacks wait for the writer (SQLite; not in the first ``held_for`` s), and after
        a message that added, renamed or removed a customer: the parser's index follows the names only once they are
        committed (a later message of the batch would patch it with names a failed commit then took back), and on
        PostgreSQL the names' version row stays locked until the commit. What is handled is committed, the rest stays
        new."""
        # A rebuild of the parser's index (slow, in a thread) happens before the write transaction opens,
        # so that callbacks are never kept waiting on the database behind it.
        await self.services.parser.prepare(self.reader)
        async with self.uow() as uow:
            claimed = await uow.inbox.claim(self.batch)
            finished: list[Finished] = []
            replies: list[OutboxMessage] = []
            started = time.perf_counter()
            for stored in claimed:
                held_up = self.hold_up is not None and time.perf_counter() - started >= held_for and self.hold_up()
                if finished and (uow.customers.names_touched or held_up):
                    break
                assert stored.id is not None
                try:
                    status, error, addressed = await self._handle(uow, stored)
                except _TryAgain:
                    continue  # this one stays new (its savepoint rolled back); the others are other senders
                self._transient.pop(stored.id, None)
                finished.append(Finished(stored.id, status, error))
                replies += addressed
            if not finished:
                return 0
            await uow.outbox.enqueue_many(replies)
            await uow.inbox.finish(finished, self.clock())
            await uow.commit()
        if self.metrics is not None:
            for done in finished:
                self.metrics.handled.labels(done.status.value).inc()
            each = (time.perf_counter() - started) / len(finished)
            for _ in finished:
                self.metrics.handler_seconds.observe(each)
        return len(finished)

    async def rehearse(self) -> bool:
        """Handle a made-up brief from a rep about one of their customers in a transaction that is rolled back, never
        committed, as the start-up's warm-up. The first real brief after a start paid 25-50 ms for compiling its SQL
        statements and first uses, holding SQLite's writer meanwhile, and the callbacks behind it waited. False when
        there is nobody to rehearse with (no active employee with an open customer); a failure is raised. Worker
        processes started together rehearse with the same rep and customer: on PostgreSQL one of them may be chosen
        as a deadlock's victim, and it rehearses again (``TRANSIENT_TRIES`` in all), as a real brief would be."""
        await self.services.parser.prepare(self.reader)
        async with self.reader() as looking:  # chosen without holding the writer
            sample = await _sample(looking)
        if sample is None:
            return False
        for tries in range(1, TRANSIENT_TRIES + 1):
            try:
                await self._rehearse_with(*sample)
                return True
            except Exception as exc:
                if not is_transient(exc) or tries == TRANSIENT_TRIES:
                    raise
                log.info("rehearsal: %s; rehearsing again", ErrorHandler.summary(exc))
        raise AssertionError("unreachable")

    async def _rehearse_with(self, platform: str, user_id: str, customer: str) -> None:
        async with self.uow() as uow:
            text = f"{customer} 今天确认了需求,下周三做方案演示"
            msg_id = f"genjin:rehearsal:{uuid.uuid4().hex}"  # two processes' rehearsals never wait on one key
            stored = InboxMessage(platform, msg_id, user_id, self.clock(), text=text)
            await uow.inbox.put_many([stored])  # the inbox's statements compiled too
            await uow.inbox.claim(self.batch)  # (the rollback releases any row it locked)
            status, error, replies = await self._handle(uow, stored, rehearsal=True)
            await uow.outbox.enqueue_many(replies)
            await uow.inbox.finish([Finished(0, status, error)], self.clock())  # no such row: the statement only
            await uow.rollback()

    async def _handle(
        self, uow: UnitOfWork, stored: InboxMessage, *, rehearsal: bool = False
    ) -> tuple[InboxStatus, str | None, list[OutboxMessage]]:
        """One message in a savepoint: its status, error and addressed replies. A failure rolls back this message's
        work only; its sender gets the error handler's answer, except when the database says to try again (a
        deadlock with another worker): then ``_TryAgain``, and the message stays new, up to ``TRANSIENT_TRIES`` times
        (counted in this process), after which it fails like any other. A rehearsal's failure is
        raised as it is, and it counts in no metric."""
        message = to_incoming(stored)
        now = self.clock()
        try:
            async with uow.savepoint():
                employee = await resolve_sender(uow, message, auto_register=self.auto_register)
                ctx = Context(uow=uow, now=now, employee=employee, services=self.services)
                answer = await self.router.dispatch(message, ctx) or []
                addressed = await address_replies(uow, message, employee, answer, now)
            if self.metrics is not None and ctx.parsed is not None and not rehearsal:
                self.metrics.parsed.labels(ctx.parsed.intent).inc()
            return InboxStatus.DONE, None, addressed
        except Exception as exc:  # one error handler for every message
            if rehearsal:
                raise
            tries = self._transient.get(stored.id or 0, 0) + 1  # forgotten once the message is finished
            if is_transient(exc) and tries < TRANSIENT_TRIES:
                self._transient[stored.id or 0] = tries
                log.warning("message %s: %s; handled again later", message.msg_id, ErrorHandler.summary(exc))
                raise _TryAgain from exc
            answer = self.errors.on_message(exc, message)
            return InboxStatus.FAILED, ErrorHandler.summary(exc), await address_replies(uow, message, None, answer, now)

    async def drain(self) -> int:
        """Handle every waiting message; how many were handled."""
        handled = 0
        while True:
            # after waiting out a whole flood of callbacks, some briefs whatever waits: they must not fall behind for
            # good (one a wait was 4 a second), nor keep a callback waiting long (a whole batch took its p99 past 80 ms)
            waited_out = await self.give_way() if self.give_way is not None else False
            done = await self.process_batch(held_for=FLOOD_BATCH_SECONDS if waited_out else 0.0)
            if not done:
                return handled
            handled += done

    async def run(self, stop: asyncio.Event) -> None:
        """``workers`` loops side by side. Where the database locks rows (PostgreSQL) they handle different reps'
        messages at once, each rep's in order (see ``SqlInbox.claim``); on SQLite one loop is all the writer allows."""
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

    def __init__(self, store: Callable[[list[InboxMessage]], Awaitable[list[bool]]], wake: asyncio.Event) -> None:
        self.store = store  # stores and commits a batch; for each message, whether it was new
        self.wake = wake
        self._waiting: list[tuple[InboxMessage, asyncio.Future[bool]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self._recent: deque[float] = deque(maxlen=BURST_CALLBACKS)  # the event loop's times of the latest callbacks
        # the last callback or answer: a batch's answers bring the next callbacks, so a slow write is not a pause
        self._lately = 0.0

    async def let_pass(self, limit: float = GIVE_WAY_SECONDS) -> bool:
        """Wait (up to ``limit``) while callbacks are waiting to be stored or being stored, and until a burst of them
        pauses for ``QUIET_SECONDS``. The worker calls this before each batch: a platform waits for the answer to a
        callback (WeCom retries after 5 s), a brief's reply can wait a moment. Without it, in a burst each batch of
        callbacks queued for the writer behind a brief, and in one process the worker's briefs took the CPU the
        acknowledgements needed (a third of the bare handler's rate; with the pause, 0.38-0.49 of it). Pauses are
        waited for only in a burst (``_bursting``), and after each ``limit`` the worker handles briefs for a while
        (``FLOOD_BATCH_SECONDS`` on SQLite, where callbacks wait for its writer; a whole batch elsewhere), so a flood
        slows it, never stops it. True when the limit ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit  # the limit: a flood that never pauses still lets briefs by
        while (left := deadline - loop.time()) > 0:
            flushing = self._flushing
            if flushing is not None and not flushing.done():
                await asyncio.wait({flushing}, timeout=left)
            elif self._bursting() and (quiet := self._lately + QUIET_SECONDS - loop.time()) > 0:
                await asyncio.sleep(min(quiet, left))
            else:
                return False
        return True

    def _bursting(self) -> bool:
        """Whether the latest ``BURST_CALLBACKS`` callbacks came within ``BURST_SECONDS``: then acknowledging them
        needs the CPU. At a slower, steady rate they take little of it, and a worker waiting for pauses between them
        would fall behind for good. Judged by the callbacks' own spacing, not by the clock: a slow write holds the
        next ones back, and is no pause."""
        recent = self._recent
        return len(recent) == BURST_CALLBACKS and recent[-1] - recent[0] <= BURST_SECONDS

    def busy(self) -> bool:
        """Whether callbacks are waiting to be stored or being stored now."""
        return self._flushing is not None and not self._flushing.done()

    async def settle(self) -> None:
        """Wait for the batch being written, before the database closes: its callbacks are owed an answer."""
        while self._flushing is not None and not self._flushing.done():
            await asyncio.gather(self._flushing, return_exceptions=True)

    async def put(self, message: InboxMessage) -> bool:
        """Store ``message``; False when the platform already delivered it (a retry)."""
        loop = asyncio.get_running_loop()
        self._recent.append(loop.time())
        self._lately = loop.time()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((message, future))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                stored = await self.store([message for message, _ in batch])
            except Exception as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self._lately = asyncio.get_running_loop().time()
            for (_, future), new in zip(batch, stored, strict=True):
                if not future.done():
                    future.set_result(new)
            if any(stored):
                self.wake.set()
