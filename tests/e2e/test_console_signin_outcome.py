"""A sign-in finished on `k8or serve`'s pages reaches the `k8or chat` terminal that asked (issue 15).

With `serve` on the port, `k8or chat` cannot serve the sign-in pages, so the person signs in on
serve's. serve cannot write to a terminal (its address is console://local): it used to try HTTP and
lose the outcome (NonHttpUrlClientError). Now it leaves it in the shared database for the terminal.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from aiohttp import web

from bot.console import CHANNEL, ConsoleAdapter, ConsoleSession, console_key
from bot.settings import Settings
from bot.signin.extension import _notifier
from bot.signin.outbox import SignInOutbox
from k8or.app import BOT, SERVICES, create_app

WAITING = "Signed in to Toggl Track on the page: type the 6-digit code it shows here within 5 minutes."


async def test_an_outcome_from_the_serving_process_reaches_the_terminal(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    serve = web.AppRunner(create_app(Settings(data_dir=tmp_path)))
    chat = web.AppRunner(create_app(Settings(data_dir=tmp_path)))
    await serve.setup()
    await chat.setup()
    try:
        screen = io.StringIO()
        adapter = ConsoleAdapter(screen)
        chat_services = chat.app[SERVICES]
        chat_services.direct.adapters[CHANNEL] = adapter  # type: ignore[union-attr]
        session = ConsoleSession(chat.app[BOT], adapter, "ana")
        await session.say("help")  # the terminal's conversation is remembered, address console://local
        relay = asyncio.create_task(session.relay_signins(SignInOutbox(chat_services.db), every=0.05))

        notify = _notifier(serve.app, serve.app[SERVICES], None)  # what serve's sign-in pages call
        await notify(console_key("ana"), WAITING)
        for _ in range(100):
            if WAITING in screen.getvalue():
                break
            await asyncio.sleep(0.05)
        relay.cancel()
        assert f"k8or> {WAITING}" in screen.getvalue()
        assert not [r for r in caplog.records if "could not deliver" in r.getMessage()]
        assert await SignInOutbox(chat_services.db).take(console_key("ana")) == []  # shown once
    finally:
        await chat.cleanup()
        await serve.cleanup()


async def test_the_terminal_serving_its_own_pages_is_told_at_once(tmp_path: Path) -> None:
    chat = web.AppRunner(create_app(Settings(data_dir=tmp_path)))
    await chat.setup()
    try:
        screen = io.StringIO()
        adapter = ConsoleAdapter(screen)
        services = chat.app[SERVICES]
        services.direct.adapters[CHANNEL] = adapter  # type: ignore[union-attr]
        await ConsoleSession(chat.app[BOT], adapter, "ana").say("help")
        await _notifier(chat.app, services, None)(console_key("ana"), WAITING)
        assert f"k8or> {WAITING}" in screen.getvalue()
    finally:
        await chat.cleanup()
