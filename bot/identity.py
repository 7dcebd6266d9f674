"""Who is talking: the channel identity of a person, as k8or keys everything by it.

A `Person` holds only what k8or trusts: `bot.trust` builds it from what the edge that received the
turn proved (a valid Bot Framework token, a Slack signature, the local terminal), never from fields a
client writes. Without proof a person is their channel key (`<channel>:<id>`) and nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

# How a person's identity was established (Person.proof); `bot.trust` documents each.
TEAMS_TOKEN = "teams-token"
SLACK_SIGNATURE = "slack-signature"
CONSOLE = "console"
CHANNEL_TOKEN = "channel-token"
UNVERIFIED = "unverified"

# Key namespaces that only one edge may produce. A channel id claimed through /api/messages that
# names one of them is renamed, so no client can mint a key of Teams, Slack, the terminal or
# Kubernetes itself (`system:`), whatever it writes into `channelId` and `from.id`.
OWNED_NAMESPACES = frozenset({"aad", "aad-group", "slack", "console", "system"})
OTHER_ROUTE_PREFIX = "bf-"
_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True)
class Person:
    """A person in one channel. `key` is stable across renames and is what the vault and RBAC use.

    `email` and `groups` are set only from trusted sources (Teams roster, Microsoft Graph, Slack
    `users.info` / `usergroups.list`); `groups` are namespaced keys (`aad-group:<id>`,
    `slack:<team>:<group id>`) so one channel's group can never be mistaken for another's.
    """

    key: str
    channel: str
    user_id: str
    name: str = ""
    email: str = ""
    aad_object_id: str = ""
    tenant_id: str = ""
    team_id: str = ""
    groups: frozenset[str] = field(default_factory=frozenset)
    proof: str = UNVERIFIED

    @property
    def identifiers(self) -> frozenset[str]:
        """What an RBAC `users:` entry may match: the channel key, the email only when a trusted
        source gave it, and at the terminal the bare login name. A chat `from.id` is never one on its
        own (it may look like anyone's email)."""
        ids = {self.key.lower()}
        if self.proof == CONSOLE:
            ids.add(self.user_id.lower())  # the terminal's login name (`k8or chat --user`)
        if self.email:
            ids.add(self.email.lower())
        return frozenset(ids)

    @classmethod
    def from_activity(cls, activity: Activity) -> Person:
        """The person as an unverified activity states it: `<channel>:<id>`, nothing else."""
        sender = activity.from_property
        user_id = (sender.id if sender else "") or "anonymous"
        channel = claimed_channel(activity.channel_id or "unknown")
        return cls(
            key=f"{channel}:{user_id}",
            channel=channel,
            user_id=user_id,
            name=(sender.name if sender else "") or "",
        )


def claimed_channel(channel: str) -> str:
    """A channel id as a client or a channel service states it, made safe as a key namespace: an
    owned namespace or an odd name gets the `bf-` prefix (`console` -> `bf-console`)."""
    name = channel.strip().lower()
    if _CHANNEL_NAME.fullmatch(name) and name not in OWNED_NAMESPACES:
        return name
    return OTHER_ROUTE_PREFIX + (re.sub(r"[^a-z0-9._-]", "_", name)[:64] or "unknown")


class IdentityResolver(Protocol):
    """Who sent this turn, from what the channel proves. The pipeline asks this once per turn."""

    async def person(self, context: TurnContext) -> Person: ...


class ActivityIdentity:
    """No proof consulted at all: every person is their unverified channel key. The safe fallback
    for a `Services` built by hand; the app uses `bot.trust.ChannelTrust`."""

    async def person(self, context: TurnContext) -> Person:
        return Person.from_activity(context.activity)
