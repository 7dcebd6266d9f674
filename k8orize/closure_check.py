"""The closure check: does the trimmed site-packages satisfy its own requirements? (`pip check`)

pip runs in the app's sandbox, from the engine's own pip folder (bound alone, so pip sees no other
distribution of the engine), with only the trimmed site-packages on its path: the names it reads
there are the app's, and nothing of the app's runs on this host.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .install import find_pip
from .report_schema import ClosureCheckJSON
from .sandbox import SandboxHost, View, base_python, wait_or_kill

TIMEOUT = 120.0


@dataclass(frozen=True)
class ClosureCheck:
    """pip check's verdict on the trimmed tree: its problem lines, or why it could not run."""

    ran: bool
    passed: bool
    problems: tuple[str, ...] = ()
    why_not: str | None = None

    def as_json(self) -> ClosureCheckJSON:
        return ClosureCheckJSON(
            tool="pip check (the trimmed site-packages alone on the path, in the sandbox)",
            ran=self.ran,
            passed=self.passed,
            problems=list(self.problems),
            why_not=self.why_not,
        )


def _command(pip: Path) -> list[str]:
    return [base_python(), "-S", str(pip), "check", "--isolated", "--disable-pip-version-check", "--no-input"]


def pip_check(host: SandboxHost | None, site: Path) -> ClosureCheck:
    """Run `pip check` against site alone."""
    pip = find_pip()
    if pip is None:
        return ClosureCheck(False, False, why_not="pip is not installed beside the engine")
    env = {"PYTHONPATH": str(site.resolve())}
    with tempfile.TemporaryFile() as out:
        if host is None:
            proc = subprocess.Popen(_command(pip), stdout=out, stderr=subprocess.STDOUT, env=env)
        else:
            view = View(readonly=(site, pip), env=env)
            proc = host.command(_command(pip), view).start(subprocess.DEVNULL, out, subprocess.STDOUT)
        code = wait_or_kill(proc, TIMEOUT)
        out.seek(0)
        lines = [line for line in out.read().decode(errors="replace").splitlines() if line.strip()]
    if code == 0:
        return ClosureCheck(True, True)
    if code == 1 and lines:
        return ClosureCheck(True, False, tuple(lines[:50]))
    return ClosureCheck(False, False, tuple(lines[-5:]), f"pip check exited {code}")
