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
    with pytest.raises(LookupError, match="the side read failed"):
        await asyncio.wait_for(together(*pair), 5)
    assert events == ["cleaned up"]  # done before the error reached the caller


async def test_the_error_raised_is_the_one_that_happened_and_none_is_left_unread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    error = LookupError("first")

    async def fails(exc: BaseException, delay: float) -> int:
        await asyncio.sleep(delay)
        raise exc

    with pytest.raises(LookupError) as raised:
        await together(fails(error, 0.01), fails(KeyError("second"), 0.02))
    assert raised.value is error
    with pytest.raises(LookupError) as raised:  # both failed at once
        await together(fails(error, 0), fails(KeyError("second"), 0))
    assert raised.value is error
    import gc

    gc.collect()  # a task whose exception nobody read says so when it is collected
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text


async def test_a_cancelled_caller_leaves_nothing_running() -> None:
    running: list[asyncio.Task[object]] = []

    cleaned: list[int] = []

    async def forever() -> None:
        running.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await asyncio.sleep(10)
        finally:
            await asyncio.sleep(0.01)  # cleaning up takes a moment
            cleaned.append(1)

    caller = asyncio.create_task(together(forever(), forever()))
    await asyncio.sleep(0.01)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert len(running) == 2 and cleaned == [1, 1]  # both cleaned up before the caller saw its cancellation
