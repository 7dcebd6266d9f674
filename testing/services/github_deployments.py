"""The fake GitHub's Deployments API, as `GET/POST /repos/{o}/{r}/deployments` and
`POST …/deployments/{id}/statuses` answer (docs.github.com/rest/deployments): the recorded
`github_deployment` and `github_deployment_status` shapes, listed newest first, a ref that is not a
commit of the repository's history refused with 422, and only the documented states accepted.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from aiohttp import web

from testing.services.faults import load
from testing.services.github_history import NOT_FOUND

STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")


@dataclasses.dataclass
class Deployment:
    """One deployment the fake holds, with the statuses posted to it, oldest first."""

    id: int
    repository: str
    sha: str
    environment: str
    description: str
    request: dict[str, Any]
    statuses: list[str] = dataclasses.field(default_factory=list)

    @property
    def state(self) -> str:
        return self.statuses[-1] if self.statuses else "pending"


def add_routes(app: web.Application, state: Any, authed: Any) -> None:
    """Register the Deployments API on the fake's app; `authed` checks the token first."""
    base = "/repos/{owner}/{repo}/deployments"
    app.router.add_post(base, lambda r: authed(r, state, _create))
    app.router.add_get(base, lambda r: authed(r, state, _list))
    app.router.add_get(base + "/{id:[0-9]+}", lambda r: authed(r, state, _one))
    app.router.add_post(base + "/{id:[0-9]+}/statuses", lambda r: authed(r, state, _status))


def _repository(request: web.Request) -> str:
    return f"{request.match_info['owner']}/{request.match_info['repo']}"


def _body(request: web.Request, deployment: Deployment) -> dict[str, Any]:
    api = f"{request.url.origin()}/repos/{deployment.repository}"
    body = copy.deepcopy(load("github_deployment"))
    body.update(
        id=deployment.id,
        url=f"{api}/deployments/{deployment.id}",
        sha=deployment.sha,
        ref=deployment.request["ref"],
        environment=deployment.environment,
        original_environment=deployment.environment,
        description=deployment.description,
        statuses_url=f"{api}/deployments/{deployment.id}/statuses",
        repository_url=api,
    )
    return body


async def _create(request: web.Request, state: Any) -> web.Response:
    repository, body = _repository(request), await request.json()
    history = state.histories.get(repository)
    sha = history.resolve(str(body.get("ref", ""))) if history else None
    if sha is None:
        failed = {"message": f"No ref found for: {body.get('ref')}", "status": "422"}
        return web.json_response(failed, status=422)
    deployment = Deployment(
        id=len(state.deployments) + 1,
        repository=repository,
        sha=sha,
        environment=str(body.get("environment") or "production"),
        description=str(body.get("description") or ""),
        request=body,
    )
    state.deployments.append(deployment)
    return web.json_response(_body(request, deployment), status=201)


async def _list(request: web.Request, state: Any) -> web.Response:
    environment = request.query.get("environment")
    found = [
        d
        for d in reversed(state.deployments)
        if d.repository == _repository(request) and environment in (None, d.environment)
    ]
    return web.json_response([_body(request, d) for d in found])


def _find(request: web.Request, state: Any) -> Deployment | None:
    wanted = int(request.match_info["id"])
    return next(
        (d for d in state.deployments if d.id == wanted and d.repository == _repository(request)), None
    )


async def _one(request: web.Request, state: Any) -> web.Response:
    deployment = _find(request, state)
    if deployment is None:
        return web.json_response(NOT_FOUND, status=404)
    return web.json_response(_body(request, deployment))


async def _status(request: web.Request, state: Any) -> web.Response:
    deployment, body = _find(request, state), await request.json()
    if deployment is None:
        return web.json_response(NOT_FOUND, status=404)
    if body.get("state") not in STATES:
        return web.json_response({"message": "Validation Failed", "status": "422"}, status=422)
    deployment.statuses.append(body["state"])
    status = copy.deepcopy(load("github_deployment_status"))
    api = f"{request.url.origin()}/repos/{deployment.repository}"
    status.update(
        id=len(deployment.statuses),
        state=body["state"],
        description=str(body.get("description") or ""),
        environment=deployment.environment,
        deployment_url=f"{api}/deployments/{deployment.id}",
        repository_url=api,
    )
    return web.json_response(status, status=201)
