"""Per-connector settings sections, plus the credential vault's.

Each section is a frozen dataclass (a `typed_env.Section`), read from flat environment variables
`K8OR_<SECTION>_<FIELD>`, for example `K8OR_GITHUB_API_URL` or `K8OR_TOGGL_API_URL`. Base URLs are
overridable so that GitHub Enterprise, self-hosted registries, and the local fake servers used in
tests all work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typed_env import SecretStr, Section, setting


@dataclass(frozen=True, kw_only=True)
class GoogleSettings(Section):
    client_id: str = setting("", description="OAuth 2.0 client id for Google sign-in")
    client_secret: SecretStr = setting(
        SecretStr(""), description="OAuth 2.0 client secret for Google sign-in"
    )
    auth_uri: str = setting(
        "https://accounts.google.com/o/oauth2/v2/auth", description="Google consent screen"
    )
    token_uri: str = setting("https://oauth2.googleapis.com/token", description="Google token endpoint")
    device_auth_uri: str = setting(
        "https://oauth2.googleapis.com/device/code", description="Google device authorization endpoint"
    )
    api_url: str = setting(
        "https://www.googleapis.com/", description="Google API root (the oauth2 v2 userinfo/tokeninfo API)"
    )
    scopes: str = setting(
        "openid email profile", description="Space-separated OAuth scopes requested at sign-in"
    )


@dataclass(frozen=True, kw_only=True)
class AwsSettings(Section):
    region: str = setting("us-east-1", description="Default AWS region")
    endpoint_url: str = setting(
        "",
        description="Endpoint override for all AWS clients; empty: boto3's own (honours AWS_ENDPOINT_URL)",
    )
    sso_start_url: str = setting("", description="IAM Identity Center start URL for device sign-in")
    sso_region: str = setting("", description="IAM Identity Center region (defaults to K8OR_AWS_REGION)")
    sso_account_id: str = setting("", description="Account whose role credentials device sign-in fetches")
    sso_role_name: str = setting(
        "", description="Role (permission set) whose credentials device sign-in fetches"
    )
    role_arn: str = setting("", description="Optional role to assume after sign-in")


@dataclass(frozen=True, kw_only=True)
class JiraSettings(Section):
    default_site: str = setting("", description="Jira site URL suggested on the sign-in page (per person)")


@dataclass(frozen=True, kw_only=True)
class MiroSettings(Section):
    api_url: str = setting("https://api.miro.com", description="Miro REST API root")
    auth_url: str = setting("https://miro.com/oauth/authorize", description="Miro consent screen")
    token_url: str = setting("https://api.miro.com/v1/oauth/token", description="Miro token endpoint")
    client_id: str = setting("", description="Miro OAuth app client id")
    client_secret: SecretStr = setting(SecretStr(""), description="Miro OAuth app client secret")


@dataclass(frozen=True, kw_only=True)
class TogglSettings(Section):
    api_url: str = setting("https://api.track.toggl.com", description="Toggl Track API root")


@dataclass(frozen=True, kw_only=True)
class GithubSettings(Section):
    api_url: str = setting("https://api.github.com", description="GitHub API root (GitHub Enterprise too)")
    web_url: str = setting("https://github.com", description="GitHub web root (device flow endpoints)")
    client_id: str = setting("", description="GitHub OAuth app client id for the device flow")
    scopes: str = setting("repo read:user", description="Space-separated scopes requested by the device flow")


@dataclass(frozen=True, kw_only=True)
class DockerhubSettings(Section):
    api_url: str = setting("https://hub.docker.com", description="Docker Hub API root")
    registry_url: str = setting("https://registry-1.docker.io", description="Docker registry root")
    auth_url: str = setting("https://auth.docker.io/token", description="Docker registry token service")
    registry_service: str = setting(
        "registry.docker.io", description="`service` parameter for registry tokens"
    )


@dataclass(frozen=True, kw_only=True)
class VaultSettings(Section):
    """Read as K8OR_VAULT_KEY and K8OR_VAULT_KEY_FILE when the root settings name this section `vault`."""

    key: SecretStr = setting(
        SecretStr(""), description="Fernet key(s) for the credential vault, comma-separated, newest first"
    )
    key_file: Path | None = setting(
        None,
        description="File holding the vault key(s), e.g. a mounted secret; used when K8OR_VAULT_KEY is empty",
    )
