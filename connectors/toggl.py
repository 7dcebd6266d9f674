"""Toggl Track, through its REST API v9 with aiohttp. Sign-in: the person's API token."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from connectors import errors
from connectors.base import Connector, Credentials, FieldSpec, Identity, SignInMethod, TokenFields
from connectors.http import ServiceHttp, parsed
from connectors.settings import TogglSettings

T = TypeVar("T")
API_TOKEN = TokenFields(
    key="token",
    label="API token",
    fields=(
        FieldSpec("api_token", "API token", secret=True, help="Profile settings → API Token in Toggl Track"),
    ),
)


CREATED_WITH = "k8or"


@dataclass(frozen=True)
class TimeEntry:
    """A Toggl Track time entry k8or started: where it lives and what it says."""

    workspace_id: int
    entry_id: int
    description: str


class TogglConnector(Connector):
    """Toggl Track: verified by GET /api/v9/me with the API token as basic-auth user."""

    name = "toggl"
    display_name = "Toggl Track"
    settings_model = TogglSettings
    settings: TogglSettings

    def __init__(self, settings: TogglSettings | None = None) -> None:
        super().__init__(settings)
        self.http = ServiceHttp(self.name, self.display_name)

    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        return (API_TOKEN,)

    def _url(self, path: str) -> str:
        return self.settings.api_url.rstrip("/") + path

    @staticmethod
    def _auth(credentials: Credentials) -> aiohttp.BasicAuth:
        # Toggl's documented form: the token as user name and the literal password "api_token".
        return aiohttp.BasicAuth(credentials["api_token"], "api_token")

    async def me(self, credentials: Credentials) -> dict[str, Any]:
        """The Toggl user profile (GET /api/v9/me), without the api_token field it echoes back."""
        try:
            body, _headers = await self.http.json_object(
                "GET", self._url("/api/v9/me"), auth=self._auth(credentials)
            )
        except errors.Forbidden:
            # Toggl answers an unknown or revoked API token with 403, not 401.
            raise self.error(errors.Unauthorized) from None
        body.pop("api_token", None)
        return body

    async def verify(self, credentials: Credentials) -> Identity:
        me = await self.me(credentials)
        return parsed(
            self.name,
            self.display_name,
            lambda: Identity(
                subject=str(me["email"]),
                display_name=str(me.get("fullname") or me["email"]),
                details={
                    "user_id": str(me["id"]),
                    "default_workspace_id": str(me.get("default_workspace_id", "")),
                },
            ),
        )

    async def current_time_entry(self, credentials: Credentials) -> dict[str, Any] | None:
        """The running time entry (GET /api/v9/me/time_entries/current), or None when nothing runs."""
        body, _headers = await self.http.json(
            "GET", self._url("/api/v9/me/time_entries/current"), auth=self._auth(credentials)
        )
        return body or None

    async def start_time_entry(
        self, credentials: Credentials, description: str, tags: tuple[str, ...] = ()
    ) -> TimeEntry:
        """Start a running entry in the person's default workspace (`GET /api/v9/me`, then
        `POST /api/v9/workspaces/{wid}/time_entries` with `duration: -1`). Sent once: a time-out is
        reported, never retried, so no second entry is started."""
        me = await self.me(credentials)
        workspace = parsed(self.name, self.display_name, lambda: int(me["default_workspace_id"]))
        entry = {
            "created_with": CREATED_WITH,
            "description": description,
            "tags": list(tags),
            "workspace_id": workspace,
            "duration": -1,
            "start": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "billable": False,
        }
        url = self._url(f"/api/v9/workspaces/{workspace}/time_entries")
        body, _headers = await self._forbidden_is_unauthorized(
            self.http.json_object("POST", url, json=entry, auth=self._auth(credentials))
        )
        return parsed(
            self.name, self.display_name, lambda: TimeEntry(workspace, int(body["id"]), description)
        )

    async def stop_time_entry(self, credentials: Credentials, entry: TimeEntry) -> None:
        """Stop a running entry (`PATCH /api/v9/workspaces/{wid}/time_entries/{id}/stop`); an entry
        stopped already (Toggl answers 409) counts as stopped."""
        url = self._url(f"/api/v9/workspaces/{entry.workspace_id}/time_entries/{entry.entry_id}/stop")
        await self._forbidden_is_unauthorized(
            self.http.request("PATCH", url, ok=(200, 409), auth=self._auth(credentials))
        )

    async def _forbidden_is_unauthorized(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except errors.Forbidden:
            # Toggl answers an unknown or revoked API token with 403, not 401.
            raise self.error(errors.Unauthorized) from None

    async def aclose(self) -> None:
        await self.http.aclose()
