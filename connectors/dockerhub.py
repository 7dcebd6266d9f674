"""Docker Hub, through the Hub API and the registry's token service, with aiohttp.

Sign-in: Docker ID plus a personal access token. Verified by creating a Hub access token with them.
Registry tokens serve the tag-to-digest lookups deployments use to pin images. k8orize pushes the
images it builds to `<registry host>/<Docker ID>/<app>` with the same Docker ID and token
(`push_repository`); the registry host comes from `registry_url`, so tests point it at a local registry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt

from connectors import errors
from connectors.base import Connector, Credentials, FieldSpec, Identity, SignInMethod, TokenFields
from connectors.http import ServiceHttp, parsed
from connectors.settings import DockerhubSettings

ACCESS_TOKEN = TokenFields(
    key="token",
    label="Personal access token",
    fields=(
        FieldSpec("username", "Docker ID"),
        FieldSpec(
            "token", "Personal access token", secret=True, help="Account settings → Personal access tokens"
        ),
    ),
)
# Ask for an image index first so a multi-arch tag resolves to the digest `docker pull` would use.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
HUB_CLAIMS = "https://hub.docker.com"


class DockerhubConnector(Connector):
    """Docker Hub: POST /v2/auth/token for identity, registry token + HEAD manifest for digests."""

    name = "dockerhub"
    display_name = "Docker Hub"
    settings_model = DockerhubSettings
    settings: DockerhubSettings

    def __init__(self, settings: DockerhubSettings | None = None) -> None:
        super().__init__(settings)
        self.http = ServiceHttp(self.name, self.display_name)

    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        return (ACCESS_TOKEN,)

    async def hub_token(self, credentials: Credentials) -> str:
        """A short-lived Hub bearer token (JWT) for the person's Docker ID and access token."""
        body, _headers = await self.http.json_object(
            "POST",
            self.settings.api_url.rstrip("/") + "/v2/auth/token",
            json={"identifier": credentials["username"], "secret": credentials["token"]},
        )
        return parsed(self.name, self.display_name, lambda: str(body["access_token"]))

    async def verify(self, credentials: Credentials) -> Identity:
        token = await self.hub_token(credentials)
        claims = parsed(self.name, self.display_name, lambda: _claims(token))
        return parsed(self.name, self.display_name, lambda: _identity(claims, credentials["username"]))

    async def registry_token(self, credentials: Credentials, repository: str) -> str:
        """A registry bearer token allowed to pull `repository` (Docker token authentication spec)."""
        params = {"service": self.settings.registry_service, "scope": f"repository:{repository}:pull"}
        body, _headers = await self.http.json_object(
            "GET",
            self.settings.auth_url,
            params=params,
            auth=aiohttp.BasicAuth(credentials["username"], credentials["token"]),
        )
        return parsed(self.name, self.display_name, lambda: str(body.get("token") or body["access_token"]))

    async def resolve_digest(self, credentials: Credentials, image: str, tag: str = "latest") -> str:
        """The content digest (sha256:…) that `image:tag` points at now."""
        repository = normalise_repository(image)
        token = await self.registry_token(credentials, repository)
        url = f"{self.settings.registry_url.rstrip('/')}/v2/{repository}/manifests/{tag}"
        headers = {"Authorization": f"Bearer {token}", "Accept": MANIFEST_TYPES}
        _status, response_headers, _body = await self.http.request("HEAD", url, headers=headers)
        digest = response_headers.get("Docker-Content-Digest", "")
        if not digest.startswith("sha256:"):
            raise self.error(errors.MalformedResponse)
        return digest

    def push_repository(self, credentials: Credentials, name: str) -> str:
        """Where this person's image of the app `name` is pushed: `<registry host>/<Docker ID>/<name>`
        (Docker Hub's own registry is named `docker.io`, as image references name it)."""
        return f"{push_host(self.settings.registry_url)}/{credentials['username'].lower()}/{name}"

    async def aclose(self) -> None:
        await self.http.aclose()


def push_host(registry_url: str) -> str:
    """`https://registry-1.docker.io` -> `docker.io`; any other registry root -> its host[:port]."""
    host = urlsplit(registry_url).netloc or registry_url
    return "docker.io" if host in ("registry-1.docker.io", "index.docker.io") else host


def normalise_repository(image: str) -> str:
    """`nginx` → `library/nginx`; `docker.io/acme/api` → `acme/api`."""
    name = image.removeprefix("docker.io/").removeprefix("index.docker.io/")
    return name if "/" in name else f"library/{name}"


def _claims(token: str) -> dict[str, Any]:
    # The token came straight from Hub over TLS; we read its claims, Hub checks its signature.
    return jwt.decode(token, options={"verify_signature": False})


def _identity(claims: dict[str, Any], username: str) -> Identity:
    # The token's own `exp` is Hub's ten-minute session, not the access token's expiry: not reported.
    hub = claims.get(HUB_CLAIMS) or {}
    scope = claims.get("scope") or ""
    return Identity(
        subject=str(hub.get("username") or username),
        display_name=str(hub.get("email") or hub.get("username") or username),
        scopes=tuple(scope.split()) if isinstance(scope, str) else tuple(scope),
    )
