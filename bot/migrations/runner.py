"""Alembic run on the app's own connection: upgrade, the recorded revision, the check against the models."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from bot.migrations import VERSION_TABLE, recorded_revision

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
# Replicas starting together on PostgreSQL migrate one after the other (a transaction-scoped lock).
ADVISORY_LOCK = 0x6B386F72  # "k8or"
LEGACY_TABLES = frozenset({"k8or_schema"})  # the old migrate()'s version table; no longer a model


def alembic_config(connection: Connection | None = None, schema: str = "") -> Config:
    """Alembic's configuration in code: the revisions beside this file; the connection to use."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


def upgrade_to_head(connection: Connection, schema: str = "") -> str:
    """Migrate the database behind `connection` (inside its transaction) to the newest revision."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    if _created_before_migrations(connection):
        log.warning("adopting a database created before migrations: creating missing tables, stamping 0001")
    command.upgrade(alembic_config(connection, schema), "head")
    return recorded_revision(connection, schema) or ""


def _created_before_migrations(connection: Connection) -> bool:
    """True for a database the old `Database.migrate()` built: k8or's tables, no Alembic version."""
    tables = set(inspect(connection).get_table_names())
    return VERSION_TABLE not in tables and bool(tables & {"bot_state", "k8or_schema"})


def is_model(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's `include_name`: compare every table except the legacy version table and the job
    queue's (procrastinate's schema, revision 0003, is not one of k8or's models)."""
    return not (type_ == "table" and (name in LEGACY_TABLES or (name or "").startswith("procrastinate_")))


def schema_differences(connection: Connection) -> list[Any]:
    """What differs between the database and the models (`bot.schema`): empty once fully migrated."""
    from bot.schema import metadata

    options = {"compare_type": True, "include_name": is_model}
    return compare_metadata(MigrationContext.configure(connection, opts=options), metadata)
