"""Static analysis of an app directory: its kind, entrypoint, files, imports and dependencies."""

from __future__ import annotations

import ast
import fnmatch
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import messages
from .appfiles import AppFiles
from .appkinds import AppKind, AppKindRegistry
from .distributions import Distribution, canonical, import_index
from .errors import UnknownAppKind
from .report_schema import DependenciesJSON

# Directory names dropped whole, by category. Order matters: the first match names the category.
_REDUNDANT_DIRS = {
    "vcs": (".git", ".hg", ".svn", ".bzr"),
    "caches": (
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".ipynb_checkpoints",
        ".tox",
        ".nox",
        ".cache",
        ".hypothesis",
    ),
    "virtualenvs": (".venv", "venv", "env", "node_modules"),
    "tests": ("tests", "test", "testing"),
    "docs": ("docs", "doc", "examples", "site"),
    "build artifacts": ("build", "dist", ".eggs", "*.egg-info", "htmlcov"),
    "editor and CI config": (".github", ".gitlab", ".vscode", ".idea", ".devcontainer", ".circleci"),
}
_REDUNDANT_FILES = {
    "caches": ("*.pyc", "*.pyo", ".coverage", ".DS_Store"),
    "tests": ("test_*.py", "*_test.py", "conftest.py", "pytest.ini", "tox.ini", "noxfile.py"),
    "docs": ("*.md", "*.rst", "*.txt.md", "LICENSE*", "COPYING*", "AUTHORS*", "CHANGELOG*", "NOTICE*"),
    "notebooks": ("*.ipynb",),
    "build artifacts": ("*.whl", "*.tar.gz", "*.egg", "Makefile", "setup.cfg", "MANIFEST.in"),
    "packaging metadata": ("requirements*.txt", "pyproject.toml", "poetry.lock", "uv.lock", "Pipfile*"),
    "editor and CI config": (
        ".gitignore",
        ".gitattributes",
        ".pre-commit-config.yaml",
        ".editorconfig",
        ".dockerignore",
        "Dockerfile",
        "*.swp",
    ),
}
_SECRETS = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_ed25519*",
    "id_ecdsa*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "credentials.json",
    "secrets.toml",
    "secrets.yaml",
    "secrets.yml",
    ".netrc",
    ".pgpass",
    "*.kdbx",
    "service-account*.json",
    ".npmrc",
    ".pypirc",
    ".htpasswd",
)


@dataclass
class FileScan:
    """Every file of the app, sorted into what the image needs, what is redundant and what is secret."""

    keep: list[str] = field(default_factory=list)
    redundant: dict[str, list[str]] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)
    #: rel path → why the engine did not read it (a link out of the app, a fifo, unparsable code).
    unreadable: dict[str, str] = field(default_factory=dict)

    def redundant_bytes(self) -> dict[str, int]:
        return {cat: sum(self.sizes[f] for f in files) for cat, files in self.redundant.items()}


def _match(name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _dir_category(name: str) -> str | None:
    for category, patterns in _REDUNDANT_DIRS.items():
        if _match(name, patterns):
            return category
    return None


def _file_category(name: str) -> str | None:
    for category, patterns in _REDUNDANT_FILES.items():
        if _match(name, patterns):
            return category
    return None


def _files(app: AppFiles | Path) -> AppFiles:
    return app if isinstance(app, AppFiles) else AppFiles(app)


def scan_files(app: AppFiles | Path) -> FileScan:
    """Walk the app once and classify every file; secrets are flagged wherever they are.

    Only regular files inside the app are listed; links out of it and special files land in
    `unreadable` (shared with the app's file layer, so later refusals show up there too).
    """
    files = _files(app)
    scan = FileScan(unreadable=files.unreadable)
    for entry in files.walk():
        rel = PurePosixPath(entry.rel)
        scan.sizes[entry.rel] = entry.size
        if _match(rel.name, _SECRETS):
            scan.secrets.append(entry.rel)
            continue
        category = next((c for part in rel.parts[:-1] if (c := _dir_category(part))), None)
        category = category or _file_category(rel.name)
        if category:
            scan.redundant.setdefault(category, []).append(entry.rel)
        else:
            scan.keep.append(entry.rel)
    return scan


def _parsed(app: AppFiles, rel: str) -> ast.AST | None:
    """rel's syntax tree, or None with the reason noted: deep nesting or bad syntax is a finding."""
    text = app.read_text(rel)
    if text is None:
        return None
    try:
        return ast.parse(text, filename=rel)
    except (SyntaxError, ValueError) as exc:
        why = f"line {exc.lineno}: {exc.msg}" if isinstance(exc, SyntaxError) else str(exc)
    except RecursionError:
        why = "nested too deeply"
    except MemoryError:
        why = "nested too deeply for the parser's memory"
    app.note(rel, messages.APP_FILE_UNPARSABLE.format(why=why))
    return None


def imported_modules(app: AppFiles | Path, files: list[str]) -> set[str]:
    """Top-level names imported by the app's own code (absolute imports only)."""
    app = _files(app)
    names: set[str] = set()
    for rel in files:
        tree = _parsed(app, rel) if rel.endswith(".py") else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def local_modules(app: AppFiles | Path) -> set[str]:
    """Names the app itself provides (its own modules and packages), which are never dependencies."""
    app = _files(app)
    return {PurePosixPath(rel).stem for rel in app.top_level(".py")} | set(app.packages())


@dataclass(frozen=True)
class DependencyReport:
    """Declared versus imported dependencies, mapped through installed distribution metadata."""

    declared: list[str]
    imported: list[str]
    unused: list[str]
    missing: list[str]
    mapping: str  # "installed-metadata" or "name-heuristic"

    def as_json(self) -> DependenciesJSON:
        return DependenciesJSON(
            declared=list(self.declared),
            imported=list(self.imported),
            unused=list(self.unused),
            missing=list(self.missing),
            mapping=self.mapping,
        )


def dependency_report(
    declared: list[str], imports: set[str], local: set[str], dists: dict[str, Distribution] | None
) -> DependencyReport:
    """Unused = declared but never imported; missing = imported third-party code not declared."""
    third_party = sorted(n for n in imports if n not in sys.stdlib_module_names and n not in local)
    dists = dists or {}
    index = import_index(dists)
    used = {index.get(name, canonical(name)) for name in third_party}
    declared_keys = {canonical(d): d for d in declared}
    unused = sorted(name for key, name in declared_keys.items() if key not in used)
    missing = sorted(
        dists[index[name]].name if name in index else name
        for name in third_party
        if index.get(name, canonical(name)) not in declared_keys
    )
    return DependencyReport(
        sorted(declared, key=str.lower),
        third_party,
        unused,
        missing,
        "installed-metadata" if dists else "name-heuristic",
    )


@dataclass(frozen=True)
class AppAnalysis:
    """Everything the static pass learnt about the app before anything runs."""

    kind: AppKind
    entrypoint: Path | None
    declared: list[str]
    requirement_specs: list[str]
    files: FileScan
    imports: set[str]
    local: set[str]
    app_files: AppFiles


def _detect(app: AppFiles, registry: AppKindRegistry) -> AppKind:
    """The app's kind; when none matches because a manifest was refused, say which and why."""
    try:
        return registry.detect(app)
    except UnknownAppKind:
        refused = sorted(set(app.unreadable) & {"requirements.txt", "pyproject.toml"})
        if not refused:
            raise
        reason = app.unreadable[refused[0]]
        raise UnknownAppKind(
            messages.MANIFEST_REFUSED.format(path=app.root.name, files=" and ".join(refused), reason=reason)
        ) from None


def analyze(app_dir: Path | AppFiles, registry: AppKindRegistry) -> AppAnalysis:
    """Detect the kind, entrypoint and files of the app; raise UnknownAppKind when nothing matches.

    Everything is read through the app's file layer (`AppFiles`): nothing outside the folder.
    """
    app = _files(app_dir)
    kind = _detect(app, registry)
    entry = kind.entrypoint(app)
    files = scan_files(app)
    if entry is not None and str(entry) not in files.keep:
        raise UnknownAppKind(messages.NO_ENTRYPOINT.format(path=app.root.name))
    return AppAnalysis(
        kind=kind,
        entrypoint=entry,
        declared=kind.declared_dependencies(app),
        requirement_specs=kind.requirement_specs(app),
        files=files,
        imports=imported_modules(app, files.keep),
        local=local_modules(app),
        app_files=app,
    )
