"""Miro, through REST API v2 with aiohttp. Sign-in: OAuth 2.0 authorization code flow."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

from connectors import errors
from connectors.base import Connector, Credentials, Identity, OAuthAuthorizationCode, SignInMethod
from connectors.http import ServiceHttp, check_not_expired, parse_time, parsed
from connectors.oauth import exchange_code, token_credentials
from connectors.settings import MiroSettings

BOARD_WEB = "https://miro.com"  # where people open boards (the API lives on api.miro.com)
CODE_FLOW = OAuthAuthorizationCode(
    key="oauth", label="Sign in with Miro", scopes=("boards:read", "boards:write")
)


class MiroConnector(Connector):
    """Miro: verified by the access token context (GET /v1/oauth-token)."""

    name = "miro"
    display_name = "Miro"
    settings_model = MiroSettings
    settings: MiroSettings

    def __init__(self, settings: MiroSettings | None = None) -> None:
        super().__init__(settings)
        self.http = ServiceHttp(self.name, self.display_name)

    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        return (CODE_FLOW,)

    def _url(self, path: str) -> str:
        return self.settings.api_url.rstrip("/") + path

    def authorization_url(self, method: OAuthAuthorizationCode, state: str, redirect_uri: str) -> str:
        if not self.settings.client_id:
            raise self.error(errors.NotConfigured)
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.settings.auth_url}?{urlencode(query)}"

    async def exchange_code(
        self, method: OAuthAuthorizationCode, code: str, redirect_uri: str
    ) -> Credentials:
        form = {
            "client_id": self.settings.client_id,
            "client_secret": self.settings.client_secret.get_secret_value(),
            "code": code,
            "redirect_uri": redirect_uri,
        }
        body = await exchange_code(self.http, self.settings.token_url, form)
        return parsed(self.name, self.display_name, lambda: token_credentials(body))

    @staticmethod
    def _bearer(credentials: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {credentials['access_token']}", "Accept": "application/json"}

    async def verify(self, credentials: Credentials) -> Identity:
        check_not_expired(credentials.get("expires_at"), self.name, self.display_name)
        body, _headers = await self.http.json_object(
            "GET", self._url("/v1/oauth-token"), headers=self._bearer(credentials)
        )
        return parsed(self.name, self.display_name, lambda: _identity(body, credentials.get("expires_at")))

    async def boards(self, credentials: Credentials, limit: int = 20) -> list[dict[str, Any]]:
        """Boards this person can see (GET /v2/boards), newest first as Miro returns them."""
        body, _headers = await self.http.json_object(
            "GET", self._url("/v2/boards"), headers=self._bearer(credentials), params={"limit": str(limit)}
        )
        return parsed(self.name, self.display_name, lambda: list(body["data"]))

    async def add_image(self, credentials: Credentials, board: str, title: str, png: bytes) -> str:
        """Put a PNG on `board` as an image item (`POST /v2/boards/{board}/images`, multipart: the
        file as `resource`, the title as `data`), as this person; the item's id. Sent once."""
        form = aiohttp.FormData()
        form.add_field("data", json.dumps({"title": title}), content_type="application/json")
        form.add_field("resource", png, filename="k8or.png", content_type="image/png")
        url = self._url(f"/v2/boards/{quote(board, safe='')}/images")
        body, _headers = await self.http.json_object(
            "POST", url, data=form, ok=(201,), headers=self._bearer(credentials)
        )
        return parsed(self.name, self.display_name, lambda: str(body["id"]))

    def item_link(self, board: str, item: str) -> str:
        """Where a person sees the item on the board."""
        return f"{BOARD_WEB}/app/board/{quote(board, safe='')}/?moveToWidget={item}"

    async def aclose(self) -> None:
        await self.http.aclose()


def _identity(context: dict[str, Any], expires_at: str | None) -> Identity:
    user = context["user"]
    return Identity(
        subject=str(user["id"]),
        display_name=str(user.get("name") or user["id"]),
        scopes=tuple(context.get("scopes") or ()),
        expires_at=parse_time(expires_at),
        details={"team": str(context.get("team", {}).get("name", ""))},
    )
