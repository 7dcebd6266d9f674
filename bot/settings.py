"""The one typed settings object for k8or, validated at start.

Settings come from the environment (prefix ``K8OR_``), a ``.env`` file, or the command line.
The Bot Framework credentials keep their standard names (``MicrosoftAppId`` ...) so the same
values work for k8or and for every other Bot Framework tool. Connector sections are read from
flat variables ``K8OR_<SECTION>_<FIELD>`` such as ``K8OR_GITHUB_API_URL``.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class AppType(StrEnum):
    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it and says how to fix it."""


def _bf_alias(standard: str, prefixed: str) -> AliasChoices:
    return AliasChoices(standard, prefixed)


class GraphSettings(BaseModel):
    """Microsoft Graph, read with the app's own client credentials: the only source of Teams groups."""

    tenant_id: str = Field("", description="Tenant whose directory k8or reads; empty disables Graph.")
    client_id: str = Field("", description="App (client) id with GroupMember.Read.All (application).")
    client_secret: SecretStr = Field(SecretStr(""), description="Client secret for that app.")
    api_url: str = Field("https://graph.microsoft.com/v1.0/", description="Graph API root.")
    login_url: str = Field(
        "https://login.microsoftonline.com/", description="Token endpoint root (client credentials)."
    )

    @property
    def enabled(self) -> bool:
        return bool(self.tenant_id and self.client_id and self.client_secret.get_secret_value())


class Settings(BaseSettings):
    """Every setting k8or reads. The README's settings table is generated from this class."""

    model_config = SettingsConfigDict(
        env_prefix="K8OR_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
        populate_by_name=True,
    )

    # Bot Framework identity: standard names, as every Bot Framework tool spells them.
    microsoft_app_id: str = Field(
        "",
        validation_alias=_bf_alias("MicrosoftAppId", "K8OR_MICROSOFT_APP_ID"),
        description="Bot Framework app id. Empty means local emulator mode: no token checks, loopback only.",
    )
    microsoft_app_password: SecretStr = Field(
        SecretStr(""),
        validation_alias=_bf_alias("MicrosoftAppPassword", "K8OR_MICROSOFT_APP_PASSWORD"),
        description="Bot Framework app password (client secret).",
    )
    microsoft_app_type: AppType = Field(
        AppType.MULTI_TENANT,
        validation_alias=_bf_alias("MicrosoftAppType", "K8OR_MICROSOFT_APP_TYPE"),
        description="MultiTenant, SingleTenant or UserAssignedMSI.",
    )
    microsoft_app_tenant_id: str = Field(
        "",
        validation_alias=_bf_alias("MicrosoftAppTenantId", "K8OR_MICROSOFT_APP_TENANT_ID"),
        description="Azure AD tenant id; required for SingleTenant.",
    )
    openid_metadata_url: str = Field(
        "",
        description="Override of the Bot Framework OpenID metadata URL used to validate channel tokens.",
    )
    token_issuer: str = Field(
        "",
        description="Override of the expected token issuer (used with K8OR_OPENID_METADATA_URL).",
    )

    host: str = Field("127.0.0.1", description="Address `k8or serve` binds to (also `--host`).")
    port: int = Field(3978, ge=1, le=65535, description="Port `k8or serve` listens on (also `--port`).")
    insecure: bool = Field(
        False, description="Allow binding a non-loopback address without an app id (also `--insecure`)."
    )
    public_url: str = Field(
        "http://localhost:3978", description="Public base URL of k8or, used in sign-in links."
    )
    data_dir: Path = Field(Path("data"), description="Directory for the SQLite database and generated keys.")
    database_url: str = Field(
        "",
        description="Database URL; empty means SQLite under K8OR_DATA_DIR. postgresql:// (or postgres://, "
        "postgresql+asyncpg://, postgresql+psycopg://) or sqlite:///path. Example: postgresql://k8or@db:5432/k8or",
    )
    database_schema: str = Field(
        "", description="PostgreSQL schema for k8or's tables (default: the user's search_path)."
    )
    log_level: str = Field("INFO", description="Log level: DEBUG, INFO, WARNING or ERROR.")
    log_format: LogFormat = Field(LogFormat.JSON, description="json (one object per line) or text.")
    turn_timeout: float = Field(60.0, gt=0, description="Seconds a single turn may run before it is cut off.")
    drain_timeout: float = Field(25.0, ge=0, description="Seconds SIGTERM waits for in-flight turns.")
    delivery_lease: float = Field(
        15.0,
        gt=0,
        description="Seconds a replica's claim on an activity holds without renewal; a redelivery waits "
        "that long (plus a margin) for a replica that may have died before running the turn itself.",
    )
    outbound_timeout: float = Field(10.0, gt=0, description="Seconds for each reply sent to a channel.")
    job_concurrency: int = Field(
        20, ge=1, le=200, description="Jobs (rollouts followed, k8orize runs, …) one replica runs at once."
    )
    job_heartbeat: float = Field(
        10.0, gt=0, description="Seconds between a replica's job-worker heartbeats (PostgreSQL only)."
    )
    job_stalled_after: float = Field(
        30.0,
        gt=0,
        description="Seconds without a heartbeat after which a replica counts as dead and another resumes "
        "its jobs; more than twice K8OR_JOB_HEARTBEAT.",
    )
    job_polling: float = Field(
        5.0, gt=0, description="Seconds between a job worker's looks for new jobs when no notification came."
    )

    vault_key: SecretStr = Field(
        SecretStr(""), description="Credential vault key(s), comma-separated, newest first (Fernet keys)."
    )
    vault_key_file: Path | None = Field(
        None, description="File holding the vault key(s), e.g. a mounted secret."
    )
    rbac_file: Path | None = Field(None, description="YAML file mapping chat identities to roles.")
    kubeconfig: str = Field("", description="Kubeconfig file(s) for `cluster use`, separated by ':'.")
    k8orize_concurrency: int = Field(
        1,
        ge=1,
        le=16,
        description="k8orize runs one replica runs at once; more wait in a queue that shows their place.",
    )
    k8orize_base_image: str = Field(
        "",
        description="The image chat's k8orize builds start FROM (the Dockerfiles' `BASE_IMAGE`), ideally "
        "pinned by digest: `python:3.11.7-slim-bookworm@sha256:...`. Empty: the Dockerfile's own default, "
        "`python:<k8or's Python version>-slim-bookworm`, pulled once.",
    )

    slack_bot_token: SecretStr = Field(
        SecretStr(""), description="Slack bot token (xoxb-...); enables Slack."
    )
    slack_signing_secret: SecretStr = Field(
        SecretStr(""), description="Slack signing secret for /slack/events."
    )
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API root.")

    teams_tenants: str = Field(
        "",
        description="Tenant ids whose Teams roster emails k8or trusts for RBAC and impersonation, "
        "comma-separated; MicrosoftAppTenantId and K8OR_GRAPH_TENANT_ID always count. Other tenants' "
        "people are known by their AAD object id only.",
    )
    site_allowlist: str = Field(
        "",
        description="Hosts a person may type as a service site (Jira), comma-separated globs such as "
        "`*.atlassian.net,jira.corp.example.com:8443`. Empty: public https hosts only.",
    )
    graph: GraphSettings = Field(default_factory=GraphSettings, description="Microsoft Graph (Teams groups)")
    docker_registry_url: str = Field(
        "", description="Docker registry root for tag-to-digest lookups (overrides the Docker Hub section's)."
    )
    google: GoogleSettings = Field(default_factory=GoogleSettings, description="Google connector")
    aws: AwsSettings = Field(default_factory=AwsSettings, description="AWS connector")
    jira: JiraSettings = Field(default_factory=JiraSettings, description="Jira connector")
    miro: MiroSettings = Field(default_factory=MiroSettings, description="Miro connector")
    toggl: TogglSettings = Field(default_factory=TogglSettings, description="Toggl Track connector")
    github: GithubSettings = Field(default_factory=GithubSettings, description="GitHub connector")
    dockerhub: DockerhubSettings = Field(
        default_factory=DockerhubSettings, description="Docker Hub connector"
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        """The URL of the engine k8or runs (asyncpg or in-loop SQLite); DatabaseUrlError otherwise."""
        return normalise_database_url(value) if value.strip() else ""

    @field_validator("k8orize_base_image")
    @classmethod
    def _image_reference(cls, value: str) -> str:
        value = value.strip()
        if value:
            from k8orize.image import is_reference  # the image grammar; loaded only when the setting is

            if not is_reference(value):
                raise ValueError("use an image reference: REPO[:TAG][@sha256:DIGEST]")
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        if self.docker_registry_url:
            self.dockerhub.registry_url = self.docker_registry_url
        if self.microsoft_app_type is AppType.SINGLE_TENANT and not self.microsoft_app_tenant_id:
            raise ValueError("MicrosoftAppTenantId: required when MicrosoftAppType is SingleTenant")
        if self.microsoft_app_id and self.microsoft_app_type is not AppType.USER_ASSIGNED_MSI:
            if not self.microsoft_app_password.get_secret_value():
                raise ValueError("MicrosoftAppPassword: required when MicrosoftAppId is set")
        return self

    @model_validator(mode="after")
    def _live_workers_are_not_stalled(self) -> Settings:
        # A worker late by one heartbeat must not be taken for dead: its jobs would run twice.
        if self.job_stalled_after <= 2 * self.job_heartbeat:
            raise ValueError("K8OR_JOB_STALLED_AFTER: must be more than twice K8OR_JOB_HEARTBEAT")
        return self

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


_ENV_NAMES = {
    "microsoft_app_id": "MicrosoftAppId",
    "microsoft_app_password": "MicrosoftAppPassword",
    "microsoft_app_type": "MicrosoftAppType",
    "microsoft_app_tenant_id": "MicrosoftAppTenantId",
}


def env_name(*loc: Any) -> str:
    """The environment variable a pydantic error location refers to."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if not parts:
        return "settings"
    if parts[0] in _ENV_NAMES or parts[0] in _ENV_NAMES.values():
        return _ENV_NAMES.get(parts[0], parts[0])
    return "K8OR_" + "_".join(parts).upper()


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings; raise SettingsError naming every bad setting and the fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{env_name(*err['loc'])}: {message}" if err["loc"] else message)
        if len(lines) == 1:  # one line, so a wrong setting is one line at start
            raise SettingsError(f"invalid setting {lines[0]}") from None
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


def settings_table() -> str:
    """The README's settings table, generated so it can never drift from the code."""
    rows = ["| Setting | Default | Meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub, subfield in annotation.model_fields.items():
                rows.append(_row(f"K8OR_{name}_{sub}".upper(), subfield.default, subfield.description))
            continue
        rows.append(_row(env_name(name), field.default, field.description))
    return "\n".join(rows)


def _row(name: str, default: Any, description: str | None) -> str:
    if isinstance(default, SecretStr):
        default = "" if not default.get_secret_value() else "(set)"
    shown = f"`{default}`" if default not in ("", None) else "(empty)"
    return f"| `{name}` | {shown} | {description or ''} |"
