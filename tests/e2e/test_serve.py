"""`k8or serve` as people run it: binding rules, start-up warnings, SIGTERM draining."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import aiohttp
from aiohttp import web

from bot.commands.registry import CommandRegistry, CommandSet
from bot.settings import Settings
from k8or.app import SERVICES, AppParts, create_app
from testing.chat.channel import FakeChannel, message

slow = CommandSet()
finished: list[str] = []


@slow.command("slow", "Takes a while.")
async def slow_command(ctx, args):  # type: ignore[no-untyped-def]
    await asyncio.sleep(0.8)
    finished.append("foreground")
    return "slow done"


@slow.command("later", "Answers now, finishes in the background.")
async def later_command(ctx, args):  # type: ignore[no-untyped-def]
    async def work() -> None:
        await asyncio.sleep(0.8)
        await ctx.reply("background done")
        finished.append("background")

    ctx.in_background(work(), "work")
    return "started"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}
    env["K8OR_DATA_DIR"] = str(tmp_path)
    return env


def test_public_bind_without_app_id_is_refused(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "k8or", "serve", "--host", "0.0.0.0", "--port", str(_free_port())],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without MicrosoftAppId" in result.stderr


def test_bad_setting_stops_start_naming_the_setting(tmp_path):
    env = _env(tmp_path) | {"K8OR_PORT": "eighty"}
    result = subprocess.run(
        [sys.executable, "-m", "k8or.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "K8OR_PORT: use a whole number from 1 to 65535" in result.stderr


def test_serve_warns_in_emulator_mode_and_exits_cleanly_on_sigterm(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "k8or.cli", "serve", "--port", str(port)],
        env=_env(tmp_path),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]
    warnings = [line["msg"] for line in lines if line["level"] == "warning"]
    assert any("emulator mode" in w and "NOT authenticated" in w for w in warnings)
    assert any(line["msg"] == "drained" and line["clean"] for line in lines)


async def test_sigterm_drains_in_flight_turns_and_background_work(tmp_path):
    finished.clear()
    channel = FakeChannel()
    channel_runner = web.AppRunner(channel.app())
    await channel_runner.setup()
    channel_site = web.TCPSite(channel_runner, "127.0.0.1", 0)
    await channel_site.start()
    service_url = f"http://127.0.0.1:{channel_site._server.sockets[0].getsockname()[1]}/"  # type: ignore[union-attr]

    registry = CommandRegistry().include(slow)
    app = create_app(Settings(data_dir=tmp_path, drain_timeout=10), AppParts(registry=registry))
    runner = web.AppRunner(app, shutdown_timeout=10)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/api/messages"  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            await (await http.post(url, json=message("later", service_url, activity_id="a1"))).read()
            slow_turn = message("slow", service_url, activity_id="a2")
            in_flight = asyncio.create_task(http.post(url, json=slow_turn))
            tracker = app[SERVICES].tracker
            while tracker.busy < 2:  # the background work and the slow turn are both running
                await asyncio.sleep(0.01)
            await runner.cleanup()  # what SIGTERM does: stop listening, drain, then close
            response = await in_flight
            assert response.status == 201
    finally:
        await channel_runner.cleanup()
    assert sorted(finished) == ["background", "foreground"]
    assert {"slow done", "background done", "started"} <= set(channel.texts)
