"""A Teams person's email/UPN, from the Teams roster rather than from anything in the activity.

`TeamsInfo.get_member` asks the channel service (the turn's `serviceUrl`, proven by the Bot
Framework token) with the bot's own credentials:
`GET {serviceUrl}v3/conversations/{conversationId}/members/{userId}` answers a TeamsChannelAccount
(`email`, `userPrincipalName`, `aadObjectId`, `tenantId`). Answers are cached per tenant and object
id for a few minutes; a lookup that fails leaves the person without an email (a warning, never a
failed turn).
"""

from __future__ import annotations

import logging

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo

from clock import SYSTEM_CLOCK, Clock, fresh

log = logging.getLogger(__name__)
TTL_SECONDS = 300


class TeamsRoster:
    def __init__(self, ttl: float = TTL_SECONDS, clock: Clock = SYSTEM_CLOCK):
        self._ttl = ttl
        self._clock = clock
        self._emails: dict[tuple[str, str], tuple[float, str]] = {}

    async def email(self, context: TurnContext, tenant: str, object_id: str) -> str:
        """The member's email (or UPN) as the roster states it; "" when it cannot be had."""
        cached = self._emails.get((tenant, object_id))
        if cached and fresh(self._clock, cached[0], self._ttl):
            return cached[1]
        if context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY) is None:
            return ""  # not a turn the channel service sent (an in-memory turn): nobody to ask
        sender = context.activity.from_property
        try:
            member = await TeamsInfo.get_member(context, sender.id)
        except Exception as exc:  # noqa: BLE001 - the SDK raises assorted types; none may fail the turn
            log.warning("Teams roster lookup failed; continuing without email: %s", type(exc).__name__)
            return ""
        if (member.aad_object_id or object_id).lower() != object_id.lower():
            log.warning("Teams roster answered for another member; continuing without email")
            return ""
        email = (member.email or member.user_principal_name or "").strip()
        self._emails[(tenant, object_id)] = (self._clock.monotonic(), email)
        return email
