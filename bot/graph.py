"""AAD group membership from Microsoft Graph: the only source of a Teams person's groups.

k8or signs in as itself (client credentials, `K8OR_GRAPH_*`): a token from
`{login_url}{tenant}/oauth2/v2.0/token`, then
`GET {api_url}users/{object id}/transitiveMemberOf?$select=id` page by page
(`@odata.nextLink`, followed only while it stays under `api_url`, so the token never leaves Graph).
Answers are cached for a few minutes. Any failure means "no groups" and a warning: fewer roles,
never a failed turn.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, urlsplit

import aiohttp

from bot.settings import GraphSettings
from clock import SYSTEM_CLOCK, Clock, expired, fresh

log = logging.getLogger(__name__)
TTL_SECONDS = 300
MAX_PAGES = 20  # 20 pages of 100: a person in more than 2,000 groups gets the first 2,000
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class GraphError(Exception):
    """Graph or its token endpoint did not answer as documented."""


class GraphDirectory:
    """Transitive AAD group ids of a user, by object id, cached per user."""

    def __init__(
        self, settings: GraphSettings, timeout: float, ttl: float = TTL_SECONDS, clock: Clock = SYSTEM_CLOCK
    ):
        self._settings = settings
        self._api = settings.api_url if settings.api_url.endswith("/") else settings.api_url + "/"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ttl = ttl
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._token: tuple[float, str] | None = None  # (valid until, token); None: never fetched
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    async def groups(self, object_id: str) -> frozenset[str]:
        """The group object ids the user belongs to, directly or through nested groups."""
        if not _GUID.fullmatch(object_id):
            return frozenset()
        cached = self._groups.get(object_id)
        if cached and fresh(self._clock, cached[0], self._ttl):
            return cached[1]
        try:
            found = await self._member_of(object_id)
        except (GraphError, aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("Microsoft Graph group lookup failed; continuing without AAD groups: %s", exc)
            return frozenset()
        self._groups[object_id] = (self._clock.monotonic(), found)
        return found

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _member_of(self, object_id: str) -> frozenset[str]:
        url: str | None = f"{self._api}users/{quote(object_id)}/transitiveMemberOf?$select=id"
        found: set[str] = set()
        for _ in range(MAX_PAGES):
            if url is None:
                break
            page = await self._get(url)
            found.update(_group_ids(page.get("value")))
            url = page.get("@odata.nextLink")
            if url is not None and not (isinstance(url, str) and url.startswith(self._api)):
                raise GraphError("Graph's next page points outside the Graph API root")
        return frozenset(found)

    async def _get(self, url: str) -> dict:
        headers = {"Authorization": f"Bearer {await self._access_token()}", "Accept": "application/json"}
        async with self._client().get(url, headers=headers) as response:
            if response.status != 200:
                raise GraphError(f"Graph answered {response.status}")
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise GraphError("Graph's answer is not an object")
        return body

    async def _access_token(self) -> str:
        if self._token is not None and not expired(self._clock, self._token[0]):
            return self._token[1]
        s = self._settings
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": s.client_secret.get_secret_value(),
            "scope": _scope(self._api),
        }
        login = s.login_url if s.login_url.endswith("/") else s.login_url + "/"
        url = f"{login}{quote(s.tenant_id)}/oauth2/v2.0/token"
        async with self._client().post(url, data=form) as response:
            body = await response.json(content_type=None)
            if response.status != 200 or not isinstance(body, dict) or not body.get("access_token"):
                raise GraphError(f"the token endpoint answered {response.status}")
        lifetime = float(body.get("expires_in") or 300)
        token = str(body["access_token"])
        self._token = (self._clock.monotonic() + max(lifetime - 60, 30), token)
        return token

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session


def _scope(api_root: str) -> str:
    """`https://graph.microsoft.com/.default` for `https://graph.microsoft.com/v1.0/`."""
    parts = urlsplit(api_root)
    return f"{parts.scheme}://{parts.netloc}/.default"


def _group_ids(value: object) -> set[str]:
    """Group ids from one page; anything that is not a group (roles, units) is left out."""
    if not isinstance(value, list):
        raise GraphError("Graph's page has no `value` list")
    ids = set()
    for item in value:
        if not isinstance(item, dict):
            continue
        kind = item.get("@odata.type", "#microsoft.graph.group")
        if kind == "#microsoft.graph.group" and _GUID.fullmatch(str(item.get("id", ""))):
            ids.add(str(item["id"]).lower())
    return ids
