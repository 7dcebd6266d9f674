"""`k8or demo`: the bot and a demo Kubernetes cluster in one process, to try every command at once.

The cluster is the fake API server (k8or.demo_cluster); the bot is the same app `k8or serve` runs,
with a fresh SQLite database and vault key in a temporary folder, removed when the demo stops. It
listens on loopback only: the Bot Framework Emulator there and the person at this terminal are
admins (the Emulator is unauthenticated, which is safe only because nothing else can reach it).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

from bot.identity import CONSOLE, UNVERIFIED, Person
from bot.roles import RoleResolver, matches_for
from bot.settings import Settings, is_loopback, load_settings
from policy.rbac import Match

from .demo_cluster import CONTEXT, NAMESPACE, DemoCluster, DemoUnavailable, start_demo_cluster

EMULATOR = "emulator"
DEMO_OPERATOR = "demo operator"
FIRST_STEPS = ("cluster use demo", "deploy web nginx:1.27", "status web", "rollback web", "delete web")
REFUSED_BIND = (
    "k8or demo: refusing to listen on {host}: the demo answers anyone unauthenticated, as an admin, "
    "so it listens on loopback only (127.0.0.1 or ::1)."
)
WELCOME = (
    "k8or demo: a demo cluster (context {context}, namespace {namespace}) and the bot, also on "
    "{url}/api/messages for the Bot Framework Emulator. Everything lives in {folder} and is gone when "
    "the demo stops.\nTry, one at a time:\n{steps}"
)


class DemoOperators:
    """In the demo, the person at this terminal and whoever uses the Emulator on loopback are admins."""

    def __init__(self, inner: RoleResolver, console_key: str):
        self._inner = inner
        self._console_key = console_key

    def _is_operator(self, person: Person) -> bool:
        if person.proof == CONSOLE:
            return person.key == self._console_key
        return person.channel == EMULATOR and person.proof == UNVERIFIED

    def roles_for(self, person: Person) -> frozenset[str]:
        return frozenset({"admin"}) if self._is_operator(person) else self._inner.roles_for(person)

    def matches(self, person: Person) -> list[Match]:
        if self._is_operator(person):
            return [Match(DEMO_OPERATOR, person.key, "admin")]
        return matches_for(self._inner, person)


def demo_settings(folder: Path, cluster: DemoCluster, host: str, port: int) -> Settings:
    """The environment's settings, made safe and self-contained: emulator mode on loopback, SQLite and
    a fresh vault key in `folder`, no RBAC file, the demo cluster's kubeconfig."""
    return load_settings(
        microsoft_app_id="",
        microsoft_app_password="",
        host=host,
        port=port,
        insecure=False,
        public_url=f"http://{_url_host(host)}:{port}",
        data_dir=folder,
        database_url="",
        vault_key=Fernet.generate_key().decode(),
        vault_key_file=None,
        rbac_file=None,
        kubeconfig=str(cluster.kubeconfig),
    )


def run(args: argparse.Namespace) -> int:
    """Start the demo cluster and the bot; stop both and forget everything on exit."""
    if not is_loopback(args.host):
        print(REFUSED_BIND.format(host=args.host), file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="k8or-demo-") as name:
        folder = Path(name)
        try:
            cluster = start_demo_cluster(folder)
        except DemoUnavailable as exc:
            print(exc, file=sys.stderr)
            return 2
        try:
            settings = demo_settings(folder, cluster, args.host, _port_for(args.host, args.port))
            return asyncio.run(_session(settings, args))
        finally:
            cluster.stop()


async def _session(settings: Settings, args: argparse.Namespace) -> int:
    from bot.logs import configure_logging
    from k8or.cli import chat_session, serve_session

    def welcome(url: str) -> None:
        steps = "\n".join(f"  {step}" for step in (*FIRST_STEPS, "yes"))
        text = WELCOME.format(
            context=CONTEXT, namespace=NAMESPACE, url=url, folder=settings.data_dir, steps=steps
        )
        print(text, flush=True)

    if args.serve:
        return await serve_session(settings, DemoOperators, welcome, _stopped())
    configure_logging("WARNING", "text")
    return await chat_session(settings, args.command, None, DemoOperators, welcome)


async def _stopped() -> None:
    """Until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _port_for(host: str, wanted: int) -> int:
    """`wanted` when it is free, else (or for 0) one that is: the sign-in links must name the port
    before the bind, and a demo must not send its links to another k8or on the usual port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in (wanted, 0) if wanted else (0,):
        with socket.socket(family) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError(f"no free port on {host}")


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
