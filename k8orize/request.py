"""What the caller asks for: one immutable request, validated before anything runs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import messages
from .errors import AppNotFound, BadRequest

_NAME_RE = re.compile(r"[^a-z0-9-]+")


def dns_name(text: str) -> str:
    """A Kubernetes-safe DNS-1123 label made from any text (lower case, dashes, at most 63 chars)."""
    label = _NAME_RE.sub("-", text.lower()).strip("-")[:63].strip("-")
    return label or "app"


@dataclass(frozen=True)
class K8orizeRequest:
    """One k8orization: the app, where to write, and how to run and probe it.

    `run` and `probes` may contain `{port}`; every local run substitutes a free port there, so runs
    never collide. `port` is the port the container listens on.
    """

    app_dir: Path
    out: Path
    name: str | None = None
    port: int = 8501
    run: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    probes: tuple[str, ...] = ()
    image: str | None = None
    sandbox: str | None = None
    trace: bool = True
    probe_timeout: float = 60.0
    installer: str = "auto"  # "uv" when available (much faster), else "pip"; or force either
    #: How the report names where the app came from (`github:octo/shop@main`); by default the app
    #: folder relative to OUT, never an absolute host path.
    source: str | None = None

    @property
    def app_name(self) -> str:
        return dns_name(self.name or self.app_dir.resolve().name)

    def validate(self) -> None:
        """Raise a K8orizeError naming the bad option; nothing has been written yet."""
        if not self.app_dir.is_dir():
            raise AppNotFound(messages.APP_NOT_FOUND.format(path=self.app_dir))
        if self.out.resolve().is_relative_to(self.app_dir.resolve()):
            raise BadRequest(messages.OUT_INSIDE_APP.format(out=self.out))
        for url in self.probes:
            if not url.startswith(("http://", "https://")):
                raise BadRequest(messages.BAD_PROBE.format(value=url))
        if self.sandbox not in (None, "gvisor"):
            raise BadRequest(messages.BAD_SANDBOX.format(value=self.sandbox))
        if self.installer not in ("auto", "uv", "pip"):
            raise BadRequest(messages.BAD_INSTALLER.format(value=self.installer))


def parse_env(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn ['KEY=VALUE', ...] into a dict, rejecting entries without '='."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadRequest(messages.BAD_ENV.format(value=pair))
        env[key] = value
    return env


class EngineOptions(Protocol):
    """The options the CLI and the chat command share, as their parsers name them."""

    @property
    def port(self) -> int: ...
    @property
    def run(self) -> str | None: ...
    @property
    def probe(self) -> Sequence[str]: ...
    @property
    def image(self) -> str | None: ...
    @property
    def sandbox(self) -> str | None: ...
    @property
    def no_trace(self) -> bool: ...


def request_from_options(
    options: EngineOptions,
    *,
    app_dir: Path,
    out: Path,
    name: str | None,
    env: dict[str, str],
    probe_timeout: float = 60.0,
    installer: str = "auto",
    source: str | None = None,
) -> K8orizeRequest:
    """A request from parsed options named as the CLI names them (the CLI and the chat command share
    the option names: port, run, probe, image, sandbox, no_trace)."""
    return K8orizeRequest(
        app_dir=app_dir,
        out=out,
        name=name,
        port=options.port,
        run=options.run,
        env=env,
        probes=tuple(options.probe),
        image=options.image,
        sandbox=options.sandbox,
        trace=not options.no_trace,
        probe_timeout=probe_timeout,
        installer=installer,
        source=source,
    )
