"""Integrations: what each app's deploys and rollbacks tell Jira, GitHub, Toggl, Miro and Calendar.

`k8or_integrations` holds one row per cluster, namespace, app and tool (app "" for a namespace's
freeze calendar), with the tool's settings as JSON and who turned it on. `k8or_incident_timers`
holds the Toggl entry a rollback started for a person, until `resolve` stops it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the two tables."""
    op.create_table(
        "k8or_integrations",
        sa.Column("cluster", sa.String(253), primary_key=True),
        sa.Column("namespace", sa.String(63), primary_key=True),
        sa.Column("app", sa.String(253), primary_key=True),
        sa.Column("tool", sa.String(16), primary_key=True),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("enabled_by", sa.String(512), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "k8or_incident_timers",
        sa.Column("cluster", sa.String(253), primary_key=True),
        sa.Column("namespace", sa.String(63), primary_key=True),
        sa.Column("app", sa.String(253), primary_key=True),
        sa.Column("person", sa.String(512), primary_key=True),
        sa.Column("workspace_id", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("started_at", TZ, nullable=False),
    )


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_table("k8or_incident_timers")
    op.drop_table("k8or_integrations")
