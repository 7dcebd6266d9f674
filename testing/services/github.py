"""Fake GitHub: REST `/user`, the OAuth device flow, the endpoints `open_pull_request` and
`download_repository` use, (testing/services/github_history.py) search, pull requests and compare,
and (testing/services/github_deployments.py) deployments and their statuses."""

from __future__ import annotations

import dataclasses
import io
import secrets
import tarfile
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from yarl import URL

from testing.services import github_deployments
from testing.services.faults import (
    BEARER_EXPIRED,
    ErrorShape,
    Fault,
    FaultSwitch,
    bearer,
    json_error,
    load,
)
from testing.services.faults import fault_middleware as _middleware
from testing.services.github_history import History, add_routes

SHAPES = {
    Fault.UNAUTHORIZED: json_error(401, load("github_bad_credentials")),
    Fault.FORBIDDEN: json_error(403, load("github_forbidden")),
    Fault.EXPIRED: ErrorShape(401, '{"message": "Bad credentials"}', BEARER_EXPIRED),
    Fault.RATE_LIMITED: json_error(429, load("github_rate_limited"), **{"Retry-After": "7"}),
}


@dataclasses.dataclass
class GithubState:
    """Tokens the fake accepts, device codes it has handed out, and what tests changed."""

    switch: FaultSwitch = dataclasses.field(default_factory=FaultSwitch)
    tokens: dict[str, str] = dataclasses.field(default_factory=dict)  # token → scopes header
    token_expiry: str = ""
    devices: dict[str, str] = dataclasses.field(default_factory=dict)  # device_code → pending|approved|denied
    files: dict[str, str] = dataclasses.field(default_factory=dict)
    pulls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    refs: dict[str, str] = dataclasses.field(default_factory=dict)  # "owner/repo refs/heads/x" → sha
    tarballs: dict[str, bytes] = dataclasses.field(default_factory=dict)  # "owner/repo" → tar.gz
    downloads: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (owner/repo, ref)
    archive_origin: str = ""  # where tarball links point (another host, like codeload); empty: this fake
    histories: dict[str, History] = dataclasses.field(default_factory=dict)  # "owner/repo" → commits
    compared: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (repo, base, head)
    deployments: list[github_deployments.Deployment] = dataclasses.field(default_factory=list)

    def history(self, repository: str) -> History:
        """The repository's commits, made empty on first use."""
        return self.histories.setdefault(repository, History())

    def seed_repository(
        self, repository: str, files: Mapping[str, str | bytes], sha: str = "0a1b2c3"
    ) -> None:
        """Serve `files` as the repository's tarball, under GitHub's `owner-repo-<sha>/` top folder."""
        self.tarballs[repository] = build_tarball(f"{repository.replace('/', '-')}-{sha}", files)

    def issue_token(self, scopes: str = "repo, read:user") -> str:
        token = "ghp_" + secrets.token_hex(18)
        self.tokens[token] = scopes
        return token


def create_app(state: GithubState) -> web.Application:
    """The fake's aiohttp app; the API and the web (device flow) endpoints share one root."""
    app = web.Application(middlewares=[_middleware(state.switch, SHAPES)])
    app.router.add_get("/user", lambda r: _user(r, state))
    app.router.add_post("/login/device/code", lambda r: _device_code(r, state))
    app.router.add_post("/login/oauth/access_token", lambda r: _access_token(r, state))
    repo = "/repos/{owner}/{repo}"
    app.router.add_get(repo, lambda r: _authed(r, state, _repo))
    app.router.add_get(repo + "/branches/{branch}", lambda r: _authed(r, state, _branch))
    app.router.add_post(repo + "/git/refs", lambda r: _authed(r, state, _create_ref))
    app.router.add_get(repo + "/contents/{path:.+}", lambda r: _authed(r, state, _get_contents))
    app.router.add_put(repo + "/contents/{path:.+}", lambda r: _authed(r, state, _put_contents))
    app.router.add_post(repo + "/pulls", lambda r: _authed(r, state, _create_pull))
    app.router.add_get(repo + "/pulls", lambda r: _authed(r, state, _list_pulls))
    app.router.add_get(repo + "/tarball", lambda r: _authed(r, state, _tarball_link))
    app.router.add_get(repo + "/tarball/{ref:.+}", lambda r: _authed(r, state, _tarball_link))
    app.router.add_get(
        "/_codeload/{owner}/{repo}/{ref:.+}", lambda r: _authed(r, state, _tarball), name="codeload"
    )
    add_routes(app, state, _authed)
    github_deployments.add_routes(app, state, _authed)
    return app


def build_tarball(top: str, files: Mapping[str, str | bytes]) -> bytes:
    """A tar.gz holding `files` (path → content) under `top/`, as GitHub's tarball endpoint serves them.

    Paths are used as given, so a test can plant a member like `../evil`.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _unauthorized() -> web.Response:
    return web.json_response(load("github_bad_credentials"), status=401)


async def _user(request: web.Request, state: GithubState) -> web.Response:
    token = bearer(request)
    if token not in state.tokens:
        return _unauthorized()
    headers = {"X-OAuth-Scopes": state.tokens[token], "X-Accepted-OAuth-Scopes": ""}
    if state.token_expiry:
        headers["GitHub-Authentication-Token-Expiration"] = state.token_expiry
    return web.json_response(load("github_user"), headers=headers)


async def _device_code(request: web.Request, state: GithubState) -> web.Response:
    form = await request.post()
    if not form.get("client_id"):
        return web.json_response({"error": "unauthorized_client"}, status=400)
    body = load("github_device_code")
    body["device_code"] = secrets.token_hex(20)
    body["interval"] = 0
    state.devices[body["device_code"]] = "pending"
    return web.json_response(body)


async def _access_token(request: web.Request, state: GithubState) -> web.Response:
    # GitHub answers device-flow polls with 200 and an `error` field while pending.
    form = await request.post()
    status = state.devices.get(str(form.get("device_code", "")))
    if status is None:
        return web.json_response({"error": "incorrect_device_code"})
    if status == "pending":
        return web.json_response({"error": "authorization_pending"})
    if status == "denied":
        return web.json_response({"error": "access_denied"})
    body = load("github_access_token")
    body["access_token"] = state.issue_token(scopes="repo, read:user")
    return web.json_response(body)


async def _authed(request: web.Request, state: GithubState, handler: Any) -> web.Response:
    if bearer(request) not in state.tokens:
        return _unauthorized()
    return await handler(request, state)


def _repo_body(request: web.Request) -> dict[str, Any]:
    owner, repo = request.match_info["owner"], request.match_info["repo"]
    base = str(request.url.origin())
    return {
        "id": 1296269,
        "name": repo,
        "full_name": f"{owner}/{repo}",
        "default_branch": "main",
        "owner": {"login": owner, "id": 1},
        "url": f"{base}/repos/{owner}/{repo}",
        "html_url": f"https://github.com/{owner}/{repo}",
    }


async def _repo(request: web.Request, state: GithubState) -> web.Response:
    return web.json_response(_repo_body(request))


async def _branch(request: web.Request, state: GithubState) -> web.Response:
    sha = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
    return web.json_response(
        {"name": request.match_info["branch"], "commit": {"sha": sha}, "protected": False}
    )


async def _create_ref(request: web.Request, state: GithubState) -> web.Response:
    # Like GitHub: a ref that exists already is a 422 "Reference already exists".
    body = await request.json()
    key = f"{request.match_info['owner']}/{request.match_info['repo']} {body['ref']}"
    if key in state.refs:
        return web.json_response({"message": "Reference already exists", "status": "422"}, status=422)
    state.refs[key] = body["sha"]
    return web.json_response(
        {"ref": body["ref"], "object": {"sha": body["sha"], "type": "commit"}}, status=201
    )


async def _get_contents(request: web.Request, state: GithubState) -> web.Response:
    path = request.match_info["path"]
    if path not in state.files:
        return web.json_response({"message": "Not Found", "status": "404"}, status=404)
    return web.json_response(
        {
            "type": "file",
            "path": path,
            "name": path.rsplit("/", 1)[-1],
            "sha": "abc123",
            "encoding": "base64",
            "content": "",
        }
    )


async def _put_contents(request: web.Request, state: GithubState) -> web.Response:
    body = await request.json()
    path = request.match_info["path"]
    state.files[path] = body["content"]
    content = {"path": path, "name": path.rsplit("/", 1)[-1], "sha": "def456", "type": "file"}
    return web.json_response(
        {"content": content, "commit": {"sha": "7638417db6d59f3c431d3e1f261cc637155684cd"}}, status=201
    )


async def _list_pulls(request: web.Request, state: GithubState) -> web.Response:
    # GET /repos/{owner}/{repo}/pulls?state=open&head=owner:branch, as GitHub filters them.
    wanted_state = request.query.get("state", "open")
    head = request.query.get("head", "")
    branch = head.split(":", 1)[1] if ":" in head else head
    found = [
        pull
        for pull in state.pulls
        if pull["repo"] == _repo_name(request)
        and (wanted_state == "all" or pull["state"] == wanted_state)
        and (not branch or pull["head"]["ref"] == branch)
    ]
    return web.json_response([{k: v for k, v in pull.items() if k != "repo"} for pull in found])


def _repo_name(request: web.Request) -> str:
    return f"{request.match_info['owner']}/{request.match_info['repo']}"


async def _create_pull(request: web.Request, state: GithubState) -> web.Response:
    body = await request.json()
    repo = _repo_body(request)
    number = len(state.pulls) + 1
    pull = {
        "repo": _repo_name(request),
        "id": 1000 + number,
        "number": number,
        "state": "open",
        "title": body["title"],
        "body": body["body"],
        "html_url": f"{repo['html_url']}/pull/{number}",
        "head": {"ref": body["head"]},
        "base": {"ref": body["base"]},
    }
    state.pulls.append(pull)
    return web.json_response({k: v for k, v in pull.items() if k != "repo"}, status=201)


async def _tarball_link(request: web.Request, state: GithubState) -> web.Response:
    # Like GitHub: a 302 to the archive's download address; the default branch when no ref is given.
    owner, repo = request.match_info["owner"], request.match_info["repo"]
    if f"{owner}/{repo}" not in state.tarballs:
        return web.json_response({"message": "Not Found", "status": "404"}, status=404)
    ref = request.match_info.get("ref", "main")
    codeload = request.app.router["codeload"].url_for(owner=owner, repo=repo, ref=ref)
    location = (URL(state.archive_origin) if state.archive_origin else request.url.origin()).join(codeload)
    return web.Response(status=302, headers={"Location": str(location)})


async def _tarball(request: web.Request, state: GithubState) -> web.Response:
    repository = f"{request.match_info['owner']}/{request.match_info['repo']}"
    state.downloads.append((repository, request.match_info["ref"]))
    return web.Response(body=state.tarballs[repository], content_type="application/x-gzip")
