"""The one shape of an audit entry, built in one place for the pipeline, approvals and commands.

An entry is the `AuditSink.append` payload: who acted, what they said, where, what came of it, who
approved, and the turn's correlation id. Line and detail are scrubbed of secrets here as well as by
the log that stores them, so no sink ever sees a secret.
"""

from __future__ import annotations

from typing import TypedDict

from redaction import SCRUBBER


class AuditRecord(TypedDict):
    actor_key: str
    actor_name: str
    channel: str
    command: str
    line: str
    cluster: str
    namespace: str
    target: str
    outcome: str
    detail: str
    approver_key: str
    correlation_id: str
    activity_id: str


def audit_entry(
    *,
    actor_key: str,
    actor_name: str,
    channel: str,
    command: str,
    line: str,
    outcome: str,
    correlation_id: str,
    cluster: str | None = "",
    namespace: str | None = "",
    target: str = "",
    detail: str = "",
    approver_key: str = "",
    activity_id: str = "",
) -> AuditRecord:
    """One audit entry; missing cluster or namespace are recorded as empty. `activity_id` is the
    ledger key of the turn's activity (`bot.dedupe`): a retaken turn finds what its command did."""
    return AuditRecord(
        actor_key=actor_key,
        actor_name=actor_name,
        channel=channel,
        command=command,
        line=SCRUBBER.scrub(line),
        cluster=cluster or "",
        namespace=namespace or "",
        target=target,
        outcome=outcome,
        detail=SCRUBBER.scrub(detail),
        approver_key=approver_key,
        correlation_id=correlation_id,
        activity_id=activity_id,
    )
