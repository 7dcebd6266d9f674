"""Sign-in hooks (device and code flows, token forms) and the operations commands use, per connector."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from connectors import errors
from connectors.aws import AwsConnector
from connectors.base import Credentials, OAuthAuthorizationCode, OAuthDeviceAuthorization, TokenFields
from connectors.settings import AwsSettings
from testing.services.wiring import identity_center, moto_client

REDIRECT = "https://k8or.example.com/signin/callback"


async def _consent(url: str) -> dict[str, str]:
    """Open the consent URL like a browser and read the redirect back to k8or."""
    async with aiohttp.ClientSession() as browser, browser.get(url, allow_redirects=False) as response:
        assert response.status == 302
        location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def _device_flow(harness, method_key: str) -> Credentials:  # type: ignore[no-untyped-def]
    connector = harness.connector
    method = connector.sign_in_method(method_key)
    assert isinstance(method, OAuthDeviceAuthorization)
    device = await connector.start_device_authorization(method)
    assert device.user_code and device.verification_uri
    assert await connector.poll_device_authorization(method, device) is None
    code = device.state["device_code"] if "device_code" in device.state else ""
    harness.state.devices[code] = "approved"
    credentials = await connector.poll_device_authorization(method, device)
    assert credentials is not None
    return credentials


async def test_github_device_flow(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    credentials = await _device_flow(github, "device")
    identity = await github.connector.verify(credentials)
    assert identity.subject == "octocat"
    assert identity.scopes == ("repo", "read:user")


async def test_github_device_flow_denied(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    method = github.connector.sign_in_method("device")
    device = await github.connector.start_device_authorization(method)
    github.state.devices[device.state["device_code"]] = "denied"
    with pytest.raises(errors.SignInDenied):
        await github.connector.poll_device_authorization(method, device)


async def test_github_token_expiry_header(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    github.state.token_expiry = "2031-01-02 03:04:05 UTC"
    identity = await github.connector.verify(github.credentials)
    assert identity.expires_at == dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


async def test_github_pull_request_with_files(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    url = await github.connector.open_pull_request(
        github.credentials,
        "acme/api",
        base="main",
        branch="k8or/harden",
        title="Harden api",
        body="by k8or",
        files={"deploy/api.yaml": "kind: Deployment\n"},
        message="k8or: harden api",
    )
    assert url == "https://github.com/acme/api/pull/1"
    assert "deploy/api.yaml" in github.state.files


async def test_github_pull_request_again_on_the_same_branch_is_the_same(harness_for) -> None:  # type: ignore[no-untyped-def]
    """A k8orize job resumed after its replica died opens its pull request again: GitHub refuses the
    branch it already made (422), and the person gets the one pull request, updated, not two."""
    github = await harness_for("github")

    async def open_on(branch: str, text: str) -> str:
        return await github.connector.open_pull_request(
            github.credentials,
            "acme/api",
            base="main",
            branch=branch,
            title="Harden api",
            body="by k8or",
            files={"deploy/api.yaml": text},
            message="k8or: harden api",
        )

    first = await open_on("k8or/k8orize-7", "kind: Deployment\n")
    again = await open_on("k8or/k8orize-7", "kind: Deployment # again\n")
    other = await open_on("k8or/k8orize-8", "kind: Deployment\n")
    assert first == again == "https://github.com/acme/api/pull/1"
    assert other == "https://github.com/acme/api/pull/2"
    assert [pull["head"]["ref"] for pull in github.state.pulls] == ["k8or/k8orize-7", "k8or/k8orize-8"]


async def test_google_code_flow(harness_for) -> None:  # type: ignore[no-untyped-def]
    google = await harness_for("google")
    method = google.connector.sign_in_method("oauth")
    assert isinstance(method, OAuthAuthorizationCode)
    answer = await _consent(google.connector.authorization_url(method, "state-123", REDIRECT))
    assert answer["state"] == "state-123"
    credentials = await google.connector.exchange_code(method, answer["code"], REDIRECT)
    identity = await google.connector.verify(credentials)
    assert identity.subject == "ada@example.com"
    assert "openid" in identity.scopes
    assert identity.expires_at is not None


async def test_google_code_reuse_is_refused(harness_for) -> None:  # type: ignore[no-untyped-def]
    google = await harness_for("google")
    method = google.connector.sign_in_method("oauth")
    answer = await _consent(google.connector.authorization_url(method, "s", REDIRECT))
    await google.connector.exchange_code(method, answer["code"], REDIRECT)
    with pytest.raises(errors.SignInExpired):
        await google.connector.exchange_code(method, answer["code"], REDIRECT)


async def test_google_device_flow(harness_for) -> None:  # type: ignore[no-untyped-def]
    google = await harness_for("google")
    credentials = await _device_flow(google, "device")
    assert (await google.connector.verify(credentials)).display_name == "Ada Lovelace"


async def test_google_refreshes_an_expired_access_token(harness_for) -> None:  # type: ignore[no-untyped-def]
    google = await harness_for("google")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    stale = google.credentials.with_values(access_token="ya29.expired", expires_at=past)
    assert (await google.connector.verify(stale)).subject == "ada@example.com"
    revoked = stale.with_values(refresh_token="1//revoked")
    with pytest.raises(errors.CredentialsExpired):
        await google.connector.verify(revoked)


async def test_miro_code_flow_and_boards(harness_for) -> None:  # type: ignore[no-untyped-def]
    miro = await harness_for("miro")
    method = miro.connector.sign_in_method("oauth")
    answer = await _consent(miro.connector.authorization_url(method, "st", REDIRECT))
    credentials = await miro.connector.exchange_code(method, answer["code"], REDIRECT)
    identity = await miro.connector.verify(credentials)
    assert identity.display_name == "Ada Lovelace"
    assert identity.scopes == ("boards:read", "boards:write")
    assert identity.expires_at is not None
    boards = await miro.connector.boards(credentials)
    assert boards[0]["name"] == "Release plan"


async def test_miro_stored_expiry_short_circuits(harness_for) -> None:  # type: ignore[no-untyped-def]
    miro = await harness_for("miro")
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
    with pytest.raises(errors.CredentialsExpired):
        await miro.connector.verify(miro.credentials.with_values(expires_at=past))
    assert miro.switch.requests == 0


async def test_toggl_drops_echoed_token(harness_for) -> None:  # type: ignore[no-untyped-def]
    toggl = await harness_for("toggl")
    me = await toggl.connector.me(toggl.credentials)
    assert "api_token" not in me
    identity = await toggl.connector.verify(toggl.credentials)
    assert toggl.credentials["api_token"] not in repr(identity)
    entry = await toggl.connector.current_time_entry(toggl.credentials)
    assert entry is not None and entry["description"] == "k8or: connectors"


async def test_jira_server_pat_and_issue(harness_for) -> None:  # type: ignore[no-untyped-def]
    jira = await harness_for("jira")
    method = jira.connector.sign_in_method("server")
    assert isinstance(method, TokenFields)
    form = {"site": jira.url + "/", "pat": jira.state.issue_server_token()}
    credentials = jira.connector.credentials_from_form(method, form)
    assert credentials["site"] == jira.url
    identity = await jira.connector.verify(credentials)
    assert identity.details["account"] == "JIRAUSER10100"
    release = await jira.connector.issue_release(credentials, "PROJ-123")
    assert release.status == "Done" and release.released
    assert release.fix_versions == (("2.4.0", True, "2026-11-20"),)


def test_jira_form_rejects_a_bad_site() -> None:
    from connectors.jira import JiraConnector

    connector = JiraConnector()
    method = connector.sign_in_method("cloud")
    with pytest.raises(errors.InvalidCredentials):
        connector.credentials_from_form(
            method, {"site": "file:///etc/passwd", "email": "a@b", "api_token": "t"}
        )
    with pytest.raises(errors.InvalidCredentials):
        connector.credentials_from_form(method, {"site": "https://x.atlassian.net", "email": "a@b"})


async def test_dockerhub_tag_to_digest(harness_for) -> None:  # type: ignore[no-untyped-def]
    hub = await harness_for("dockerhub")
    digest = await hub.connector.resolve_digest(hub.credentials, "nginx", "latest")
    assert digest == "sha256:" + "a" * 64
    identity = await hub.connector.verify(hub.credentials)
    assert identity.subject == "ada"


async def test_aws_assume_role(harness_for, moto_url: str) -> None:  # type: ignore[no-untyped-def]
    aws = await harness_for("aws")
    role = moto_client(moto_url, "iam").create_role(
        RoleName="deployer-" + aws.credentials["access_key_id"][-6:], AssumeRolePolicyDocument="{}"
    )["Role"]
    identity = await aws.connector.verify(aws.credentials.with_values(role_arn=role["Arn"]))
    assert ":assumed-role/" in identity.subject
    assert identity.expires_at is not None
    session = await aws.connector.session(aws.credentials)
    assert session.get_credentials().access_key == aws.credentials["access_key_id"]


async def test_aws_identity_center_device_flow(harness_for, moto_url: str) -> None:  # type: ignore[no-untyped-def]
    aws = await harness_for("aws")
    identity_center(aws, moto_url, "ada")
    credentials = await _device_flow(aws, "sso")
    identity = await aws.connector.verify(credentials)
    assert identity.subject.endswith("assumed-role/AdministratorAccess/ada")
    assert identity.details["account"] == "123456789012"


async def test_aws_honours_aws_endpoint_url(harness_for, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    aws = await harness_for("aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws.url)
    plain = AwsConnector(AwsSettings())
    plain.timeout = 2.0
    identity = await plain.verify(aws.credentials)
    assert identity.subject.startswith("arn:aws:iam::")


async def test_sdk_debug_logs_hold_no_aws_secrets(harness_for, moto_url: str, caplog) -> None:  # type: ignore[no-untyped-def]
    aws = await harness_for("aws")
    caplog.set_level(logging.DEBUG)
    role = moto_client(moto_url, "iam").create_role(
        RoleName="logcheck-" + aws.credentials["access_key_id"][-6:], AssumeRolePolicyDocument="{}"
    )["Role"]
    caplog.clear()
    await aws.connector.verify(aws.credentials.with_values(role_arn=role["Arn"]))
    text = caplog.text
    assert aws.credentials["secret_access_key"] not in text
    assert "SecretAccessKey" not in text and "SessionToken" not in text


async def test_google_revoked_access_token_with_good_refresh_token(harness_for) -> None:  # type: ignore[no-untyped-def]
    google = await harness_for("google")
    revoked = google.credentials.with_values(access_token="ya29.revoked")  # no stored expiry: looks fresh
    identity = await google.connector.verify(revoked)
    assert identity.subject == "ada@example.com"
    assert identity.refreshed is not None and identity.refreshed["access_token"] in google.state.tokens
