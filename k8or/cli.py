"""The `k8or` command: serve, chat, version, settings, and the engines' own subcommands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

from bot.settings import Settings, SettingsError, is_loopback, load_settings, settings_table
from bot.version import VERSION

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger("k8or")

# Subcommands from their own modules, each with `register(subparsers)`: the plain libraries' CLIs,
# `k8or db` (bot.migrations) and `k8or teams` (k8or.teams), by the subcommand each adds. Only the
# one asked for is imported (`serve` and `chat` load none of them); help and unknown words load them all.
ENGINE_CLIS = {
    "k8orize": "k8orize.cli",
    "cluster": "cluster.cli",
    "db": "bot.migrations.cli",
    "teams": "k8or.teams.package",
}
OWN_COMMANDS = frozenset({"serve", "chat", "version", "settings"})


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
    return asyncio.run(_chat_session(settings, args.command, args.user))


async def _chat_session(settings: Settings, said: list[str] | None, user: str | None) -> int:
    """The same app as `serve` (services, extensions, sign-in pages), with this terminal as a channel."""
    from aiohttp import web

    from bot.console import CHANNEL, ConsoleAdapter, ConsoleSession, console_key, console_user
    from bot.roles import LocalOperator
    from k8or.app import BOT, SERVICES, create_app

    who = user or console_user()
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    try:
        await _serve_signin_pages(runner, settings)
        services = runner.app[SERVICES]
        if settings.rbac_file is None:
            services.roles = LocalOperator(services.roles, console_key(who))
        adapter = ConsoleAdapter()
        if services.direct is not None:
            services.direct.adapters[CHANNEL] = adapter
        session = ConsoleSession(runner.app[BOT], adapter, who)
        if said:
            for line in said:
                print(f"you> {line}")
                await session.say(line)
            await services.tracker.idle()
        else:
            await session.repl()
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
