"""The one typed settings object for k8or, validated at start.

Settings come from the environment (prefix ``K8OR_``), a ``.env`` file, or the command line.
The Bot Framework credentials keep their standard names (``MicrosoftAppId`` ...) so the same
values work for k8or and for every other Bot Framework tool. Connector sections are read from
flat variables ``K8OR_<SECTION>_<FIELD>`` such as ``K8OR_GITHUB_API_URL``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from bot.database_url import SQLITE, normalise_database_url
from connectors.settings import (
    AwsSettings,
    DockerhubSettings,
    GithubSettings,
    GoogleSettings,
    JiraSettings,
    MiroSettings,
    TogglSettings,
)
from typed_env import SecretStr, Section, SettingsError, gather, markdown_table, setting  # noqa: F401  re-exported


class AppType(StrEnum):
    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


def _known_level(value: str) -> str:
    level = value.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("use DEBUG, INFO, WARNING or ERROR")
    return level


def _usable_database(value: str) -> str:
    """The URL of the engine k8or runs (asyncpg or in-loop SQLite); DatabaseUrlError otherwise."""
    return normalise_database_url(value) if value.strip() else ""


def _image_reference(value: str) -> str:
    value = value.strip()
    if value:
        from k8orize.image import is_reference  # the image grammar; loaded only when the setting is

        if not is_reference(value):
            raise ValueError("use an image reference: REPO[:TAG][@sha256:DIGEST]")
    return value


def _lease_name(value: str) -> str:
    """A DNS label short enough to take a cluster suffix (Lease names and namespaces)."""
    if value and not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?", value):
        raise ValueError("use lowercase letters, digits and '-', at most 40, e.g. k8or-notify")
    return value


def _absolute_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/")


def _slack_app_token(value: SecretStr) -> SecretStr:
    """An app-level token (Socket Mode), never a bot or user token put in the wrong place."""
    if value.get_secret_value() and not value.get_secret_value().startswith("xapp-"):
        raise ValueError("use the app-level token (xapp-...) with connections:write, not the bot token")
    return value


@dataclass(frozen=True, kw_only=True)
class GraphSettings(Section):
    """Microsoft Graph, read with the app's own client credentials: the only source of Teams groups."""

    tenant_id: str = setting("", description="Tenant whose directory k8or reads; empty disables Graph.")
    client_id: str = setting("", description="App (client) id with GroupMember.Read.All (application).")
    client_secret: SecretStr = setting(SecretStr(""), description="Client secret for that app.")
    api_url: str = setting("https://graph.microsoft.com/v1.0/", description="Graph API root.")
    login_url: str = setting(
        "https://login.microsoftonline.com/", description="Token endpoint root (client credentials)."
    )

    @property
    def enabled(self) -> bool:
        return bool(self.tenant_id and self.client_id and self.client_secret.get_secret_value())


@dataclass(frozen=True, kw_only=True)
class NotifySettings(Section):
    """On-call alerts (`notify`): how alert messages behave, and how replicas elect their one sender."""

    cooldown: float = setting(
        1800.0, gt=0, description="Seconds a resolved alert's message is reused if the incident comes back."
    )
    edit_interval: float = setting(2.0, gt=0, description="Seconds between two edits of one alert message.")
    burst: int = setting(60, ge=1, description="New alert messages a conversation may get at once.")
    refill: float = setting(
        0.5, gt=0, description="New alert messages per second a conversation gets after a burst."
    )
    drop_after: int = setting(
        5,
        ge=1,
        description="Failed deliveries in a row after which a conversation's subscription is dropped.",
    )
    claim_stale: float = setting(
        60.0,
        gt=0,
        description="Seconds after which an alert claimed but never sent (its replica died) is sent again.",
    )
    lease_duration: int = setting(
        15,
        ge=1,
        description="Seconds a replica's leadership of a cluster's watches holds without renewal (the "
        "Lease's leaseDurationSeconds): a killed leader's successor takes over after about this long, "
        "plus up to K8OR_NOTIFY_RETRY_PERIOD.",
    )
    renew_deadline: float = setting(
        10.0, ge=1, description="Seconds a leader keeps retrying a renewal before it stops watching."
    )
    retry_period: float = setting(
        2.0, ge=1, description="Seconds between a replica's attempts to acquire or renew leadership."
    )
    lease_namespace: str = setting(
        "",
        check=_lease_name,
        description="Namespace of the election Leases; empty: the namespace k8or's pod runs in.",
    )
    lease_name: str = setting(
        "k8or-notify",
        check=_lease_name,
        description="Name prefix of the election Leases, one per watched cluster: `<name>-<cluster>-<hash>`.",
    )

    def check(self) -> None:
        # kubernetes.leaderelection's own rules: a leader gives up before anyone may take over.
        if self.lease_duration <= self.renew_deadline:
            raise ValueError("K8OR_NOTIFY_LEASE_DURATION must be more than K8OR_NOTIFY_RENEW_DEADLINE")
        if self.renew_deadline <= 1.2 * self.retry_period:
            raise ValueError("K8OR_NOTIFY_RENEW_DEADLINE must be more than 1.2 × K8OR_NOTIFY_RETRY_PERIOD")


@dataclass(frozen=True, kw_only=True)
class Settings(Section):
    """Every setting k8or reads. The README's settings table is generated from this class.

    `Settings(...)` takes values (strings or typed) and nothing else; `load_settings()` adds the
    environment and the `.env` file. Either raises SettingsError naming every bad variable.
    """

    env_prefix: ClassVar[str] = "K8OR_"

    # Bot Framework identity: standard names, as every Bot Framework tool spells them.
    microsoft_app_id: str = setting(
        "",
        env=("MicrosoftAppId", "K8OR_MICROSOFT_APP_ID"),
        description="Bot Framework app id. Empty means local emulator mode: no token checks, loopback only.",
    )
    microsoft_app_password: SecretStr = setting(
        SecretStr(""),
        env=("MicrosoftAppPassword", "K8OR_MICROSOFT_APP_PASSWORD"),
        description="Bot Framework app password (client secret).",
    )
    microsoft_app_type: AppType = setting(
        AppType.MULTI_TENANT,
        env=("MicrosoftAppType", "K8OR_MICROSOFT_APP_TYPE"),
        description="MultiTenant, SingleTenant or UserAssignedMSI.",
    )
    microsoft_app_tenant_id: str = setting(
        "",
        env=("MicrosoftAppTenantId", "K8OR_MICROSOFT_APP_TENANT_ID"),
        description="Azure AD tenant id; required for SingleTenant.",
    )
    openid_metadata_url: str = setting(
        "",
        description="Override of the Bot Framework OpenID metadata URL used to validate channel tokens.",
    )
    token_issuer: str = setting(
        "",
        description="Override of the expected token issuer (used with K8OR_OPENID_METADATA_URL).",
    )

    host: str = setting("127.0.0.1", description="Address `k8or serve` binds to (also `--host`).")
    port: int = setting(3978, ge=1, le=65535, description="Port `k8or serve` listens on (also `--port`).")
    insecure: bool = setting(
        False, description="Allow binding a non-loopback address without an app id (also `--insecure`)."
    )
    public_url: str = setting(
        "http://localhost:3978",
        check=_absolute_url,
        description="Public base URL of k8or, used in sign-in links.",
    )
    data_dir: Path = setting(
        Path("data"), description="Directory for the SQLite database and generated keys."
    )
    database_url: str = setting(
        "",
        check=_usable_database,
        description="Database URL; empty means SQLite under K8OR_DATA_DIR. postgresql:// (or postgres://, "
        "postgresql+asyncpg://, postgresql+psycopg://) or sqlite:///path. Example: postgresql://k8or@db:5432/k8or",
    )
    database_schema: str = setting(
        "", description="PostgreSQL schema for k8or's tables (default: the user's search_path)."
    )
    log_level: str = setting(
        "INFO", check=_known_level, description="Log level: DEBUG, INFO, WARNING or ERROR."
    )
    log_format: LogFormat = setting(LogFormat.JSON, description="json (one object per line) or text.")
    turn_timeout: float = setting(
        60.0, gt=0, description="Seconds a single turn may run before it is cut off."
    )
    drain_timeout: float = setting(25.0, ge=0, description="Seconds SIGTERM waits for in-flight turns.")
    delivery_lease: float = setting(
        15.0,
        gt=0,
        description="Seconds a replica's claim on an activity holds without renewal; a redelivery waits "
        "that long (plus a margin) for a replica that may have died before running the turn itself.",
    )
    outbound_timeout: float = setting(10.0, gt=0, description="Seconds for each reply sent to a channel.")
    job_concurrency: int = setting(
        20, ge=1, le=200, description="Jobs (rollouts followed, k8orize runs, …) one replica runs at once."
    )
    job_heartbeat: float = setting(
        10.0, gt=0, description="Seconds between a replica's job-worker heartbeats (PostgreSQL only)."
    )
    job_stalled_after: float = setting(
        30.0,
        gt=0,
        description="Seconds without a heartbeat after which a replica counts as dead and another resumes "
        "its jobs; more than twice K8OR_JOB_HEARTBEAT.",
    )
    job_polling: float = setting(
        5.0, gt=0, description="Seconds between a job worker's looks for new jobs when no notification came."
    )

    vault_key: SecretStr = setting(
        SecretStr(""), description="Credential vault key(s), comma-separated, newest first (Fernet keys)."
    )
    vault_key_file: Path | None = setting(
        None, description="File holding the vault key(s), e.g. a mounted secret."
    )
    rbac_file: Path | None = setting(None, description="YAML file mapping chat identities to roles.")
    kubeconfig: str = setting("", description="Kubeconfig file(s) for `cluster use`, separated by ':'.")
    k8orize_concurrency: int = setting(
        1,
        ge=1,
        le=16,
        description="k8orize runs one replica runs at once; more wait in a queue that shows their place.",
    )
    k8orize_base_image: str = setting(
        "",
        check=_image_reference,
        description="The image chat's k8orize builds start FROM (the Dockerfiles' `BASE_IMAGE`), ideally "
        "pinned by digest: `python:3.11.7-slim-bookworm@sha256:...`. Empty: the Dockerfile's own default, "
        "`python:<k8or's Python version>-slim-bookworm`, pulled once.",
    )

    slack_bot_token: SecretStr = setting(
        SecretStr(""), description="Slack bot token (xoxb-...); enables Slack."
    )
    slack_signing_secret: SecretStr = setting(
        SecretStr(""), description="Slack signing secret for /slack/events."
    )
    slack_app_token: SecretStr = setting(
        SecretStr(""),
        check=_slack_app_token,
        description="Slack app-level token (xapp-...) with connections:write; enables Socket Mode, which "
        "needs no public URL and no signing secret.",
    )
    slack_api_url: str = setting("https://slack.com/api/", description="Slack Web API root.")

    teams_tenants: str = setting(
        "",
        description="Tenant ids whose Teams roster emails k8or trusts for RBAC and impersonation, "
        "comma-separated; MicrosoftAppTenantId and K8OR_GRAPH_TENANT_ID always count. Other tenants' "
        "people are known by their AAD object id only.",
    )
    site_allowlist: str = setting(
        "",
        description="Hosts a person may type as a service site (Jira), comma-separated globs such as "
        "`*.atlassian.net,jira.corp.example.com:8443`. Empty: public https hosts only.",
    )
    graph: GraphSettings = setting(factory=GraphSettings, description="Microsoft Graph (Teams groups)")
    notify: NotifySettings = setting(factory=NotifySettings, description="On-call alerts")
    docker_registry_url: str = setting(
        "", description="Docker registry root for tag-to-digest lookups (overrides the Docker Hub section's)."
    )
    google: GoogleSettings = setting(factory=GoogleSettings, description="Google connector")
    aws: AwsSettings = setting(factory=AwsSettings, description="AWS connector")
    jira: JiraSettings = setting(factory=JiraSettings, description="Jira connector")
    miro: MiroSettings = setting(factory=MiroSettings, description="Miro connector")
    toggl: TogglSettings = setting(factory=TogglSettings, description="Toggl Track connector")
    github: GithubSettings = setting(factory=GithubSettings, description="GitHub connector")
    dockerhub: DockerhubSettings = setting(factory=DockerhubSettings, description="Docker Hub connector")

    def check(self) -> None:
        """The rules that tie settings together; run once every field is valid."""
        if self.docker_registry_url:
            self._set("dockerhub", dataclasses.replace(self.dockerhub, registry_url=self.docker_registry_url))
        if self.microsoft_app_type is AppType.SINGLE_TENANT and not self.microsoft_app_tenant_id:
            raise ValueError("MicrosoftAppTenantId: required when MicrosoftAppType is SingleTenant")
        if self.microsoft_app_id and self.microsoft_app_type is not AppType.USER_ASSIGNED_MSI:
            if not self.microsoft_app_password.get_secret_value():
                raise ValueError("MicrosoftAppPassword: required when MicrosoftAppId is set")
        # A worker late by one heartbeat must not be taken for dead: its jobs would run twice.
        if self.job_stalled_after <= 2 * self.job_heartbeat:
            raise ValueError("K8OR_JOB_STALLED_AFTER: must be more than twice K8OR_JOB_HEARTBEAT")

    @property
    def emulator_mode(self) -> bool:
        """No app id: requests are not authenticated, so k8or must not be reachable from outside."""
        return not self.microsoft_app_id

    @property
    def email_tenants(self) -> frozenset[str]:
        """Tenants whose directory k8or trusts to say a person's email (a foreign tenant's admin can
        set any `mail` on their own users, so their roster's word proves nothing here)."""
        named = [t.strip() for t in self.teams_tenants.split(",")]
        named += [self.microsoft_app_tenant_id, self.graph.tenant_id]
        return frozenset(t.lower() for t in named if t)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"{SQLITE}:///{(self.data_dir / 'k8or.db').resolve()}"

    def bind_is_safe(self) -> bool:
        """Binding is safe with an app id, with --insecure, or on a loopback address."""
        return not self.emulator_mode or self.insecure or is_loopback(self.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_settings(
    *, env_file: str | Path | None = ".env", environ: Mapping[str, str] | None = None, **overrides: Any
) -> Settings:
    """Settings from the environment and `env_file` (None: no file), overridden by `overrides` (field
    names or the Bot Framework names); SettingsError names every bad setting and the fix."""
    values = gather(Settings, os.environ if environ is None else environ, env_file)
    names = {alias: name for name, _, spec, _ in Settings.setting_fields() for alias in spec.env}
    values.update({names.get(key, key): value for key, value in overrides.items()})
    return Settings(**values)


def settings_table() -> str:
    """The README's settings table, generated so it can never drift from the code."""
    return markdown_table(Settings)
