"""Jira Cloud and Jira Server/Data Center, through the `jira` client library.

Sign-in: Cloud uses email + API token (basic auth); Server/DC a personal access token (bearer).
The site URL belongs to each person's credentials, since people may work on different sites. It is
typed by the person, so it passes the site guard (connectors.sites, K8OR_SITE_ALLOWLIST) when the form
is submitted and before every call, and the client's connections are checked again (connectors.site_http).
Any trouble reaching a typed site reads as the one SiteRefused message. Verified by GET /rest/api/2/myself.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from connectors import errors
from connectors.base import Connector, Credentials, FieldSpec, Identity, SignInMethod, TokenFields
from connectors.http import DEFAULT_TIMEOUT, error_for, parsed, run_blocking
from connectors.sdk_import import sdk_loaded
from connectors.sdk_logging import quiet_sdk_loggers
from connectors.settings import JiraSettings
from connectors.site_http import guard_session
from connectors.sites import Site, SiteNotAllowed

if TYPE_CHECKING:  # the Jira client is imported at the first Jira call, not when k8or starts
    import jira as jira_client
    from jira.resources import Issue

T = TypeVar("T")
SITE_HELP = "For example https://your-team.atlassian.net"
# Answers in which Jira speaks about the credentials; any other status reads as a refused site.
CREDENTIAL_STATUSES = (401, 403, 429)
ISSUE_FIELDS = "summary,status,assignee,fixVersions"
ISSUE_KEY = re.compile(r"\b[A-Z][A-Z0-9]+-[0-9]+\b")  # PROJ-123: a project key, a dash, a number


def issue_keys(messages: tuple[str, ...]) -> list[str]:
    """The issue keys named in commit messages, each once, in the order they first appear."""
    return list(dict.fromkeys(key for message in messages for key in ISSUE_KEY.findall(message)))


@dataclasses.dataclass(frozen=True)
class IssueRelease:
    """Where an issue stands: its status and the fix versions with their release state."""

    key: str
    summary: str
    status: str
    fix_versions: tuple[tuple[str, bool, str], ...]  # (name, released, release date)
    assignee: str = ""  # display name; "" when unassigned

    @property
    def released(self) -> bool:
        """True when the issue has fix versions and all of them are released."""
        return bool(self.fix_versions) and all(released for _name, released, _date in self.fix_versions)


class IssueNotFound(errors.VerificationError):
    """Jira answered 404 for an issue: there is none by that key, or the person may not see it."""

    code = "not_found"
    template = "{service} has no such issue that you can see."
    action_template = "Check the issue key, and that your `login {service}` account can open it."


class TransitionNotOffered(errors.VerificationError):
    """The issue's workflow offers this person no transition by that name from where it stands."""

    code = "no_transition"
    template = "{service} offers no such transition for this issue from its status."
    action_template = (
        "Check the transition's name in the workflow (`integrate <app> jira --jira-transition`)."
    )


class JiraConnector(Connector):
    """Jira: one connector for Cloud (email + API token) and Server/DC (personal access token)."""

    name = "jira"
    display_name = "Jira"
    settings_model = JiraSettings
    settings: JiraSettings
    timeout = DEFAULT_TIMEOUT

    def __init__(self, settings: JiraSettings | None = None) -> None:
        super().__init__(settings)
        quiet_sdk_loggers()

    def sign_in_methods(self) -> tuple[SignInMethod, ...]:
        site = FieldSpec("site", "Jira site URL", help=SITE_HELP, default="")
        return (
            TokenFields(
                key="cloud",
                label="Jira Cloud: email and API token",
                fields=(
                    dataclasses.replace(site, default=self.settings.default_site),
                    FieldSpec("email", "Atlassian account email"),
                    FieldSpec(
                        "api_token", "API token", secret=True, help="id.atlassian.com → Security → API tokens"
                    ),
                ),
            ),
            TokenFields(
                key="server",
                label="Jira Server / Data Center: personal access token",
                fields=(
                    dataclasses.replace(site, default=self.settings.default_site),
                    FieldSpec(
                        "pat", "Personal access token", secret=True, help="Profile → Personal Access Tokens"
                    ),
                ),
            ),
        )

    def credentials_from_form(self, method: TokenFields, form: Mapping[str, str]) -> Credentials:
        credentials = super().credentials_from_form(method, form)
        return credentials.with_values(site=self.site(credentials["site"]).url)

    def site(self, url: str) -> Site:
        """The person's site after the guard; the operator's default site stays trusted."""
        try:
            return self.sites.site(url, operator_sites=(self.settings.default_site,))
        except SiteNotAllowed:
            raise self.error(errors.SiteRefused) from None

    def client(self, credentials: Credentials) -> jira_client.JIRA:
        """A Jira client acting as this person, held to their checked site; no retries, no start-up calls."""
        site = self.site(credentials["site"])
        auth: dict[str, Any] = (
            {"token_auth": credentials["pat"]}
            if "pat" in credentials
            else {"basic_auth": (credentials["email"], credentials["api_token"])}
        )
        self.sites.check_addresses(site)  # blocking DNS: only ever called in a worker thread
        import jira as jira_client

        client = jira_client.JIRA(
            server=site.url,
            timeout=self.timeout,
            max_retries=0,
            get_server_info=False,
            validate=False,
            options={"check_update": False},
            **auth,
        )
        guard_session(client._session, site)
        return client

    def _translate(self, work: Callable[[], T]) -> T:
        import jira as jira_client

        try:
            return work()
        except SiteNotAllowed:
            raise self.error(errors.SiteRefused) from None
        except jira_client.JIRAError as exc:
            if exc.status_code not in CREDENTIAL_STATUSES:  # not Jira judging the credentials
                raise self.error(errors.SiteRefused) from None
            # Never str() a JIRAError: it renders request headers, Authorization included.
            headers = dict(exc.response.headers) if exc.response is not None else {}
            raise error_for(exc.status_code, headers, self.name, self.display_name) from None
        except (requests.RequestException, ValueError):
            # Timeouts, refused connections and bodies that are not Jira's all read alike:
            # different messages would tell an attacker which ports answer.
            raise self.error(errors.SiteRefused) from None

    async def _call(self, work: Callable[[], T]) -> T:
        await sdk_loaded("jira")
        try:
            return await run_blocking(
                self.name, self.display_name, self.timeout, lambda: self._translate(work)
            )
        except errors.ServiceTimeout:
            raise self.error(errors.SiteRefused) from None

    def _parsed(self, parse: Callable[[], T]) -> T:
        """Read an answer; one that is not Jira's is refused like any other site trouble."""
        try:
            return parsed(self.name, self.display_name, parse)
        except errors.MalformedResponse:
            raise self.error(errors.SiteRefused) from None

    async def verify(self, credentials: Credentials) -> Identity:
        me = await self._call(lambda: self.client(credentials).myself())
        site = self.site(credentials["site"]).url
        return self._parsed(lambda: _identity(me, site))

    async def issue_release(self, credentials: Credentials, key: str) -> IssueRelease:
        """Status and fix versions of issue `key`, to answer "is PROJ-123 live?"."""

        def work() -> Issue:
            import jira as jira_client

            try:
                return self.client(credentials).issue(key, fields=ISSUE_FIELDS)
            except jira_client.JIRAError as exc:
                if exc.status_code == 404 and _jira_says(exc):
                    raise self.error(IssueNotFound) from None
                raise

        issue = await self._call(work)
        return self._parsed(lambda: _release(issue))

    async def add_comment(self, credentials: Credentials, key: str, body: str) -> str:
        """`POST /rest/api/2/issue/{key}/comment` as this person; the new comment's id.

        Sent once: a time-out may have left the comment behind, so it is reported, never retried."""

        def work() -> str:
            return str(self.client(credentials).add_comment(key, body).id)

        return await self._call(lambda: self._on_issue(work))

    async def transition(self, credentials: Credentials, key: str, name: str) -> str:
        """Move issue `key` through the transition called `name` (or leading to the status `name`),
        as this person; the status it is in afterwards. Already there: nothing is sent."""

        def work() -> str:
            client = self.client(credentials)
            status = str(client.issue(key, fields="status").fields.status.name)
            if status.casefold() == name.casefold():
                return status
            offered = client.transitions(key)
            chosen = _transition_named(offered, name)
            if chosen is None:
                raise self.error(TransitionNotOffered)
            client.transition_issue(key, str(chosen["id"]))
            return str((chosen.get("to") or {}).get("name") or name)

        return await self._call(lambda: self._on_issue(work))

    def _on_issue(self, work: Callable[[], T]) -> T:
        """Run `work` on one issue; Jira's own 404 reads as IssueNotFound."""
        import jira as jira_client

        try:
            return work()
        except jira_client.JIRAError as exc:
            if exc.status_code == 404 and _jira_says(exc):
                raise self.error(IssueNotFound) from None
            raise


def _identity(me: Mapping[str, Any], site: str) -> Identity:
    # Cloud identifies people by accountId; Server/DC by user key and name.
    subject = me.get("emailAddress") or me.get("name") or me["accountId"]
    return Identity(
        subject=str(subject),
        display_name=str(me.get("displayName") or subject),
        details={"site": site, "account": str(me.get("accountId") or me.get("key") or "")},
    )


def _jira_says(exc: jira_client.JIRAError) -> bool:
    """A 404 in Jira's own words (`errorMessages`), not any site's not-found page."""
    try:
        body = exc.response.json() if exc.response is not None else None
    except ValueError:
        return False
    return isinstance(body, dict) and "errorMessages" in body


def _transition_named(offered: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The transition called `name`, else the one leading to the status `name` (case ignored)."""
    wanted = name.casefold()
    by_name = [t for t in offered if str(t.get("name", "")).casefold() == wanted]
    by_status = [t for t in offered if str((t.get("to") or {}).get("name", "")).casefold() == wanted]
    return next(iter(by_name or by_status), None)


def _release(issue: Issue) -> IssueRelease:
    fields = issue.fields
    assignee = getattr(fields, "assignee", None)
    versions = tuple(
        (str(v.name), bool(getattr(v, "released", False)), str(getattr(v, "releaseDate", "") or ""))
        for v in (getattr(fields, "fixVersions", None) or ())
    )
    return IssueRelease(
        key=issue.key,
        summary=str(fields.summary),
        status=str(fields.status.name),
        fix_versions=versions,
        assignee=str(getattr(assignee, "displayName", "") or "") if assignee else "",
    )
