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
INDEX_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
REVISION_LABEL = "org.opencontainers.image.revision"  # the OCI annotation, as a build sets it
SOURCE_LABEL = "org.opencontainers.image.source"


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

    async def image_labels(self, credentials: Credentials, repository: str, reference: str) -> dict[str, str]:
        """The labels of `repository` at `reference` (a tag or sha256 digest): manifest (the linux/amd64
        one of an index) → its config blob → `config.Labels`, as `docker inspect` shows them."""
        token = await self.registry_token(credentials, repository)
        headers = {"Authorization": f"Bearer {token}", "Accept": MANIFEST_TYPES}
        manifest = await self._registry_json(f"{repository}/manifests/{reference}", headers)
        if manifest.get("mediaType") in INDEX_MEDIA_TYPES or "manifests" in manifest:
            chosen = parsed(self.name, self.display_name, lambda: _platform_manifest(manifest))
            manifest = await self._registry_json(f"{repository}/manifests/{chosen}", headers)
        config = parsed(self.name, self.display_name, lambda: str(manifest["config"]["digest"]))
        blob = await self._registry_json(
            f"{repository}/blobs/{config}", {"Authorization": headers["Authorization"]}
        )
        return parsed(self.name, self.display_name, lambda: _labels(blob))

    async def _registry_json(self, path: str, headers: dict[str, str]) -> dict[str, Any]:
        url = f"{self.settings.registry_url.rstrip('/')}/v2/{path}"
        body, _headers = await self.http.json_object("GET", url, headers=headers)
        return body

    def registry_image(self, image: str) -> tuple[str, str] | None:
        """(repository, reference) of an image reference held in this connector's registry; None for an
        image another registry serves. The reference is the digest when pinned, else the tag."""
        name, _, digest = image.partition("@")
        head, _, last = name.rpartition("/")
        base, _, tag = last.partition(":")
        path = f"{head}/{base}" if head else base
        first, _, rest = path.partition("/")
        hosted = "." in first or ":" in first or first == "localhost"
        if hosted and first not in (push_host(self.settings.registry_url), "docker.io", "index.docker.io"):
            return None
        repository = normalise_repository(rest if hosted and first != "docker.io" else path)
        return repository, digest or tag or "latest"

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


def _platform_manifest(index: dict[str, Any]) -> str:
    """The digest of the linux/amd64 image in an index (the first image when none says so)."""
    entries = [m for m in index["manifests"] if isinstance(m, dict)]
    for entry in entries:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return str(entry["digest"])
    return str(entries[0]["digest"])


def _labels(config: dict[str, Any]) -> dict[str, str]:
    labels = (config.get("config") or {}).get("Labels") or {}
    if not isinstance(labels, dict):
        raise TypeError("labels are not an object")
    return {str(k): str(v) for k, v in labels.items()}


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
