"""A round-robin HTTP load balancer in front of the replicas, as a Service or an ingress would be.

Each POST to /api/messages goes to the next replica in turn. A replica that refuses the connection
or drops it is passed over for `DOWN_FOR` seconds (a passive health check); the request that found
it dead is answered 502 and not retried here (a POST is not idempotent to a proxy): the channel
redelivers it. `route(activity_id)` tells the load generator which replica got an activity, so it
can redeliver that activity to the other one.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field

import aiohttp
import orjson
from aiohttp import web

DOWN_FOR = 1.0  # seconds a replica that failed a connection is left out of the rotation
TIMEOUT = aiohttp.ClientTimeout(total=120)  # a redelivery may wait out a dead replica's lease


@dataclass
class Backend:
    name: str
    url: str  # the replica's /api/messages
    down_until: float = 0.0
    in_flight: set[str] = field(default_factory=set)  # activities handed to it, not yet answered


@dataclass
class RoundRobin:
    """The balancer: `start()` serves it on 127.0.0.1:<port 0>; `url` is its /api/messages."""

    backends: list[Backend]
    url: str = ""
    failed: int = 0  # requests answered 502 because their replica was unreachable
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _routes: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    _session: aiohttp.ClientSession | None = None
    _runner: web.AppRunner | None = None

    async def start(self) -> RoundRobin:
        app = web.Application()
        app.router.add_post("/api/messages", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/messages"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=TIMEOUT, auto_decompress=False
        )
        return self

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def route(self, activity_id: str) -> asyncio.Future[str]:
        """The name of the replica the balancer hands `activity_id` to (resolved when it does)."""
        return self._routes.setdefault(activity_id, asyncio.get_running_loop().create_future())

    def _pick(self) -> Backend:
        now = time.monotonic()
        for _ in range(len(self.backends)):
            backend = self.backends[next(self._turn) % len(self.backends)]
            if backend.down_until <= now:
                return backend
        return self.backends[next(self._turn) % len(self.backends)]  # all down: try one anyway

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        backend = self._pick()
        activity_id = str(orjson.loads(body).get("id", ""))
        route = self._routes.pop(activity_id, None)
        if route is not None and not route.done():
            route.set_result(backend.name)
        assert self._session is not None
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        backend.in_flight.add(activity_id)
        try:
            async with self._session.post(backend.url, data=body, headers=headers) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except (TimeoutError, aiohttp.ClientConnectionError):
            backend.down_until = time.monotonic() + DOWN_FOR
            self.failed += 1
            return web.Response(status=502, text=f"replica {backend.name} unreachable")
        finally:
            backend.in_flight.discard(activity_id)

    def in_flight(self, name: str) -> set[str]:
        """The activities the replica `name` holds now: handed to it and not answered yet."""
        return {a for backend in self.backends if backend.name == name for a in backend.in_flight}
