"""A body the sender encoded wrongly — a `Content-Encoding` that does not decode, an unknown charset —
is the sender's error on every endpoint: 400 before any work (on Slack, before the signature check),
never a 500, and the server stays healthy."""

from __future__ import annotations

import pytest

from bot.settings import Settings
from k8or.app import SERVICES, create_app
from testing.chat.channel import FakeChannel, message
from testing.chat.slack_api import FakeSlack, signed

SECRET = "encoding-signing-secret"
JUNK = b"this is not compressed at all"


@pytest.fixture
async def client(aiohttp_client, aiohttp_server, tmp_path):  # type: ignore[no-untyped-def]
    slack = await aiohttp_server(FakeSlack(emails={}).app())
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=str(slack.make_url("/api/")),
    )
    return await aiohttp_client(create_app(settings))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_undecodable_bodies_are_400_everywhere(client, aiohttp_server, encoding):  # type: ignore[no-untyped-def]
    channel = FakeChannel()
    server = await aiohttp_server(channel.app())
    compressed = {"Content-Encoding": encoding}
    requests = [
        ("/api/messages", {"Content-Type": "application/json", **compressed}),
        ("/slack/events", {"Content-Type": "application/json", **compressed}),
        ("/slack/events", {"Content-Type": "application/json", **compressed, **signed(SECRET, JUNK)}),
        ("/slack/interactive", {"Content-Type": "application/x-www-form-urlencoded", **compressed}),
    ]
    for path, headers in requests:
        response = await client.post(path, data=JUNK, headers=headers)
        assert response.status == 400, (path, headers, response.status)
    assert channel.calls == [] and server is not None  # no turn ran, so no reply went anywhere
    assert (await client.get("/healthz")).status == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=nosuch",
        "multipart/form-data; boundary=zzz",
    ],
)
async def test_a_signin_form_in_an_unknown_charset_is_400(client, content_type):  # type: ignore[no-untyped-def]
    signin = client.app[SERVICES].signin
    url, _ = await signin.login_link("webchat:ana", "toggl")
    token = url.rsplit("/", 1)[1]
    page = await client.get(f"/signin/{token}")
    assert page.status == 200
    if content_type.startswith("multipart"):
        body = (
            b"--zzz\r\nContent-Disposition: form-data; name=\"csrf\"\r\n"
            b"Content-Type: text/plain; charset=nosuch\r\n\r\nabc\r\n--zzz--\r\n"
        )
    else:
        body = b"csrf=abc&api_token=x"
    response = await client.post(f"/signin/{token}/token", data=body, headers={"Content-Type": content_type})
    assert response.status == 400
    assert await signin.vault.list_services("webchat:ana") == []  # nothing stored
    assert (await client.get("/healthz")).status == 200


async def test_a_correct_body_still_reaches_a_turn(client, aiohttp_server):  # type: ignore[no-untyped-def]
    """The guard is about bodies that do not decode: a plain, good activity still gets its answer."""
    channel = FakeChannel()
    server = await aiohttp_server(channel.app())
    body = message("version", str(server.make_url("/")), activity_id="enc-1")
    response = await client.post("/api/messages", json=body)
    assert response.status in (200, 201)
    assert (await channel.wait_for(1))[0].body["text"]
