"""The initial schema: every table k8or kept before Alembic, as the old `Database.migrate()` built it.

On a database created before Alembic, only the tables it lacks are created (see `bot.migrations`).

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when(moment: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(moment, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int, *, primary_key: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length), nullable=False, primary_key=primary_key)


def _tables() -> dict[str, tuple[sa.Column[Any], ...]]:
    """Fresh column objects each time: a column belongs to the one table it was created in."""
    return {
        "bot_state": (
            _text("key", 512, primary_key=True), _text("etag", 64),
            sa.Column("document", sa.Text, nullable=False), _when("updated_at"),
        ),
        "processed_activities": (_text("key", 512, primary_key=True), _when("seen_at")),
        "direct_conversations": (
            _text("person_key", 512, primary_key=True),
            sa.Column("reference", sa.Text, nullable=False), _when("updated_at"),
        ),
        "k8or_signin_links": (
            _text("key", 64, primary_key=True), _text("person", 512), _text("service", 64),
            _when("expires_at"), _when("used_at", nullable=True),
            sa.Column("progress", sa.Text, nullable=False),
        ),
        "k8or_signin_states": (
            _text("key", 64, primary_key=True), _text("link", 64), _text("method", 64), _when("expires_at"),
        ),
        "k8or_signin_pending": (
            _text("id", 64, primary_key=True), _text("person", 64), _text("service", 64), _text("link", 64),
            sa.Column("ciphertext", sa.Text, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False), _when("expires_at"),
        ),
        "k8or_credentials": (
            _text("person", 64, primary_key=True), _text("service", 64, primary_key=True),
            sa.Column("ciphertext", sa.Text, nullable=False), _when("updated_at"),
        ),
        "k8or_cluster_audit": (
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True), _when("at"),
            _text("actor_id", 255), _text("actor_name", 255), _text("channel", 64), _text("command", 255),
            _text("cluster", 255), _text("namespace", 63), _text("app", 253), _text("outcome", 32),
            sa.Column("detail", sa.Text, nullable=False), _text("correlation_id", 64),
            sa.Column("line_text", sa.Text, nullable=False), _text("approver_id", 255),
        ),
    }  # fmt: skip


INDEXES = {
    "processed_activities": ("seen_at",),
    "k8or_signin_pending": ("person",),
    "k8or_cluster_audit": ("at", "correlation_id"),
}


def upgrade() -> None:
    """Create each table (and its indexes) that the database does not have yet."""
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in _tables().items():
        if name in present:
            continue
        op.create_table(name, *columns)
        for column in INDEXES.get(name, ()):
            op.create_index(f"ix_{name}_{column}", name, [column])


def downgrade() -> None:
    """Drop every table of the initial schema."""
    for name in reversed(_tables()):
        op.drop_table(name)
