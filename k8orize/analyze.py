"""Static analysis of an app directory: its kind, entrypoint, files, imports and dependencies."""

from __future__ import annotations

import ast
import fnmatch
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import messages
from .appkinds import AppKind, AppKindRegistry
from .distributions import Distribution, canonical, import_index
from .errors import UnknownAppKind

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


def scan_files(app_dir: Path) -> FileScan:
    """Walk app_dir once and classify every file; secrets are flagged wherever they are."""
    scan = FileScan()
    for path in sorted(app_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(app_dir)
        scan.sizes[str(rel)] = path.stat().st_size
        if _match(path.name, _SECRETS):
            scan.secrets.append(str(rel))
            continue
        category = next((c for part in rel.parts[:-1] if (c := _dir_category(part))), None)
        category = category or _file_category(path.name)
        if category:
            scan.redundant.setdefault(category, []).append(str(rel))
        else:
            scan.keep.append(str(rel))
    return scan


def imported_modules(app_dir: Path, files: list[str]) -> set[str]:
    """Top-level names imported by the app's own code (absolute imports only)."""
    names: set[str] = set()
    for rel in files:
        if not rel.endswith(".py"):
            continue
        try:
            tree = ast.parse((app_dir / rel).read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def local_modules(app_dir: Path) -> set[str]:
    """Names the app itself provides (its own modules and packages), which are never dependencies."""
    local = {p.stem for p in app_dir.glob("*.py")}
    local |= {p.name for p in app_dir.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return local


@dataclass
class DependencyReport:
    """Declared versus imported dependencies, mapped through installed distribution metadata."""

    declared: list[str]
    imported: list[str]
    unused: list[str]
    missing: list[str]
    mapping: str  # "installed-metadata" or "name-heuristic"


def dependency_report(
    declared: list[str], imports: set[str], local: set[str], dists: dict[str, Distribution] | None
) -> DependencyReport:
    """Unused = declared but never imported; missing = imported third-party code not declared."""
    third_party = sorted(n for n in imports if n not in sys.stdlib_module_names and n not in local)
    index = import_index(dists) if dists else {}
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


@dataclass
class AppAnalysis:
    """Everything the static pass learnt about the app before anything runs."""

    kind: AppKind
    entrypoint: Path | None
    declared: list[str]
    requirement_specs: list[str]
    files: FileScan
    imports: set[str]
    local: set[str]


def analyze(app_dir: Path, registry: AppKindRegistry) -> AppAnalysis:
    """Detect the kind, entrypoint and files of app_dir; raise UnknownAppKind when nothing matches."""
    kind = registry.detect(app_dir)
    entry = kind.entrypoint(app_dir)
    files = scan_files(app_dir)
    if entry is not None and str(entry) not in files.keep:
        raise UnknownAppKind(messages.NO_ENTRYPOINT.format(path=app_dir))
    return AppAnalysis(
        kind=kind,
        entrypoint=entry,
        declared=kind.declared_dependencies(app_dir),
        requirement_specs=kind.requirement_specs(app_dir),
        files=files,
        imports=imported_modules(app_dir, files.keep),
        local=local_modules(app_dir),
    )
