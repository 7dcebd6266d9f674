"""The browser tests' Chromium (Debian's, driven by Playwright for Python) and the npm packages
loaded into it (.browser/node_modules, installed by scripts/browser-tools from this folder's lock).

One browser per test module (`browser`), or per test for tests that serve pages from their own
event loop (`chromium`). Without chromium (it could not be installed) the tests skip and say so;
without the npm packages they fail and say how to install them.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser as AsyncBrowser
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".browser" / "node_modules"
RENDERER = NODE_MODULES / "adaptivecards" / "dist" / "adaptivecards.min.js"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"


def chromium_path() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else "")
    if not found:
        pytest.skip("chromium is not installed and could not be installed (scripts/browser-tools, apt-get)")
    return found


def npm_file(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run scripts/browser-tools (make test runs it)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
async def chromium() -> AsyncIterator[AsyncBrowser]:
    """A browser for tests whose servers run in the test's own event loop (Playwright's async API)."""
    from playwright.async_api import async_playwright

    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()
