"""The Bot Framework edge: botbuilder's CloudAdapter, hardened and made cheap per turn.

What differs from the stock adapter, all through the SDK's own extension points:
- A body that is not a processable activity (no http(s) `serviceUrl`, no conversation or sender
  id, a string field holding a list) is a 400 before any token or turn work; an invoke no
  handler answers is a 400, not the SDK's 501.
- Any failure to validate the caller's token is a 401. The SDK raises assorted exceptions for
  malformed or unknown-key tokens, which the stock adapter turns into 500s, and accepts a
  token with no `exp`; k8or refuses that too.
- Replies go out through `ChannelConnector`, one per (app id, service URL, audience), on one
  shared aiohttp session, and the user-token client is built once per app id. The stock path
  builds two msrest clients (and their retry policies) per turn and sends through `requests` in
  a thread pool, which is most of its CPU time. Inbound activities are read with `bot.wire`.
- A turn's last reply is watched (`bot.context.reply_watch`): its claim hears the moment the
  reply's bytes are handed to the network, and whether the channel refused it (`_WatchingSession`).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, cast

import aiohttp
import jwt
import orjson
from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesPayload
from botbuilder.core import Bot, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ResourceResponse
from botframework.connector import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    BotFrameworkAuthenticationFactory,
    ClaimsIdentity,
    ConnectorFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from msrest.serialization import Model
from yarl import URL

from bot.channel_client import ChannelConnector
from bot.context import ReplyWatch, reply_watch
from bot.http_body import read_bytes
from bot.metrics import BotMetrics
from bot.settings import AppType, Settings
from bot.wire import from_wire

log = logging.getLogger(__name__)
_PUBLIC_LOGIN_URL = "https://login.microsoftonline.com/botframework.com"


def _app_id(claims: ClaimsIdentity) -> str:
    return (
        claims.get_claim_value(AuthenticationConstants.AUDIENCE_CLAIM)
        or claims.get_claim_value(AuthenticationConstants.APP_ID_CLAIM)
        or ""
    )


def require_expiry(auth_header: str) -> None:
    """Refuse a bearer token that carries no finite `exp` claim.

    The SDK verifies tokens with PyJWT, which checks `exp` only when the token has one, so a
    token minted without it would be good forever. The signature is checked after this by the
    SDK; an empty header is left to it (anonymous only in emulator mode).
    """
    if not auth_header:
        return
    scheme, _, token = auth_header.partition(" ")
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        raise PermissionError("token rejected: not a JWT") from None
    if scheme.lower() != "bearer" or not _finite_number(claims.get("exp")):
        raise PermissionError("token rejected: no expiry")


def _finite_number(value: Any) -> bool:
    """A JSON number that is a real point in time (not a bool, NaN or infinity)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Bounded(OrderedDict):
    """A small LRU so a flood of distinct service URLs cannot grow memory without bound."""

    def __init__(self, limit: int = 256):
        super().__init__()
        self.limit = limit

    def remember(self, key: Any, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)
        return value


class _WatchedBody(BytesPayload):
    """A watched reply's body: right after its bytes (with the headers) are handed to the socket, in
    the same step, it tells the watch, before the channel can have read them. With bytes still
    queued in the process (a full socket buffer) it says nothing: the turn is marked done once the
    channel has answered instead."""

    def __init__(self, body: bytes, watch: ReplyWatch):
        super().__init__(body, content_type="application/json")
        self._watch = watch

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self._watch.ready()  # the done-mark's connection, held before a byte of the body leaves
        await super().write(writer)
        self._written(writer)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        await self._watch.ready()
        await super().write_with_length(writer, content_length)
        self._written(writer)

    def _written(self, writer: AbstractStreamWriter) -> None:
        transport = getattr(writer, "transport", None)
        if transport is not None and not transport.get_write_buffer_size():
            self._watch.written()


class _WatchedRequest:
    """A watched reply's request: an error answer, or none, tells the watch it was refused."""

    def __init__(self, request: Any, watch: ReplyWatch):
        self._request, self._watch = request, watch

    async def __aenter__(self) -> aiohttp.ClientResponse:
        try:
            response: aiohttp.ClientResponse = await self._request.__aenter__()
        except Exception:
            await self._watch.refused()
            raise
        if response.status >= 300:
            await self._watch.refused()
        return response

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._request.__aexit__(*exc_info)


class _WatchingSession:
    """What the channel connectors send with: the shared session, except that a reply sent while a
    turn watches it (`bot.context.reply_watch`) goes out as a `_WatchedBody`."""

    def __init__(self, session: aiohttp.ClientSession):
        self._session = session

    def request(self, method: str, url: str, *, data: Any = None, **kwargs: Any) -> Any:
        watch = reply_watch.get()
        if watch is None or not isinstance(data, bytes):
            return self._session.request(method, url, data=data, **kwargs)
        sending = self._session.request(method, url, data=_WatchedBody(data, watch), **kwargs)
        return _WatchedRequest(sending, watch)


class _ReusingConnectorFactory(ConnectorFactory):
    """One `ChannelConnector` per (app id, service URL, audience), kept for later turns."""

    def __init__(self, inner: ConnectorFactory, auth: ChannelAuthentication, app_id: str):
        self._inner, self._auth, self._app_id = inner, auth, app_id

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience)
        client = self._auth.connectors.get(key)
        if client is None:
            credentials = await self._auth.credentials.create_credentials(
                self._app_id or None,
                audience or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                _PUBLIC_LOGIN_URL,
                True,
            )
            inner = self._inner
            client = ChannelConnector(
                service_url,
                cast(aiohttp.ClientSession, _WatchingSession(self._auth.session())),  # only .request
                credentials,
                lambda: inner.create(service_url, audience),
                self._auth.timeout,
            )
            self._auth.connectors.remember(key, client)
        return client


class ChannelAuthentication(BotFrameworkAuthentication):
    """Delegates to the SDK's authentication; refuses every unverifiable token with 401."""

    def __init__(
        self,
        inner: BotFrameworkAuthentication,
        credentials: ServiceClientCredentialsFactory,
        session: Callable[[], aiohttp.ClientSession],
        timeout: float,
    ):
        self._inner = inner
        self.credentials = credentials
        self.session = session
        self.timeout = timeout
        self.connectors = _Bounded()
        self._token_clients = _Bounded(64)

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        require_expiry(auth_header)
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as exc:  # noqa: BLE001 - malformed/unknown-key tokens must be 401, not 500
            raise PermissionError(f"token rejected: {type(exc).__name__}") from exc
        result.connector_factory = _ReusingConnectorFactory(
            result.connector_factory, self, _app_id(result.claims_identity)
        )
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):  # type: ignore[no-untyped-def]
        require_expiry(auth_header)
        try:
            return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)
        except PermissionError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PermissionError(f"token rejected: {type(exc).__name__}") from exc

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        inner = self._inner.create_connector_factory(claims_identity)
        return _ReusingConnectorFactory(inner, self, _app_id(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = _app_id(claims_identity)
        client = self._token_clients.get(key)
        if client is None:
            client = self._token_clients.remember(
                key, await self._inner.create_user_token_client(claims_identity)
            )
        return client

    def create_bot_framework_client(self):  # type: ignore[no-untyped-def]
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        require_expiry(auth_header)
        return await self._inner.authenticate_channel_request(auth_header)


def channel_authentication(
    settings: Settings, session: Callable[[], aiohttp.ClientSession]
) -> ChannelAuthentication:
    """The SDK's authentication for these settings (public cloud, or the configured endpoints)."""
    password = settings.microsoft_app_password.get_secret_value()
    tenant = settings.microsoft_app_tenant_id or None
    credentials = PasswordServiceClientCredentialFactory(
        app_id=settings.microsoft_app_id or None,
        password=password or None,
        tenant_id=tenant if settings.microsoft_app_type is AppType.SINGLE_TENANT else None,
    )
    if settings.openid_metadata_url:
        inner = BotFrameworkAuthenticationFactory.create(
            to_channel_from_bot_login_url=_PUBLIC_LOGIN_URL,
            to_channel_from_bot_oauth_scope=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            to_bot_from_channel_token_issuer=settings.token_issuer
            or AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            oauth_url=AuthenticationConstants.OAUTH_URL,
            to_bot_from_channel_open_id_metadata_url=settings.openid_metadata_url,
            to_bot_from_emulator_open_id_metadata_url=settings.openid_metadata_url,
            caller_id="urn:botframework:azure",
            credential_factory=credentials,
        )
    else:
        inner = BotFrameworkAuthenticationFactory.create(credential_factory=credentials)
    return ChannelAuthentication(inner, credentials, session, settings.outbound_timeout)


def malformed(activity: Activity) -> str:
    """What makes this activity unprocessable ("" when nothing): checked before any token or turn work.

    `bot.wire` checks the JSON's shape against the schema's models but passes `str` fields through
    as whatever JSON they hold; the SDK and the pipeline then fail on them as server errors.
    """
    if not isinstance(activity.type, str) or not activity.type:
        return "type is required"
    if not _channel_url(activity.service_url):
        return "serviceUrl must be an http(s) URL"
    for part, what in ((activity.conversation, "conversation"), (activity.from_property, "from")):
        if part is None or not isinstance(part.id, str) or not part.id:
            return f"{what}.id is required"
    return _mistyped_string(activity, "activity")


def _channel_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        url = URL(value)
    except (ValueError, TypeError):
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def _mistyped_string(model: Model, path: str) -> str:
    """The first field the schema declares a string that holds something else, or ""."""
    for attr, meta in model._attribute_map.items():
        value = getattr(model, attr, None)
        kind = meta["type"]
        if value is None:
            continue
        if kind == "str" and not isinstance(value, str):
            return f"{path}.{meta['key']} must be a string"
        nested = value if isinstance(value, list) else [value]
        for item in nested:
            if isinstance(item, Model):
                found = _mistyped_string(item, f"{path}.{meta['key']}")
                if found:
                    return found
    return ""


class K8orAdapter(CloudAdapter):
    """CloudAdapter with strict request handling and outbound latency metrics."""

    def __init__(self, authentication: BotFrameworkAuthentication, metrics: BotMetrics):
        super().__init__(authentication)
        self._metrics = metrics
        self.on_turn_error = self._on_turn_error

    async def process(self, request: web.Request, bot: Bot, ws_response: Any = None) -> web.Response:  # type: ignore[override]
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise web.HTTPUnsupportedMediaType(text="expected application/json")
        try:
            body = orjson.loads(await read_bytes(request, "body is not a Bot Framework activity"))
            activity = from_wire(Activity, body)
        except (ValueError, TypeError):  # includes WireError and orjson.JSONDecodeError
            raise web.HTTPBadRequest(text="body is not a Bot Framework activity") from None
        problem = malformed(activity)
        if problem:
            raise web.HTTPBadRequest(text=f"body is not a Bot Framework activity: {problem}")
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke_response = await self.process_activity(auth_header, activity, bot.on_turn)
        except PermissionError:
            raise web.HTTPUnauthorized(text="unauthorized") from None
        if invoke_response and invoke_response.status == HTTPStatus.NOT_IMPLEMENTED:
            # The SDK's answer when no handler took the invoke: a request k8or does not serve, not a fault.
            raise web.HTTPBadRequest(text="k8or does not handle this invoke activity")
        if invoke_response:
            return web.json_response(data=invoke_response.body, status=invoke_response.status)
        return web.Response(status=201)

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        if not activities:  # all of them held until the turn's work is done (`bot.context.HeldReplies`)
            return []
        return await self._timed("channel.send", super().send_activities(context, activities))

    async def update_activity(self, context: TurnContext, activity: Activity):  # type: ignore[no-untyped-def]
        return await self._timed("channel.update", super().update_activity(context, activity))

    async def _timed(self, target: str, call: Any) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await call
        except Exception:
            outcome = "error"
            raise
        finally:
            self._metrics.outbound_seconds.labels(target, outcome).observe(time.perf_counter() - started)

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        # The pipeline answers its own errors; this only sees failures outside it.
        log.error("unhandled turn error", exc_info=error)
