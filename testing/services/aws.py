"""Fake AWS: moto in server mode behind a small aiohttp front.

The front forwards every AWS API call to moto (STS GetCallerIdentity, AssumeRole, IAM, …), applies the
`FaultSwitch` with STS-shaped XML errors, and serves the two services moto lacks: IAM Identity Center
OIDC (sso-oidc: RegisterClient, StartDeviceAuthorization, CreateToken) and the SSO portal's
GetRoleCredentials.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import time
from typing import Any

import aiohttp
from aiohttp import web

from testing.services.faults import ErrorShape, Fault, FaultSwitch, fault_middleware, load

STS_ERROR = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>{code}</Code><Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
)
XML = "text/xml"


def sts_error(status: int, code: str, message: str) -> ErrorShape:
    body = STS_ERROR.format(code=code, message=message, request_id="c6104cbe-af31-11e0-8154-cbc7ccf896c7")
    return ErrorShape(status, body, content_type=XML)


SHAPES = {
    Fault.UNAUTHORIZED: sts_error(
        403, "InvalidClientTokenId", "The security token included in the request is invalid."
    ),
    Fault.FORBIDDEN: sts_error(
        403, "AccessDenied", "User is not authorized to perform: sts:GetCallerIdentity"
    ),
    Fault.EXPIRED: sts_error(400, "ExpiredToken", "The security token included in the request is expired"),
    Fault.RATE_LIMITED: sts_error(400, "Throttling", "Rate exceeded"),
    Fault.MALFORMED: ErrorShape(
        200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>", content_type=XML
    ),
}
CREDENTIAL = re.compile(r"Credential=([A-Z0-9]+)/")


@dataclasses.dataclass
class AwsState:
    moto_url: str
    switch: FaultSwitch = dataclasses.field(default_factory=FaultSwitch)
    revoked_keys: set[str] = dataclasses.field(default_factory=set)
    role_credentials: dict[str, Any] = dataclasses.field(
        default_factory=dict
    )  # what GetRoleCredentials returns
    clients: dict[str, str] = dataclasses.field(default_factory=dict)  # clientId → clientSecret
    devices: dict[str, str] = dataclasses.field(default_factory=dict)  # deviceCode → pending|approved|denied
    sso_tokens: set[str] = dataclasses.field(default_factory=set)


def create_app(state: AwsState) -> web.Application:
    app = web.Application(middlewares=[fault_middleware(state.switch, SHAPES), _revoked(state)])
    app.router.add_post("/client/register", lambda r: _register(r, state))
    app.router.add_post("/device_authorization", lambda r: _device_authorization(r, state))
    app.router.add_post("/token", lambda r: _create_token(r, state))
    app.router.add_get("/federation/credentials", lambda r: _role_credentials(r, state))
    app.router.add_route("*", "/{tail:.*}", lambda r: _forward(r, state))
    return app


def _revoked(state: AwsState) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        match = CREDENTIAL.search(request.headers.get("Authorization", ""))
        if match and match.group(1) in state.revoked_keys:
            shape = SHAPES[Fault.UNAUTHORIZED]
            return web.Response(status=shape.status, text=shape.body, content_type=XML)
        return await handler(request)

    return middleware


async def _forward(request: web.Request, state: AwsState) -> web.StreamResponse:
    headers = {
        k: v for k, v in request.headers.items() if k.lower() not in ("content-length", "transfer-encoding")
    }
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            request.method,
            state.moto_url + request.rel_url.path_qs,
            headers=headers,
            data=await request.read(),
        ) as upstream,
    ):
        body = await upstream.read()
        kept = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower()
            not in ("content-length", "transfer-encoding", "content-encoding", "connection", "server", "date")
        }
        return web.Response(status=upstream.status, body=body, headers=kept)


def _oidc_error(code: str, status: int = 400) -> web.Response:
    # rest-json: botocore reads the error code from x-amzn-ErrorType.
    body = {"error": code.removesuffix("Exception"), "error_description": code}
    return web.json_response(body, status=status, headers={"x-amzn-ErrorType": code})


async def _register(request: web.Request, state: AwsState) -> web.Response:
    body = load("sso_oidc_register_client")
    body["clientId"] = secrets.token_urlsafe(16)
    body["clientSecret"] = secrets.token_urlsafe(32)
    state.clients[body["clientId"]] = body["clientSecret"]
    return web.json_response(body)


async def _device_authorization(request: web.Request, state: AwsState) -> web.Response:
    form = await request.json()
    if state.clients.get(form.get("clientId")) != form.get("clientSecret"):
        return _oidc_error("InvalidClientException", 401)
    body = load("sso_oidc_device_authorization")
    body["deviceCode"] = secrets.token_urlsafe(24)
    body["interval"] = 0
    state.devices[body["deviceCode"]] = "pending"
    return web.json_response(body)


async def _create_token(request: web.Request, state: AwsState) -> web.Response:
    form = await request.json()
    if state.clients.get(form.get("clientId")) != form.get("clientSecret"):
        return _oidc_error("InvalidClientException", 401)
    status = state.devices.get(form.get("deviceCode", ""))
    if status == "pending":
        return _oidc_error("AuthorizationPendingException")
    if status == "denied":
        return _oidc_error("AccessDeniedException")
    if status != "approved":
        return _oidc_error("ExpiredTokenException")
    token = secrets.token_urlsafe(32)
    state.sso_tokens.add(token)
    return web.json_response({"accessToken": token, "tokenType": "Bearer", "expiresIn": 28800})


async def _role_credentials(request: web.Request, state: AwsState) -> web.Response:
    if request.headers.get("x-amz-sso_bearer_token") not in state.sso_tokens:
        return _oidc_error("UnauthorizedException", 401)
    body = load("sso_role_credentials")
    body["roleCredentials"] = {**state.role_credentials, "expiration": int((time.time() + 3600) * 1000)}
    return web.json_response(body)
