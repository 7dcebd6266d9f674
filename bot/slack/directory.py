"""Who a Slack user is beyond their id: email and user groups, for RBAC rules that name them.

Looked up through the Web API (`users.info`, `usergroups.list`) and cached for a few minutes; a
lookup that fails leaves the person with their ids only, which RBAC treats as "fewer roles".
Groups are reported by **id** (`S…`), never by handle: any member may edit a handle, so a handle
proves nothing. bot.trust turns an id into the RBAC key `slack:<team>:<group id>`.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from clock import SYSTEM_CLOCK, Clock, fresh

log = logging.getLogger(__name__)
TTL_SECONDS = 300


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, ttl: float = TTL_SECONDS, clock: Clock = SYSTEM_CLOCK):
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._emails: dict[str, tuple[float, str]] = {}
        self._groups: tuple[float | None, dict[str, list[str]]] = (None, {})  # None: never fetched

    async def email(self, user: str) -> str:
        cached = self._emails.get(user)
        if cached and fresh(self._clock, cached[0], self._ttl):
            return cached[1]
        try:
            response = await self._client.users_info(user=user)
            email = ((response.get("user") or {}).get("profile") or {}).get("email", "") or ""
        except (SlackApiError, OSError, TimeoutError):
            log.warning("slack users.info failed; continuing without email")
            email = ""
        self._emails[user] = (self._clock.monotonic(), email)
        return email

    async def groups(self, user: str) -> list[str]:
        """The ids of the user groups this user is in."""
        fetched, members = self._groups
        if not fresh(self._clock, fetched, self._ttl):
            try:
                response = await self._client.usergroups_list(include_users=True)
                members = {}
                for group in response.get("usergroups") or []:
                    if not isinstance(group, dict) or not isinstance(group.get("id"), str):
                        continue
                    for member in group.get("users") or []:
                        members.setdefault(member, []).append(group["id"])
            except (SlackApiError, OSError, TimeoutError):
                log.warning("slack usergroups.list failed; continuing without groups")
            self._groups = (self._clock.monotonic(), members)
        return members.get(user, [])
