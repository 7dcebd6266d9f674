"""The engine queue: at most N runs at once, the rest in line, each told its place as it moves up."""

from __future__ import annotations

import asyncio

import pytest

from actions.engine_queue import EngineQueue, ordinal


async def test_runs_wait_in_line_and_hear_their_place() -> None:
    queue = EngineQueue(1)
    heard: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    order: list[str] = []
    gates = {name: asyncio.Event() for name in heard}

    async def job(name: str) -> None:
        async def on_place(place: int) -> None:
            heard[name].append(place)

        async with queue.slot(on_place):
            order.append(name)
            await gates[name].wait()

    tasks = [asyncio.create_task(job(name)) for name in heard]
    await asyncio.sleep(0.01)
    assert order == ["a"] and heard == {"a": [], "b": [1], "c": [2]} and queue.waiting == 2
    gates["a"].set()
    await asyncio.sleep(0.01)
    assert order == ["a", "b"] and heard["c"] == [2, 1]
    gates["b"].set()
    gates["c"].set()
    await asyncio.gather(*tasks)
    assert order == ["a", "b", "c"] and queue.waiting == 0


async def test_two_run_at_once_and_a_cancelled_waiter_leaves_the_line() -> None:
    queue = EngineQueue(2)
    heard: list[tuple[str, int]] = []
    release = asyncio.Event()
    running: list[str] = []

    async def job(name: str) -> None:
        async def on_place(place: int) -> None:
            heard.append((name, place))

        async with queue.slot(on_place):
            running.append(name)
            await release.wait()

    tasks = {name: asyncio.create_task(job(name)) for name in ("a", "b", "c", "d")}
    await asyncio.sleep(0.01)
    assert running == ["a", "b"] and heard == [("c", 1), ("d", 2)]
    tasks["c"].cancel()
    await asyncio.sleep(0.01)
    assert heard[-1] == ("d", 1) and queue.waiting == 1
    release.set()
    await asyncio.gather(tasks["a"], tasks["b"], tasks["d"])
    assert running == ["a", "b", "d"]


@pytest.mark.parametrize(
    ("number", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (22, "22nd")],
)
def test_ordinals(number: int, text: str) -> None:
    assert ordinal(number) == text
