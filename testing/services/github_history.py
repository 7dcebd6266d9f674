"""The fake GitHub's commits and the read endpoints release questions use.

`GET /search/issues?q="KEY" type:pr repo:o/r …` finds pull requests by text in their title or body;
`GET /repos/{o}/{r}/pulls/{n}` reads one; `GET /repos/{o}/{r}/compare/{base}...{head}` relates two
commits of a repository's history (a graph of commits with parents) as GitHub does: status, ahead_by,
behind_by, and head's commits that base lacks. Bodies are the recorded shapes in responses/.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import re
import shlex
from typing import Any

from aiohttp import web

from testing.services.faults import load

NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}


@dataclasses.dataclass
class History:
    """One repository's commits: sha → (message, parents), in the order they were made."""

    commits: dict[str, tuple[str, tuple[str, ...]]] = dataclasses.field(default_factory=dict)

    def commit(self, message: str, parents: tuple[str, ...] | None = None) -> str:
        """A new commit on top of the newest one (or on `parents`); its 40-hex sha."""
        if parents is None:
            parents = (next(reversed(self.commits)),) if self.commits else ()
        sha = hashlib.sha1(f"{len(self.commits)}\0{message}\0{parents}".encode()).hexdigest()
        self.commits[sha] = (message, parents)
        return sha

    def resolve(self, ref: str) -> str | None:
        """A full sha from a full or abbreviated one (at least 7 hex digits), as GitHub accepts them."""
        if len(ref) < 7:
            return None
        found = [sha for sha in self.commits if sha.startswith(ref.lower())]
        return found[0] if len(found) == 1 else None

    def ancestry(self, sha: str) -> list[str]:
        """`sha` and every commit it descends from, oldest first."""
        seen: set[str] = set()
        stack = [sha]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack += self.commits[current][1]
        return [c for c in self.commits if c in seen]


def add_routes(app: web.Application, state: Any, authed: Any) -> None:
    """Register the read endpoints on the fake's app; `authed` checks the token first."""
    repo = "/repos/{owner}/{repo}"
    app.router.add_get("/search/issues", lambda r: authed(r, state, _search))
    app.router.add_get(repo + "/pulls/{number:[0-9]+}", lambda r: authed(r, state, _pull))
    app.router.add_get(repo + "/compare/{basehead:.+}", lambda r: authed(r, state, _compare))


def merged_pull(repository: str, number: int, title: str, body: str, merge_commit: str) -> dict[str, Any]:
    """A pull request the fake keeps in `state.pulls`, merged as `merge_commit`."""
    return {
        "repo": repository,
        "number": number,
        "state": "closed",
        "title": title,
        "body": body,
        "merged": True,
        "merge_commit_sha": merge_commit,
        "merged_at": "2026-11-27T14:02:11Z",
        "html_url": f"https://github.com/{repository}/pull/{number}",
        "head": {"ref": f"topic-{number}"},
        "base": {"ref": "main"},
    }


def _query(q: str) -> tuple[str, set[str], bool]:
    """(text, repositories, pull requests only) from a search query such as `"PROJ-1" type:pr repo:o/r`."""
    words = shlex.split(q)
    repositories = {w.removeprefix("repo:") for w in words if w.startswith("repo:")}
    text = " ".join(w for w in words if ":" not in w)
    return text, repositories, "type:pr" in words or "is:pr" in words


async def _search(request: web.Request, state: Any) -> web.Response:
    text, repositories, _pulls_only = _query(request.query.get("q", ""))
    if not text and not repositories:
        return web.json_response({"message": "Validation Failed", "status": "422"}, status=422)
    pattern = re.compile(re.escape(text), re.I)
    found = [
        p
        for p in reversed(state.pulls)
        if (not repositories or p["repo"] in repositories)
        and (pattern.search(p["title"]) or pattern.search(p.get("body") or ""))
    ]
    # Every pull request is also an issue; this fake holds pull requests only, so `type:pr` changes nothing.
    items = [_search_item(request, p) for p in found]
    return web.json_response({"total_count": len(items), "incomplete_results": False, "items": items})


def _search_item(request: web.Request, pull: dict[str, Any]) -> dict[str, Any]:
    api = f"{request.url.origin()}/repos/{pull['repo']}"
    item = copy.deepcopy(load("github_search_issue_item"))
    item.update(
        url=f"{api}/issues/{pull['number']}",
        repository_url=api,
        html_url=pull["html_url"],
        number=pull["number"],
        title=pull["title"],
        state=pull["state"],
        body=pull.get("body") or "",
    )
    item["pull_request"].update(
        url=f"{api}/pulls/{pull['number']}",
        html_url=pull["html_url"],
        merged_at=pull.get("merged_at"),
    )
    return item


async def _pull(request: web.Request, state: Any) -> web.Response:
    repository = f"{request.match_info['owner']}/{request.match_info['repo']}"
    number = int(request.match_info["number"])
    pull = next((p for p in state.pulls if p["repo"] == repository and p["number"] == number), None)
    if pull is None:
        return web.json_response(NOT_FOUND, status=404)
    body = copy.deepcopy(load("github_pull"))
    body.update({k: v for k, v in pull.items() if k in body})
    body["url"] = f"{request.url.origin()}/repos/{repository}/pulls/{number}"
    body["merged"] = bool(pull.get("merged"))
    body["merge_commit_sha"] = pull.get("merge_commit_sha")
    body["merged_at"] = pull.get("merged_at")
    return web.json_response(body)


async def _compare(request: web.Request, state: Any) -> web.Response:
    repository = f"{request.match_info['owner']}/{request.match_info['repo']}"
    history = state.histories.get(repository)
    base_ref, dots, head_ref = request.match_info["basehead"].partition("...")
    base = history.resolve(base_ref) if history and dots else None
    head = history.resolve(head_ref) if history and dots else None
    if history is None or base is None or head is None:
        return web.json_response(NOT_FOUND, status=404)
    state.compared.append((repository, base_ref, head_ref))
    return web.json_response(_comparison(request, repository, history, base, head))


def _comparison(
    request: web.Request, repository: str, history: History, base: str, head: str
) -> dict[str, Any]:
    of_base, of_head = history.ancestry(base), history.ancestry(head)
    ahead = [c for c in of_head if c not in of_base]
    behind = [c for c in of_base if c not in of_head]
    status = {(False, False): "identical", (True, False): "ahead", (False, True): "behind"}.get(
        (bool(ahead), bool(behind)), "diverged"
    )
    body = copy.deepcopy(load("github_compare"))
    template = body["commits"][0]
    api = f"{request.url.origin()}/repos/{repository}"
    body.update(
        url=f"{api}/compare/{base}...{head}",
        status=status,
        ahead_by=len(ahead),
        behind_by=len(behind),
        total_commits=len(ahead),
        commits=[_commit(template, api, sha, history) for sha in ahead],
    )
    return body


def _commit(template: dict[str, Any], api: str, sha: str, history: History) -> dict[str, Any]:
    message, parents = history.commits[sha]
    commit = copy.deepcopy(template)
    commit.update(
        sha=sha,
        url=f"{api}/commits/{sha}",
        parents=[{"sha": p, "url": f"{api}/commits/{p}"} for p in parents],
    )
    commit["commit"]["message"] = message
    return commit
