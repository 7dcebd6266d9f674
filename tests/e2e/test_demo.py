"""The README's newcomer path: `k8or demo --serve`, then the five messages through the Bot Framework
protocol as the Emulator sends them (issue 15). The demo is loopback-only and forgets everything."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from testing.chat.channel import FakeChannel, message

K8OR = [sys.executable, "-m", "k8or", "demo"]  # as the `k8or` command starts (k8or/__main__.py)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Emulator:
    """Posts what a person types, as the Bot Framework Emulator does, and reads k8or's answers."""

    http: aiohttp.ClientSession
    url: str
    channel: FakeChannel
    service_url: str
    sent: int = 0

    async def say(self, text: str) -> None:
        self.sent += 1
        activity = message(text, self.service_url, activity_id=f"a{self.sent}", user="newcomer")
        async with self.http.post(self.url, json=activity) as response:
            assert response.status in (200, 201), await response.text()

    async def until(self, seen: Callable[[str], bool], timeout: float = 30.0) -> str:
        """The first message or edit (in the order they arrived) that satisfies `seen`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for text in self.channel.texts:
                if seen(text):
                    return text
            await asyncio.sleep(0.05)
        raise AssertionError(f"no such answer; k8or said: {self.channel.texts}")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Emulator, subprocess.Popen[str], str]]:
    channel = FakeChannel()
    runner = web.AppRunner(channel.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    service_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]
    port = _free_port()
    process = subprocess.Popen(
        [*K8OR, "--serve", "--port", str(port)],
        env=_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    welcome = await asyncio.to_thread(process.stdout.readline)  # type: ignore[union-attr]
    assert f"http://127.0.0.1:{port}/api/messages" in welcome, welcome
    try:
        async with aiohttp.ClientSession() as http:
            yield (
                Emulator(http, f"http://127.0.0.1:{port}/api/messages", channel, service_url),
                process,
                welcome,
            )
    finally:
        process.terminate()
        process.wait(30)
        await runner.cleanup()


async def test_the_newcomer_path(demo: tuple[Emulator, subprocess.Popen[str], str]) -> None:
    emulator, process, welcome = demo
    await emulator.say("cluster use demo")
    await emulator.until(lambda t: t == "Using cluster `demo`, namespace `demo`.")
    await emulator.say("deploy web nginx:1.27")
    await emulator.until(lambda t: t.startswith("✓ Rollout of `web` (revision 1): complete"))
    await emulator.say("status web")
    status = await emulator.until(lambda t: t.startswith("**web** —"))
    assert "1/1 available" in status and "image `nginx:1.27`" in status
    await emulator.say("rollback web")
    await emulator.until(lambda t: t.startswith("Revisions of `web`"))
    await emulator.say("delete web")
    await emulator.until(lambda t: "`delete web` is destructive" in t)
    await emulator.say("yes")
    done = await emulator.until(lambda t: t.startswith("✓ Deleted `web`"))
    assert "Deployment: 1 gone (web)" in done
    process.terminate()
    assert process.wait(30) == 0
    folder = re.search(r"Everything lives in (\S+) and", welcome)
    assert folder and not Path(folder.group(1)).exists()  # the database and vault key went with it


def test_a_public_bind_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [*K8OR, "--serve", "--host", "0.0.0.0"], env=_env(), cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0" in done.stderr and "loopback only" in done.stderr
