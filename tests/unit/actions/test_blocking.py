"""actions.blocking.in_thread: work runs off the loop, progress arrives in order on the loop."""

from __future__ import annotations

import asyncio
import threading

import pytest

from actions.blocking import in_thread


async def test_returns_the_result_from_a_worker_thread():
    loop_thread = threading.get_ident()

    def work(report):
        return threading.get_ident()

    assert await in_thread(work) != loop_thread


async def test_every_progress_item_arrives_in_order_before_it_returns():
    seen: list[int] = []
    loop_thread = threading.get_ident()
    threads: set[int] = set()

    def work(report):
        for i in range(200):
            report(i)
        return "done"

    async def on_progress(item: int) -> None:
        threads.add(threading.get_ident())
        await asyncio.sleep(0)
        seen.append(item)

    assert await in_thread(work, on_progress) == "done"
    assert seen == list(range(200))
    assert threads == {loop_thread}


async def test_exceptions_propagate_after_the_progress_reported_before_them():
    seen: list[str] = []

    def work(report):
        report("first")
        raise LookupError("boom")

    async def on_progress(item: str) -> None:
        seen.append(item)

    with pytest.raises(LookupError, match="boom"):
        await in_thread(work, on_progress)
    assert seen == ["first"]


async def test_a_failing_progress_update_is_logged_and_the_work_goes_on(caplog):
    seen: list[int] = []

    def work(report):
        for i in range(3):
            report(i)
        return "finished"

    async def on_progress(item: int) -> None:
        if item == 1:
            raise RuntimeError("chat is down")
        seen.append(item)

    assert await in_thread(work, on_progress) == "finished"
    assert seen == [0, 2]
    assert "progress update failed" in caplog.text


async def test_report_without_a_listener_is_harmless():
    def work(report):
        report("ignored")
        return 7

    assert await in_thread(work) == 7


async def test_cancelling_the_caller_stops_delivery():
    release = threading.Event()
    seen: list[int] = []

    def work(report):
        report(1)
        release.wait(5)
        report(2)

    async def on_progress(item: int) -> None:
        seen.append(item)

    task = asyncio.create_task(in_thread(work, on_progress))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await asyncio.sleep(0.05)
    assert seen == [1]
