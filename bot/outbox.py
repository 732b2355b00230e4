"""The outbox sender: delivers queued messages through each platform, with retries.

A message is leased before it is sent, so two senders never send it at the same time, and it is
marked sent after. Once half the lease has passed, the lease is renewed right before each send and only
while still held (no other sender leased the message since), so a slow API that outlasts the lease of a
batch never lets a second instance send the tail again. A crash between a send and its mark-sent sends it
again once the lease runs out (at-least-once), under the same key, which WeCom uses to drop the duplicate.

What a drain learns (sent, failed, try again) is written in one unit of work at its end, or as soon as half
the lease has passed, whichever comes first, so nothing sent is still unmarked when its lease runs out (a crash
may therefore send again what went out in the last half lease, not only the message in flight); the
per-person windows of all the drain's recipients are reserved in one unit of work before it sends. A unit of
work per message for each of these (three per reply) took the one SQLite writer as often as the briefs did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.errors import ErrorHandler
from bot.loops import run_until_stopped
from bot.messages import with_typed_choices
from bot.metrics import Metrics
from bot.platform import BatchSender, PlatformSender
from sales.model import OutboxMessage
from store.repositories import UnitOfWorkFactory, Wanted

log = logging.getLogger("genjin.outbox")

DIGEST_HEAD = "合并发送的 {n} 条消息:\n"
DIGEST_GAP = "\n——\n"


class TransientSendError(Exception):
    """Worth trying again later: network trouble, 5xx, a platform's rate limit."""


class PermanentSendError(Exception):
    """Trying again will not help: unknown user, bad credentials, a rejected message."""


class PartlySent(TransientSendError):
    """The first ``done`` parts of a multi-part reply went out; the retry starts after them."""

    def __init__(self, done: int, cause: Exception) -> None:
        super().__init__(f"{done} part(s) sent, then {type(cause).__name__}: {cause}")
        self.done = done


async def send_parts(message: OutboxMessage, parts: list[Callable[[], Awaitable[object]]]) -> None:
    """Send a reply's parts in order, skipping those a previous attempt delivered (``parts_done``)."""
    start = int(message.payload.get("parts_done") or 0)
    for index in range(start, len(parts)):
        try:
            await parts[index]()
        except TransientSendError as exc:
            if index > start:
                raise PartlySent(index, exc) from exc
            raise


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
        metrics: Metrics | None = None,
        concurrency: int = 1,
        batchers: dict[str, BatchSender] | None = None,
    ) -> None:
        self.batchers = batchers if batchers is not None else {}  # the platforms that send to many in one call
        self.metrics = metrics
        self.concurrency = concurrency  # recipients sent to at once (the SQL store; the in-memory one needs 1)
        self.uow = uow
        self.senders = senders
        self.errors = errors
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.give_up_after = give_up_after
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        self._draining = asyncio.Lock()  # one drain at a time per sender: the records below are the drain's
        self._fresh_until: datetime | None = None  # until when this drain's lease needs no renewal
        self._records: list[tuple[int, datetime | None, str | None, tuple[str, datetime] | None]] = []
        self._writing = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()

    async def drain_once(self) -> int:
        """Send what is due now; how many were delivered."""
        if not self.senders:
            return 0
        async with self._draining:
            await self._write_records()  # what a failed write of the last drain kept, before anything is leased
            now = self.clock()
            async with self.uow() as uow:
                due = await uow.outbox.lease_due(
                    now, now + timedelta(seconds=self.lease_seconds), self.batch, list(self.senders)
                )
                await uow.commit()
            if not due:
                return 0
            self._fresh_until = now + timedelta(seconds=self.lease_seconds / 2)
            # a send that hangs past half the lease must not keep what was sent before it unmarked (counted from the
            # lease's own time: its commit may have waited for the writer)
            left = max(0.0, (self._fresh_until - self.clock()).total_seconds())
            timer = asyncio.get_running_loop().call_later(left, self._write_records_soon)
            try:
                return await self._send_due(due)
            finally:
                timer.cancel()
                self._fresh_until = None
                await self._write_records()

    async def _send_due(self, due: list[OutboxMessage]) -> int:
        due = [self._for_platform(m) for m in due]
        delivered = 0
        due, batches = self._batches(due)
        for batch in batches:
            delivered += await self._deliver_batch(batch)
        groups: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for message in due:
            groups[(message.platform, message.to_user or message.to_chat or "")].append(message)
        windows = await self._reserve(groups)
        if self.concurrency <= 1:
            for (platform, recipient), messages in groups.items():
                delivered += await self._deliver_group(
                    platform, recipient, messages, windows.get((platform, recipient))
                )
            return delivered
        # recipients side by side (one slow or hanging call holds up only its own recipient), each one's in order
        gate = asyncio.Semaphore(self.concurrency)

        async def one(platform: str, recipient: str, messages: list[OutboxMessage]) -> int:
            async with gate:
                return await self._deliver_group(platform, recipient, messages, windows.get((platform, recipient)))

        # every group ends before the drain does, a failing one too: none may go on sending after its lease
        results = await asyncio.gather(*(one(p, r, m) for (p, r), m in groups.items()), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return delivered + sum(r for r in results if isinstance(r, int))

    def _for_platform(self, message: OutboxMessage) -> OutboxMessage:
        """Buttons only where the platform shows them; elsewhere their labels are written out to type."""
        buttons = message.payload.get("buttons")
        if not buttons or self.senders[message.platform].capabilities.buttons:
            return message
        text = with_typed_choices(str(message.payload.get("text", "")), buttons)
        payload = {k: v for k, v in message.payload.items() if k != "buttons"} | {"text": text}
        return dataclasses.replace(message, payload=payload)

    def _batches(self, due: list[OutboxMessage]) -> tuple[list[OutboxMessage], list[list[OutboxMessage]]]:
        """Split off the messages a platform can send to many people in one call (same text)."""
        alone: list[OutboxMessage] = []
        same: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for message in due:
            batcher = self.batchers.get(message.platform)
            if batcher is not None and batcher.batchable(message):
                same[(message.platform, json.dumps(message.payload, sort_keys=True))].append(message)
            else:
                alone.append(message)
        batches = []
        for (platform, _), messages in same.items():
            size = self.batchers[platform].batch_size
            batches += [messages[i : i + size] for i in range(0, len(messages), size)]
        return alone, batches

    def _count(self, platform: str, result: str, n: int = 1) -> None:
        if self.metrics is not None and n:
            self.metrics.sends.labels(platform, result).inc(n)

    async def _reserve(
        self, groups: dict[tuple[str, str], list[OutboxMessage]]
    ) -> dict[tuple[str, str], tuple[int, datetime]]:
        """Each limited recipient's sends granted in the window, and when it frees up: all in one unit of work, in
        one order (two instances lock the windows alike, so never each waiting on the other)."""
        limited = sorted(key for key in groups if self.senders[key[0]].capabilities.per_member is not None)
        if not limited:
            return {}
        wanted = []
        for platform, recipient in limited:
            limit = self.senders[platform].capabilities.per_member
            assert limit is not None
            wanted.append(Wanted(platform, recipient, limit, len(groups[(platform, recipient)])))
        async with self.uow() as uow:  # the window lives in the database: every instance counts the same sends
            out = await uow.outbox.reserve(wanted, self.clock())
            await uow.commit()
        return out

    async def _hold(self, message: OutboxMessage) -> bool:
        """Make sure this sender still holds the message just before sending it: while the drain's lease is fresh
        it does; after that the lease is renewed, and False means another sender has it now."""
        assert message.id is not None
        if self._fresh_until is not None and self.clock() < self._fresh_until:
            return True
        await self._write_records()  # what was sent is marked before anyone else may lease it
        async with self.uow() as uow:
            held = await uow.outbox.renew(
                message.id, message.attempts, self.clock() + timedelta(seconds=self.lease_seconds)
            )
            await uow.commit()
        if not held:
            log.info("outbox %s: lease taken over by another sender; not sent here", message.key)
        return held

    async def _deliver_batch(self, messages: list[OutboxMessage]) -> int:
        """One call for several recipients; the throttled ones wait and go again."""
        messages = [m for m in messages if await self._hold(m)]
        if not messages:
            return 0
        batcher = self.batchers[messages[0].platform]
        try:
            throttled = await batcher.send_batch(messages)
        except Exception as exc:
            if not isinstance(exc, (TransientSendError, PermanentSendError)):
                self.errors.on_job(exc, f"batch {messages[0].key}")
            self._count(
                messages[0].platform, "failed" if isinstance(exc, PermanentSendError) else "retry", len(messages)
            )
            for message in messages:
                assert message.id is not None
                if isinstance(exc, PermanentSendError):
                    await self._record(message.id, failed=str(exc))
                else:
                    retry_at = self.clock() + timedelta(seconds=backoff(message.attempts))
                    await self._record(message.id, retry=(f"{type(exc).__name__}: {exc}", retry_at))
            return 0
        held = {m.id for m in throttled}
        self._count(messages[0].platform, "sent", len(messages) - len(held))
        self._count(messages[0].platform, "retry", len(held))
        for message in messages:
            assert message.id is not None
            if message.id in held:
                retry_at = self.clock() + timedelta(seconds=backoff(message.attempts))
                await self._record(message.id, retry=("throttled by the platform", retry_at))
            else:
                await self._record(message.id, sent=self.clock())
        return len(messages) - len(held)

    async def _deliver_group(
        self, platform: str, recipient: str, messages: list[OutboxMessage], window: tuple[int, datetime] | None
    ) -> int:
        """Send one person's due messages within the platform's per-person limit (``window``: the sends granted
        and when the window frees up; None when the platform has no such limit).

        What would go over the limit is merged into one digest rather than dropped; what does
        not fit even then waits for the window to move on.
        """
        sender = self.senders[platform]
        if window is None:
            return sum([await self._deliver(m) for m in messages])
        granted, window_end = window
        singles = messages if granted >= len(messages) else messages[: max(granted - 1, 0)]
        budget = granted
        delivered = 0
        for message in singles:
            delivered += await self._deliver(message)
        rest = messages[len(singles) :]
        if not rest:
            return delivered
        merged, waiting = self._digest_parts(rest, sender.capabilities.text_limit) if budget > 0 else ([], rest)
        if merged and await self._deliver_digest(merged):
            delivered += len(merged)
        for message in waiting:
            assert message.id is not None
            await self._record(message.id, retry=("per-person limit reached; waiting for the next window", window_end))
        return delivered

    @staticmethod
    def _digest_parts(messages: list[OutboxMessage], limit: int) -> tuple[list[OutboxMessage], list[OutboxMessage]]:
        """The messages that fit into one digest (no buttons, within ``limit`` bytes), and the rest."""
        merged: list[OutboxMessage] = []
        size = len(DIGEST_HEAD.format(n=len(messages)).encode())
        for message in messages:
            text = str(message.payload.get("text", ""))
            cost = len(text.encode()) + len(DIGEST_GAP.encode())
            if message.payload.get("buttons") or size + cost > limit:
                continue
            merged.append(message)
            size += cost
        return merged, [m for m in messages if m not in merged]

    async def _deliver_digest(self, messages: list[OutboxMessage]) -> bool:
        messages = [m for m in messages if await self._hold(m)]
        if not messages:
            return False
        first = messages[0]
        texts = [str(m.payload.get("text", "")) for m in messages]
        digest = OutboxMessage(
            platform=first.platform,
            key=f"digest:{first.key}",
            created_at=first.created_at,
            payload={"text": DIGEST_HEAD.format(n=len(messages)) + DIGEST_GAP.join(texts), "format": "text"},
            to_user=first.to_user,
            to_chat=first.to_chat,
            attempts=first.attempts,
            id=first.id,
        )
        if not await self._deliver(digest, record=False):
            for message in messages:
                assert message.id is not None
                await self._record(
                    message.id,
                    retry=("digest not delivered", self.clock() + timedelta(seconds=backoff(message.attempts))),
                )
            return False
        for message in messages:
            assert message.id is not None
            await self._record(message.id, sent=self.clock())
        return True

    async def _deliver(self, message: OutboxMessage, *, record: bool = True) -> int:
        """Send one message and record the result; 1 when it was delivered.

        With ``record`` False (a digest) only success or failure is reported back.
        """
        assert message.id is not None
        if record and not await self._hold(message):
            return 0
        sender = self.senders[message.platform]
        try:
            await sender.send(message)
        except PermanentSendError as exc:
            self._count(message.platform, "failed")
            if record:
                await self._record(message.id, failed=f"{exc}")
            log.warning("outbox %s gave up: %s", message.key, exc)
            return 0
        except Exception as exc:
            if not isinstance(exc, TransientSendError):
                self.errors.on_job(exc, f"send {message.key}")
            if isinstance(exc, PartlySent) and record:
                async with self.uow() as uow:
                    await uow.outbox.progress(message.id, exc.done)
                    await uow.commit()
            self._count(message.platform, "retry")
            if not record:
                return 0
            now = self.clock()
            if now - message.created_at >= self.give_up_after:
                await self._record(message.id, failed=f"gave up after {message.attempts} attempts: {exc}")
            else:
                retry_at = now + timedelta(seconds=backoff(message.attempts))
                await self._record(message.id, retry=(f"{type(exc).__name__}: {exc}", retry_at))
            return 0
        self._count(message.platform, "sent")
        if record:
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
        """Kept for the drain's one write at its end; written at once when the lease is no longer fresh."""
        self._records.append((message_id, sent, failed, retry))
        if self._fresh_until is None or self.clock() >= self._fresh_until:
            await self._write_records()

    def _write_records_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self._write_records_logged())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _write_records_logged(self) -> None:
        try:
            await self._write_records()
        except Exception as exc:  # kept; the drain's own write at its end tries again
            self.errors.on_job(exc, "outbox records")

    async def _write_records(self) -> None:
        """Write what the drain has learnt so far, in one unit of work (one at a time)."""
        async with self._writing:
            records, self._records = self._records, []
            if not records:
                return
            try:
                async with self.uow() as uow:  # in id order: two senders' writes lock rows alike
                    for message_id, sent, failed, retry in sorted(records, key=lambda r: r[0]):
                        if sent is not None:
                            await uow.outbox.mark_sent(message_id, sent)
                        elif failed is not None:
                            await uow.outbox.mark_failed(message_id, failed[:2000])
                        elif retry is not None:
                            await uow.outbox.retry_later(message_id, retry[0][:2000], retry[1])
                    await uow.commit()
            except BaseException:
                self._records[:0] = records  # tried again with the next write
                raise

    async def drain(self) -> int:
        total = 0
        while (sent := await self.drain_once()) > 0:
            total += sent
        return total

    async def run(self, stop: asyncio.Event) -> None:
        await run_until_stopped(
            self.drain, stop=stop, wake=self.wake, poll_seconds=self.poll_seconds, errors=self.errors, name="outbox"
        )
