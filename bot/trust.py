"""The per-channel trust table: who sent a turn, from what the edge that received it proved.

How the turn arrived                      key                  email                 groups
----------------------------------------  -------------------  --------------------  ------------------------
msteams, valid Bot Framework channel      aad:<aadObjectId>    Teams roster          Microsoft Graph, only
  token (tenant trusted too)                                   (TeamsInfo)           with K8OR_GRAPH_*:
                                                                                     aad-group:<object id>
Slack edge, valid Slack signature         slack:<team>:<user>  Slack users.info      slack:<team>:<group id>
                                                                                     (never the handle)
k8or chat, the terminal                   console:<login>      -                     -
other channel, valid Bot Framework token  <channel>:<from.id>  -                     -
no proof: emulator mode (no MicrosoftApp  <channel>:<from.id>  -                     -
  Id), Emulator-issued or skill tokens

Emails and groups are never read from an activity or its `channelData`. Without proof not even
`channelId` is believed: a claimed channel that names a namespace one edge owns (`aad`, `aad-group`,
`slack`, `console`, `system`) becomes `bf-<channel>` (`bot.identity.claimed_channel`), so no client
can mint a Teams, Slack, terminal or Kubernetes key. An edge that verified the sender itself (the
Slack edge, a test harness) says so with a `ChannelProof` in `turn_state`, which clients cannot write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, ClaimsIdentity, SkillValidation

from bot import messages
from bot.console import ConsoleAdapter
from bot.graph import GraphDirectory
from bot.identity import (
    CHANNEL_TOKEN,
    CONSOLE,
    SLACK_SIGNATURE,
    TEAMS_TOKEN,
    UNVERIFIED,
    Person,
    claimed_channel,
)
from bot.roster import TeamsRoster
from bot.settings import Settings

PROOF = "k8or.channel_proof"  # turn_state key: set only by server-side code that verified the sender
AAD_GROUP = "aad-group"


@dataclass(frozen=True)
class ChannelProof:
    """What the edge that received a turn verified about its sender."""

    kind: str  # bot.identity: TEAMS_TOKEN, SLACK_SIGNATURE, CONSOLE or CHANNEL_TOKEN
    channel: str
    user_id: str
    aad_object_id: str = ""
    tenant_id: str = ""
    team_id: str = ""


def channel_issuers(settings: Settings) -> frozenset[str]:
    """Issuers of channel tokens k8or believes; none in emulator mode, where no token is checked."""
    if settings.emulator_mode:
        return frozenset()
    return frozenset({settings.token_issuer or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER})


def proof_for(context: TurnContext, issuers: frozenset[str]) -> ChannelProof | None:
    """The proof behind this turn, or None when nothing about its sender is proven."""
    proof = context.turn_state.get(PROOF)
    if isinstance(proof, ChannelProof):
        return proof
    activity = context.activity
    sender_id = (activity.from_property.id if activity.from_property else "") or ""
    if isinstance(context.adapter, ConsoleAdapter) and sender_id:
        return ChannelProof(CONSOLE, "console", sender_id)
    if sender_id and signed_by_channel(context.turn_state.get(BotAdapter.BOT_IDENTITY_KEY), issuers):
        return _bot_framework_proof(activity, sender_id)
    return None


def signed_by_channel(claims: Any, issuers: frozenset[str]) -> bool:
    """A token the Bot Framework channel service signed for this bot: not anonymous (emulator mode),
    not the Emulator's own issuer, not another bot calling as a skill."""
    if not isinstance(claims, ClaimsIdentity) or not claims.is_authenticated:
        return False
    if claims.authentication_type == AuthenticationConstants.ANONYMOUS_AUTH_TYPE:
        return False
    if SkillValidation.is_skill_claim(claims.claims):
        return False
    return claims.get_claim_value(AuthenticationConstants.ISSUER_CLAIM) in issuers


def _bot_framework_proof(activity: Activity, sender_id: str) -> ChannelProof:
    """With a valid channel token the channel service wrote the activity, so its channel, sender
    and (in Teams) object id and tenant are the service's word, not the client's."""
    channel = activity.channel_id or ""
    aad = getattr(activity.from_property, "aad_object_id", None) or ""
    if channel == "msteams" and aad:
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        tenant = (activity.conversation.tenant_id if activity.conversation else None) or ""
        tenant = tenant or str((data.get("tenant") or {}).get("id", "") or "")
        return ChannelProof(TEAMS_TOKEN, "msteams", sender_id, aad_object_id=aad, tenant_id=tenant)
    return ChannelProof(CHANNEL_TOKEN, claimed_channel(channel or "unknown"), sender_id)


class ChannelTrust:
    """The identity resolver of the trust table above; the app's default on every channel."""

    def __init__(
        self,
        settings: Settings,
        roster: TeamsRoster | None = None,
        graph: GraphDirectory | None = None,
    ):
        self._issuers = channel_issuers(settings)
        self._graph_tenant = settings.graph.tenant_id.lower()
        self._email_tenants = settings.email_tenants
        self.roster = roster or TeamsRoster()
        self.graph = graph
        self.slack: Any = None  # bot.slack.directory.SlackDirectory, put here by the Slack extension

    async def person(self, context: TurnContext) -> Person:
        proof = proof_for(context, self._issuers)
        sender = context.activity.from_property
        name = (sender.name if sender else "") or ""
        if proof is None:
            return Person.from_activity(context.activity)
        if proof.kind == TEAMS_TOKEN:
            return await self._teams(context, proof, name)
        if proof.kind == SLACK_SIGNATURE:
            return await self._slack(proof, name)
        key = f"{proof.channel}:{proof.user_id}"
        return Person(key=key, channel=proof.channel, user_id=proof.user_id, name=name, proof=proof.kind)

    async def close(self) -> None:
        if self.graph is not None:
            await self.graph.close()

    async def _teams(self, context: TurnContext, proof: ChannelProof, name: str) -> Person:
        oid, tenant = proof.aad_object_id, proof.tenant_id
        email = ""
        if tenant.lower() in self._email_tenants:  # another tenant's directory vouches for nothing here
            email = await self.roster.email(context, tenant, oid)
        groups: frozenset[str] = frozenset()
        if self.graph is not None and tenant.lower() == self._graph_tenant:
            groups = frozenset(f"{AAD_GROUP}:{g}" for g in await self.graph.groups(oid))
        return Person(
            key=f"aad:{oid}",
            channel="msteams",
            user_id=proof.user_id,
            name=name,
            email=email,
            aad_object_id=oid,
            tenant_id=tenant,
            groups=groups,
            proof=TEAMS_TOKEN,
        )

    async def _slack(self, proof: ChannelProof, name: str) -> Person:
        team, user = proof.team_id, proof.user_id
        email, group_ids = "", []
        if self.slack is not None:
            email = await self.slack.email(user)
            group_ids = await self.slack.groups(user)
        return Person(
            key=f"slack:{team}:{user}",
            channel="slack",
            user_id=user,
            name=name,
            email=email,
            team_id=team,
            groups=frozenset(f"slack:{team}:{g}" for g in group_ids),
            proof=SLACK_SIGNATURE,
        )


_KEY_SOURCE = {
    TEAMS_TOKEN: messages.TRUST_TEAMS_TOKEN,
    SLACK_SIGNATURE: messages.TRUST_SLACK_SIGNATURE,
    CONSOLE: messages.TRUST_CONSOLE,
    CHANNEL_TOKEN: messages.TRUST_CHANNEL_TOKEN,
    UNVERIFIED: messages.TRUST_UNVERIFIED,
}
_EMAIL_SOURCE = {TEAMS_TOKEN: messages.TRUST_TEAMS_ROSTER, SLACK_SIGNATURE: messages.TRUST_SLACK_EMAIL}
_GROUP_SOURCE = {TEAMS_TOKEN: messages.TRUST_GRAPH, SLACK_SIGNATURE: messages.TRUST_SLACK_GROUPS}


def provenance(person: Person) -> list[tuple[str, str]]:
    """Each key k8or trusts for this person, with where it came from (for `whoami`)."""
    found = [(f"`{person.key}`", _KEY_SOURCE.get(person.proof, messages.TRUST_UNVERIFIED))]
    if person.tenant_id:
        found.append((f"tenant `{person.tenant_id}`", _KEY_SOURCE[TEAMS_TOKEN]))
    if person.email:
        found.append((f"email `{person.email}`", _EMAIL_SOURCE.get(person.proof, "")))
    for group in sorted(person.groups):
        found.append((f"group `{group}`", _GROUP_SOURCE.get(person.proof, "")))
    return found
