"""Every table k8or keeps, in one `MetaData`: what the migrations build and what they are checked against.

The framework's tables are declared here, beside each other, so the schema reads in one place and
mirrors `bot/migrations/versions/`. Two tables belong to libraries that may not import the framework
(the credential vault in `connectors/`, the audit trail in `policy/`); they declare their table in
their own module and it is copied in here, so this `MetaData` still holds every table.

Changing a table means changing it here (or in its library) AND adding an Alembic revision:
`tests/integration/bot/test_migrations.py` fails while the two disagree.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint

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

# On-call alerts (bot.alert_store): which conversations watch which namespace, what they were told
# (one row per subscription and incident, so a restart or another replica edits instead of resending),
# silenced apps, and where each namespace's watches may resume.
notify_subscriptions = Table(
    "k8or_notify_subscriptions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("conversation", String(512), nullable=False, index=True),
    Column("reference", Text, nullable=False),
    Column("cluster", String(253), nullable=False),
    Column("namespace", String(63), nullable=False),
    Column("events", String(256), nullable=False),
    Column("apps", Text, nullable=False, default=""),
    Column("created_by", String(512), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    UniqueConstraint("conversation", "cluster", "namespace", name="uq_k8or_notify_subscription"),
)
notify_alerts = Table(
    "k8or_notify_alerts",
    metadata,
    Column("subscription", String(32), primary_key=True),
    Column("incident", String(512), primary_key=True),
    Column("activity_id", String(512), nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
notify_silences = Table(
    "k8or_notify_silences",
    metadata,
    Column("conversation", String(512), primary_key=True),
    Column("app", String(253), primary_key=True),
    Column("until", DateTime(timezone=True), nullable=False),
    Column("silenced_by", String(512), nullable=False),
)
notify_cursors = Table(
    "k8or_notify_cursors",
    metadata,
    Column("watch", String(512), primary_key=True),
    Column("resource_version", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Integrations (actions.integration_store): what each app's deploys and rollbacks tell the tools around
# it, opted into per app (`integrate`), or per namespace (app "": a freeze calendar), with the tool's
# settings as JSON; and the Toggl entries rollbacks started, until `resolve` stops them.
integrations = Table(
    "k8or_integrations",
    metadata,
    Column("cluster", String(253), primary_key=True),
    Column("namespace", String(63), primary_key=True),
    Column("app", String(253), primary_key=True),
    Column("tool", String(16), primary_key=True),
    Column("settings", Text, nullable=False, default="{}"),
    Column("enabled_by", String(512), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
incident_timers = Table(
    "k8or_incident_timers",
    metadata,
    Column("cluster", String(253), primary_key=True),
    Column("namespace", String(63), primary_key=True),
    Column("app", String(253), primary_key=True),
    Column("person", String(512), primary_key=True),
    Column("workspace_id", String(32), nullable=False),
    Column("entry_id", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
)

credentials = CREDENTIALS.to_metadata(metadata)
cluster_audit = CLUSTER_AUDIT.to_metadata(metadata)
