"""Two replicas: two real apps on one database over real HTTP, each activity posted to both at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.settings import Settings
from k8or.app import create_app
from testing.chat.channel import message
from tests.support.databases import DatabaseUnderTest, database  # noqa: F401 - fixture


def replica(tmp_path: Path, name: str, database: DatabaseUnderTest) -> Settings:  # noqa: F811
    return Settings(
        data_dir=tmp_path / name,
        database_url=database.url,
        database_schema=database.schema,
    )


async def test_an_activity_sent_to_both_replicas_is_answered_once(
    aiohttp_client,  # type: ignore[no-untyped-def]
    channel,
    tmp_path: Path,
    database: DatabaseUnderTest,  # noqa: F811
) -> None:
    one = await aiohttp_client(create_app(replica(tmp_path, "one", database)))
    two = await aiohttp_client(create_app(replica(tmp_path, "two", database)))
    sent = [f"act-{n}" for n in range(12)]
    for activity_id in sent:
        body = message("version", channel.url, activity_id=activity_id, conversation=f"conv-{activity_id}")
        answers = await asyncio.gather(
            one.post("/api/messages", json=body), two.post("/api/messages", json=body)
        )
        assert all(answer.status < 300 for answer in answers)
    assert sorted(call.activity_id for call in channel.calls) == sorted(sent)  # one reply each
    assert set(channel.texts) == {"k8or 0.1.0"}
