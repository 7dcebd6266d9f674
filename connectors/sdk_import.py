"""Service SDKs load at their first use, in a worker thread and before the call's timeout starts.

boto3, PyGithub, jira and the Google client take a few hundred milliseconds to import: k8or does not
pay that at start (most people never use most connectors), and the first call does not count it
against the service's answer time nor block the event loop with it.
"""

from __future__ import annotations

import asyncio
import importlib
import sys


async def sdk_loaded(*modules: str) -> None:
    """Import `modules` (once per process) off the event loop."""
    missing = [name for name in modules if name not in sys.modules]
    if missing:
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in missing])
