"""Passes over a whole company's customers (a stall scan, a report at 100,000 customers) make and drop
hundreds of thousands of objects; the cyclic collector would walk every live object again and again, a
third of such a pass. These passes run with it paused, and it is turned back on when the last one ends."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar
from typing import cast as typing_cast

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """Nested and concurrent passes share one pause; the collector is left as it was found."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()


def heavy(pass_: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Run an async pass over many rows with the collector paused (see the module)."""

    @functools.wraps(pass_)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        with collector_paused():
            return await pass_(*args, **kwargs)

    return run


async def in_daemon_thread(work: Callable[[], T], name: str) -> T:
    """``work()`` in a thread of its own that never holds up the process's exit: a build of seconds that
    is still running when the service is told to stop is dropped, not waited for (``asyncio.to_thread``'s
    pool is joined at exit)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not done.done():
            outcome()

    def run() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting task, whatever it was
            failure = exc
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                loop.call_soon_threadsafe(settle, lambda: done.set_exception(failure))
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, lambda: done.set_result(result))

    threading.Thread(target=run, name=name, daemon=True).start()
    return await done


async def together(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both at once (a report's reads on two connections, ``UnitOfWork.beside``). If one fails, or the caller is
    cancelled, the other is cancelled and waited for before the error goes on: a unit of work must not be closed while
    a read is still running on it (``asyncio.gather`` alone leaves it running). A task passed in is cancelled too."""
    one = asyncio.ensure_future(first)
    two: asyncio.Future[B] | None = None
    try:
        two = asyncio.ensure_future(second)
        await asyncio.wait((one, two), return_when=asyncio.FIRST_EXCEPTION)
        failed = next((t for t in (one, two) if t.done() and not t.cancelled() and t.exception() is not None), None)
        if failed is not None:
            raise typing_cast(BaseException, failed.exception())
        return one.result(), two.result()
    except GeneratorExit:  # the coroutine itself is being closed: nothing may be awaited any more
        raise
    except BaseException:
        tasks = [task for task in (one, two) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
