"""Who is talking: the channel identity of a person, as k8or keys everything by it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from botbuilder.core import TurnContext
from botbuilder.schema import Activity


@dataclass(frozen=True)
class Person:
    """A person in one channel. `key` is stable across renames and is what the vault and RBAC use."""

    key: str
    channel: str
    user_id: str
    name: str = ""
    email: str = ""
    aad_object_id: str = ""
    tenant_id: str = ""
    team_id: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def identifiers(self) -> frozenset[str]:
        """Every identifier an RBAC rule may name for this person."""
        ids = {self.key, self.user_id, f"{self.channel}:{self.user_id}"}
        ids.update(x for x in (self.email.lower(), self.aad_object_id) if x)
        return frozenset(ids)

    @classmethod
    def from_activity(cls, activity: Activity) -> Person:
        """The AAD object id in Teams, team plus user in Slack, the channel's user id elsewhere."""
        sender = activity.from_property
        channel = activity.channel_id or "unknown"
        user_id = (sender.id if sender else "") or "anonymous"
        aad = (getattr(sender, "aad_object_id", None) or "") if sender else ""
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        tenant = (activity.conversation.tenant_id if activity.conversation else None) or ""
        team = ""
        if channel == "msteams":
            tenant = tenant or (data.get("tenant") or {}).get("id", "")
            key = f"aad:{aad}" if aad else f"msteams:{user_id}"
        elif channel == "slack":
            team = data.get("team_id") or (data.get("SlackMessage") or {}).get("team_id", "") or ""
            key = f"slack:{team}:{user_id}"
        else:
            key = f"{channel}:{user_id}"
        groups = frozenset(data.get("k8or_groups") or ())
        email = data.get("k8or_email") or ""
        return cls(
            key=key,
            channel=channel,
            user_id=user_id,
            name=(sender.name if sender else "") or "",
            email=email,
            aad_object_id=aad,
            tenant_id=tenant,
            team_id=team,
            groups=groups,
        )


class IdentityResolver(Protocol):
    """Who sent this turn, from what the channel proves. The pipeline asks this once per turn."""

    async def person(self, context: TurnContext) -> Person: ...


class ActivityIdentity:
    """The person as the activity states it (replaced by the channel trust table)."""

    async def person(self, context: TurnContext) -> Person:
        return Person.from_activity(context.activity)
