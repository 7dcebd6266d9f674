"""Slack's Web API on port 0, for the real slack_sdk client: the methods k8or calls.

Bodies follow api.slack.com/methods: every answer has `ok`, postMessage answers `channel`, `ts` and
`message`, users.info answers `user.profile.email`, usergroups.list answers `usergroups[]` with
`id`, `team_id`, `handle`, `name` and (with include_users) `users`.

Files go the way `files_upload_v2` sends them (api.slack.com/messaging/files#upload): the method
`files.getUploadURLExternal` (filename, length) answers an `upload_url` and a `file_id`; the bytes
are POSTed to that URL (200 `OK - <length>`); `files.completeUploadExternal` (`files` as JSON,
`channel_id`, `thread_ts`) shares them, and answers `files[]`. A file whose bytes never arrived, or
arrived at another length than announced, is refused there (`file_not_found`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web


@dataclass
class FakeSlack:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)
    usergroups: list[dict[str, Any]] = field(default_factory=list)  # see `usergroup()`
    #: Files shared: name, content, channel and thread, in the order they were completed.
    files: list[dict[str, Any]] = field(default_factory=list)
    #: Scopes the bot token lacks (`files:write`: the upload methods answer missing_scope).
    missing_scopes: set[str] = field(default_factory=set)
    #: The upload URL answers 500, as files.slack.com does in an outage.
    uploads_fail: bool = False
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _uploads: dict[str, dict[str, Any]] = field(default_factory=dict)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._method)
        app.router.add_get("/api/{method}", self._method)
        app.router.add_post("/upload/v1/{file_id}", self._upload, name="upload")
        return app

    async def _upload(self, request: web.Request) -> web.Response:
        upload = self._uploads.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        if self.uploads_fail:
            return web.Response(status=500, text="upload failed")
        upload["content"] = await request.read()
        return web.Response(text=f"OK - {len(upload['content'])}")

    def _files(self, method: str, args: dict[str, Any], request: web.Request) -> dict[str, Any]:
        if "files:write" in self.missing_scopes:
            return {"ok": False, "error": "missing_scope", "needed": "files:write"}
        if method == "files.getUploadURLExternal":
            if not args.get("filename") or not str(args.get("length", "")).isdigit():
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{len(self._uploads) + 1:06d}"
            length = int(args["length"])
            self._uploads[file_id] = {"name": args["filename"], "length": length, "content": None}
            url = str(request.url.origin().join(request.app.router["upload"].url_for(file_id=file_id)))
            return {"ok": True, "upload_url": url, "file_id": file_id}
        shared = []
        try:
            files = json.loads(args["files"])
        except (KeyError, ValueError):
            return {"ok": False, "error": "invalid_arguments"}
        for item in files:
            upload = self._uploads.get(item["id"])
            if upload is None or upload["content"] is None or len(upload["content"]) != upload["length"]:
                return {"ok": False, "error": "file_not_found"}
            self.files.append(
                {
                    "id": item["id"],
                    "name": upload["name"],
                    "title": item.get("title", upload["name"]),
                    "content": upload["content"].decode(errors="replace"),
                    "channel": args.get("channel_id"),
                    "thread_ts": args.get("thread_ts"),
                    "initial_comment": args.get("initial_comment"),
                }
            )
            shared.append({"id": item["id"], "title": item.get("title", upload["name"])})
        return {"ok": True, "files": shared}

    async def _method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(parse_qsl((await request.read()).decode()))
        args.update(request.query)
        if request.headers.get("Authorization") != "Bearer xoxb-test-token":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        self.calls.append((method, args))
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            return web.json_response(
                {
                    "ok": True,
                    "channel": args["channel"],
                    "ts": ts,
                    "message": {"text": args.get("text", ""), "ts": ts},
                }
            )
        if method == "chat.postEphemeral":
            return web.json_response({"ok": True, "message_ts": f"1700000000.{next(self._ts):06d}"})
        if method == "users.info":
            user = args["user"]
            return web.json_response(
                {"ok": True, "user": {"id": user, "profile": {"email": self.emails.get(user, "")}}}
            )
        if method == "usergroups.list":
            return web.json_response({"ok": True, "usergroups": self.usergroups})
        if method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
            return web.json_response(self._files(method, args, request))
        return web.json_response({"ok": False, "error": "unknown_method"})

    def rename(self, group_id: str, handle: str) -> None:
        """What any member may do in Slack: give a user group another handle."""
        for group in self.usergroups:
            if group["id"] == group_id:
                group.update(handle=handle, name=handle)

    def sent(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.sent(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} called {len(self.sent(method))} times, expected {count}")
            await asyncio.sleep(0.02)
        return self.sent(method)


def usergroup(group_id: str, handle: str, users: list[str], team: str = "T1") -> dict[str, Any]:
    """A user group as usergroups.list answers it."""
    return {"id": group_id, "team_id": team, "handle": handle, "name": handle, "users": users}


def signed(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends: v0 HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    ts = str(timestamp or int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def button_press_body(
    action: dict[str, Any], message_ts: str, user: str = "U1", channel: str = "C1"
) -> bytes:
    """What Slack posts to the interactivity URL when someone presses a Block Kit button
    (`block_actions`, form-encoded under `payload`)."""
    payload = {
        "type": "block_actions",
        "trigger_id": "t1",
        "team": {"id": "T1"},
        "user": {"id": user},
        "channel": {"id": channel},
        "message": {"ts": message_ts},
        "actions": [{"action_id": action["action_id"], "value": action["value"]}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def event_body(
    text: str,
    *,
    user: str = "U1",
    channel: str = "C1",
    channel_type: str = "channel",
    kind: str = "app_mention",
    event_id: str = "Ev1",
) -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": event_id,
            "event": {
                "type": kind,
                "user": user,
                "text": text,
                "channel": channel,
                "channel_type": channel_type,
                "ts": "1700000000.000100",
            },
        }
    ).encode()
