"""What sits on k8or's own network and must never be reached through a person-typed site.

An "admin" HTTP endpoint that answers a secret at exactly /admin/secret, and a bare TCP listener.
Both record everything that reaches them, so SSRF tests can assert that nothing did.
"""

from __future__ import annotations

import asyncio
import dataclasses

from aiohttp import web

SECRET = {"name": "root", "displayName": "SECRET-ADMIN-PANEL", "accountId": "internal-only"}


@dataclasses.dataclass
class InternalState:
    """Requests (path and query) the admin endpoint saw, and connections the TCP listener took."""

    requests: list[str] = dataclasses.field(default_factory=list)
    connections: int = 0


def create_admin_app(state: InternalState) -> web.Application:
    """Answers the secret at /admin/secret (any query), 404 anywhere else; records every request."""

    async def anything(request: web.Request) -> web.Response:
        state.requests.append(request.path_qs)
        if request.path == "/admin/secret":
            return web.json_response(SECRET)
        return web.json_response({"errorMessages": ["not found"]}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", anything)
    return app


def create_redirecting_app(target: str) -> web.Application:
    """A site that answers every request with a redirect to `target` (another origin)."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(target)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    return app


async def listen_raw(state: InternalState) -> tuple[asyncio.Server, int]:
    """A TCP listener on 127.0.0.1, port 0, that counts connections and closes them at once."""

    async def taken(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        writer.close()

    server = await asyncio.start_server(taken, host="127.0.0.1", port=0)
    return server, server.sockets[0].getsockname()[1]
