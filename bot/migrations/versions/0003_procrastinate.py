"""Durable background jobs: procrastinate's schema (tables, types, functions), PostgreSQL only.

Applied from the SQL procrastinate ships (`SchemaManager.get_schema()`), in the connection's
search_path, so `K8OR_DATABASE_SCHEMA` holds it when set. SQLite runs jobs in-process: nothing here.
The tables are not k8or's models (`bot.schema`); the schema check leaves `procrastinate_*` out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("events", "periodic_defers", "jobs", "workers")
TYPES = ("job_status", "job_event_type", "job_to_defer_v1")


def _execute_script(sql: str) -> None:
    """Run a multi-statement script (functions with $$ bodies) through asyncpg's simple protocol."""
    from sqlalchemy.util import await_only

    driver = op.get_bind().connection.driver_connection
    assert driver is not None  # the asyncpg connection behind SQLAlchemy's adapter
    await_only(driver.execute(sql))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    _execute_script(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    tables = ", ".join(f"procrastinate_{name}" for name in TABLES)
    types = ", ".join(f"procrastinate_{name}" for name in TYPES)
    _execute_script(f"DROP TABLE IF EXISTS {tables} CASCADE; DROP TYPE IF EXISTS {types} CASCADE;")
