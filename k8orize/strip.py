"""What no import can need inside a kept distribution, and debug symbols stripped from its shared objects.

Files go by kind: bytecode caches, C/C++ headers and sources, Cython sources, type stubs and static
archives are read by compilers and type checkers, never by an import; JavaScript source maps by a
browser's developer tools, never by a page; gettext translation sources (.po) by the tools that compile
them into the .mo catalogs an app actually reads. Folders go by name (test suites,
docs and examples) only when no code that stays imports them: a package that imports its own
`testing` module (numpy.testing, say) keeps it. Whatever the trace opened stays, whatever its kind.
Shared objects keep their code and dynamic symbols; `strip --strip-unneeded` removes the rest, and the
trim step imports every traced module again from the result to prove it.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CACHES = "caches"
TESTS = "tests"
DOCS = "docs and examples"
SOURCES = "C/C++ headers and sources"
CYTHON = "Cython sources"
STUBS = "type stubs"
ARCHIVES = "static archives"
SOURCE_MAPS = "JavaScript source maps"
TRANSLATION_SOURCES = "translation sources (.po)"
DEBUG_SYMBOLS = "debug symbols (strip --strip-unneeded)"

_BY_SUFFIX = {
    **dict.fromkeys((".c", ".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp", ".hxx", ".h++"), SOURCES),
    **dict.fromkeys((".pyx", ".pxd", ".pxi"), CYTHON),
    ".pyi": STUBS,
    ".a": ARCHIVES,
    ".pyc": CACHES,
    ".po": TRANSLATION_SOURCES,
}
_FOLDERS = {
    **dict.fromkeys(("tests", "test", "testing"), TESTS),
    **dict.fromkeys(("docs", "doc", "examples", "example"), DOCS),
}
_SHARED_OBJECT = re.compile(r"\.so(\.[0-9.]+)?$")
_ELF = b"\x7fELF"
_FROM = re.compile(r"^\s*from\s+(\.*)([\w.]*)\s+import\s+\(?([^#\n)]*)", re.MULTILINE)
_IMPORT = re.compile(r"^\s*import\s+([\w., ]+)", re.MULTILINE)
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def file_category(rel: str) -> str | None:
    """The category of a file no import reads, by its place and kind (None: it may be imported).
    Source maps are read by a browser's developer tools only, never by a page."""
    path = PurePosixPath(rel)
    if "__pycache__" in path.parts[:-1]:
        return CACHES
    if path.name.endswith((".js.map", ".css.map")):
        return SOURCE_MAPS
    return _BY_SUFFIX.get(path.suffix)


def folder_candidates(files: Iterable[str]) -> dict[str, str]:
    """Test, docs and examples folders (paths relative to site-packages) with their category."""
    found: dict[str, str] = {}
    for rel in files:
        parts = rel.split("/")[:-1]
        for i, part in enumerate(parts):
            if part in _FOLDERS and not parts[0].endswith((".dist-info", ".egg-info", ".data")):
                found.setdefault("/".join(parts[: i + 1]), _FOLDERS[part])
                break
    return found


def _module_of(rel: str) -> str:
    """The dotted name of the package a .py file lies in (`pkg/sub/mod.py` -> `pkg.sub`)."""
    return ".".join(rel.split("/")[:-1])


def references(rel: str, text: str) -> set[str]:
    """Dotted names a module's source names: its imports (relative ones resolved) and any dotted
    string, which catches `importlib.import_module("pkg.testing")` too."""
    names = set(_DOTTED.findall(text))
    package = _module_of(rel).split(".") if "/" in rel else []
    for dots, module, imported in _FROM.findall(text):
        if dots:
            base = package[: len(package) - (len(dots) - 1)] if len(dots) <= len(package) + 1 else []
            module = ".".join([*base, module] if module else base)
        if not module:
            continue
        names.add(module)
        names.update(f"{module}.{n.split(' as ')[0].strip()}" for n in imported.split(",") if n.strip())
    for listed in _IMPORT.findall(text):
        names.update(n.split(" as ")[0].strip() for n in listed.split(","))
    return names


def _dotted(folder: str) -> str:
    return folder.replace("/", ".")


def needed_folders(candidates: dict[str, str], sources: dict[str, str], opened: set[str]) -> set[str]:
    """The candidate folders that stay: entered by the trace, or named by code that stays.

    `sources` maps each kept .py file to its text. A folder kept because some code names it brings its
    own code into play, so the check runs until nothing changes.
    """
    keep = {c for c in candidates if any(rel.startswith(c + "/") for rel in opened)}
    inside = {rel: next((c for c in candidates if rel.startswith(c + "/")), None) for rel in sources}
    named: set[str] = set()
    done: set[str] = set()
    while True:
        for rel, text in sources.items():
            folder = inside[rel]
            if rel in done or (folder is not None and folder not in keep):
                continue
            done.add(rel)
            named |= {n for n in references(rel, text) if folder is None or not n.startswith(_dotted(folder))}
        grown = {c for c in candidates if c not in keep and _named(_dotted(c), named)}
        if not grown:
            return keep
        keep |= grown


def _named(dotted: str, names: set[str]) -> bool:
    return dotted in names or any(n.startswith(dotted + ".") for n in names)


def is_shared_object(path: Path) -> bool:
    """An ELF shared object (by name, then by its magic number)."""
    if not _SHARED_OBJECT.search(path.name):
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(4) == _ELF
    except OSError:
        return False


_PT_LOAD = 1


def loadable(path: Path) -> bool:
    """Every LOAD segment of an ELF file keeps its offset congruent to its address modulo its
    alignment, as the dynamic loader demands. `strip` breaks that in libraries patchelf rewrote (the
    ones auditwheel vendors into `<package>.libs/`): "ELF load command address/offset not page-aligned"."""
    data = path.read_bytes()
    if data[:4] != _ELF or len(data) < 64:
        return False
    wide, order = data[4] == 2, "<" if data[5] == 1 else ">"
    if wide:
        phoff, phentsize, phnum = (
            struct.unpack_from(f"{order}Q", data, 32)[0],
            *struct.unpack_from(f"{order}HH", data, 54),
        )
        fields = f"{order}IIQQQQQQ"  # type, flags, offset, vaddr, paddr, filesz, memsz, align
    else:
        phoff, phentsize, phnum = (
            struct.unpack_from(f"{order}I", data, 28)[0],
            *struct.unpack_from(f"{order}HH", data, 42),
        )
        fields = f"{order}IIIIIIII"  # type, offset, vaddr, paddr, filesz, memsz, flags, align
    for i in range(phnum):
        header = struct.unpack_from(fields, data, phoff + i * phentsize)
        kind, offset, vaddr, align = (
            (header[0], header[2], header[3], header[7])
            if wide
            else (header[0], header[1], header[2], header[7])
        )
        if kind == _PT_LOAD and align > 1 and offset % align != vaddr % align:
            return False
    return True


@dataclass(frozen=True)
class Stripped:
    """One shared object written without its debug symbols: bytes before and after."""

    before: int
    after: int


def strip_to(src: Path, dest: Path) -> Stripped:
    """Write src without what `strip --strip-unneeded` removes to dest (a new file: src, which may be
    linked elsewhere, is never changed). A file strip cannot read, or whose stripped copy the loader
    would refuse, is copied as it is."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    before = src.stat().st_size
    tool = shutil.which("strip")
    if tool:
        cmd = [tool, "--strip-unneeded", "-o", str(dest), str(src)]
        done = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
        stripped = done.returncode == 0 and dest.is_file() and dest.stat().st_size <= before
        if stripped and loadable(dest):
            os.chmod(dest, src.stat().st_mode & 0o7777)
            return Stripped(before, dest.stat().st_size)
    dest.unlink(missing_ok=True)
    shutil.copy2(src, dest)
    return Stripped(before, before)


def strip_all(pairs: list[tuple[Path, Path]], workers: int = 2) -> list[Stripped]:
    """strip_to for every (src, dest), a few at a time."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="k8orize-strip") as pool:
        return list(pool.map(lambda pair: strip_to(*pair), pairs))
