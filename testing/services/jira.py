"""Fake Jira (Cloud and Server/DC): GET /rest/api/2/myself, GET /rest/api/2/issue/{key}, and an
issue's comments (POST …/comment) and transitions (GET and POST …/transitions).

Issues are the recorded `jira_issue` shape; `fields=a,b` returns only those fields, as Jira does.
Transitions are the recorded `jira_transitions`; taking one moves the issue to its `to` status.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import secrets
from typing import Any

from aiohttp import web

from testing.services.faults import (
    ErrorShape,
    Fault,
    FaultSwitch,
    bearer,
    fault_middleware,
    json_error,
    load,
)

SHAPES = {
    Fault.UNAUTHORIZED: json_error(401, load("jira_unauthorized")),
    Fault.FORBIDDEN: json_error(403, load("jira_forbidden")),
    Fault.EXPIRED: ErrorShape(
        401,
        '{"errorMessages": ["API token expired"], "errors": {}}',
        {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="token expired"'},
    ),
    Fault.RATE_LIMITED: json_error(
        429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, **{"Retry-After": "7"}
    ),
}


@dataclasses.dataclass
class JiraState:
    switch: FaultSwitch = dataclasses.field(default_factory=FaultSwitch)
    cloud_tokens: dict[str, str] = dataclasses.field(default_factory=dict)  # API token → email
    server_tokens: set[str] = dataclasses.field(default_factory=set)
    issues: dict[str, dict[str, Any]] = dataclasses.field(
        default_factory=lambda: {"PROJ-123": load("jira_issue")}
    )
    reads: list[str] = dataclasses.field(default_factory=list)  # issue keys asked for
    comments: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (key, who, body)
    transitioned: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (key, transition id)

    def add_issue(self, key: str, summary: str, status: str, assignee: str | None = None) -> None:
        """An issue shaped like the recorded one, with its own key, summary, status and assignee."""
        issue = copy.deepcopy(load("jira_issue"))
        issue["key"], issue["fields"]["summary"] = key, summary
        issue["fields"]["status"]["name"] = status
        issue["fields"]["fixVersions"] = []
        if assignee is None:
            issue["fields"]["assignee"] = None
        else:
            issue["fields"]["assignee"]["displayName"] = assignee
        self.issues[key] = issue

    def issue_cloud_token(self, email: str = "ada@example.com") -> str:
        token = "ATATT3x" + secrets.token_urlsafe(24)
        self.cloud_tokens[token] = email
        return token

    def issue_server_token(self) -> str:
        token = "NjE2" + secrets.token_urlsafe(24)
        self.server_tokens.add(token)
        return token


def create_app(state: JiraState) -> web.Application:
    """The fake's aiohttp app, rooted at the site URL a person enters."""
    app = web.Application(middlewares=[fault_middleware(state.switch, SHAPES)])
    app.router.add_get("/rest/api/2/myself", lambda r: _myself(r, state))
    app.router.add_get("/rest/api/2/issue/{key}", lambda r: _issue(r, state))
    app.router.add_post("/rest/api/2/issue/{key}/comment", lambda r: _comment(r, state))
    app.router.add_get("/rest/api/2/issue/{key}/transitions", lambda r: _transitions(r, state))
    app.router.add_post("/rest/api/2/issue/{key}/transitions", lambda r: _transition(r, state))
    return app


def _email(request: web.Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return base64.b64decode(value).decode().partition(":")[0] if scheme.lower() == "basic" else "pat"


def _who(request: web.Request, state: JiraState) -> str | None:
    """'cloud', 'server' or None for the request's credentials."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        email, _, token = base64.b64decode(value).decode().partition(":")
        return "cloud" if state.cloud_tokens.get(token) == email else None
    return "server" if bearer(request) in state.server_tokens else None


def _unauthorized() -> web.Response:
    return web.json_response(load("jira_unauthorized"), status=401)


async def _myself(request: web.Request, state: JiraState) -> web.Response:
    who = _who(request, state)
    if who is None:
        return _unauthorized()
    return web.json_response(load(f"jira_myself_{who}"))


async def _issue(request: web.Request, state: JiraState) -> web.Response:
    if _who(request, state) is None:
        return _unauthorized()
    key = request.match_info["key"]
    state.reads.append(key)
    issue = state.issues.get(key)
    if issue is None:
        return web.json_response(load("jira_issue_not_found"), status=404)
    wanted = [f for f in request.query.get("fields", "").split(",") if f]
    fields = {k: v for k, v in issue["fields"].items() if not wanted or k in wanted}
    return web.json_response({**issue, "fields": fields})


def _known(request: web.Request, state: JiraState) -> tuple[web.Response | None, dict[str, Any]]:
    """(an error answer, or None) and the issue the path names."""
    if _who(request, state) is None:
        return _unauthorized(), {}
    issue = state.issues.get(request.match_info["key"])
    if issue is None:
        return web.json_response(load("jira_issue_not_found"), status=404), {}
    return None, issue


async def _comment(request: web.Request, state: JiraState) -> web.Response:
    refused, issue = _known(request, state)
    if refused is not None:
        return refused
    body = await request.json()
    if not isinstance(body.get("body"), str) or not body["body"]:
        return web.json_response(
            {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}}, status=400
        )
    state.comments.append((issue["key"], _email(request), body["body"]))
    comment = load("jira_comment")
    comment["id"], comment["body"] = str(10455 + len(state.comments)), body["body"]
    return web.json_response(comment, status=201)


async def _transitions(request: web.Request, state: JiraState) -> web.Response:
    refused, _issue = _known(request, state)
    return refused or web.json_response(load("jira_transitions"))


async def _transition(request: web.Request, state: JiraState) -> web.Response:
    refused, issue = _known(request, state)
    if refused is not None:
        return refused
    wanted = str((await request.json()).get("transition", {}).get("id", ""))
    offered = {t["id"]: t for t in load("jira_transitions")["transitions"]}
    if wanted not in offered:
        return web.json_response(
            {"errorMessages": ["Transition id '" + wanted + "' is not valid for this issue."], "errors": {}},
            status=400,
        )
    state.transitioned.append((issue["key"], wanted))
    issue["fields"]["status"] = copy.deepcopy(offered[wanted]["to"])
    return web.Response(status=204)
