"""App kinds: how to recognise an app, find its entrypoint, its dependencies and how to run it.

A new kind is a small `AppKind` subclass registered in an `AppKindRegistry`; the engine asks the
registry which kind matches a directory. Tests can build their own registry. Kinds see the app only
through `AppFiles`, so a kind cannot read past the app folder either.
"""

from __future__ import annotations

import re
import tomllib
from abc import ABC, abstractmethod
from pathlib import Path

from . import messages
from .appfiles import AppFiles
from .errors import UnknownAppKind

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class AppKind(ABC):
    """One kind of application the engine knows how to k8orize."""

    name: str = "abstract"
    #: The session driver used to exercise the app like a user; None means HTTP probes only.
    session_driver: str | None = None
    #: Paths the kind serves for health and Prometheus metrics (None when it has none).
    health_path: str | None = None
    metrics_path: str | None = None
    #: Environment that makes the app log one JSON object per line.
    structured_log_env: dict[str, str] = {}

    @abstractmethod
    def detect(self, app: AppFiles) -> bool:
        """True when this kind recognises the app."""

    @abstractmethod
    def entrypoint(self, app: AppFiles) -> Path | None:
        """The main script, relative to the app folder, or None when none is found."""

    @abstractmethod
    def default_run(self, entrypoint: Path | None) -> str:
        """The run command (with a `{port}` placeholder) used when the caller gives none."""

    def declared_dependencies(self, app: AppFiles) -> list[str]:
        """Distribution names the app declares, from requirements.txt and/or pyproject.toml."""
        return sorted(set(_requirements(app) + _pyproject_dependencies(app)), key=str.lower)

    def requirement_specs(self, app: AppFiles) -> list[str]:
        """The raw requirement lines to install (pins included)."""
        return _requirement_lines(app) + _pyproject_raw(app)


def _requirement_lines(app: AppFiles) -> list[str]:
    text = app.read_text("requirements.txt") if app.is_file("requirements.txt") else None
    lines = []
    for raw in (text or "").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def _requirements(app: AppFiles) -> list[str]:
    names = []
    for line in _requirement_lines(app):
        match = _REQ_NAME.match(line)
        if match:
            names.append(match.group(1))
    return names


def _pyproject_raw(app: AppFiles) -> list[str]:
    text = app.read_text("pyproject.toml") if app.is_file("pyproject.toml") else None
    if text is None:
        return []
    try:
        dependencies = tomllib.loads(text).get("project", {}).get("dependencies", [])
    except tomllib.TOMLDecodeError as exc:
        app.note("pyproject.toml", messages.APP_FILE_UNREADABLE.format(why=exc))
        return []
    return [spec for spec in dependencies if isinstance(spec, str)] if isinstance(dependencies, list) else []


def _pyproject_dependencies(app: AppFiles) -> list[str]:
    names = []
    for spec in _pyproject_raw(app):
        match = _REQ_NAME.match(spec)
        if match:
            names.append(match.group(1))
    return names


def _first_script(app: AppFiles, candidates: tuple[str, ...], marker: str) -> Path | None:
    """The first candidate that exists, else the first top-level script that contains marker."""
    for candidate in candidates:
        if app.is_file(candidate):
            return Path(candidate)
    for rel in app.top_level(".py"):
        if marker in (app.read_text(rel) or ""):
            return Path(rel)
    return None


class PythonApp(AppKind):
    """A Python app with requirements.txt or pyproject.toml and a main script."""

    name = "python"
    candidates: tuple[str, ...] = ("app.py", "main.py", "server.py", "wsgi.py", "__main__.py")

    def detect(self, app: AppFiles) -> bool:
        return app.is_file("requirements.txt") or app.is_file("pyproject.toml")

    def entrypoint(self, app: AppFiles) -> Path | None:
        return _first_script(app, self.candidates, "__main__")

    def default_run(self, entrypoint: Path | None) -> str:
        return f"python {entrypoint}"


class StreamlitApp(PythonApp):
    """A Python app that declares streamlit; its script runs per browser session."""

    name = "streamlit"
    session_driver = "streamlit-websocket"
    health_path = "/_stcore/health"
    metrics_path = "/_stcore/metrics"
    structured_log_env = {
        "STREAMLIT_LOGGER_MESSAGE_FORMAT": '{"time":"%(asctime)s","level":"%(levelname)s",'
        '"logger":"%(name)s","message":"%(message)s"}',
    }
    candidates = ("streamlit_app.py", "app.py", "main.py", "Home.py")

    def detect(self, app: AppFiles) -> bool:
        declared = {name.lower() for name in self.declared_dependencies(app)}
        return super().detect(app) and "streamlit" in declared

    def entrypoint(self, app: AppFiles) -> Path | None:
        return _first_script(app, self.candidates, "import streamlit")

    def default_run(self, entrypoint: Path | None) -> str:
        return (
            f"python -m streamlit run {entrypoint} --server.port {{port}} --server.address 0.0.0.0 "
            "--server.headless true --browser.gatherUsageStats false"
        )


class AppKindRegistry:
    """Ordered app kinds; the most specific kind is registered first and wins."""

    def __init__(self) -> None:
        self._kinds: list[AppKind] = []

    def register(self, kind: AppKind) -> AppKind:
        """Add a kind; a second kind with the same name is a programming error."""
        if not isinstance(kind, AppKind):
            raise TypeError(f"{kind!r} is not an AppKind")
        if any(existing.name == kind.name for existing in self._kinds):
            raise ValueError(f"app kind {kind.name!r} is already registered")
        self._kinds.append(kind)
        return kind

    def names(self) -> list[str]:
        return [kind.name for kind in self._kinds]

    def detect(self, app: AppFiles) -> AppKind:
        """The first kind that recognises the app, or UnknownAppKind."""
        for kind in self._kinds:
            if kind.detect(app):
                return kind
        raise UnknownAppKind(messages.UNKNOWN_KIND.format(path=app.root.name, kinds=", ".join(self.names())))


def default_registry() -> AppKindRegistry:
    """A fresh registry with the built-in kinds, most specific first."""
    registry = AppKindRegistry()
    registry.register(StreamlitApp())
    registry.register(PythonApp())
    return registry
