"""Jira Cloud and Jira Server/Data Center, through the `jira` client library.

Sign-in: Cloud uses email + API token (basic auth); Server/DC a personal access token (bearer).
The site URL belongs to each person's credentials, since people may work on different sites.
Verified by GET /rest/api/2/myself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import jira as jira_client
import requests

from connectors import errors
from connectors.base import Connector, Credentials, FieldSpec, Identity, SignInMethod, TokenFields
from connectors.http import DEFAULT_TIMEOUT, error_for, parsed, run_blocking
from connectors.sdk_logging import quiet_sdk_loggers
from connectors.settings import JiraSettings

T = TypeVar("T")
SITE_HELP = "For example https://your-team.atlassian.net"


@dataclasses.dataclass(frozen=True)
class IssueRelease:
    """Where an issue stands: its status and the fix versions with their release state."""

    key: str
    summary: str
    status: str
    fix_versions: tuple[tuple[str, bool, str], ...]  # (name, released, release date)

    @property
    def released(self) -> bool:
        """True when the issue has fix versions and all of them are released."""
        return bool(self.fix_versions) and all(released for _name, released, _date in self.fix_versions)


class JiraConnector(Connector):
    """Jira: one connector for Cloud (email + API token) and Server/DC (personal access token)."""

    name = "jira"
    display_name = "Jira"
    settings_model = JiraSettings
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
        site = credentials["site"].rstrip("/")
        if urlsplit(site).scheme not in ("http", "https") or not urlsplit(site).netloc:
            raise self.error(errors.InvalidCredentials)
        return credentials.with_values(site=site)

    def client(self, credentials: Credentials) -> jira_client.JIRA:
        """A Jira client acting as this person; no retries, no start-up calls."""
        auth: dict[str, Any] = (
            {"token_auth": credentials["pat"]}
            if "pat" in credentials
            else {"basic_auth": (credentials["email"], credentials["api_token"])}
        )
        return jira_client.JIRA(
            server=credentials["site"],
            timeout=self.timeout,
            max_retries=0,
            get_server_info=False,
            validate=False,
            options={"check_update": False},
            **auth,
        )

    def _translate(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except jira_client.JIRAError as exc:
            # Never str() a JIRAError: it renders request headers, Authorization included.
            headers = dict(exc.response.headers) if exc.response is not None else {}
            raise error_for(exc.status_code or 0, headers, self.name, self.display_name) from None
        except requests.JSONDecodeError:
            raise self.error(errors.MalformedResponse) from None
        except requests.Timeout:
            raise self.error(errors.ServiceTimeout) from None
        except requests.RequestException:
            raise self.error(errors.ServiceUnreachable) from None
        except ValueError:
            raise self.error(errors.MalformedResponse) from None

    async def _call(self, work: Callable[[], T]) -> T:
        return await run_blocking(self.name, self.display_name, self.timeout, lambda: self._translate(work))

    async def verify(self, credentials: Credentials) -> Identity:
        me = await self._call(lambda: self.client(credentials).myself())
        return parsed(self.name, self.display_name, lambda: _identity(me, credentials["site"]))

    async def issue_release(self, credentials: Credentials, key: str) -> IssueRelease:
        """Status and fix versions of issue `key`, to answer "is PROJ-123 live?"."""

        def work() -> Any:
            return self.client(credentials).issue(key, fields="summary,status,fixVersions")

        issue = await self._call(work)
        return parsed(self.name, self.display_name, lambda: _release(issue))


def _identity(me: Mapping[str, Any], site: str) -> Identity:
    # Cloud identifies people by accountId; Server/DC by user key and name.
    subject = me.get("emailAddress") or me.get("name") or me["accountId"]
    return Identity(
        subject=str(subject),
        display_name=str(me.get("displayName") or subject),
        details={"site": site, "account": str(me.get("accountId") or me.get("key") or "")},
    )


def _release(issue: Any) -> IssueRelease:
    fields = issue.fields
    versions = tuple(
        (str(v.name), bool(getattr(v, "released", False)), str(getattr(v, "releaseDate", "") or ""))
        for v in (getattr(fields, "fixVersions", None) or ())
    )
    return IssueRelease(
        key=issue.key, summary=str(fields.summary), status=str(fields.status.name), fix_versions=versions
    )
