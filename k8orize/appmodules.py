"""The app's own modules that nothing uses: never imported in the trace, nor reachable by static
imports from the entrypoint (or from a module the run command names, such as `shop.wsgi:app`).

Reachability follows `import a.b`, `from a import b` and relative imports between the app's files;
importing a module imports every package above it. The trace adds every module the app opened,
whatever imported it (Django's INSTALLED_APPS, a plugin loader).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .appfiles import AppFiles

_NAME = re.compile(r"[A-Za-z_][\w.]*")


def module_map(files: Iterable[str]) -> dict[str, str]:
    """Dotted module name -> file, for the app's .py files (`pkg/__init__.py` is `pkg`)."""
    found = {}
    for rel in files:
        path = PurePosixPath(rel)
        if path.suffix != ".py":
            continue
        parts = list(path.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            found[".".join(parts)] = rel
    return found


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _package(module: str, rel: str) -> list[str]:
    parts = module.split(".")
    return parts if rel.endswith("__init__.py") else parts[:-1]


def imports_of(app: AppFiles, module: str, rel: str) -> set[str]:
    """The dotted names one app module imports (relative imports resolved)."""
    text = app.read_text(rel)
    try:
        tree = ast.parse(text or "", filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()  # analyze.py notes unparsable files
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = _package(module, rel)
                up = package[: len(package) - (node.level - 1)] if node.level - 1 <= len(package) else []
                base = ".".join([*up, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return {n for n in names if n}


def reachable(app: AppFiles, modules: dict[str, str], starts: Iterable[str]) -> set[str]:
    """The app modules reachable by imports from the start modules (packages above each included)."""
    seen: set[str] = set()
    todo = [m for start in starts for m in _with_parents(start) if m in modules]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        for name in imports_of(app, module, modules[module]):
            todo += [m for m in _with_parents(name) if m in modules and m not in seen]
    return seen


def named_in_command(run: str | None, modules: dict[str, str]) -> set[str]:
    """App modules a run command names (`python -m gunicorn shop.wsgi:app`, `uvicorn main:app`)."""
    words = (run or "").replace(":", " ").replace("=", " ").split()
    named = {w.removesuffix(".py").replace("/", ".") for w in words}
    return {w for w in named if _NAME.fullmatch(w) and w in modules}


def unused_modules(
    app: AppFiles,
    kept: list[str],
    entrypoint: Path | None,
    run: str | None,
    opened: Iterable[str],
    where: Iterable[Path] = (),
) -> list[str]:
    """The app's .py files that no static import from the entrypoint reaches and the trace never opened.

    `opened`: the trace's opened paths; those inside the app folder (or in `where`, the folder the
    runs saw it as) count as used.
    """
    modules = module_map(kept)
    starts = named_in_command(run, modules)
    if entrypoint is not None:
        starts |= {m for m, rel in modules.items() if rel == entrypoint.as_posix()}
    used = {modules[m] for m in reachable(app, modules, starts)}
    for root in {str(app.root) + "/", *(str(w) + "/" for w in where)}:
        used |= {path[len(root) :] for path in opened if path.startswith(root)}
    return sorted(rel for rel in modules.values() if rel not in used)
