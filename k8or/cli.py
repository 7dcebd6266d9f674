"""The `k8or` command: serve, chat, version, settings, and the engines' own subcommands."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, SettingsError, is_loopback, load_settings, settings_table
from bot.version import VERSION

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aiohttp import web

    from bot.console import ConsoleAdapter, ConsoleSession
    from bot.roles import RoleResolver

    # Wraps the app's role resolver, given the console user's key, to make someone an admin.
    Operators = Callable[[RoleResolver, str], RoleResolver]

log = logging.getLogger("k8or")

# Subcommands from their own modules, each with `register(subparsers)`: the plain libraries' CLIs,
# `k8or db` (bot.migrations) and `k8or teams` (k8or.teams), by the subcommand each adds. Only the
# one asked for is imported (`serve` and `chat` load none of them); help and unknown words load them all.
ENGINE_CLIS = {
    "k8orize": "k8orize.cli",
    "cluster": "cluster.cli",
    "db": "bot.migrations.cli",
    "teams": "k8or.teams.package",
    "slack": "k8or.slack_manifest",
}
OWN_COMMANDS = frozenset({"serve", "chat", "demo", "version", "settings"})


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The command line; with `argv`, only the engine CLI its subcommand needs is imported."""
    parser = argparse.ArgumentParser(prog="k8or", description="k8or chat-ops bot and k8orization engine")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Run the bot service (Bot Framework endpoint, health, metrics)")
    serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 3978)")
    serve.add_argument("--insecure", action="store_true", help="allow a public bind without an app id")
    serve.set_defaults(func=_serve)

    chat = sub.add_parser("chat", help="Talk to the bot in this terminal (same handler and state)")
    chat.add_argument("-c", "--command", action="append", help="say this and exit (repeatable)")
    chat.add_argument("--user", help="who you are in the console (default: your login name)")
    chat.add_argument("--host", help="address the sign-in pages bind (default 127.0.0.1)")
    chat.add_argument("--port", type=int, help="port of the sign-in pages (default 3978)")
    chat.add_argument("--insecure", action="store_true", help="allow a public bind without an app id")
    chat.set_defaults(func=_chat)

    _add_demo(sub)
    version = sub.add_parser("version", help="Print the version")
    version.set_defaults(func=lambda _args: print(f"k8or {VERSION}") or 0)

    table = sub.add_parser("settings", help="Print every setting as a Markdown table")
    table.set_defaults(func=lambda _args: print(settings_table()) or 0)

    for name in _engine_clis(sys.argv[1:] if argv is None else argv):
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def _add_demo(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="Try k8or on a demo cluster, in this process (loopback only)")
    demo.add_argument("--serve", action="store_true", help="serve the Emulator only, no terminal chat")
    demo.add_argument("-c", "--command", action="append", help="say this and exit (repeatable)")
    demo.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=3978, help="port (default 3978; 0 picks a free one)")
    demo.set_defaults(func=lambda args: import_module("k8or.demo").run(args))


def _engine_clis(argv: list[str]) -> list[str]:
    command = next((word for word in argv if not word.startswith("-")), None)
    if command in OWN_COMMANDS:
        return []
    if command in ENGINE_CLIS:
        return [ENGINE_CLIS[command]]
    return list(ENGINE_CLIS.values())


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        print(f"k8or: {exc}", file=sys.stderr)
        return 2


def _settings_from(args: argparse.Namespace, **extra: Any) -> Settings:
    overrides = {k: v for k, v in extra.items() if v is not None}
    return load_settings(**overrides)


def _private_data_dir(settings: Settings) -> None:
    """The data directory (database, keys, workspace) open to k8or's own user only: 0700."""
    from connectors.private_files import private_directory

    try:
        private_directory(settings.data_dir)
    except OSError as exc:
        raise SettingsError(f"K8OR_DATA_DIR: cannot use {settings.data_dir}: {exc.strerror}") from None


def _serve(args: argparse.Namespace) -> int:
    # The app's start builds some hundred thousand objects that live as long as the process (the
    # SDKs' import graphs): collecting while they are made is wasted work. The app freezes them and
    # turns the collector back on once it is up (bot.app). The `k8or` command (k8or/__main__.py) has
    # had it off since its first import.
    gc.disable()
    from aiohttp import web

    from bot.logs import configure_logging
    from k8or.app import create_app

    settings = _settings_from(args, host=args.host, port=args.port, insecure=args.insecure or None)
    configure_logging(settings.log_level, settings.log_format.value)
    if not _bind_allowed(settings):
        return 2
    _private_data_dir(settings)
    if settings.emulator_mode:
        log.warning(
            "no MicrosoftAppId: emulator mode, requests are NOT authenticated"
            + ("" if is_loopback(settings.host) else " and the bind is public (--insecure)")
        )
    web.run_app(
        create_app(settings),
        loop=_event_loop(),
        host=settings.host,
        port=settings.port,
        shutdown_timeout=settings.drain_timeout,
        access_log=None,
        print=lambda msg: log.info(msg.strip()),
    )
    return 0


def _bind_allowed(settings: Settings) -> bool:
    """`serve` and `chat` both listen (chat for its sign-in pages): refuse a public unauthenticated bind."""
    if settings.bind_is_safe():
        return True
    print(
        f"k8or: refusing to listen on {settings.host} without MicrosoftAppId: anyone who can reach it "
        "could talk to the bot unauthenticated. Bind 127.0.0.1, set MicrosoftAppId, or pass --insecure.",
        file=sys.stderr,
    )
    return False


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed: the same asyncio API, with a much cheaper loop per turn."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _chat(args: argparse.Namespace) -> int:
    from bot.logs import configure_logging

    settings = _settings_from(args, host=args.host, port=args.port, insecure=args.insecure or None)
    if not _bind_allowed(settings):
        return 2
    configure_logging("WARNING", "text")
    _private_data_dir(settings)
    operators = _local_operator if settings.rbac_file is None else None
    return asyncio.run(chat_session(settings, args.command, args.user, operators))


def _local_operator(inner: RoleResolver, console_key: str) -> RoleResolver:
    from bot.roles import LocalOperator

    return LocalOperator(inner, console_key)


async def chat_session(
    settings: Settings,
    said: list[str] | None,
    user: str | None,
    operators: Operators | None = None,
    welcome: Callable[[str], None] | None = None,
) -> int:
    """The same app as `serve` (services, extensions, sign-in pages), with this terminal as a channel.
    `operators` wraps the app's roles to make the person at the terminal an admin (`k8or chat` without an
    RBAC file, `k8or demo`); `welcome` is told the address the app serves."""
    from aiohttp import web

    from bot.console import CHANNEL, ConsoleAdapter, ConsoleSession, console_key, console_user
    from bot.signin.outbox import SignInOutbox
    from k8or.app import BOT, SERVICES, create_app

    who = user or console_user()
    interactive = not said and sys.stdin.isatty() and sys.stdout.isatty()
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    relay: asyncio.Task[None] | None = None
    try:
        await _serve_signin_pages(runner, settings)
        if welcome is not None:
            welcome(settings.public_url.rstrip("/"))
        services = runner.app[SERVICES]
        if operators is not None:
            services.roles = operators(services.roles, console_key(who))
        adapter = _terminal_adapter() if interactive else ConsoleAdapter()
        if services.direct is not None:
            services.direct.adapters[CHANNEL] = adapter
        session = ConsoleSession(runner.app[BOT], adapter, who)
        relay = asyncio.create_task(session.relay_signins(SignInOutbox(services.db)))
        await _converse(session, said, interactive, settings)
    finally:
        if relay is not None:
            relay.cancel()
        await runner.cleanup()
    return 0


async def _converse(
    session: ConsoleSession, said: list[str] | None, interactive: bool, settings: Settings
) -> None:
    """`-c` lines, the interactive terminal (prompt_toolkit, Rich), or plain lines from a pipe."""
    if said:
        for line in said:
            print(f"you> {line}")
            await session.say(line)
        await session.bot.services.tracker.idle()
    elif interactive:
        from bot.terminal import TerminalChat

        await TerminalChat(session, settings.data_dir).run()
    else:
        await session.repl()


def _terminal_adapter() -> ConsoleAdapter:
    from bot.terminal import TerminalAdapter

    return TerminalAdapter()


async def serve_session(
    settings: Settings, operators: Operators, welcome: Callable[[str], None], stopped: Awaitable[None]
) -> int:
    """Serve the app on settings.host:port until `stopped`, with `operators` wrapping its roles for
    channel users (`k8or demo --serve`)."""
    from aiohttp import web

    from bot.logs import configure_logging
    from k8or.app import SERVICES, create_app

    configure_logging(settings.log_level, settings.log_format.value)
    runner = web.AppRunner(create_app(settings), access_log=None, shutdown_timeout=settings.drain_timeout)
    await runner.setup()
    try:
        services = runner.app[SERVICES]
        services.roles = operators(services.roles, "")
        await web.TCPSite(runner, settings.host, settings.port).start()
        welcome(settings.public_url.rstrip("/"))
        await stopped
    finally:
        await runner.cleanup()
    return 0


async def _serve_signin_pages(runner: web.AppRunner, settings: Settings) -> None:
    """Sign-in links point at K8OR_PUBLIC_URL; serve them here unless `k8or serve` already does."""
    from aiohttp import web

    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError:
        log.warning(
            "port %s is taken (is `k8or serve` running?); sign-in pages are served there", settings.port
        )


if __name__ == "__main__":
    sys.exit(main())
