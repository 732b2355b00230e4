"""``together``: two reads at once, and when one fails the other is stopped and waited for before the error goes on
(a unit of work is closed after the error; a read still running on it would break that)."""

from __future__ import annotations

import asyncio

import pytest

from usecases.heavy import together


async def test_both_results_in_order() -> None:
    async def late(value: int) -> int:
        await asyncio.sleep(0.01)
        return value

    assert await together(late(1), asyncio.sleep(0, result="two")) == (1, "two")


@pytest.mark.parametrize("failing_first", [True, False])
async def test_a_failure_stops_the_other_and_waits_for_it(failing_first: bool) -> None:
    events: list[str] = []

    async def slow() -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # cleaning up, as a read on a connection does
            events.append("cleaned up")
            raise
        return 1

    async def broken() -> int:
        await asyncio.sleep(0.01)
        raise LookupError("the side read failed")

    pair = (broken(), slow()) if failing_first else (slow(), broken())
    with pytest.raises(LookupError):
        await asyncio.wait_for(together(*pair), 5)
    assert events == ["cleaned up"]  # done before the error reached the caller


async def test_a_cancelled_caller_leaves_nothing_running() -> None:
    running: list[asyncio.Task[object]] = []

    async def forever() -> None:
        running.append(asyncio.current_task())  # type: ignore[arg-type]
        await asyncio.sleep(10)

    caller = asyncio.create_task(together(forever(), forever()))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert len(running) == 2 and all(task.done() for task in running)
