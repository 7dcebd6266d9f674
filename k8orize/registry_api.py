"""Ask a registry (the distribution API v2) which manifest digest a tag points at, as `docker pull` would.

Authentication follows the registry's own challenge: none, Basic, or a bearer token from the realm it
names (Docker Hub's token service works this way). The standard library is enough for one HEAD request.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from . import messages
from .errors import K8orizeError

# A single-platform image is what k8orize pushes; an index is asked for too, should a tag hold one.
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    )
)
DOCKER_HUB = ("docker.io", "registry-1.docker.io")
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryRefused(K8orizeError):
    """The registry answered with an error, or not at all."""


@dataclass(frozen=True)
class RegistryCredentials:
    """Who speaks to a registry: a user and their password or access token (never printed)."""

    username: str
    secret: str = field(repr=False)

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.secret}".encode()).decode()


def split_reference(reference: str) -> tuple[str, str, str]:
    """`host/repo:tag` -> (host, repo, tag); Docker Hub's short names get `library/`."""
    host, _, rest = reference.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost"):
        host, rest = "docker.io", reference
    name, _, tag = rest.partition("@")
    if not tag:
        base, colon, maybe = rest.rpartition(":")
        name, tag = (base, maybe) if colon and "/" not in maybe else (rest, "latest")
    if host in DOCKER_HUB and "/" not in name:
        name = f"library/{name}"
    return host, name, tag


def _api_root(host: str, plain_http: bool) -> str:
    if host in DOCKER_HUB:
        return "https://registry-1.docker.io"
    return f"{'http' if plain_http else 'https'}://{host}"


def _send(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items())
    except (urllib.error.URLError, OSError) as exc:
        raise RegistryRefused(messages.REGISTRY_UNREACHABLE.format(url=request.full_url, why=exc)) from None


def _bearer(challenge: str, credentials: RegistryCredentials | None, timeout: float) -> str:
    """A bearer token from the realm the registry named (Docker token authentication)."""
    params = dict(_PARAM.findall(challenge))
    query = urllib.parse.urlencode({k: v for k, v in params.items() if k in ("service", "scope")})
    request = urllib.request.Request(f"{params.get('realm', '')}?{query}")
    if credentials is not None:
        request.add_header("Authorization", credentials.basic())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RegistryRefused(
            messages.REGISTRY_UNREACHABLE.format(url=params.get("realm"), why=exc)
        ) from None
    return "Bearer " + str(body.get("token") or body.get("access_token") or "")


def _authorization(challenge: str, credentials: RegistryCredentials | None, timeout: float) -> str | None:
    scheme = challenge.split(" ", 1)[0].lower()
    if scheme == "bearer":
        return _bearer(challenge, credentials, timeout)
    return credentials.basic() if scheme == "basic" and credentials is not None else None


def manifest_digest(
    reference: str,
    credentials: RegistryCredentials | None = None,
    *,
    plain_http: bool = False,
    timeout: float = 30.0,
) -> str:
    """The `Docker-Content-Digest` the registry serves for `host/repo:tag` (a HEAD of the manifest)."""
    host, repository, tag = split_reference(reference)
    url = f"{_api_root(host, plain_http)}/v2/{repository}/manifests/{tag}"
    headers = {"Accept": MANIFEST_TYPES}
    status, answer = _send(urllib.request.Request(url, method="HEAD", headers=headers), timeout)
    challenge = answer.get("Www-Authenticate") or answer.get("WWW-Authenticate") or ""
    if status == 401 and (auth := _authorization(challenge, credentials, timeout)):
        status, answer = _send(
            urllib.request.Request(url, method="HEAD", headers={**headers, "Authorization": auth}), timeout
        )
    digest = answer.get("Docker-Content-Digest", "")
    if status != 200 or not digest.startswith("sha256:"):
        raise RegistryRefused(messages.REGISTRY_NO_DIGEST.format(url=url, status=status))
    return digest
