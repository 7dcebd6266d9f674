"""The README and the docs keep their promises: the quick start CI runs, every setting, every
command, a front page that stays small, links that lead somewhere, and a site that builds.

`.venv/bin/python -m tests.test_readme` rewrites the command table in docs/user/commands.md from the
registry; `.venv/bin/k8or settings` prints the settings table for docs/operator/settings.md.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.settings import settings_table
from k8or.app import default_registry
from policy.roles import ROLES
from tests.support.tools import ROOT

README_PATH = ROOT / "README.md"
README = README_PATH.read_text()
DOCS = ROOT / "docs"
SETTINGS_PAGE = DOCS / "operator" / "settings.md"
COMMANDS_PAGE = DOCS / "user" / "commands.md"
TABLE_START, TABLE_END = "<!-- command-table:start -->", "<!-- command-table:end -->"
README_LIMIT = 15_000
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def command_table() -> str:
    """The command list as the registry declares it: usage, summary, lowest role, sign-ins."""
    rows = ["| Command | What it does | Role | Signs in to |", "|---|---|---|---|"]
    for spec in sorted(default_registry(), key=lambda s: s.name):
        role = min(spec.roles, key=ROLES.index) if spec.roles else "anyone"
        warning = " ⚠️" if spec.destructive else ""
        rows.append(f"| `{spec.usage}` | {spec.summary}{warning} | {role} | {', '.join(spec.connectors)} |")
    return "\n".join(rows)


def _between_markers(text: str) -> str:
    return text[text.index(TABLE_START) + len(TABLE_START) : text.index(TABLE_END)].strip()


def write_command_table(page: Path = COMMANDS_PAGE) -> None:
    """Replace the table between the markers, leaving the rest of the page as it is."""
    text = page.read_text()
    head, tail = text.split(TABLE_START)[0], text.split(TABLE_END)[1]
    page.write_text(f"{head}{TABLE_START}\n{command_table()}\n{TABLE_END}{tail}")


def test_quick_start_is_two_commands_and_ci_runs_the_test_one():
    fence = README.index("```sh", README.index("## Quick start")) + len("```sh")
    block = README[fence : README.index("```", fence)]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make serve", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_in_the_table():
    assert settings_table() in SETTINGS_PAGE.read_text(), (
        "regenerate the table in docs/operator/settings.md with `.venv/bin/k8or settings`"
    )


def test_every_command_is_listed():
    page = COMMANDS_PAGE.read_text()
    for spec in default_registry():
        assert f"`{spec.usage}`" in page, spec.name


def test_command_table_is_what_the_registry_declares():
    assert _between_markers(COMMANDS_PAGE.read_text()) == command_table(), (
        "regenerate the table with `.venv/bin/python -m tests.test_readme`"
    )


def test_readme_is_a_front_page():
    size = len(README.encode())
    assert size < README_LIMIT, f"README.md is {size} bytes; move detail into docs/ (limit {README_LIMIT})"


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _slug(heading: str) -> str:
    """The anchor mkdocs (Python-Markdown's toc) and GitHub give a heading."""
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    body = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*$", body, flags=re.M)}


def _broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("/"):
            continue  # absolute URLs are not ours to check
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.is_file():
            broken.append(f"{target} (no such file)")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target} (no heading #{anchor})")
    return broken


@pytest.mark.parametrize("page", [README_PATH, *_pages()], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path):
    assert _broken_links(page) == []


def _nav_pages(entries: list) -> set[str]:
    found: set[str] = set()
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        found |= _nav_pages(value) if isinstance(value, list) else {value}
    return found


def test_the_site_navigation_lists_every_page():
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    on_disk = {str(p.relative_to(DOCS)) for p in _pages()}
    assert _nav_pages(nav) == on_disk


def test_the_site_builds_strictly(tmp_path: Path):
    mkdocs = ROOT / ".tools" / "bin" / "mkdocs"
    if not mkdocs.exists() and shutil.which("mkdocs") is None:
        pytest.skip("mkdocs is not installed: `make docs` installs it into .tools")
    command = [str(mkdocs) if mkdocs.exists() else "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "operator" / "settings" / "index.html").is_file()


if __name__ == "__main__":
    write_command_table()
