"""Bot state storage on SQLite and PostgreSQL: round trips, eTags, conflicts; the delivery ledger."""

from __future__ import annotations

import asyncio

import pytest
from botbuilder.core import StoreItem

from bot.db import Database
from bot.errors import StateConflict
from bot.storage import SqlStorage
from tests.support.databases import database, db  # noqa: F401 - fixtures


@pytest.fixture(params=["uncached", "cached"])
async def store(request, db: Database):  # noqa: F811
    return SqlStorage(db, cache=request.param == "cached")


class Note(StoreItem):
    def __init__(self, text: str = "", e_tag: str = "*"):
        super().__init__(text=text, e_tag=e_tag)


async def test_round_trip_keeps_documents_and_assigns_etags(store):
    await store.write({"a": {"count": 1, "nested": {"x": [1, 2]}}, "b": Note("hello")})
    found = await store.read(["a", "b", "missing"])
    assert set(found) == {"a", "b"}
    assert found["a"]["count"] == 1 and found["a"]["nested"] == {"x": [1, 2]}
    assert found["b"].text == "hello"
    assert found["a"]["e_tag"] and found["b"].e_tag not in ("", "*")


async def test_write_with_current_etag_succeeds_and_changes_it(store):
    await store.write({"k": {"v": 1}})
    first = (await store.read(["k"]))["k"]
    first["v"] = 2
    await store.write({"k": first})
    second = (await store.read(["k"]))["k"]
    assert second["v"] == 2 and second["e_tag"] != first.get("old", "") and second["e_tag"]


async def test_stale_etag_is_a_conflict_and_changes_nothing(store):
    await store.write({"k": {"v": 1}})
    mine = (await store.read(["k"]))["k"]
    theirs = (await store.read(["k"]))["k"]
    theirs["v"] = "theirs"
    await store.write({"k": theirs})
    mine["v"] = "mine"
    with pytest.raises(StateConflict):
        await store.write({"k": mine})
    assert (await store.read(["k"]))["k"]["v"] == "theirs"


async def test_conflict_in_a_batch_rolls_back_the_whole_batch(store):
    await store.write({"a": {"v": 1}, "b": {"v": 1}})
    a = (await store.read(["a"]))["a"]
    stale_b = {"v": 99, "e_tag": "not-the-current-etag"}
    a["v"] = 2
    with pytest.raises(StateConflict):
        await store.write({"a": a, "b": stale_b})
    after = await store.read(["a", "b"])
    assert after["a"]["v"] == 1 and after["b"]["v"] == 1


async def test_star_etag_overwrites(store):
    await store.write({"k": {"v": 1}})
    await store.write({"k": {"v": 2, "e_tag": "*"}})
    assert (await store.read(["k"]))["k"]["v"] == 2


async def test_concurrent_writers_with_the_same_etag_one_wins(store):
    await store.write({"k": {"v": 0}})
    base = (await store.read(["k"]))["k"]
    attempts = [dict(base, v=i) for i in range(1, 6)]
    results = await asyncio.gather(*(store.write({"k": a}) for a in attempts), return_exceptions=True)
    assert sum(1 for r in results if r is None) == 1
    assert all(isinstance(r, StateConflict) for r in results if r is not None)


async def test_delete(store):
    await store.write({"a": {"v": 1}, "b": {"v": 2}})
    await store.delete(["a"])
    assert set(await store.read(["a", "b"])) == {"b"}


async def test_empty_etag_is_refused(store):
    with pytest.raises(ValueError):
        await store.write({"k": {"v": 1, "e_tag": ""}})


async def test_delivery_ledger_on_both_databases(db: Database):  # noqa: F811
    from bot.dedupe import DeliveryLedger

    ledger = DeliveryLedger(db)

    async def deliver(channel: str, activity_id: str) -> bool:
        claim = await ledger.claim(channel, "c", activity_id)
        if claim is None:
            return False
        async with claim:  # the turn
            await asyncio.sleep(0.01)
        return True

    try:
        results = await asyncio.gather(*(deliver("msteams", "a1") for _ in range(4)))
        assert sorted(results) == [False, False, False, True]
        assert await deliver("msteams", "a2")
        assert await deliver("slack", "a1")
        assert not await deliver("msteams", "a1")
    finally:
        await ledger.close()
