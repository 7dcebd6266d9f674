"""Fixtures: each connector wired to its fake service on port 0, and a clean environment per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp.test_utils import TestServer

from testing.services.wiring import (  # noqa: F401  (re-exported for the test modules)
    SERVICES,
    Harness,
    build,
    close,
    moto_client,
    start_moto,
)
from tests.support.connectors import clean_environment  # noqa: F401  (autouse fixture)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """One moto server for the test session; tests create their own IAM users in it."""
    server, url = start_moto()
    yield url
    server.stop()


@pytest.fixture
async def harness_for(moto_url: str) -> AsyncIterator[Callable[[str], Awaitable[Harness]]]:
    """A factory: `await harness_for("github")`; servers and clients close after the test."""
    opened: list[tuple[Harness, TestServer]] = []

    async def factory(name: str) -> Harness:
        opened.append(await build(name, moto_url))
        return opened[-1][0]

    yield factory
    for harness, server in opened:
        await close(harness, server)


@pytest.fixture(params=SERVICES)
async def harness(
    request: pytest.FixtureRequest, harness_for: Callable[[str], Awaitable[Harness]]
) -> Harness:
    """Each of the seven connectors in turn, wired to its fake."""
    return await harness_for(request.param)
