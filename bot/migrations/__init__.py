"""k8or's one migration path: Alembic revisions for every table in `bot.schema.metadata`.

`Database.upgrade` runs at start-up (in the app's lifetime, before anything uses the database) and
from `k8or db upgrade`. A database already at `HEAD` costs one query and Alembic is not even imported
(its import, with every SQL dialect it supports, costs a noticeable part of start-up); otherwise
`runner.upgrade_to_head` migrates it. The Alembic configuration is built in code (`runner.py`), so
the revisions ship inside the package and no alembic.ini is needed.

A database created before Alembic (k8or's tables present, no `alembic_version`) is adopted: revision
0001 creates only the tables it lacks, and Alembic records 0001 as applied, as `alembic stamp` would;
later revisions then run as on any database. The old `k8or_schema` version table is left in place
and no longer read.

Adding a revision: change `bot/schema.py`, then `python -m bot.migrations revision "what changed"`
writes a new file under `versions/` from the difference (review it) and says to move `HEAD`;
`tests/integration/bot/test_migrations.py` checks that `HEAD` is the newest revision and that the
migrated schema matches the models again.
"""

from __future__ import annotations

from sqlalchemy import Connection, column, inspect, select, table

# The newest revision under versions/ (tests/integration/bot/test_migrations.py checks that it is).
HEAD = "0005"
VERSION_TABLE = "alembic_version"


def recorded_revision(connection: Connection, schema: str = "") -> str | None:
    """The revision Alembic recorded in the database, or None before any migration; no Alembic needed."""
    if not inspect(connection).has_table(VERSION_TABLE, schema=schema or None):
        return None
    versions = table(VERSION_TABLE, column("version_num"), schema=schema or None)
    return connection.execute(select(versions.c.version_num)).scalar()
