"""Switchable failure modes shared by the fake services.

A `FaultSwitch` sits in each fake app's middleware. Tests flip it to make the service answer 401,
403, an expired-token 401, 429 with Retry-After, a body that is not JSON, an answer too slow to wait
for, or a dropped connection; `delay` adds latency to every request (the auth benchmark uses it).
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

RESPONSES = Path(__file__).parent / "responses"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Fault(enum.Enum):
    NONE = "none"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    EXPIRED = "expired"
    RATE_LIMITED = "rate_limited"
    SLOW = "slow"
    MALFORMED = "malformed"
    DOWN = "down"


@dataclasses.dataclass
class FaultSwitch:
    """What the fake does to the next requests; mutate it from tests."""

    fault: Fault = Fault.NONE
    delay: float = 0.0
    retry_after: int = 7
    slow_seconds: float = 30.0
    requests: int = 0
    only_paths: tuple[str, ...] = ()  # path prefixes the faults apply to; empty: every path


@dataclasses.dataclass(frozen=True)
class ErrorShape:
    """How one service words an error: status, body and headers."""

    status: int
    body: str
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    content_type: str = "application/json"


def json_error(status: int, body: Any, **headers: str) -> ErrorShape:
    """An ErrorShape with a JSON body."""
    return ErrorShape(status, json.dumps(body), headers)


BEARER_EXPIRED = {
    "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The access token expired"'
}
MALFORMED_BODY = '{"id": 1, "login": '  # truncated JSON, as from a proxy cutting a response


def load(name: str) -> Any:
    """A recorded sample payload from responses/<name>.json."""
    return json.loads((RESPONSES / f"{name}.json").read_text())


def fault_middleware(switch: FaultSwitch, shapes: Mapping[Fault, ErrorShape]) -> Any:
    """Middleware applying `switch` before the real handler; `shapes` words the errors per service."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        switch.requests += 1
        if switch.delay:
            await asyncio.sleep(switch.delay)
        fault = switch.fault
        if switch.only_paths and not request.path.startswith(switch.only_paths):
            fault = Fault.NONE
        if fault is Fault.NONE:
            return await handler(request)
        if fault is Fault.SLOW:
            await asyncio.sleep(switch.slow_seconds)
            return await handler(request)
        if fault is Fault.DOWN:
            # Drop the connection without an answer, as a crashed upstream behind a load balancer does.
            if request.transport is not None:
                request.transport.close()
            raise ConnectionResetError("fake service is down")
        return _respond(shapes.get(fault) or _DEFAULT_SHAPES[fault], switch)

    return middleware


def _respond(shape: ErrorShape, switch: FaultSwitch) -> web.Response:
    headers = dict(shape.headers)
    if shape.status == 429 or "Retry-After" in headers:
        headers["Retry-After"] = str(switch.retry_after)
    return web.Response(
        status=shape.status, text=shape.body, headers=headers, content_type=shape.content_type
    )


_DEFAULT_SHAPES = {
    Fault.UNAUTHORIZED: json_error(401, {"message": "Unauthorized"}),
    Fault.FORBIDDEN: json_error(403, {"message": "Forbidden"}),
    Fault.EXPIRED: ErrorShape(401, json.dumps({"message": "Token expired"}), BEARER_EXPIRED),
    Fault.RATE_LIMITED: json_error(429, {"message": "Too Many Requests"}, **{"Retry-After": "7"}),
    Fault.MALFORMED: ErrorShape(200, MALFORMED_BODY),
}


def bearer(request: web.Request) -> str:
    """The token from `Authorization: Bearer …` or GitHub's `token …`, or ''."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() in ("bearer", "token") else ""
