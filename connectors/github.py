"""GitHub (and GitHub Enterprise), through PyGithub.

Sign-in: OAuth device flow (when an OAuth app client id is configured) or a personal access token.
Verified by GET /user; the granted scopes come from the X-OAuth-Scopes response header.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import requests

from connectors import errors
from connectors.base import (
    Connector,
    Credentials,
    DeviceAuthorization,
    FieldSpec,
    Identity,
    OAuthDeviceAuthorization,
    SignInMethod,
    TokenFields,
)
from connectors.http import DEFAULT_TIMEOUT, ServiceHttp, error_for, parsed, run_blocking
from connectors.oauth import poll_device, start_device, token_credentials
from connectors.sdk_import import sdk_loaded
from connectors.sdk_logging import quiet_sdk_loggers
from connectors.settings import GithubSettings

if TYPE_CHECKING:  # PyGithub is imported at the first GitHub call, not when k8or starts
    import github as pygithub
    from github.Issue import Issue
    from github.Repository import Repository

T = TypeVar("T")
PERSONAL_ACCESS_TOKEN = TokenFields(
    key="token",
    label="Personal access token",
    fields=(
        FieldSpec(
            "token", "Personal access token", secret=True, help="Settings → Developer settings → Tokens"
        ),
    ),
)
EXPIRY_HEADER = "GitHub-Authentication-Token-Expiration"
ARCHIVE_MAX_BYTES = 100 * 1024 * 1024  # a compressed source tarball larger than this is not an app to k8orize
SEARCH_QUERY_MAX = 256  # GitHub refuses longer search queries: repositories are asked in batches
PULLS_PER_SEARCH = 10  # the newest pull requests per batch that are read in full
COMMITS_PER_COMPARE = 250  # one page of a comparison: enough to name the issues a deploy ships


@dataclass(frozen=True)
class PullRequestRef:
    """A pull request as release questions need it: where, which, and whether and how it merged."""

    repository: str
    number: int
    title: str
    state: str  # open | closed
    merged: bool
    merge_commit: str  # the merge commit's sha when merged, else ""
    url: str


@dataclass(frozen=True)
class Comparison:
    """GitHub's `compare/{base}...{head}`: how `head` relates to `base`.

    `status`: identical, ahead (head has every commit of base, and more), behind (base has every
    commit of head, and more) or diverged. `ahead_by` counts head's commits that base lacks,
    `behind_by` base's commits that head lacks; `messages` are head's commits that base lacks."""

    status: str
    ahead_by: int
    behind_by: int
    messages: tuple[str, ...] = ()

    @property
    def head_contains_base(self) -> bool:
        return self.status in ("identical", "ahead")


class RepositoryNotFound(errors.VerificationError):
    """GitHub answered 404: no such repository or ref, or the person cannot see it (GitHub hides both)."""

    code = "not_found"
    template = "{service} has no such repository or ref that you can see."
    action_template = "Check the owner/repo and the ref, and that your `login {service}` token can read it."


class ArchiveTooLarge(errors.VerificationError):
    """The repository's tarball is bigger than the connector will hold in memory."""

    code = "too_large"
    template = f"The {{service}} archive is larger than {ARCHIVE_MAX_BYTES // 2**20} MB."
    action_template = "k8orize a smaller repository, or a folder of it copied into the workspace."


class GithubConnector(Connector):
    """GitHub: PyGithub for the API, aiohttp for the device-flow endpoints PyGithub does not cover."""

    name = "github"
    display_name = "GitHub"
    settings_model = GithubSettings
    settings: GithubSettings
    timeout = DEFAULT_TIMEOUT
    # Seconds between write calls; GitHub asks integrators to pace content-creating requests.
    write_pacing = 1.0
    # A whole repository archive takes longer than one API call.
    download_timeout = 120.0

    def __init__(self, settings: GithubSettings | None = None) -> None:
        super().__init__(settings)
        quiet_sdk_loggers()
        self.http = ServiceHttp(self.name, self.display_name)

    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        token = (PERSONAL_ACCESS_TOKEN,)
        if not self.settings.client_id:
            return token
        device = OAuthDeviceAuthorization(
            key="device",
            label="Sign in with GitHub (device code)",
            scopes=tuple(self.settings.scopes.split()),
        )
        return (device, *token)

    # --- device flow ------------------------------------------------------------------------------

    def _web(self, path: str) -> str:
        return self.settings.web_url.rstrip("/") + path

    async def start_device_authorization(self, method: OAuthDeviceAuthorization) -> DeviceAuthorization:
        form = {"client_id": self.settings.client_id, "scope": " ".join(method.scopes)}
        return await start_device(self.http, self._web("/login/device/code"), form)

    async def poll_device_authorization(
        self, method: OAuthDeviceAuthorization, device: DeviceAuthorization
    ) -> Credentials | None:
        form = {"client_id": self.settings.client_id, "device_code": device.state["device_code"]}
        body = await poll_device(self.http, self._web("/login/oauth/access_token"), form)
        if body is None:
            return None
        credentials = parsed(self.name, self.display_name, lambda: token_credentials(body))
        # The API and the forms call it `token`; keep one name whichever way the person signed in.
        rest = {k: v for k, v in credentials.items() if k != "access_token"}
        return Credentials({"token": credentials["access_token"], **rest})

    # --- API ----------------------------------------------------------------------------------------

    def client(self, credentials: Credentials) -> pygithub.Github:
        """A PyGithub client acting as this person; no retries, so a 429 is reported, not slept on."""
        import github as pygithub

        return pygithub.Github(
            auth=pygithub.Auth.Token(credentials["token"]),
            base_url=self.settings.api_url.rstrip("/"),
            timeout=max(1, int(self.timeout)),
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=self.write_pacing or None,
        )

    async def _call(self, work: Callable[[], T], writes: int = 0) -> T:
        budget = self.timeout + writes * self.write_pacing
        await sdk_loaded("github")
        return await run_blocking(self.name, self.display_name, budget, lambda: self._translate(work))

    def _translate(self, work: Callable[[], T]) -> T:
        import github as pygithub

        try:
            return work()
        except pygithub.RateLimitExceededException as exc:
            retry_after = errors.parse_retry_after(_headers(exc.headers).get("Retry-After"))
            raise errors.RateLimited(self.name, self.display_name, retry_after) from None
        except pygithub.GithubException as exc:
            raise error_for(exc.status, _headers(exc.headers), self.name, self.display_name) from None
        except requests.Timeout:
            raise self.error(errors.ServiceTimeout) from None
        except requests.RequestException:
            raise self.error(errors.ServiceUnreachable) from None
        except ValueError:
            raise self.error(errors.MalformedResponse) from None

    async def verify(self, credentials: Credentials) -> Identity:
        def who() -> tuple[Mapping[str, str], Mapping[str, Any]]:
            return self.client(credentials).requester.requestJsonAndCheck("GET", "/user")

        headers, user = await self._call(who)
        return parsed(self.name, self.display_name, lambda: _identity(_headers(headers), user))

    async def open_pull_request(
        self,
        credentials: Credentials,
        repository: str,
        *,
        base: str,
        branch: str,
        title: str,
        body: str,
        files: Mapping[str, str],
        message: str,
    ) -> str:
        """Commit `files` (path → text) on a new `branch` off `base` and open a pull request; its URL.

        Idempotent for one `branch`: a second call (a k8orize job resumed after its replica died)
        finds the branch made by the first, commits the same files onto it, and answers the pull
        request already open for it instead of opening another."""

        def work() -> str:
            repo = self.client(credentials).get_repo(repository)
            head_sha = repo.get_branch(base).commit.sha
            _create_branch(repo, branch, head_sha)
            for path, content in files.items():
                _put_file(repo, path, content, message, branch)
            owner = repository.split("/", 1)[0]
            for already in repo.get_pulls(state="open", head=f"{owner}:{branch}"):
                return str(already.html_url)
            return repo.create_pull(base=base, head=branch, title=title, body=body).html_url

        return await self._call(work, writes=len(files) + 2)

    async def search_pull_requests(
        self, credentials: Credentials, text: str, repositories: Sequence[str]
    ) -> tuple[PullRequestRef, ...]:
        """Pull requests in `repositories` that mention `text` (`GET /search/issues`, `"text" type:pr
        repo:…`), each read in full for its merge commit; newest first, as this person sees them."""

        def work() -> tuple[PullRequestRef, ...]:
            client = self.client(credentials)
            found: list[PullRequestRef] = []
            for query in search_queries(text, repositories):
                page = client.search_issues(query, sort="created", order="desc").get_page(0)
                found += [_pull_request(item) for item in page[:PULLS_PER_SEARCH] if item.pull_request]
            return tuple(found)

        return await self._call(work)

    async def compare(self, credentials: Credentials, repository: str, base: str, head: str) -> Comparison:
        """`GET /repos/{repository}/compare/{base}...{head}`: how `head` relates to `base`."""

        def work() -> Comparison:
            import github as pygithub

            compared = self.client(credentials).get_repo(repository, lazy=True).compare(base, head)
            try:
                status = str(compared.status)  # the one request; the commits come with it
            except pygithub.UnknownObjectException:  # no such repository or commit, or not for this person
                raise self.error(RepositoryNotFound) from None
            commits = itertools.islice(compared.commits, COMMITS_PER_COMPARE)
            return Comparison(
                status,
                int(compared.ahead_by),
                int(compared.behind_by),
                tuple(str(c.commit.message) for c in commits),
            )

        return await self._call(work)

    async def create_deployment(
        self, credentials: Credentials, repository: str, ref: str, environment: str, description: str
    ) -> int:
        """`POST /repos/{repository}/deployments` for `ref` in `environment`, as this person; its id.

        `auto_merge=false` and `required_contexts=[]`: k8or records what runs, it does not ask GitHub
        to merge or to wait for checks. Sent once; a time-out is reported, never retried."""

        def work() -> int:
            repo = self.client(credentials).get_repo(repository, lazy=True)
            made = repo.create_deployment(
                ref,
                auto_merge=False,
                required_contexts=[],
                environment=environment,
                description=description[:140],
            )
            return int(made.id)

        return await self._call(lambda: self._in_repository(work), writes=1)

    async def deployment_status(
        self, credentials: Credentials, repository: str, deployment: int, state: str, description: str
    ) -> None:
        """`POST /repos/{repository}/deployments/{deployment}/statuses`: in_progress, success,
        failure or inactive."""

        def work() -> None:
            repo = self.client(credentials).get_repo(repository, lazy=True)
            repo.get_deployment(deployment).create_status(state, description=description[:140])

        await self._call(lambda: self._in_repository(work), writes=1)

    async def latest_deployments(
        self, credentials: Credentials, repository: str, environment: str, count: int = 5
    ) -> tuple[int, ...]:
        """The ids of the newest deployments to `environment`, newest first (`GET …/deployments`)."""

        def work() -> tuple[int, ...]:
            repo = self.client(credentials).get_repo(repository, lazy=True)
            listed = repo.get_deployments(environment=environment)
            return tuple(int(d.id) for d in itertools.islice(listed, count))

        return await self._call(lambda: self._in_repository(work))

    def _in_repository(self, work: Callable[[], T]) -> T:
        import github as pygithub

        try:
            return work()
        except pygithub.UnknownObjectException:  # no such repository or deployment, or not for this person
            raise self.error(RepositoryNotFound) from None

    async def download_repository(
        self, credentials: Credentials, repository: str, ref: str | None = None
    ) -> bytes:
        """The repository at `ref` (default branch when None) as GitHub's tar.gz, fetched as this person."""

        def work() -> bytes:
            import github as pygithub

            repo = self.client(credentials).get_repo(repository, lazy=True)
            try:
                location = repo.get_archive_link("tarball", ref) if ref else repo.get_archive_link("tarball")
            except pygithub.UnknownObjectException:
                raise self.error(RepositoryNotFound) from None
            return self._fetch_archive(credentials, location)

        await sdk_loaded("github")
        return await run_blocking(
            self.name, self.display_name, self.download_timeout, lambda: self._translate(work)
        )

    def _fetch_archive(self, credentials: Credentials, url: str) -> bytes:
        # The token goes only to the API's own host (GitHub Enterprise, fakes); github.com redirects to
        # codeload with a short-lived token in the URL, so the person's token never leaves api.github.com.
        same_host = urlsplit(url).netloc == urlsplit(self.settings.api_url).netloc
        headers = {"Authorization": f"token {credentials['token']}"} if same_host else {}
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
            if response.status_code == 404:
                raise self.error(RepositoryNotFound)
            if response.status_code >= 400:
                raise error_for(response.status_code, response.headers, self.name, self.display_name)
            return _bounded_body(response, self.error(ArchiveTooLarge))

    async def aclose(self) -> None:
        await self.http.aclose()


def search_queries(text: str, repositories: Sequence[str]) -> list[str]:
    """`"text" type:pr repo:a/b repo:c/d`, split so that no query passes GitHub's length limit."""
    head = f'"{text}" type:pr'
    queries: list[str] = []
    current = head
    for repository in repositories:
        qualifier = f" repo:{repository}"
        if current != head and len(current) + len(qualifier) > SEARCH_QUERY_MAX:
            queries.append(current)
            current = head
        current += qualifier
    if current != head:
        queries.append(current)
    return queries


def _pull_request(item: Issue) -> PullRequestRef:
    pull = item.as_pull_request()
    repository = "/".join(item.repository_url.rstrip("/").split("/")[-2:])
    merged = bool(pull.merged)
    return PullRequestRef(
        repository=repository,
        number=int(item.number),
        title=str(item.title),
        state=str(item.state),
        merged=merged,
        merge_commit=str(pull.merge_commit_sha or "") if merged else "",
        url=str(item.html_url),
    )


def _bounded_body(response: requests.Response, too_large: Exception) -> bytes:
    """The body, read in chunks and abandoned as soon as it passes ARCHIVE_MAX_BYTES."""
    body = bytearray()
    for chunk in response.iter_content(chunk_size=1 << 16):
        body += chunk
        if len(body) > ARCHIVE_MAX_BYTES:
            raise too_large
    return bytes(body)


def _create_branch(repo: Repository, branch: str, sha: str) -> None:
    """The branch, off `sha`; one that exists already (an earlier attempt made it) is used as it is."""
    import github as pygithub

    try:
        repo.create_git_ref(f"refs/heads/{branch}", sha)
    except pygithub.GithubException as exc:
        if exc.status != 422 or "already exists" not in str(exc.data):
            raise


def _put_file(repo: Repository, path: str, content: str, message: str, branch: str) -> None:
    import github as pygithub

    try:
        existing = repo.get_contents(path, ref=branch)
    except pygithub.UnknownObjectException:
        repo.create_file(path, message, content, branch=branch)
        return
    if isinstance(existing, list):  # a directory: there is no one file to update (never a k8or path)
        raise IsADirectoryError(f"{path} is a directory, not a file")
    repo.update_file(path, message, content, existing.sha, branch=branch)


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    # PyGithub lower-cases header names; error_for and _identity look them up in canonical case.
    canonical = {
        "www-authenticate": "WWW-Authenticate",
        "retry-after": "Retry-After",
        "x-oauth-scopes": "X-OAuth-Scopes",
        EXPIRY_HEADER.lower(): EXPIRY_HEADER,
    }
    return {canonical.get(k.lower(), k): v for k, v in (headers or {}).items()}


def _identity(headers: Mapping[str, str], user: Mapping[str, Any]) -> Identity:
    scopes = tuple(s.strip() for s in headers.get("X-OAuth-Scopes", "").split(",") if s.strip())
    return Identity(
        subject=str(user["login"]),
        display_name=str(user.get("name") or user["login"]),
        scopes=scopes,
        expires_at=_expiry(headers.get(EXPIRY_HEADER)),
        details={"id": str(user["id"])},
    )


def _expiry(value: str | None) -> dt.datetime | None:
    # GitHub's format: "2026-12-01 00:00:00 UTC" (sometimes with a numeric offset instead).
    if not value:
        return None
    text = value.replace(" UTC", " +0000")
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
