"""SQLite's single writer, shared fairly inside one process."""

from __future__ import annotations

import asyncio
from collections import deque


class WriterLock:
    """Units of work take the writer in arrival order instead of polling SQLite's lock (which lets a busy one
    starve the rest), except that *urgent* ones go first: storing incoming callbacks, whose platform is
    waiting for the answer. They wait for the unit of work in progress, never for the queue behind it.

    The lock is handed straight to the next waiter on release, so nobody can barge in between.
    """

    def __init__(self) -> None:
        self._locked = False
        self.holder: asyncio.Task[object] | None = None
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._locked

    async def acquire(self, *, urgent: bool = False) -> None:
        task = asyncio.current_task()
        if self._locked and self.holder is task and task is not None:
            raise RuntimeError("a unit of work opened inside another in the same task would wait forever")
        if not self._locked:
            self._locked, self.holder = True, task
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._normal
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed over just as we were cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise
        self.holder = task

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release of a writer lock nobody holds")
        self.holder = None
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # stays locked: it now belongs to that waiter
                    return
        self._locked = False
