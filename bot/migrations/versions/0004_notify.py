"""On-call alerts: subscriptions per conversation, alerts sent, silences, and watch cursors.

`k8or_notify_subscriptions` holds each conversation's subscription to a cluster and namespace, with
the conversation reference proactive messages continue and the delivery failures seen so far.
`k8or_notify_alerts` holds one row per subscription and incident (the message it edits, its state),
so a restarted replica or a new leader edits what was sent rather than sending it again.
`k8or_notify_silences` holds apps a conversation silenced until a time; `k8or_notify_cursors` the
resourceVersion each namespace's watch may resume from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the four tables."""
    _subscriptions()
    _alerts()
    _silences_and_cursors()


def _subscriptions() -> None:
    op.create_table(
        "k8or_notify_subscriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("conversation", sa.String(512), nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("cluster", sa.String(253), nullable=False),
        sa.Column("namespace", sa.String(63), nullable=False),
        sa.Column("events", sa.String(256), nullable=False),
        sa.Column("apps", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(512), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.UniqueConstraint("conversation", "cluster", "namespace", name="uq_k8or_notify_subscription"),
    )
    op.create_index(
        "ix_k8or_notify_subscriptions_conversation", "k8or_notify_subscriptions", ["conversation"]
    )


def _alerts() -> None:
    op.create_table(
        "k8or_notify_alerts",
        sa.Column("subscription", sa.String(32), primary_key=True),
        sa.Column("incident", sa.String(512), primary_key=True),
        sa.Column("activity_id", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def _silences_and_cursors() -> None:
    op.create_table(
        "k8or_notify_silences",
        sa.Column("conversation", sa.String(512), primary_key=True),
        sa.Column("app", sa.String(253), primary_key=True),
        sa.Column("until", TZ, nullable=False),
        sa.Column("silenced_by", sa.String(512), nullable=False),
    )
    op.create_table(
        "k8or_notify_cursors",
        sa.Column("watch", sa.String(512), primary_key=True),
        sa.Column("resource_version", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    """Drop the four tables."""
    for name in ("k8or_notify_cursors", "k8or_notify_silences", "k8or_notify_alerts"):
        op.drop_table(name)
    op.drop_index("ix_k8or_notify_subscriptions_conversation", "k8or_notify_subscriptions")
    op.drop_table("k8or_notify_subscriptions")
