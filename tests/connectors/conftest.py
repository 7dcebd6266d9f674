"""Fixtures: each connector wired to its fake service on port 0, and a clean environment per test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

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


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No K8OR_* or AWS_* settings from the developer's shell; no ~/.aws files either."""
    for name in list(os.environ):
        if name.startswith(("K8OR_", "AWS_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


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
