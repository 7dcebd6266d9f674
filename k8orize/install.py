"""Install the app's dependencies into an isolated venv, logging every line to install.log.

Sandboxed (the default), in two halves. Outside the sandbox, with the host's network, pip downloads
the checked requirements as wheels only (`--only-binary :all:`): reading a wheel runs none of its code.
A requirement with no wheel is fetched from the index as an sdist (data, hash-checked) and built into a
wheel inside the sandbox (source_build.py); pip reads that wheel's metadata and fetches what it
requires, and so on until every dependency is a wheel. Inside the sandbox, with no network, uv (or pip)
installs them from those files alone, and a project app is built there too, so its build backend runs
where it can see and reach nothing.

The venv is created without pip or setuptools (the installer runs from outside the venv), so neither
lands in the app's site-packages unless the app itself needs them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from . import isolation_messages, messages
from .appfiles import AppFiles
from .errors import InstallFailed, ToolMissing
from .index_fetch import fetch_sdist
from .package_index import index_config
from .requirements import AppRequirements, app_requirements
from .sandbox import SandboxHost, View, base_python
from .source_build import SourceBuilder

if TYPE_CHECKING:
    from .request import K8orizeRequest

#: Variables pip's download may read from the engine's environment: its configuration, proxies and
#: certificates. Nothing else of the engine's environment (its secrets) reaches it.
_DOWNLOAD_ENV_NAMES = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
)
_DOWNLOAD_ENV_PREFIXES = ("PIP_", "XDG_")
MAX_SOURCE_BUILDS = 20  # dependencies built from their sdists in one install
# pip's last words when a requirement has no wheel (--only-binary :all:), stable since pip 10.
# A dependency's line ends with what required it: "... for helper-lib>=1 (from hostile-dep)".
_NO_WHEEL = re.compile(
    r"^ERROR: No matching distribution found for (.+?)(?: \(from [^()]*\))?$", re.MULTILINE
)
_DOWNLOAD_ENV_SUFFIXES = ("_PROXY", "_proxy")


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


#: The real interpreter behind the engine's own venv (the app venv must not inherit its packages).
base_interpreter = base_python


def python_version() -> str:
    return sysconfig.get_python_version()


def _log(log: Path, text: str) -> None:
    with log.open("a", encoding="utf-8") as handle:
        handle.write(text)


def _run_logged(cmd: list[str], log: Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> int:
    _log(log, f"$ {' '.join(cmd)}\n")
    with log.open("a", encoding="utf-8") as handle:
        proc = subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd, env=env, check=False)
    return proc.returncode


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def find_uv() -> str | None:
    """uv beside the engine's interpreter (the project venv), else on PATH."""
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def find_pip() -> Path | None:
    """The folder of the engine's own pip (run from outside the app's venv), if it has one."""
    spec = importlib.util.find_spec("pip")
    locations = spec.submodule_search_locations if spec else None
    return Path(locations[0]) if locations else None


def _uv_or_none(choice: str) -> str | None:
    uv = find_uv() if choice in ("auto", "uv") else None
    if choice == "uv" and uv is None:
        raise ToolMissing(
            messages.TOOL_MISSING.format(
                tool="uv", purpose="install the app with uv", hint="pip install uv, or --installer pip"
            )
        )
    return uv


def installer_commands(choice: str, python: Path) -> tuple[str, list[str], list[str]]:
    """(name, install command, freeze command) for 'auto', 'uv' or 'pip', run on the host with its
    network (--unsafe-no-sandbox only).

    Both install without bytecode (no pyc in site-packages, exactly like the image, which is
    read-only) and into a venv that has no pip of its own. uv copies files out of its cache rather
    than hard-linking them, so the trimmed tree can never alias the cache.
    """
    uv = _uv_or_none(choice)
    if uv:
        common = ["--python", str(python)]
        return (
            "uv",
            [uv, "pip", "install", *common, "--link-mode", "copy", "--no-progress"],
            [uv, "pip", "freeze", *common],
        )
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    install = [*pip, "install", "--no-input", "--no-compile", "--disable-pip-version-check"]
    return "pip", [*install, "--progress-bar", "off"], [*pip, "freeze"]


def _make_venv(root: Path, log: Path) -> AppVenv:
    _log(log, f"# k8orize install log\n# interpreter: {base_interpreter()} (Python {python_version()})\n")
    code = _run_logged([base_interpreter(), "-m", "venv", "--without-pip", str(root)], log)
    if code != 0:
        raise InstallFailed(messages.INSTALL_FAILED.format(code=code, tail=_tail(log)))
    return AppVenv(root)


def create_venv(
    root: Path,
    specs: list[str],
    app_dir: Path,
    log: Path,
    installer: str = "auto",
    install_project: bool = False,
) -> AppVenv:
    """Without a sandbox (--unsafe-no-sandbox): create root as a venv and install specs (or, with
    install_project, the app itself) into it on the host, logging to log."""
    started = time.monotonic()
    venv = _make_venv(root, log)
    name, install, freeze = installer_commands(installer, venv.python)
    _log(log, f"# installer: {name} (NO SANDBOX: on the host, with its network)\n")
    targets = [str(app_dir)] if install_project else list(specs)
    if targets:
        code = _run_logged(install + targets, log, cwd=app_dir)
        if code != 0:
            raise InstallFailed(messages.INSTALL_FAILED.format(code=code, tail=_tail(log)))
    _run_logged(freeze, log)
    _log(log, f"# install finished in {time.monotonic() - started:.1f}s with {name}\n")
    return AppVenv(root, name)


# -- sandboxed ---------------------------------------------------------------------------------------


def download_environment() -> dict[str, str]:
    """The engine's environment without its secrets: what pip needs to reach the package index."""
    return {
        key: value
        for key, value in os.environ.items()
        if key in _DOWNLOAD_ENV_NAMES
        or key.startswith(_DOWNLOAD_ENV_PREFIXES)
        or key.endswith(_DOWNLOAD_ENV_SUFFIXES)
    }


def _pip_download(lines: list[str], into: Path, log: Path, find_links: Path | None = None) -> int:
    """`pip download` of lines as wheels only, on the host, with its pip configuration; the exit code."""
    listing = into / "requirements.txt"
    listing.write_text("".join(f"{line}\n" for line in lines))
    if not lines:
        return 0
    cmd = [sys.executable, "-m", "pip", "download", "--no-input", "--disable-pip-version-check"]
    cmd += ["--progress-bar", "off", "--only-binary", ":all:", "--dest", str(into), "-r", str(listing)]
    cmd += ["--find-links", str(find_links)] if find_links else []
    return _run_logged(cmd, log, cwd=into, env=download_environment())


def missing_requirement(output: str) -> Requirement | None:
    """The requirement pip found no wheel for, from its own last words (None when it said none)."""
    found = _NO_WHEEL.findall(output)
    try:
        return Requirement(found[-1].strip()) if found else None
    except InvalidRequirement:
        return None


@dataclass
class WheelDownload:
    """The download half of a sandboxed install: every requirement as a wheel in `into`. One that has no
    wheel is fetched as an sdist from the index and built in the sandbox (source_build.py); pip then
    reads that wheel's metadata as data and fetches its dependencies in turn, until all are wheels."""

    host: SandboxHost
    venv: AppVenv
    into: Path
    log: Path
    allow_urls: bool = False
    built: dict[str, str] = field(default_factory=dict)  # canonical name -> version built

    def run(self, lines: list[str]) -> None:
        local = self.host.folder("built-wheels")
        while True:
            start = self.log.stat().st_size if self.log.exists() else 0
            code = _pip_download(lines, self.into, self.log, local)
            if code == 0:
                return
            with self.log.open("rb") as handle:
                handle.seek(start)
                missing = missing_requirement(handle.read().decode("utf-8", "replace"))
            if missing is None or missing.url is not None:
                raise InstallFailed(
                    isolation_messages.DOWNLOAD_FAILED.format(code=code, tail=_tail(self.log))
                )
            self._build(missing, lines, local)

    def _build(self, missing: Requirement, lines: list[str], local: Path) -> None:
        name = canonicalize_name(missing.name)
        if name in self.built:
            version, tail = self.built[name], _tail(self.log)
            raise InstallFailed(
                isolation_messages.NO_PROGRESS.format(
                    requirement=missing, name=name, version=version, tail=tail
                )
            )
        if any("--hash=" in line for line in lines):
            raise InstallFailed(isolation_messages.HASH_PINNED.format(requirement=missing))
        if len(self.built) >= MAX_SOURCE_BUILDS:
            names = ", ".join(self.built)
            raise InstallFailed(
                isolation_messages.TOO_MANY_SOURCE_BUILDS.format(limit=MAX_SOURCE_BUILDS, names=names)
            )
        config = index_config(download_environment())
        sdist = fetch_sdist(missing, config, self.host.folder(f"sdist-{len(self.built)}"))
        fetched = f"{sdist.path.name} (sha256 {sdist.sha256}) from {sdist.index}"
        _log(self.log, f"# {missing}: no wheel; fetched {fetched}\n")
        wheel, requires = self._builder().build(sdist, len(self.built))
        self.built[name] = str(sdist.version)
        shutil.copyfile(wheel, local / wheel.name)
        shown = ", ".join(str(r.requirement) for r in requires) or "nothing"
        _log(self.log, f"# built {wheel.name} in the sandbox; it requires {shown}\n")

    def _builder(self) -> SourceBuilder:
        pip = find_pip()
        if pip is None:
            hint = "pip install pip"
            raise ToolMissing(messages.TOOL_MISSING.format(tool="pip", purpose="build an sdist", hint=hint))

        def fetch(lines: list[str], into: Path) -> int:
            return _pip_download(lines, into, self.log)

        return SourceBuilder(
            self.host, self.venv.python, pip, self.log, fetch, lambda: _tail(self.log), self.allow_urls
        )


@dataclass(frozen=True)
class SandboxedInstaller:
    """How the sandbox installs: its name, the tool to bind, the install and freeze commands."""

    name: str
    tool: Path
    install: list[str]
    freeze: list[str]
    env: dict[str, str]


def sandboxed_installer(choice: str, venv: AppVenv, wheels: Path, cache: Path) -> SandboxedInstaller:
    """uv (auto, when present) or pip, offline: only the downloaded wheels can be installed."""
    uv = _uv_or_none(choice)
    if uv:
        common = ["--python", str(venv.python)]
        offline = ["--offline", "--no-index", "--find-links", str(wheels), "--link-mode", "copy"]
        install = [uv, "pip", "install", *common, *offline, "--no-progress"]
        env = {"UV_CACHE_DIR": str(cache), "UV_NO_CONFIG": "1"}
        return SandboxedInstaller("uv", Path(uv), install, [uv, "pip", "freeze", *common], env)
    pip = find_pip()
    if pip is None:
        raise ToolMissing(
            messages.TOOL_MISSING.format(tool="pip or uv", purpose="install the app", hint="pip install uv")
        )
    run = [str(venv.python), str(pip)]
    flags = ["--isolated", "--no-input", "--disable-pip-version-check", "--no-cache-dir"]
    install = [*run, "install", *flags, "--no-index", "--find-links", str(wheels), "--no-compile"]
    return SandboxedInstaller(
        "pip", pip, [*install, "--progress-bar", "off"], [*run, "freeze", "--isolated"], {}
    )


def _run_sandboxed(host: SandboxHost, cmd: list[str], view: View, log: Path) -> int:
    _log(log, f"$ [sandbox] {' '.join(cmd)}\n")
    return host.run(cmd, view, log, host.limits.install_seconds)


def _project_copy(host: SandboxHost, app_dir: Path) -> Path:
    """A writable copy of the app for its build (builds write into the tree); links stay links."""
    project = host.area / "project"
    shutil.copytree(app_dir, project, symlinks=True)
    host.hand_over(project)
    return project


def install_sandboxed(
    host: SandboxHost,
    requirements: AppRequirements,
    app_dir: Path,
    log: Path,
    installer: str = "auto",
    install_project: bool = False,
    allow_urls: bool = False,
) -> AppVenv:
    """Download as wheels on the host (building in the sandbox what has only an sdist), then create the
    venv and install into it inside the sandbox."""
    started = time.monotonic()
    venv = _make_venv(host.folder("venv"), log)
    host.hand_over(venv.root)
    wheels, cache = host.folder("wheels"), host.folder("cache", writable=True)
    WheelDownload(host, venv, wheels, log, allow_urls).run(requirements.downloads)
    tool = sandboxed_installer(installer, venv, wheels, cache)
    _log(log, f"# installer: {tool.name}, in the sandbox (no network, UID {host.uid})\n")
    project = _project_copy(host, app_dir) if install_project else None
    targets = [str(project)] if project else ["-r", str(wheels / "requirements.txt")]
    writable = (venv.root, cache, *((project,) if project else ()))
    view = View(readonly=(wheels, tool.tool), writable=writable, env=tool.env, cwd=project or wheels)
    if project or requirements.lines:
        code = _run_sandboxed(host, [*tool.install, *targets], view, log)
        if code != 0:
            raise InstallFailed(messages.INSTALL_FAILED.format(code=code, tail=_tail(log)))
    _run_sandboxed(host, tool.freeze, view, log)
    _log(log, f"# install finished in {time.monotonic() - started:.1f}s with {tool.name}, sandboxed\n")
    return AppVenv(venv.root, tool.name)


def install_app(
    host: SandboxHost | None, app: AppFiles, scratch: Path, log: Path, request: K8orizeRequest, project: bool
) -> AppVenv:
    """The install step: the app's requirements checked (RequirementRefused names a bad line), then
    installed in the app's sandbox, or on the host (host None: --unsafe-no-sandbox). With project,
    the app itself is built and installed (its build backend runs where the install does)."""
    wanted = app_requirements(app, install_project=project, allow_urls=request.allow_direct_urls)
    if host is None:
        return create_venv(scratch / "venv", wanted.lines, app.root, log, request.installer, project)
    return install_sandboxed(
        host, wanted, app.root, log, request.installer, project, request.allow_direct_urls
    )
