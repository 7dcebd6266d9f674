"""Sending to the channel: the Bot Connector REST calls for messages, on one shared aiohttp session.

The adapter asks its connector factory for a `ConnectorClient` and calls
`client.conversations.reply_to_activity / send_to_conversation / update_activity /
delete_activity`. `ChannelConnector` answers those four itself, with `bot.wire` JSON and a
cached bearer token; every other operation (Teams member lookups, attachments, ...) falls
through to the SDK's own client, built on first use.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector.auth import AppCredentials

from bot.errors import K8orError
from bot.wire import from_wire, to_wire
from clock import SYSTEM_CLOCK, Clock, fresh

TOKEN_REUSE_SECONDS = 600  # AAD tokens for the Bot Connector live an hour; refresh well before.
_RETRIES_ON_429 = 2


class ChannelError(K8orError):
    """The channel refused or failed a call the bot made."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class _BearerToken:
    """The bot's outbound token, fetched (blocking msal call) off the loop and reused."""

    def __init__(self, credentials: AppCredentials | None, clock: Clock = SYSTEM_CLOCK):
        self._credentials = credentials
        self._clock = clock
        self._value = ""
        self._fetched: float | None = None  # never fetched: fetch on first use, whatever the clock reads
        self._lock = asyncio.Lock()

    @property
    def needed(self) -> bool:
        app_id = getattr(self._credentials, "microsoft_app_id", None)
        return bool(self._credentials and app_id and app_id != "AnonymousSkillAppId")

    async def header(self) -> dict[str, str]:
        if not self.needed:
            return {}
        if not fresh(self._clock, self._fetched, TOKEN_REUSE_SECONDS):
            async with self._lock:
                if not fresh(self._clock, self._fetched, TOKEN_REUSE_SECONDS):
                    self._value = await self._fetch()
                    self._fetched = self._clock.monotonic()
        return {"Authorization": f"Bearer {self._value}"}

    async def _fetch(self) -> str:
        """A new token from Azure AD; a refusal or an unreachable AAD is a ChannelError that says which."""
        try:
            return await asyncio.to_thread(self._credentials.get_access_token)  # type: ignore[union-attr]
        except PermissionError as exc:  # the SDK's wording: "... with error: invalid_client, ..."
            refusal = str(exc).partition("with error: ")[2] or type(exc).__name__
            raise ChannelError(
                f"Azure AD refused the bot's token ({refusal}): check MicrosoftAppId, "
                "MicrosoftAppPassword and MicrosoftAppType/MicrosoftAppTenantId",
                401,
            ) from exc
        except Exception as exc:  # noqa: BLE001 - unreachable (requests), a failed discovery (msal errors)
            raise ChannelError(f"Azure AD gave no token for the bot ({type(exc).__name__})", 0) from exc


class _Conversations:
    def __init__(self, connector: ChannelConnector):
        self._c = connector

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Activity
    ) -> ResourceResponse:
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        return await self._c.call("POST", path, activity)

    async def send_to_conversation(self, conversation_id: str, activity: Activity) -> ResourceResponse:
        return await self._c.call(
            "POST", f"v3/conversations/{quote(conversation_id, safe='')}/activities", activity
        )

    async def update_activity(
        self, conversation_id: str, activity_id: str, activity: Activity
    ) -> ResourceResponse:
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        return await self._c.call("PUT", path, activity)

    async def delete_activity(self, conversation_id: str, activity_id: str) -> None:
        path = f"v3/conversations/{quote(conversation_id, safe='')}/activities/{quote(activity_id, safe='')}"
        await self._c.call("DELETE", path, None)

    def __getattr__(self, name: str) -> Any:
        return self._c.sdk_operation("conversations", name)


class ChannelConnector:
    """A ConnectorClient for one service URL: the message calls natively, the rest via the SDK."""

    def __init__(
        self,
        service_url: str,
        session: aiohttp.ClientSession,
        credentials: AppCredentials | None,
        sdk_client: Callable[[], Awaitable[Any]],
        timeout: float,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.service_url = service_url if service_url.endswith("/") else service_url + "/"
        self._session = session
        self._token = _BearerToken(credentials, clock)
        self._sdk_client_factory = sdk_client
        self._sdk: Any = None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.conversations = _Conversations(self)

    async def call(self, method: str, path: str, activity: Activity | None) -> ResourceResponse:
        try:
            return await self._call(method, path, activity)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChannelError(f"the channel could not be reached ({type(exc).__name__})", 0) from exc

    async def _call(self, method: str, path: str, activity: Activity | None) -> ResourceResponse:
        headers = {**await self._token.header(), "Content-Type": "application/json"}
        body = orjson.dumps(to_wire(activity)) if activity is not None else None
        for attempt in range(_RETRIES_ON_429 + 1):
            async with self._session.request(
                method, self.service_url + path, data=body, headers=headers, timeout=self._timeout
            ) as response:
                if response.status == 429 and attempt < _RETRIES_ON_429:
                    await asyncio.sleep(min(float(response.headers.get("Retry-After", "1") or 1), 5.0))
                    continue
                if response.status >= 300:
                    raise ChannelError(f"the channel answered {response.status} to {method}", response.status)
                if response.status == 204 or method == "DELETE":
                    return ResourceResponse()
                data = orjson.loads(await response.read() or b"null")
                return from_wire(ResourceResponse, data) if isinstance(data, dict) else ResourceResponse()
        raise ChannelError("the channel kept answering 429", 429)

    def sdk_operation(self, group: str, name: str) -> Callable[..., Awaitable[Any]]:
        async def operation(*args: Any, **kwargs: Any) -> Any:
            if self._sdk is None:
                self._sdk = await self._sdk_client_factory()
            return await getattr(getattr(self._sdk, group), name)(*args, **kwargs)

        return operation

    def __getattr__(self, name: str) -> Any:
        # Operation groups other than `conversations` (teams, attachments) come from the SDK client.
        if name.startswith("_"):
            raise AttributeError(name)
        return _SdkGroup(self, name)


class _SdkGroup:
    def __init__(self, connector: ChannelConnector, group: str):
        self._connector, self._group = connector, group

    def __getattr__(self, name: str) -> Any:
        return self._connector.sdk_operation(self._group, name)
