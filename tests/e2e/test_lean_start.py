"""A lean start: `k8or serve` answers its first request without loading any service SDK.

The SDKs behind the connectors, the cluster library, the k8orization engine and the command handlers
load when first used;
a start that imported them would be seconds slower and tens of MiB heavier (bench/turns measures it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Loaded on first use only: the services' SDKs, the Kubernetes client, the engine's pipeline and
# judges, and botbuilder-dialogs (the argument prompts and their text recognizers).
DEFERRED = (
    "boto3",
    "botocore",
    "googleapiclient",
    "google.auth",
    "google_auth_httplib2",
    "jira",
    "github",
    "kubernetes",
    "kubernetes_validate",
    "matplotlib",
    "pyseccomp",
    "alembic",
    "k8orize.pipeline",
    "botbuilder.dialogs",
    # With no Slack token and SQLite, neither Slack's SDK nor PostgreSQL's SQL dialect loads.
    "slack_sdk",
    "sqlalchemy.dialects.postgresql",
    # SQLite runs on the synchronous engine: no asyncio extension, and so no ORM.
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    # `serve` parses its command line without the engines' own subcommands.
    "k8orize.cli",
    "cluster.cli",
    "bot.migrations.cli",
    # Settings are our own typed dataclasses (typed_env): pydantic is not needed to start.
    "pydantic",
    "pydantic_settings",
    # The terminal's line editor and Markdown renderer load with `k8or chat` only (bot/terminal.py).
    "prompt_toolkit",
    "rich",
    "bot.terminal",
    # `k8or demo`'s fake cluster.
    "testing",
    # The command families' handlers, and the libraries only they use, load with their first command
    # (bot.commands.registry: `CommandSet.declare`).
    "dialogs.cluster_handlers",
    "dialogs.k8orize_handlers",
    "dialogs.notify_handlers",
    "dialogs.oncall_handlers",
    "dialogs.release_handlers",
    "dialogs.integrations_handlers",
    "dialogs.cards",
    "actions.k8orize",
    "actions.integrations",
    "k8orize.engine",
    "k8orize.request",
    "cluster.deploy",
    "cluster.rollback",
    "cluster.migrate",
    "cluster.preflight",
)

# What `k8or serve` does up to its first answer: parse the command line (every engine subcommand
# registers), build the app, run its start-up, listen, answer /healthz.
SERVE_AND_ASK = """
import asyncio, json, sys
import aiohttp
from aiohttp import web
from bot.settings import load_settings
from k8or.cli import build_parser
from k8or.app import create_app

build_parser(["serve"]).parse_args(["serve"])

async def main():
    runner = web.AppRunner(create_app(load_settings()))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
            status = response.status
    await runner.cleanup()
    return status

status = asyncio.run(main())
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def _serve_and_ask(data_dir: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}
    env["K8OR_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_ASK], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return answer


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The second start on one data directory: the database is already migrated, as on every restart."""
    data_dir = tmp_path_factory.mktemp("lean-start")
    _serve_and_ask(data_dir)
    return _serve_and_ask(data_dir)


def test_first_answer_comes_without_any_service_sdk(restarted: dict[str, object]) -> None:
    modules = restarted["modules"]
    assert isinstance(modules, list)
    assert restarted["status"] == 200
    assert [name for name in DEFERRED if _loaded(modules, name)] == []


def test_the_deferred_modules_are_installed_and_importable() -> None:
    """The deferred imports name real modules: the check above would pass vacuously otherwise."""
    done = subprocess.run(
        [sys.executable, "-c", "import " + ", ".join(n for n in DEFERRED if n not in ("pyseccomp",))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
