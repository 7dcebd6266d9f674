"""Fixtures shared by the service's HTTP tests."""

from __future__ import annotations

import pytest

from testing.chat.channel import FakeChannel


@pytest.fixture
async def channel(aiohttp_server):  # type: ignore[no-untyped-def]
    """A Bot Framework channel on port 0; `channel.url` is the serviceUrl to put in activities."""
    fake = FakeChannel()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))  # type: ignore[attr-defined]
    return fake
