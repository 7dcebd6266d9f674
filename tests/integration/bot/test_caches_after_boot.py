"""Issue 10, item 1: on a machine booted seconds ago, every cache fetches on first use.

Each cache runs on `FakeClock()`, whose monotonic clock reads 3.0 like a node just booted. The old
caches stored 0.0 for "never fetched", so at 3.0 they believed they had fetched three seconds ago:
Slack groups stayed empty for 5 minutes and replies went out with an empty bearer for 10.
"""

from __future__ import annotations

import aiohttp
import pytest
from botbuilder.schema import Activity
from slack_sdk.web.async_client import AsyncWebClient

from bot.channel_client import TOKEN_REUSE_SECONDS, ChannelConnector
from bot.graph import TTL_SECONDS as GRAPH_TTL
from bot.graph import GraphDirectory
from bot.settings import GraphSettings
from bot.slack.directory import TTL_SECONDS as SLACK_TTL
from bot.slack.directory import SlackDirectory
from testing.chat.channel import FakeChannel
from testing.chat.slack_api import FakeSlack, usergroup
from testing.clock import FakeClock
from tests.security.identity_harness import FakeGraph, graph_settings, group

OBJECT_ID = "11111111-2222-3333-4444-555555555555"
ADMINS = "7e7e7e7e-0000-4000-8000-000000000077"


@pytest.fixture
async def slack(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeSlack(
        emails={"U1": "ana@example.com"}, usergroups=[usergroup("S0ADMINS", "sre-admins", ["U1"])]
    )
    server = await aiohttp_server(fake.app())
    return fake, AsyncWebClient(token="xoxb-test-token", base_url=str(server.make_url("/api/")))


def _called(fake: FakeSlack, method: str) -> int:
    return sum(1 for name, _args in fake.calls if name == method)


async def test_slack_groups_and_email_are_fetched_at_once_after_boot(slack):  # type: ignore[no-untyped-def]
    fake, client = slack
    clock = FakeClock()
    directory = SlackDirectory(client, clock=clock)
    assert await directory.groups("U1") == ["S0ADMINS"]
    assert await directory.email("U1") == "ana@example.com"
    fake.usergroups = []
    clock.advance(SLACK_TTL - 1)
    assert await directory.groups("U1") == ["S0ADMINS"]  # still cached: one fetch per TTL
    assert _called(fake, "usergroups.list") == 1 and _called(fake, "users.info") == 1
    clock.advance(1)
    assert await directory.groups("U1") == []  # the TTL ran out: fetched again
    assert _called(fake, "usergroups.list") == 2


class _Credentials:
    """The bot's AppCredentials as the connector uses them: an app id and a blocking token call."""

    microsoft_app_id = "k8or-app"

    def __init__(self) -> None:
        self.issued = 0

    def get_access_token(self) -> str:
        self.issued += 1
        return f"outbound-{self.issued}"


@pytest.fixture
async def channel(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeChannel()
    server = await aiohttp_server(fake.app())
    return fake, str(server.make_url("/"))


async def test_the_first_reply_after_boot_carries_a_bearer_token(channel):  # type: ignore[no-untyped-def]
    fake, url = channel
    clock, credentials = FakeClock(), _Credentials()
    async with aiohttp.ClientSession() as session:
        connector = ChannelConnector(url, session, credentials, _no_sdk, 5.0, clock=clock)  # type: ignore[arg-type]
        reply = Activity(type="message", text="hello")
        await connector.conversations.send_to_conversation("conv-1", reply)
        clock.advance(TOKEN_REUSE_SECONDS - 1)
        await connector.conversations.send_to_conversation("conv-1", reply)
        clock.advance(1)
        await connector.conversations.send_to_conversation("conv-1", reply)
    assert [c.authorization for c in fake.calls] == [
        "Bearer outbound-1",
        "Bearer outbound-1",
        "Bearer outbound-2",
    ]


async def _no_sdk() -> None:
    raise AssertionError("the message calls never need the SDK client")


@pytest.fixture
async def graph(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeGraph()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/"))
    return fake


async def test_graph_groups_and_token_after_boot(graph):  # type: ignore[no-untyped-def]
    graph.memberships[OBJECT_ID] = [[group(ADMINS)]]
    clock = FakeClock()
    directory = GraphDirectory(GraphSettings(**graph_settings(graph)), 5.0, clock=clock)
    try:
        assert await directory.groups(OBJECT_ID) == {ADMINS}
        clock.advance(GRAPH_TTL - 1)
        assert await directory.groups(OBJECT_ID) == {ADMINS}
        assert len(graph.calls) == 1  # cached for the TTL
        clock.advance(3599)  # past the TTL and the token's lifetime (minus its minute of margin)
        assert await directory.groups(OBJECT_ID) == {ADMINS}
    finally:
        await directory.close()
    assert len(graph.calls) == 2 and len(graph.token_requests) == 2
