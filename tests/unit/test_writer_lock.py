"""SQLite's writer inside one process: turns in arrival order, callbacks first, no barging, no leak on cancel."""

from __future__ import annotations

import asyncio

import pytest

from store.writer import WriterLock


async def _take(lock: WriterLock, name: str, order: list[str], *, urgent: bool = False) -> None:
    await lock.acquire(urgent=urgent)
    order.append(name)
    await asyncio.sleep(0)
    lock.release()


async def test_urgent_waiters_go_before_the_queue_but_after_the_holder() -> None:
    lock, order = WriterLock(), list[str]()
    await lock.acquire()
    tasks = [
        asyncio.create_task(_take(lock, "worker", order)),
        asyncio.create_task(_take(lock, "outbox", order)),
        asyncio.create_task(_take(lock, "callbacks", order, urgent=True)),
    ]
    await asyncio.sleep(0)
    assert order == [] and lock.locked()  # the holder is never interrupted
    lock.release()
    await asyncio.gather(*tasks)
    assert order == ["callbacks", "worker", "outbox"] and not lock.locked()


@pytest.mark.parametrize("handed_over_first", [False, True])
async def test_a_cancelled_waiter_leaves_no_trace_and_a_handed_over_lock_is_passed_on(handed_over_first: bool) -> None:
    lock, order = WriterLock(), list[str]()
    await lock.acquire()
    gone = asyncio.create_task(_take(lock, "gone", order))
    late = asyncio.create_task(_take(lock, "late", order))
    await asyncio.sleep(0)
    if handed_over_first:  # the lock reaches "gone" just before it is cancelled: it must pass it on
        lock.release()
        gone.cancel()
    else:
        gone.cancel()
        lock.release()
    with pytest.raises(asyncio.CancelledError):
        await gone
    await late
    assert order == ["late"] and not lock.locked()


async def test_the_same_task_twice_fails_fast_and_a_stray_release_is_an_error() -> None:
    lock = WriterLock()
    await lock.acquire()
    with pytest.raises(RuntimeError, match="inside another"):
        await lock.acquire()
    lock.release()
    with pytest.raises(RuntimeError, match="nobody holds"):
        lock.release()
