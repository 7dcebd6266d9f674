"""App kinds: how to recognise an app, find its entrypoint, its dependencies and how to run it.

A new kind is a small `AppKind` subclass registered in an `AppKindRegistry`; the engine asks the
registry which kind matches a directory. Tests can build their own registry.
"""

from __future__ import annotations

import re
import tomllib
from abc import ABC, abstractmethod
from pathlib import Path

from . import messages
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
    def detect(self, app_dir: Path) -> bool:
        """True when this kind recognises app_dir."""

    @abstractmethod
    def entrypoint(self, app_dir: Path) -> Path | None:
        """The main script, relative to app_dir, or None when none is found."""

    @abstractmethod
    def default_run(self, entrypoint: Path) -> str:
        """The run command (with a `{port}` placeholder) used when the caller gives none."""

    def declared_dependencies(self, app_dir: Path) -> list[str]:
        """Distribution names the app declares, from requirements.txt and/or pyproject.toml."""
        return sorted(set(_requirements(app_dir) + _pyproject_dependencies(app_dir)), key=str.lower)

    def requirement_specs(self, app_dir: Path) -> list[str]:
        """The raw requirement lines to install (pins included)."""
        return _requirement_lines(app_dir) + _pyproject_raw(app_dir)


def _requirement_lines(app_dir: Path) -> list[str]:
    path = app_dir / "requirements.txt"
    if not path.is_file():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def _requirements(app_dir: Path) -> list[str]:
    names = []
    for line in _requirement_lines(app_dir):
        match = _REQ_NAME.match(line)
        if match:
            names.append(match.group(1))
    return names


def _pyproject_raw(app_dir: Path) -> list[str]:
    path = app_dir / "pyproject.toml"
    if not path.is_file():
        return []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return list(data.get("project", {}).get("dependencies", []))


def _pyproject_dependencies(app_dir: Path) -> list[str]:
    names = []
    for spec in _pyproject_raw(app_dir):
        match = _REQ_NAME.match(spec)
        if match:
            names.append(match.group(1))
    return names


class PythonApp(AppKind):
    """A Python app with requirements.txt or pyproject.toml and a main script."""

    name = "python"
    candidates = ("app.py", "main.py", "server.py", "wsgi.py", "__main__.py")

    def detect(self, app_dir: Path) -> bool:
        return (app_dir / "requirements.txt").is_file() or (app_dir / "pyproject.toml").is_file()

    def entrypoint(self, app_dir: Path) -> Path | None:
        for candidate in self.candidates:
            if (app_dir / candidate).is_file():
                return Path(candidate)
        scripts = sorted(p for p in app_dir.glob("*.py") if "__main__" in p.read_text(errors="ignore"))
        return scripts[0].relative_to(app_dir) if scripts else None

    def default_run(self, entrypoint: Path) -> str:
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

    def detect(self, app_dir: Path) -> bool:
        declared = {name.lower() for name in self.declared_dependencies(app_dir)}
        return super().detect(app_dir) and "streamlit" in declared

    def entrypoint(self, app_dir: Path) -> Path | None:
        for candidate in self.candidates:
            if (app_dir / candidate).is_file():
                return Path(candidate)
        scripts = sorted(
            p for p in app_dir.glob("*.py") if "import streamlit" in p.read_text(errors="ignore")
        )
        return scripts[0].relative_to(app_dir) if scripts else None

    def default_run(self, entrypoint: Path) -> str:
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

    def detect(self, app_dir: Path) -> AppKind:
        """The first kind that recognises app_dir, or UnknownAppKind."""
        for kind in self._kinds:
            if kind.detect(app_dir):
                return kind
        raise UnknownAppKind(messages.UNKNOWN_KIND.format(path=app_dir, kinds=", ".join(self.names())))


def default_registry() -> AppKindRegistry:
    """A fresh registry with the built-in kinds, most specific first."""
    registry = AppKindRegistry()
    registry.register(StreamlitApp())
    registry.register(PythonApp())
    return registry
