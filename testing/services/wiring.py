"""Each connector wired to its fake service: used by the connector tests and by bench/auth."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import boto3
from aiohttp import web
from aiohttp.test_utils import TestServer

from connectors.aws import AwsConnector
from connectors.base import Connector, Credentials
from connectors.dockerhub import DockerhubConnector
from connectors.github import GithubConnector
from connectors.google import GoogleConnector
from connectors.jira import JiraConnector
from connectors.miro import MiroConnector
from connectors.settings import (
    AwsSettings,
    DockerhubSettings,
    GithubSettings,
    GoogleSettings,
    MiroSettings,
    TogglSettings,
)
from connectors.sites import SiteGuard
from connectors.toggl import TogglConnector
from testing.services import aws, dockerhub, github, google, jira, miro, toggl
from testing.services.faults import FaultSwitch

SERVICES = ("aws", "dockerhub", "github", "google", "jira", "miro", "toggl")
TEST_TIMEOUT = 5.0  # generous: the suite shares two cores with others; SLOW tests lower it
SECRET_KEYS = {
    "token",
    "api_token",
    "access_token",
    "refresh_token",
    "secret_access_key",
    "session_token",
    "pat",
    "sso_access_token",
}


@dataclasses.dataclass
class Harness:
    """One connector pointed at its fake, with valid credentials for one person."""

    name: str
    connector: Connector
    state: Any
    url: str
    credentials: Credentials

    @property
    def secrets(self) -> list[str]:
        """The secret values among the credentials."""
        return [value for key, value in self.credentials.items() if key in SECRET_KEYS]

    @property
    def switch(self) -> FaultSwitch:
        return self.state.switch


async def serve(app: web.Application) -> TestServer:
    """Start `app` on 127.0.0.1, port 0."""
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    return server


def base_url(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


def start_moto() -> tuple[Any, str]:
    """A moto server on 127.0.0.1, port 0, and its URL; call `.stop()` on the first item when done."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def moto_client(moto_url: str, service: str) -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def moto_user_keys(moto_url: str) -> tuple[str, str, str]:
    """A fresh IAM user in moto: (user name, access key id, secret access key)."""
    iam = moto_client(moto_url, "iam")
    user = "ada-" + secrets.token_hex(4)
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return user, key["AccessKeyId"], key["SecretAccessKey"]


async def build_aws(moto_url: str) -> tuple[Harness, TestServer]:
    state = aws.AwsState(moto_url=moto_url)
    server = await serve(aws.create_app(state))
    connector = AwsConnector(AwsSettings(endpoint_url=base_url(server)))
    _user, key_id, secret = moto_user_keys(moto_url)
    credentials = Credentials(access_key_id=key_id, secret_access_key=secret)
    return Harness("aws", connector, state, base_url(server), credentials), server


def identity_center(aws_harness: Harness, moto_url: str, session_name: str) -> None:
    """Offer IAM Identity Center sign-in on the AWS fake: its GetRoleCredentials hands out a role
    moto really issued (AdministratorAccess in account 123456789012, session `session_name`), so
    STS names that role once the device flow ends."""
    assumed = moto_client(moto_url, "sts").assume_role(
        RoleArn="arn:aws:iam::123456789012:role/AdministratorAccess", RoleSessionName=session_name
    )["Credentials"]
    aws_harness.state.role_credentials = {
        "accessKeyId": assumed["AccessKeyId"],
        "secretAccessKey": assumed["SecretAccessKey"],
        "sessionToken": assumed["SessionToken"],
    }
    aws_harness.connector.settings = AwsSettings(
        endpoint_url=aws_harness.url,
        sso_start_url="https://acme.awsapps.com/start",
        sso_account_id="123456789012",
        sso_role_name="AdministratorAccess",
    )


async def build_github() -> tuple[Harness, TestServer]:
    state = github.GithubState()
    server = await serve(github.create_app(state))
    url = base_url(server)
    connector = GithubConnector(GithubSettings(api_url=url, web_url=url, client_id="Iv1.8a61f9b3a7aba766"))
    return Harness("github", connector, state, url, Credentials(token=state.issue_token())), server


def google_settings(state: google.GoogleState, url: str) -> GoogleSettings:
    return GoogleSettings(
        client_id=state.client_id,
        client_secret=state.client_secret,
        auth_uri=url + "/o/oauth2/v2/auth",
        token_uri=url + "/token",
        device_auth_uri=url + "/device/code",
        api_url=url + "/",
    )


async def build_google() -> tuple[Harness, TestServer]:
    state = google.GoogleState()
    server = await serve(google.create_app(state))
    url = base_url(server)
    body = state.token_response()
    credentials = Credentials(access_token=body["access_token"], refresh_token=body["refresh_token"])
    return Harness("google", GoogleConnector(google_settings(state, url)), state, url, credentials), server


async def build_jira() -> tuple[Harness, TestServer]:
    state = jira.JiraState()
    server = await serve(jira.create_app(state))
    url = base_url(server)
    credentials = Credentials(site=url, email="ada@example.com", api_token=state.issue_cloud_token())
    connector = JiraConnector()
    # The fake listens on loopback, which the default guard refuses: allow exactly its host:port.
    connector.sites = SiteGuard.from_setting(f"127.0.0.1:{server.port}")
    return Harness("jira", connector, state, url, credentials), server


def miro_settings(state: miro.MiroState, url: str) -> MiroSettings:
    return MiroSettings(
        api_url=url,
        auth_url=url + "/oauth/authorize",
        token_url=url + "/v1/oauth/token",
        client_id=state.client_id,
        client_secret=state.client_secret,
    )


async def build_miro() -> tuple[Harness, TestServer]:
    state = miro.MiroState()
    server = await serve(miro.create_app(state))
    url = base_url(server)
    connector = MiroConnector(miro_settings(state, url))
    return Harness("miro", connector, state, url, Credentials(access_token=state.issue_token())), server


async def build_toggl() -> tuple[Harness, TestServer]:
    state = toggl.TogglState()
    server = await serve(toggl.create_app(state))
    url = base_url(server)
    connector = TogglConnector(TogglSettings(api_url=url))
    return Harness("toggl", connector, state, url, Credentials(api_token=state.issue_token())), server


async def build_dockerhub() -> tuple[Harness, TestServer]:
    state = dockerhub.DockerhubState()
    server = await serve(dockerhub.create_app(state))
    url = base_url(server)
    connector = DockerhubConnector(DockerhubSettings(api_url=url, registry_url=url, auth_url=url + "/token"))
    credentials = Credentials(username="ada", token=state.issue_token("ada"))
    return Harness("dockerhub", connector, state, url, credentials), server


BUILDERS: dict[str, Callable[[], Awaitable[tuple[Harness, TestServer]]]] = {
    "dockerhub": build_dockerhub,
    "github": build_github,
    "google": build_google,
    "jira": build_jira,
    "miro": build_miro,
    "toggl": build_toggl,
}


async def build(name: str, moto_url: str) -> tuple[Harness, TestServer]:
    """The harness for service `name`, its fake already listening."""
    harness, server = await (build_aws(moto_url) if name == "aws" else BUILDERS[name]())
    set_timeout(harness, TEST_TIMEOUT)
    if name == "github":
        harness.connector.write_pacing = 0  # type: ignore[attr-defined]
    return harness, server


def set_timeout(harness: Harness, seconds: float) -> None:
    """Set the connector's own time limit (SDK calls and its HTTP session)."""
    harness.connector.timeout = seconds  # type: ignore[attr-defined]
    http = getattr(harness.connector, "http", None)
    if http is not None:
        http.timeout = seconds
        http._session = None  # the next request opens a session with the new limit


async def close(harness: Harness, server: TestServer) -> None:
    """Stop a harness's client and its fake."""
    harness.switch.slow_seconds = 0
    await harness.connector.aclose()
    await server.close()
