"""Turn the user's run command into an argv that works in the venv, the trimmed tree and the image.

The command may start with `python` (any interpreter is substituted) or with a console script the
app installed (`streamlit run app.py`), which becomes `python -c <call the entry point>`: the image
has no venv `bin/` folder, so console-script shims would not exist there.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

from .distributions import Distribution

PYTHON = "python"
PORT = "{port}"
# Where a command line names its port: `--port 8000`, `--server.port=8000`, `-p 8000`, `--bind :8000`,
# `0.0.0.0:8000`, or a bare number after the program (`python -m http.server 8000`).
_PORT_OPTION = re.compile(r"^(--?[\w.-]*port|-p)$", re.IGNORECASE)
_HOST_PORT = re.compile(r"^(?:[\w.-]*|\*|\[[0-9a-fA-F:]*\]):(\d{1,5})$")
_NUMBER = re.compile(r"^\d{1,5}$")
_LOWEST_BARE_PORT = 1024


class _CaseSensitiveParser(configparser.ConfigParser):
    """entry_points.txt with its keys as written: script names are case sensitive."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def console_scripts(site: Path, dists: dict[str, Distribution]) -> dict[str, str]:
    """Map console-script names to 'module:function' from the installed entry_points.txt files."""
    scripts: dict[str, str] = {}
    for dist in dists.values():
        path = site / dist.metadata_dir / "entry_points.txt"
        if not path.is_file():
            continue
        parser = _CaseSensitiveParser(delimiters=("=",), interpolation=None)
        parser.read_string(path.read_text(encoding="utf-8"))
        if parser.has_section("console_scripts"):
            scripts.update({k: v.strip() for k, v in parser.items("console_scripts")})
    return scripts


def _entry_point_call(name: str, target: str) -> list[str]:
    module, _, func = target.partition(":")
    code = (
        f"import sys; from {module} import {func.split('.')[0]} as m; sys.argv[0] = {name!r}; sys.exit(m())"
    )
    return [PYTHON, "-c", code]


def abstract_argv(run: str, scripts: dict[str, str]) -> list[str]:
    """The run command as argv whose first element is the literal 'python' placeholder."""
    argv = shlex.split(run)
    if not argv:
        return argv
    first = argv[0]
    if first in ("python", "python3") or Path(first).name.startswith("python"):
        return [PYTHON, *argv[1:]]
    if first in scripts:
        return [*_entry_point_call(first, scripts[first]), *argv[1:]]
    return argv


def concrete_argv(argv: list[str], interpreter: str, port: int) -> list[str]:
    """Substitute the interpreter and the `{port}` placeholder for one local run."""
    out = [interpreter if i == 0 and arg == PYTHON else arg for i, arg in enumerate(argv)]
    return [arg.replace("{port}", str(port)) for arg in out]


def concrete_env(env: dict[str, str], port: int) -> dict[str, str]:
    """Substitute the `{port}` placeholder in environment values (`--env PORT={port}`) for one local run."""
    return {key: value.replace(PORT, str(port)) for key, value in env.items()}


def container_argv(argv: list[str], port: int) -> list[str]:
    """The argv for the image's CMD: the container port instead of the placeholder."""
    return [arg.replace("{port}", str(port)) for arg in argv]


def _port_in(token: str, previous: str | None) -> str | None:
    """The port a single argument names, given the argument before it."""
    option, sep, value = token.partition("=")
    if sep and option.startswith("-"):
        token, previous = value, option
    host_port = _HOST_PORT.match(token)
    if host_port:
        return host_port.group(1)
    if not _NUMBER.match(token):
        return None
    if previous is not None and previous.startswith("-"):
        return token if _PORT_OPTION.match(previous) else None  # `--workers 4` is not a port
    return token if int(token) >= _LOWEST_BARE_PORT else None  # `app.py 3` is more likely a count


def literal_port(run: str) -> int | None:
    """The port a run command names literally when it has no `{port}`; None when it names none.

    k8orize runs the app on a free port, so a literal port means the probes knock where nothing
    listens."""
    if PORT in run:
        return None
    try:
        argv = shlex.split(run)
    except ValueError:
        return None  # not a command line: the run itself says so
    for i, token in enumerate(argv[1:], start=1):
        found = _port_in(token, argv[i - 1] if i > 1 else None)
        if found and 1 <= int(found) <= 65535:
            return int(found)
    return None


def with_placeholder(run: str, port: int) -> str:
    """The run command with `{port}` where it named `port` (for the message that suggests it)."""
    return re.sub(rf"(?<![\w.]){port}(?!\w)", PORT, run, count=1)
