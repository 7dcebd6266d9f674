"""Generated malformed requests, over real HTTP, to every endpoint: a 4xx or a success, never a 5xx.

Each test starts the whole app (`create_app`) on port 0, sends a few hundred generated requests to
one endpoint with the real aiohttp client -- odd JSON (strings where objects belong, lists, nulls,
huge numbers, deep nesting), invalid UTF-8, random headers and content types -- and then checks
that /healthz still answers 200. Slack bodies are also sent correctly signed, and Bot Framework
bodies with a valid channel token, so the generated input reaches past the authentication checks.
Examples are derandomized: CI sees the same requests on every run.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.settings import Settings
from k8or.app import SERVICES, create_app
from testing.chat.channel import FakeChannel
from testing.chat.openid import OpenIdServer, channel_token, new_key
from testing.chat.slack_api import FakeSlack, signed

EXAMPLES = settings(
    max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
SLACK_SECRET = "fuzz-signing-secret"
APP_ID = "11111111-2222-3333-4444-555555555555"
Send = Callable[[TestClient], Awaitable[Any]]

# --- what the generated requests are made of ---------------------------------------------------------

huge_numbers = st.sampled_from([10**400, -(10**400), 2**63, -(2**63) - 1, 1e308, -0.0])
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), huge_numbers, st.floats(allow_nan=False), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=16,
)
deep_nesting = st.integers(min_value=50, max_value=5000).map(lambda n: b"[" * n + b"]" * n)
raw_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),  # mostly invalid UTF-8
    deep_nesting,
    st.integers(min_value=1000, max_value=6000).map(lambda n: b"9" * n),
    st.sampled_from([b"", b"{", b"null", b'"text"', b"[]", b"{}", b"\xff\xfe{}", b'{"a":1}' * 3]),
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
content_types = (
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=latin-1",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; boundary=zzz",
            "application/x-www-form-urlencoded; charset=nosuch",
            "multipart/form-data; boundary=zzz; charset=nosuch",
            "text/plain",
            "",
            "*/*",
        ]
    )
    | header_text
)
random_headers = st.dictionaries(
    st.sampled_from(
        ["X-Forwarded-For", "Accept", "Accept-Encoding", "Content-Encoding", "Cookie", "Origin", "X-Custom"]
    ),
    st.sampled_from(["gzip", "deflate", "br", "identity"]) | header_text,
    max_size=3,
)

ACTIVITY_KEYS = [
    "type", "id", "channelId", "serviceUrl", "from", "conversation", "recipient", "text", "value",
    "channelData", "entities", "attachments", "timestamp", "replyToId", "locale", "name", "membersAdded",
]  # fmt: skip
ACTIVITY_TYPES = [
    "message",
    "conversationUpdate",
    "invoke",
    "event",
    "typing",
    "messageReaction",
    "endOfConversation",
]


def activities(service_url: str, types: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A plausible activity with some fields replaced by JSON of any shape, or removed."""
    base = st.fixed_dictionaries(
        {
            "type": st.sampled_from(types),
            "id": st.text(min_size=1, max_size=12),
            "channelId": st.sampled_from(["emulator", "msteams", "webchat", "directline"]),
            "serviceUrl": st.just(service_url),
            "from": st.fixed_dictionaries({"id": st.text(min_size=1, max_size=12)}),
            "conversation": st.fixed_dictionaries({"id": st.text(min_size=1, max_size=12)}),
            "recipient": st.just({"id": "k8or-bot"}),
            "text": st.sampled_from(["help", "version", "whoami", "yes", "login jira", ""])
            | st.text(max_size=30),
        }
    )
    changes = st.dictionaries(st.sampled_from(ACTIVITY_KEYS), json_values | st.just("<drop>"), max_size=3)
    return st.builds(_apply, base, changes)


def _apply(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v != "<drop>"}


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


# --- running one endpoint's examples against one live server -----------------------------------------


@dataclass
class Live:
    """The app's test client and the fakes' URLs, on a loop this test drives once per example."""

    loop: asyncio.AbstractEventLoop
    client: TestClient
    urls: list[str]

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    def check(self, send: Send) -> None:
        """Send one request; fail, showing it, if the answer is a 5xx."""
        self.run(_send_and_check(self.client, send))


@contextmanager
def live_app(make_settings: Callable[[list[str]], Settings], *fakes: web.Application) -> Iterator[Live]:
    """Each fake on port 0, then the app on port 0 with settings that point at the fakes.

    On leaving, /healthz must still answer 200: nothing sent may have taken the server down.
    """
    loop = asyncio.new_event_loop()
    servers = [TestServer(fake) for fake in fakes]
    live = Live(loop, None, [])  # type: ignore[arg-type]
    try:
        live.urls = [live.run(_started(server)) for server in servers]
        live.client = live.run(_client(create_app(make_settings(live.urls))))
        yield live
        assert live.run(live.client.get("/healthz")).status == 200
    finally:
        live.run(_close(live.client, servers))
        loop.close()


async def _started(server: TestServer) -> str:
    await server.start_server()
    return str(server.make_url("/"))


async def _client(app: web.Application) -> TestClient:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def _send_and_check(client: TestClient, send: Send) -> None:
    response = await send(client)
    body = await response.read()
    assert response.status < 500, f"{response.status} from {response.method} {response.url}: {body[:300]!r}"


async def _text(request: Awaitable[Any]) -> str:
    response = await request
    return await response.text()


async def _close(client: TestClient | None, servers: list[TestServer]) -> None:
    if client is not None:
        await client.app[SERVICES].tracker.idle()
        await client.close()
    for server in servers:
        await server.close()


def _settings(**extra: Any) -> Settings:
    return Settings(data_dir=Path(tempfile.mkdtemp()), outbound_timeout=2.0, **extra)


# --- Bot Framework ----------------------------------------------------------------------------------


def test_bot_framework_endpoint_in_emulator_mode_never_answers_5xx() -> None:
    channel = FakeChannel()
    with live_app(lambda urls: _settings(), channel.app()) as live:
        bodies = activities(live.urls[0], ACTIVITY_TYPES).map(_json_bytes) | raw_bodies

        @EXAMPLES
        @given(body=bodies, content_type=st.just("application/json") | content_types, headers=random_headers)
        def one_request(body: bytes, content_type: str, headers: dict[str, str]) -> None:
            sent = {**headers, "Content-Type": content_type}
            live.check(lambda client: client.post("/api/messages", data=body, headers=sent))

        one_request()
    assert channel.calls, "no generated activity reached a turn: the fuzz stopped at the door"


def _authorizations(key: Any, channel_url: str) -> st.SearchStrategy[str]:
    """Valid, unexpiring, mistyped, foreign-key, empty and garbage Authorization headers."""
    known = [
        "Bearer " + channel_token(key, APP_ID, channel_url),
        "Bearer " + channel_token(key, APP_ID, channel_url, expires=False),
        "Bearer " + channel_token(key, APP_ID, channel_url, expires="tomorrow"),
        "Bearer " + channel_token(new_key(), APP_ID, channel_url),
        "Bearer ",
        "",
    ]
    return st.sampled_from(known) | header_text.map(lambda text: "Bearer " + text)


def test_bot_framework_endpoint_with_an_app_id_never_answers_5xx() -> None:
    key = new_key()
    with OpenIdServer(key, endorsements=("msteams", "emulator", "webchat", "directline")) as openid:
        secured = _settings(
            microsoft_app_id=APP_ID,
            microsoft_app_password="not-a-real-password",
            openid_metadata_url=openid.metadata_url,
        )
        with live_app(lambda urls: secured, FakeChannel().app()) as live:
            bodies = activities(live.urls[0], ACTIVITY_TYPES).map(_json_bytes) | raw_bodies

            @EXAMPLES
            @given(body=bodies, authorization=_authorizations(key, live.urls[0]), headers=random_headers)
            def one_request(body: bytes, authorization: str, headers: dict[str, str]) -> None:
                sent = {**headers, "Content-Type": "application/json", "Authorization": authorization}
                live.check(lambda client: client.post("/api/messages", data=body, headers=sent))

            one_request()
            metrics = live.run(_text(live.client.get("/metrics")))
            assert "k8or_turns_total{" in metrics, "no generated activity got past the token check"


# --- Slack ------------------------------------------------------------------------------------------


def _slack_settings(urls: list[str]) -> Settings:
    return _settings(
        slack_bot_token="xoxb-test-token", slack_signing_secret=SLACK_SECRET, slack_api_url=urls[0] + "api/"
    )


timestamps = st.one_of(
    header_text,
    st.integers().map(str),
    st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),
    st.sampled_from(
        ["", "0", "-1", "1e9", " 1700000000", "1700000000.5", "0x10", "\u0661\u0667\u0660\u0660"]
    ),
)


def test_slack_endpoints_refuse_unsigned_garbage_without_5xx() -> None:
    fake = FakeSlack(emails={"U1": "ana@example.com"})
    with live_app(_slack_settings, fake.app()) as live:

        @EXAMPLES
        @given(
            path=st.sampled_from(["/slack/events", "/slack/interactive"]),
            body=raw_bodies,
            timestamp=timestamps | st.none(),
            signature=header_text | st.none(),
            content_type=content_types,
        )
        def one_request(path: str, body: bytes, timestamp: Any, signature: Any, content_type: str) -> None:
            sent = {"Content-Type": content_type}
            if timestamp is not None:
                sent["X-Slack-Request-Timestamp"] = timestamp
            if signature is not None:
                sent["X-Slack-Signature"] = signature
            live.check(lambda client: client.post(path, data=body, headers=sent))

        one_request()
    assert fake.calls == []  # nothing unsigned ever started a turn


EVENT_KEYS = [
    "type",
    "user",
    "text",
    "channel",
    "channel_type",
    "ts",
    "thread_ts",
    "team",
    "bot_id",
    "subtype",
]
events = st.builds(
    _apply,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["app_mention", "message", "reaction_added"]),
            "user": st.just("U1"),
            "text": st.sampled_from(["<@UK8OR> help", "version", "yes"]),
            "channel": st.sampled_from(["C1", "D1"]),
            "channel_type": st.sampled_from(["channel", "im"]),
            "ts": st.just("1700000000.000100"),
        }
    ),
    st.dictionaries(st.sampled_from(EVENT_KEYS), json_values | st.just("<drop>"), max_size=3),
)
envelopes = st.builds(
    _apply,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["event_callback", "url_verification"]),
            "team_id": st.just("T1"),
            "event_id": st.text(min_size=1, max_size=10),
            "event": events,
        }
    ),
    st.dictionaries(
        st.sampled_from(["type", "team_id", "event_id", "event", "challenge"]),
        json_values | st.just("<drop>"),
        max_size=2,
    ),
)
interactions = st.builds(
    _apply,
    st.fixed_dictionaries(
        {
            "type": st.just("block_actions"),
            "trigger_id": st.just("t1"),
            "team": st.just({"id": "T1"}),
            "user": st.just({"id": "U1"}),
            "channel": st.just({"id": "C1"}),
            "message": st.just({"ts": "1700000000.000200"}),
            "actions": st.lists(
                st.fixed_dictionaries(
                    {"action_id": st.just("k8or-0"), "value": json_values.map(json.dumps) | json_values}
                ),
                max_size=2,
            ),
        }
    ),
    st.dictionaries(
        st.sampled_from(["type", "team", "user", "channel", "message", "actions"]),
        json_values | st.just("<drop>"),
        max_size=2,
    ),
)
interactive_bodies = st.one_of(
    interactions.map(lambda p: urlencode({"payload": json.dumps(p)}).encode()),
    json_values.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
    st.lists(st.text(max_size=20), max_size=3).map(
        lambda vs: urlencode([("payload", v) for v in vs]).encode()
    ),
    raw_bodies.map(lambda b: b"payload=" + b),
    raw_bodies,
)


def test_slack_endpoints_answer_signed_garbage_without_5xx() -> None:
    fake = FakeSlack(emails={"U1": "ana@example.com"})
    with live_app(_slack_settings, fake.app()) as live:
        paths_and_bodies = st.one_of(
            st.tuples(st.just("/slack/events"), envelopes.map(_json_bytes) | raw_bodies),
            st.tuples(st.just("/slack/interactive"), interactive_bodies),
        )

        @EXAMPLES
        @given(request=paths_and_bodies, content_type=content_types)
        def one_request(request: tuple[str, bytes], content_type: str) -> None:
            path, body = request
            sent = {"Content-Type": content_type, **signed(SLACK_SECRET, body)}
            live.check(lambda client: client.post(path, data=body, headers=sent))

        one_request()
    assert fake.sent(), "no signed event reached a turn: the fuzz stopped at the signature"


# --- the sign-in pages --------------------------------------------------------------------------------

path_segments = st.text(max_size=30).map(lambda t: quote(t, safe=""))
forms = st.dictionaries(
    st.sampled_from(["csrf", "email", "token", "api_token", "site", "x"]) | st.text(max_size=8),
    st.text(max_size=30),
    max_size=4,
)
cookies = st.sampled_from(["", "k8or_csrf=abc", "k8or_oauth_state=zzz", "k8or_device=zzz"]) | header_text


async def _issue_links(client: TestClient) -> list[str]:
    """One real link per connector, so generated requests also reach pages of links that exist."""
    signin = client.app[SERVICES].signin
    tokens = []
    for name in signin.registry.names():
        url, _expires = await signin.login_link("webchat:fuzz", name)
        tokens.append(url.rsplit("/", 1)[1])
    return tokens


def test_signin_pages_never_answer_5xx() -> None:
    with live_app(lambda urls: _settings()) as live:
        tokens = st.sampled_from(live.run(_issue_links(live.client))) | path_segments
        paths = st.one_of(
            st.tuples(st.just("GET"), tokens),
            st.tuples(st.just("GET"), tokens.map(lambda t: f"{t}/device")),
            st.tuples(
                st.just("GET"),
                st.just("callback"),
            ),
            st.tuples(st.just("POST"), st.tuples(tokens, path_segments).map("/".join)),
            st.tuples(st.sampled_from(["GET", "POST"]), path_segments),
        )
        bodies = forms.map(lambda form: urlencode(form).encode()) | raw_bodies

        @EXAMPLES
        @given(request=paths, query=forms, body=bodies, content_type=content_types, cookie=cookies)
        def one_request(
            request: tuple[str, str], query: dict[str, str], body: bytes, content_type: str, cookie: str
        ) -> None:
            method, path = request
            sent = {"Content-Type": content_type, "Cookie": cookie}
            url = f"/signin/{path}?{urlencode(query)}"
            data = body if method == "POST" else None
            live.check(
                lambda client: client.request(method, url, data=data, headers=sent, allow_redirects=False)
            )

        one_request()
