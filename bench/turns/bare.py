"""The ceiling: a bare aiohttp handler that parses the activity and posts one reply.

Run: python -m bench.turns.bare PORT
"""

from __future__ import annotations

import sys

import aiohttp
from aiohttp import web


def make_app() -> web.Application:
    app = web.Application()

    async def session_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        app["http"] = aiohttp.ClientSession()
        yield
        await app["http"].close()

    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        conv = activity["conversation"]["id"]
        url = f"{activity['serviceUrl']}v3/conversations/{conv}/activities/{activity['id']}"
        reply = {"type": "message", "text": f"Echo: {activity.get('text', '')}", "replyToId": activity["id"]}
        async with request.app["http"].post(url, json=reply) as response:
            await response.read()
        return web.Response(status=201)

    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", lambda _r: web.Response(text="ok"))
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
