"""Turn the user's run command into an argv that works in the venv, the trimmed tree and the image.

The command may start with `python` (any interpreter is substituted) or with a console script the
app installed (`streamlit run app.py`), which becomes `python -c <call the entry point>`: the image
has no venv `bin/` folder, so console-script shims would not exist there.
"""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from .distributions import Distribution

PYTHON = "python"


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


def container_argv(argv: list[str], port: int) -> list[str]:
    """The argv for the image's CMD: the container port instead of the placeholder."""
    return [arg.replace("{port}", str(port)) for arg in argv]
