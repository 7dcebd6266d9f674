"""Install the app's dependencies into an isolated venv, logging every line to install.log.

The venv is created without pip or setuptools (pip runs from outside with --python), so neither
lands in the app's site-packages unless the app itself needs them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

from . import messages
from .errors import InstallFailed, ToolMissing


@dataclass(frozen=True)
class AppVenv:
    """An isolated interpreter for the app and its site-packages."""

    root: Path
    installer: str = "pip"

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        return (
            self.root / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        )


def base_interpreter() -> str:
    """The real interpreter behind the engine's own venv (the app venv must not inherit its packages)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def python_version() -> str:
    return sysconfig.get_python_version()


def _log(log: Path, text: str) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(text)


def _run_logged(cmd: list[str], log: Path, cwd: Path | None = None) -> int:
    _log(log, f"$ {' '.join(cmd)}\n")
    with log.open("a", encoding="utf-8") as handle:
        proc = subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd, check=False)
    return proc.returncode


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def find_uv() -> str | None:
    """uv beside the engine's interpreter (the project venv), else on PATH."""
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def installer_commands(choice: str, python: Path) -> tuple[str, list[str], list[str]]:
    """(name, install command, freeze command) for 'auto', 'uv' or 'pip'.

    Both install without bytecode (no pyc in site-packages, exactly like the image, which is
    read-only) and into a venv that has no pip of its own. uv copies files out of its cache rather
    than hard-linking them, so the trimmed tree can never alias the cache.
    """
    uv = find_uv() if choice in ("auto", "uv") else None
    if choice == "uv" and uv is None:
        raise ToolMissing(
            messages.TOOL_MISSING.format(
                tool="uv", purpose="install the app with uv", hint="pip install uv, or --installer pip"
            )
        )
    if uv:
        common = ["--python", str(python)]
        return (
            "uv",
            [uv, "pip", "install", *common, "--link-mode", "copy", "--no-progress"],
            [uv, "pip", "freeze", *common],
        )
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    install = [
        *pip,
        "install",
        "--no-input",
        "--no-compile",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
    ]
    return "pip", install, [*pip, "freeze"]


def create_venv(
    root: Path,
    specs: list[str],
    app_dir: Path,
    log: Path,
    installer: str = "auto",
    install_project: bool = False,
) -> AppVenv:
    """Create root as a venv and install specs (or, with install_project, the app itself) into it,
    logging to log. The caller decides install_project from the app's file layer."""
    started = time.monotonic()
    _log(log, f"# k8orize install log\n# interpreter: {base_interpreter()} (Python {python_version()})\n")
    code = _run_logged([base_interpreter(), "-m", "venv", "--without-pip", str(root)], log)
    if code != 0:
        raise InstallFailed(messages.INSTALL_FAILED.format(code=code, tail=_tail(log)))
    venv = AppVenv(root)
    name, install, freeze = installer_commands(installer, venv.python)
    _log(log, f"# installer: {name}\n")
    targets = list(specs)
    if install_project:
        targets = [str(app_dir)]
    if targets:
        code = _run_logged(install + targets, log, cwd=app_dir)
        if code != 0:
            raise InstallFailed(messages.INSTALL_FAILED.format(code=code, tail=_tail(log)))
    _run_logged(freeze, log)
    _log(log, f"# install finished in {time.monotonic() - started:.1f}s with {name}\n")
    return AppVenv(root, name)
