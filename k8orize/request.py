"""What the caller asks for: one immutable request, validated before anything runs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import messages
from .command import literal_port, with_placeholder
from .errors import AppNotFound, BadRequest
from .registry_api import RegistryCredentials
from .sandbox import SandboxLimits

TRIM_LEVELS = ("safe", "traced")
_NAME_RE = re.compile(r"[^a-z0-9-]+")
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# REGISTRY/REPO[:TAG]: a registry host (a dot, a port or localhost), then lower-case path components.
_PUSH_RE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+\.[a-zA-Z0-9.-]+|localhost|\[::1\])(?::\d{1,5})?"
    r"(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$"
)


def dns_name(text: str) -> str:
    """A Kubernetes-safe DNS-1123 label made from any text (lower case, dashes, at most 63 chars)."""
    label = _NAME_RE.sub("-", text.lower()).strip("-")[:63].strip("-")
    return label or "app"


@dataclass(frozen=True)
class K8orizeRequest:
    """One k8orization: the app, where to write, and how to run and probe it.

    `run`, `probes` and `env` values may contain `{port}`: every local run substitutes a free port
    there, so runs never collide, and the shipped artefacts (CMD, the container's env) substitute
    `port`, the port the container listens on. `env` may hold secrets: it is never in the repr.
    """

    app_dir: Path
    out: Path
    name: str | None = None
    port: int = 8501
    run: str | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)
    probes: tuple[str, ...] = ()
    image: str | None = None
    sandbox: str | None = None
    trace: bool = True
    #: How far the trace trims site-packages: "safe" keeps the requirement closure of everything used,
    #: "traced" also drops what the trace never loaded (k8orize/trim.py).
    trim: str = "safe"
    probe_timeout: float = 60.0
    installer: str = "auto"  # "uv" when available (much faster), else "pip"; or force either
    #: How the report names where the app came from (`github:octo/shop@main`); by default the app
    #: folder relative to OUT, never an absolute host path.
    source: str | None = None
    #: The app's code (install, build backends, runs) runs in a bubblewrap sandbox with these limits;
    #: only the command line can turn the sandbox off (a finding in the report), never chat.
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    unsafe_no_sandbox: bool = False
    allow_direct_urls: bool = False  # `name @ https://....whl` requirements (wheels only)
    #: Build the image from the Dockerfile with buildah; `base_image` is its BASE_IMAGE build argument
    #: (None: the Dockerfile's own default, python:<version>-slim-bookworm).
    build: bool = True
    base_image: str | None = None
    #: Push the built image to REGISTRY/REPO[:TAG] and pin the registry's digest in every manifest.
    push: str | None = None
    push_credentials: RegistryCredentials | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Absolute from the start: the sandbox, the builds and the runs each work in folders of their
        # own, where a path relative to the caller's working directory would name nothing.
        object.__setattr__(self, "app_dir", Path(self.app_dir).absolute())
        object.__setattr__(self, "out", Path(self.out).absolute())

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
        if self.trim not in TRIM_LEVELS:
            raise BadRequest(messages.BAD_TRIM.format(value=self.trim))
        self._validate_env()
        self._validate_port()
        self._validate_push()

    def _validate_push(self) -> None:
        if self.push is None:
            return
        if not _PUSH_RE.match(self.push):
            raise BadRequest(messages.BAD_PUSH.format(value=self.push))
        if not self.build:
            raise BadRequest(messages.PUSH_WITHOUT_BUILD)

    def _validate_env(self) -> None:
        for key in self.env:  # the values are never repeated: they may be secrets
            if not _ENV_NAME_RE.match(key):
                raise BadRequest(messages.BAD_ENV_NAME.format(name=key[:40]))

    def _validate_port(self) -> None:
        """The port, and a `--run` that names its own port where k8orize needs `{port}`."""
        if not 1 <= self.port <= 65535:
            raise BadRequest(messages.BAD_PORT.format(value=self.port))
        literal = literal_port(self.run) if self.run else None
        if self.run is None or literal is None:
            return  # no run, or it takes its port from {port} (or from the environment)
        fixed = with_placeholder(self.run, literal)
        if self.trace:  # the traced and verifying runs each get a free port, never the one written
            raise BadRequest(messages.LITERAL_PORT.format(port=literal, fixed=fixed))
        if literal != self.port:  # not run here, but the container would listen on another port
            raise BadRequest(messages.LITERAL_PORT_NOT_PORT.format(port=literal, container=self.port))


def parse_env(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn ['KEY=VALUE', ...] into a dict, rejecting entries without '=' or with a KEY that is not a
    variable name. The message never repeats the value: it may be a secret."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise BadRequest(messages.BAD_ENV_NO_EQUALS)
        if not _ENV_NAME_RE.match(key):
            raise BadRequest(messages.BAD_ENV_NAME.format(name=key[:40]))
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
    build: bool = True,
    base_image: str | None = None,
    push: str | None = None,
    push_credentials: RegistryCredentials | None = None,
) -> K8orizeRequest:
    """A request from parsed options named as the CLI names them (the CLI and the chat command share
    the option names: port, run, probe, image, sandbox, no_trace, trim)."""
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
        # A chat job recorded before --trim existed has no such option: it gets the default.
        trim=getattr(options, "trim", "safe"),
        probe_timeout=probe_timeout,
        installer=installer,
        source=source,
        build=build,
        base_image=base_image,
        push=push,
        push_credentials=push_credentials,
    )
