"""Alembic's environment for k8or: runs the revisions on the connection `bot.migrations` hands over.

There is no alembic.ini and no URL here: `upgrade_to_head` (start-up, `k8or db upgrade`) passes the
app's own connection, inside its transaction, in `config.attributes`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from bot.migrations.runner import is_model
from bot.schema import metadata


def run_migrations(connection: Connection, schema: str | None) -> None:
    """Configure Alembic on `connection` and run the pending revisions (no commit: the caller's)."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        include_name=is_model,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("k8or migrations run on the app's connection: use `k8or db upgrade`")
run_migrations(_connection, context.config.attributes.get("schema") or None)
