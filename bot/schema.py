"""Every table k8or keeps, in one `MetaData`: what the migrations build and what they are checked against.

The framework's tables are declared here, beside each other, so the schema reads in one place and
mirrors `bot/migrations/versions/`. Two tables belong to libraries that may not import the framework
(the credential vault in `connectors/`, the audit trail in `policy/`); they declare their table in
their own module and it is copied in here, so this `MetaData` still holds every table.

Changing a table means changing it here (or in its library) AND adding an Alembic revision:
`tests/integration/bot/test_migrations.py` fails while the two disagree.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

from connectors.vault import CREDENTIALS
from policy.audit import CLUSTER_AUDIT

metadata = MetaData()

# Conversation and user state (bot.storage): jsonpickle documents under optimistic eTags.
state_items = Table(
    "bot_state",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("etag", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The delivery ledger (bot.dedupe): each activity claimed by one replica (`owner`) until
# `lease_until`, then done (`done_at`); rows claimed more than a day ago are pruned.
processed_activities = Table(
    "processed_activities",
    metadata,
    Column("key", String(512), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
    Column("owner", String(64), nullable=False, server_default=""),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("done_at", DateTime(timezone=True), nullable=True),  # pruning goes by seen_at's index
)

# How to reach each person privately (bot.direct).
direct_conversations = Table(
    "direct_conversations",
    metadata,
    Column("person_key", String(512), primary_key=True),
    Column("reference", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One-time sign-in links and their OAuth states (bot.signin.links); digests only, never tokens.
signin_links = Table(
    "k8or_signin_links",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("person", String(512), nullable=False),
    Column("service", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("progress", Text, nullable=False, default="{}"),
)
signin_states = Table(
    "k8or_signin_states",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("link", String(64), nullable=False),
    Column("method", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Verified sign-ins waiting for their owner's code (bot.signin.pending); sealed ciphertext only.
signin_pending = Table(
    "k8or_signin_pending",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("person", String(64), nullable=False, index=True),
    Column("service", String(64), nullable=False),
    Column("link", String(64), nullable=False),
    Column("ciphertext", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

credentials = CREDENTIALS.to_metadata(metadata)
cluster_audit = CLUSTER_AUDIT.to_metadata(metadata)
