"""`k8or db upgrade`: bring the database named by the settings to the newest schema revision.

The service does the same at every start; this command lets an operator migrate ahead of a rollout
(one job before the replicas start) or check that the database is reachable and current. Running it
again changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.db import upgrade_database
from bot.settings import Settings, SettingsError, load_settings
from connectors.private_files import private_directory


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `db` subcommand to the `k8or` command."""
    parser = subparsers.add_parser("db", help="database schema (upgrade)")
    operations = parser.add_subparsers(dest="operation", required=True)
    upgrade = operations.add_parser("upgrade", help="migrate the database to the newest revision")
    upgrade.set_defaults(func=run_upgrade)


def run_upgrade(_args: argparse.Namespace, settings: Settings | None = None) -> int:
    """Migrate; print the revision the database is at. Exit 1 when the database cannot be migrated."""
    settings = settings or load_settings()
    if not settings.database_url:  # SQLite under the data directory: private, as `serve` keeps it
        try:
            private_directory(settings.data_dir)
        except OSError as exc:
            raise SettingsError(f"K8OR_DATA_DIR: cannot use {settings.data_dir}: {exc.strerror}") from None
    try:
        revision = asyncio.run(upgrade_database(settings.effective_database_url, settings.database_schema))
    except Exception as exc:  # noqa: BLE001 - the operator gets one line, not a driver traceback
        print(f"k8or db: cannot upgrade the database: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"k8or db: schema at revision {revision}")
    return 0
