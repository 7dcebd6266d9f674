"""The channel the replicas answer to (their `serviceUrl`): it counts what reaches it.

The Bot Connector calls a reply or an edit makes, as `testing.chat.channel.FakeChannel` serves them:
  POST /v3/conversations/{c}/activities/{id}   a reply to activity {id}: counted as its answer
  POST /v3/conversations/{c}/activities        a message to the conversation (a job's own reply)
  PUT  /v3/conversations/{c}/activities/{id}   an edit of message {id} (a progress message)
Every POST creates a message; a PUT edits one. The load's turns are counted by the activity id they
answer; the job conversations (`WATCHED` prefix) keep every call, in order, with its time.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

WATCHED = "ops-"  # conversations whose every call is kept (the jobs'); the load's are only counted


@dataclass(frozen=True)
class ChannelCall:
    """One call a replica made to the channel: a message created (POST) or edited (PUT)."""

    method: str
    message_id: str  # the message created (its new id) or edited
    reply_to: str  # the activity a reply answers; empty for a message to the conversation
    text: str
    at: float  # time.perf_counter() when it arrived

    @property
    def created(self) -> bool:
        return self.method == "POST"


@dataclass
class Recorder:
    """Replies counted by the activity they answer; the first of each resolves its waiter."""

    answers: Counter[str] = field(default_factory=Counter)
    first_answer: dict[str, float] = field(default_factory=dict)
    first_answer_wall: dict[str, float] = field(default_factory=dict)  # time.time(), for bench.ha.exposure
    watched: dict[str, list[ChannelCall]] = field(default_factory=dict)
    _waiters: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._edit)
        return app

    def expect(self, activity_id: str) -> asyncio.Future[float]:
        """A future resolved with the arrival time of the first reply to `activity_id`."""
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if activity_id in self.first_answer:
            waiter.set_result(self.first_answer[activity_id])
        else:
            self._waiters[activity_id] = waiter
        return waiter

    def calls(self, conversation: str) -> list[ChannelCall]:
        return list(self.watched.get(conversation, ()))

    async def _reply(self, request: web.Request) -> web.Response:
        wall, now = time.time(), time.perf_counter()  # the moment the reply is counted: taken first
        body = await request.json()
        activity_id = request.match_info["activity"]
        self.answers[activity_id] += 1
        if activity_id not in self.first_answer:
            self.first_answer[activity_id], self.first_answer_wall[activity_id] = now, wall
            waiter = self._waiters.pop(activity_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
        return self._keep(request, "POST", f"m-{next(self._ids)}", activity_id, body, now)

    async def _send(self, request: web.Request) -> web.Response:
        now, body = time.perf_counter(), await request.json()
        return self._keep(request, "POST", f"m-{next(self._ids)}", "", body, now)

    async def _edit(self, request: web.Request) -> web.Response:
        now, body = time.perf_counter(), await request.json()
        return self._keep(request, "PUT", request.match_info["activity"], "", body, now)

    def _keep(
        self, request: web.Request, method: str, message_id: str, reply_to: str, body: dict, now: float
    ) -> web.Response:
        conversation = request.match_info["conversation"]
        if conversation.startswith(WATCHED):
            call = ChannelCall(method, message_id, reply_to, body.get("text") or "", now)
            self.watched.setdefault(conversation, []).append(call)
        return web.json_response({"id": message_id})
