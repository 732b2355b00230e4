"""The background loop shared by the inbox worker and the outbox sender."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.errors import ErrorHandler


async def run_until_stopped(
    step: Callable[[], Awaitable[object]],
    *,
    stop: asyncio.Event,
    wake: asyncio.Event,
    poll_seconds: float,
    errors: ErrorHandler,
    name: str,
) -> None:
    """Run ``step``, then sleep until woken, stopped or ``poll_seconds`` pass; again until stopped.

    A step in progress is never cancelled by ``stop``: it finishes, then the loop ends.
    """
    while not stop.is_set():
        wake.clear()  # before the step: a wake-up during it (or another loop's) makes the wait below return at once
        try:
            await step()
        except Exception as exc:
            errors.on_job(exc, name)
        waits = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
