"""On-call in Slack: a channel subscribes, the crash-loop alert arrives by chat.postMessage with
Block Kit buttons, the Rollback button comes back through interactivity, and chat.update turns the
alert ✓ (its buttons removed). The real app, slack_sdk to a local Slack, the fake cluster."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

import dialogs.cluster
import dialogs.notify
import dialogs.oncall
from bot.commands.registry import CommandRegistry
from bot.settings import Settings
from cluster.deploy import deploy
from cluster.target import from_kubeconfig
from dialogs.message_fit import SLACK
from k8or.app import SERVICES, AppParts, create_app
from policy.rbac import policy_from_dict
from testing.chat.slack_api import FakeSlack, button_press_body, event_body, signed, usergroup
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)

SECRET = "slack-signing-secret-for-tests"
ROLES = policy_from_dict({"roles": {"deployer": {"groups": ["slack:T1:S0ONCALL"]}}})
WAIT = 60.0


@pytest.fixture
async def slack(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeSlack(emails={"U1": "ana@example.com"}, usergroups=[usergroup("S0ONCALL", "oncall", ["U1"])])
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("/api/"))  # type: ignore[attr-defined]
    return fake


def slack_app(tmp_path, slack, kubeconfig, *command_sets):  # type: ignore[no-untyped-def]  # noqa: F811
    """k8or on the local Slack and the fake cluster, answering `cluster` and the given commands."""
    settings = Settings(
        data_dir=tmp_path,
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=slack.url,
        kubeconfig=str(kubeconfig),
    )
    registry = CommandRegistry().include(dialogs.cluster.commands)
    for commands in command_sets:
        registry.include(commands)
    return create_app(settings, AppParts(registry=registry, roles=ROLES))


@pytest.fixture
async def client(aiohttp_client, tmp_path, slack, kubeconfig):  # type: ignore[no-untyped-def]  # noqa: F811
    return await aiohttp_client(slack_app(tmp_path, slack, kubeconfig, dialogs.notify.commands))


async def mention(client, text: str, event_id: str) -> None:  # type: ignore[no-untyped-def]
    body = event_body(f"<@UK8OR> {text}", event_id=event_id)
    headers = {"Content-Type": "application/json", **signed(SECRET, body)}
    assert (await client.post("/slack/events", data=body, headers=headers)).status == 200
    await client.server.app[SERVICES].tracker.idle()


async def until(check: Callable[[], list], what: str) -> list:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while loop.time() < deadline:
        if found := check():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def blocks_of(sent: dict) -> list:
    blocks = sent.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


async def test_alert_buttons_and_resolution_in_slack(client, slack, kubeconfig):  # noqa: F811
    await mention(client, "cluster use fake", "Ev1")
    target = from_kubeconfig(str(kubeconfig), "fake")
    await asyncio.to_thread(deploy, target, "web", "nginx:1.26", 1)
    await mention(client, "notify on", "Ev2")
    assert any(m["text"].startswith("🔔 This conversation now gets alerts") for m in slack.sent())
    await asyncio.sleep(0.5)  # revision 1 is running before revision 2 breaks it
    await asyncio.to_thread(deploy, target, "web", "registry.example.com/crashloop:2", 1)

    def posted() -> list:
        return [m for m in slack.sent() if m["text"].startswith("🚨 *web*: CrashLoopBackOff")]

    (alert,) = await until(posted, "the alert")
    assert alert["channel"] == "C1" and not alert.get("thread_ts")
    buttons = blocks_of(alert)[1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Rollback", "Logs", "Status", "Silence 1h"]
    rollback = buttons[0]
    assert json.loads(rollback["value"])["k8or_command"] == "rollback web --to-revision 1"

    body = button_press_body(rollback, "1700000000.000300")
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(SECRET, body)}
    assert (await client.post("/slack/interactive", data=body, headers=headers)).status == 200
    await until(lambda: [m for m in slack.sent() if m["text"].startswith("⏳ web: rolling back")], "progress")

    def resolved() -> list:
        return [u for u in slack.sent("chat.update") if u["text"].startswith("✓ resolved: *web*")]

    (update,) = await until(resolved, "the alert turned ✓")
    # Every edit of the alert addresses the one message it is (the restart counts, then ✓).
    assert {u["ts"] for u in slack.sent("chat.update") if "*web*" in u["text"]} == {update["ts"]}
    assert blocks_of(update) == []  # the buttons are gone
    assert len(posted()) == 1


@pytest.fixture
async def logs_client(aiohttp_client, tmp_path, slack, kubeconfig):  # type: ignore[no-untyped-def]  # noqa: F811
    return await aiohttp_client(slack_app(tmp_path, slack, kubeconfig, dialogs.oncall.commands))


async def _long_log(client, fake_kube, kubeconfig, lines: int) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    await mention(client, "cluster use fake", "Ev1")
    await asyncio.to_thread(deploy, from_kubeconfig(str(kubeconfig), "fake"), "web", "nginx:1.27", 1)

    def running() -> list:
        pods = fake_kube.list("Pod", "default")
        return [p for p in pods if "containerID" in (p["status"].get("containerStatuses") or [{}])[0]]

    pod = (await until(running, "a running pod"))[0]
    container_id = pod["status"]["containerStatuses"][0]["containerID"]
    text = "".join(f"line {i:05d} token=s3cr3t-{i:05d} " + "x" * 60 + "\n" for i in range(lines))
    fake_kube.call(fake_kube.append_log, container_id, text)
    await mention(client, f"logs web --lines {lines}", "Ev2")


async def test_a_log_too_long_for_one_slack_message_comes_whole_as_a_file_in_its_thread(
    logs_client,
    slack,
    fake_kube,  # noqa: F811
    kubeconfig,  # noqa: F811
):
    await _long_log(logs_client, fake_kube, kubeconfig, 2000)
    (reply,) = [m for m in slack.sent() if "line 01999" in m["text"]]
    assert len(reply["text"]) <= SLACK.size and "s3cr3t" not in reply["text"]
    (shared,) = slack.files
    assert shared["name"].endswith("-web.log") and f"in the attached `{shared['name']}`" in reply["text"]
    assert (shared["channel"], shared["thread_ts"]) == (reply["channel"], reply.get("thread_ts"))
    whole = shared["content"].splitlines()
    assert len(whole) == 2000 and whole[0].startswith("line 00000 token=[redacted]")
    assert "s3cr3t" not in shared["content"]


async def test_without_files_write_the_reply_stands_and_says_the_file_was_refused(
    logs_client,
    slack,
    fake_kube,  # noqa: F811
    kubeconfig,  # noqa: F811
):
    slack.missing_scopes.add("files:write")
    await _long_log(logs_client, fake_kube, kubeconfig, 2000)
    assert slack.files == [] and [m for m in slack.sent() if "line 01999" in m["text"]]
    (refused,) = [m for m in slack.sent() if m["text"].startswith("Slack did not take")]
    assert "missing_scope" in refused["text"] and "files:write" in refused["text"]


async def test_a_failed_upload_is_said_without_blaming_the_scope_and_the_turn_goes_on(
    logs_client,
    slack,
    fake_kube,  # noqa: F811
    kubeconfig,  # noqa: F811
):
    slack.uploads_fail = True  # files.slack.com answers 500
    await _long_log(logs_client, fake_kube, kubeconfig, 2000)
    (refused,) = [m for m in slack.sent() if m["text"].startswith("Slack did not take")]
    assert "the upload failed" in refused["text"] and "files:write" not in refused["text"]
    await mention(logs_client, "logs web --lines 5", "Ev3")  # the bot still answers
    assert [m for m in slack.sent() if "line 01999" in m["text"] and "attached" not in m["text"]]
