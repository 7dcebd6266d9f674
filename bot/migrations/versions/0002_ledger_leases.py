"""The delivery ledger's leases and the audit trail's activity id.

`processed_activities` gains who claimed the activity (`owner`), until when the claim holds
(`lease_until`) and when its turn finished (`done_at`). Rows written before this
revision were marked when their turn started; they count as done (`done_at = seen_at`), which is
what the old ledger assumed of them.

`k8or_cluster_audit` gains `activity_id`, the delivery key of the turn that wrote the entry, indexed:
a redelivered turn looks up whether its command already acted (`bot.pipeline`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LEDGER = "processed_activities"
AUDIT = "k8or_cluster_audit"


def upgrade() -> None:
    """Add the lease columns (old rows count as done) and the audit entry's activity id."""
    with op.batch_alter_table(LEDGER) as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    ledger = sa.table(LEDGER, sa.column("seen_at"), sa.column("done_at"))
    op.execute(ledger.update().where(ledger.c.done_at.is_(None)).values(done_at=ledger.c.seen_at))
    with op.batch_alter_table(AUDIT) as batch:
        batch.add_column(sa.Column("activity_id", sa.String(512), nullable=False, server_default=""))
        batch.create_index(f"ix_{AUDIT}_activity_id", ["activity_id"])


def downgrade() -> None:
    """Drop the columns this revision added."""
    with op.batch_alter_table(AUDIT) as batch:
        batch.drop_index(f"ix_{AUDIT}_activity_id")
        batch.drop_column("activity_id")
    with op.batch_alter_table(LEDGER) as batch:
        batch.drop_column("done_at")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
