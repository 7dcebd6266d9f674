"""Prove file-level removals: every module the trace imported imports again from the trimmed tree.

The modules come from the trace (the .py files and extension modules it opened in site-packages).
`reimport_probe.py` imports them all in one fresh interpreter that sees only the trimmed
site-packages, in the app's sandbox. A module that fails there is imported from the full install too:
one that fails there as well (a Django model outside a configured project, say) cannot be imported on
its own, which is not the trim's doing, and the report keeps the two lists apart.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .report_schema import ReimportJSON
from .sandbox import DATA_DIR, ENGINE_DIR, SandboxHost, View, base_python, wait_or_kill

PROBE = ENGINE_DIR / "reimport_probe.py"
LISTING = f"{DATA_DIR}/modules.json"  # where the module list appears inside the sandbox
TIMEOUT = 300.0
_EXTENSION = re.compile(r"^([A-Za-z_]\w*)(?:\.(?:cpython-[^.]+|abi3|pypy[^.]*))?\.so$")


def module_name(rel: str) -> str | None:
    """The dotted module a file of site-packages is (None for data, libraries and __main__)."""
    parts = rel.split("/")
    if "__pycache__" in parts:
        parts = [p for p in parts if p != "__pycache__"]
        parts[-1] = parts[-1].split(".", 1)[0] + ".py"
    last = parts[-1]
    if last.endswith(".py"):
        stem = last[:-3]
    elif (match := _EXTENSION.match(last)) and not last.startswith("lib"):
        stem = match.group(1)
    else:
        return None
    names = [*parts[:-1], stem] if stem != "__init__" else parts[:-1]
    if not names or stem == "__main__" or not all(n.isidentifier() for n in names):
        return None
    return ".".join(names)


def traced_modules(opened_in_site: Iterable[str]) -> list[str]:
    """Every module the trace imported from site-packages, sorted (parents before their children)."""
    return sorted({name for rel in opened_in_site if (name := module_name(rel))})


@dataclass(frozen=True)
class Reimport:
    """The verdict: how many traced modules imported again, and which failed where."""

    modules: int
    imported_again: int = 0
    failed_after_trim: dict[str, str] = field(default_factory=dict)
    failed_before_trim_too: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # the probe gave no verdict (it crashed, or ran out of time)

    @property
    def proved(self) -> bool:
        return self.error is None and not self.failed_after_trim

    def as_json(self) -> ReimportJSON:
        return ReimportJSON(
            modules=self.modules,
            imported_again=self.imported_again,
            failed_after_trim=dict(self.failed_after_trim),
            failed_before_trim_too=dict(self.failed_before_trim_too),
            error=self.error,
            how="every module the trace imported, imported again in one fresh interpreter that sees only "
            "the trimmed site-packages, in the app's sandbox; failures retried against the full install",
        )


@dataclass(frozen=True)
class _Outcome:
    imported: int
    failed: dict[str, str]
    error: str | None = None


def _run(host: SandboxHost | None, site: Path, modules: list[str]) -> _Outcome:
    listing = json.dumps(modules).encode()
    if host is None:
        with tempfile.NamedTemporaryFile(suffix=".json") as handle:
            handle.write(listing)
            handle.flush()
            cmd = [base_python(), "-I", "-S", str(PROBE), str(site), handle.name]
            try:
                done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=False)
            except subprocess.TimeoutExpired:
                return _Outcome(0, {}, f"no verdict within {TIMEOUT:.0f} s")
            return _verdict(done.stdout, done.returncode)
    view = View(readonly=(site,), files={LISTING: listing})
    launch = host.command([base_python(), "-I", "-S", str(PROBE), str(site.resolve()), LISTING], view)
    with tempfile.TemporaryFile() as out:
        proc = launch.start(subprocess.DEVNULL, out, subprocess.DEVNULL)
        code = wait_or_kill(proc, TIMEOUT)
        out.seek(0)
        return _verdict(out.read(), code)


def _verdict(stdout: bytes, code: int) -> _Outcome:
    try:
        data = json.loads(stdout.decode(errors="replace").strip().splitlines()[-1])
        return _Outcome(int(data["imported"]), dict(data["failed"]))
    except (json.JSONDecodeError, IndexError, KeyError, TypeError, ValueError):
        why = "ran out of time" if code == -9 else f"exited {code}"
        return _Outcome(0, {}, f"the import probe {why} without a verdict")


def prove(host: SandboxHost | None, trimmed: Path, full: Path, modules: list[str]) -> Reimport:
    """Import `modules` from the trimmed site-packages; those that fail, from the full one too."""
    if not modules:
        return Reimport(0)
    after = _run(host, trimmed, modules)
    if after.error or not after.failed:
        return Reimport(len(modules), after.imported, error=after.error)
    before = _run(host, full, sorted(after.failed))
    if before.error:
        return Reimport(len(modules), after.imported, dict(after.failed), error=before.error)
    too = {name: after.failed[name] for name in before.failed}
    regressed = {name: why for name, why in after.failed.items() if name not in before.failed}
    return Reimport(len(modules), after.imported, regressed, too)
