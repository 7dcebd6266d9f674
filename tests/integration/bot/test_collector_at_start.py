"""The garbage collector during start-up: off while `k8or serve` imports and builds the app (the
objects made then live as long as the process), on again once the app is up, and on for every other
command from the start. A collector left off would let reference cycles pile up for the process's life."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

import k8or.__main__ as entry
import k8or.cli
from bot.settings import load_settings
from k8or.app import create_app


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the test process's collector as it was found: on, nothing frozen."""
    yield
    gc.unfreeze()
    gc.enable()


@pytest.mark.parametrize(("command", "on"), [("serve", False), ("chat", True), ("version", True)])
def test_the_command_starts_with_the_collector_off_only_to_serve(
    collector: None, monkeypatch: pytest.MonkeyPatch, command: str, on: bool
) -> None:
    seen: list[bool] = []
    monkeypatch.setattr(k8or.cli, "main", lambda: seen.append(gc.isenabled()) or 0)
    monkeypatch.setattr(sys, "argv", ["k8or", command])
    assert entry.main() == 0
    assert seen == [on]


async def test_the_collector_is_on_once_the_app_is_up(
    collector: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("K8OR_DATA_DIR", str(tmp_path))
    gc.disable()  # as `k8or serve` starts
    runner = web.AppRunner(create_app(load_settings()))
    await runner.setup()
    try:
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what start-up made is kept out of later collections
    finally:
        await runner.cleanup()
