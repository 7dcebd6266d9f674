"""Whole turns for `logs`, `events` and `describe`: the real pipeline, the fake cluster, the real
library; a viewer may read, a person without a role may not, and a long log fits the channel."""

from __future__ import annotations

import base64

import pytest

import dialogs.cluster
import dialogs.oncall
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from dialogs.message_fit import TEAMS
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)
from tests.integration.cluster.test_cluster_oncall import eventually

CHANNEL = "webchat"
POLICY = {
    "roles": {
        "deployer": {"users": ["webchat:dave"]},
        "viewer": {"users": ["webchat:vic", "aad:aad-tina"]},
    }
}


@pytest.fixture
async def bot(tmp_path, fake_kube, kubeconfig):  # noqa: F811
    policy = policy_from_dict(POLICY)
    sets = [dialogs.cluster.commands, dialogs.oncall.commands]
    async with TurnHarness.open(tmp_path, sets, roles=policy) as harness:
        harness.services.capabilities[CLUSTERS] = ClusterDirectory(
            kubeconfig=str(kubeconfig), rollout_timeout=20
        )
        harness.fake = fake_kube
        for channel, user in ((CHANNEL, "dave"), ("msteams", "tina")):
            await harness.say("cluster use fake", user=user, channel=channel)
        yield harness


async def say(bot, text, user="vic", channel=CHANNEL):
    replies = await bot.say(text, user=user, channel=channel)
    await bot.settle()
    return replies


def last_activity(bot):
    return bot.adapter.messages[bot.adapter.order[-1]]


async def deployed(bot, image, ready=True):
    await say(bot, f"deploy web {image}", user="dave")
    if ready:
        eventually(lambda: "1/1 available" in bot.adapter.texts()[-1] or None, 20)


async def test_logs_of_a_crash_loop_name_the_pod_and_why(bot):
    await say(bot, "deploy web shop/api-oomkill:1", user="dave")
    eventually(
        lambda: (
            (p := bot.fake.list("Pod", "default"))
            and p[0]["status"]["containerStatuses"][0]["restartCount"] >= 1
        )
    )
    (reply,) = await say(bot, "logs web --previous")
    assert (
        reply.startswith("**Logs** of `web` — pod `web-")
        and "(previous instance), chosen for its CrashLoopBackOff" in reply
    )
    assert "```\nloading the catalogue into memory\nallocated 512Mi for the cache\n```" in reply
    (described,) = await say(bot, "describe web")
    assert "**Pods**" in described and "waiting (CrashLoopBackOff), not ready" in described
    assert "last ended OOMKilled, exit 137" in described and "**Recent events**" in described
    assert "⚠ BackOff pod/web-" in described
    (events,) = await say(bot, "events web")
    assert (
        events.startswith("**Events** of `web` in `default`, newest first:")
        and "⚠ BackOff pod/web-" in events
    )


async def test_a_healthy_app_has_no_previous_instance(bot):
    await say(bot, "deploy web nginx:1.27", user="dave")
    assert "started nginx:1.27" in (await say(bot, "logs web"))[0]
    (reply,) = await say(bot, "logs web --previous")
    assert reply.startswith("✗ Container `web` of pod `web-")
    assert "has not restarted: there is no previous instance." in reply


async def test_a_missing_app_is_one_line_with_a_hint(bot):
    for line in ("logs ghost", "describe ghost", "events ghost"):
        (reply,) = await say(bot, line)
        assert reply.startswith(
            "✗ There is no app `ghost` in namespace `default` on `fake`. `status` lists the apps here; "
            "`ns <namespace>` switches namespace."
        )
        assert "\n" not in reply and "Traceback" not in reply


async def test_an_app_without_pods_says_so(bot):
    await say(bot, "deploy idle nginx:1.27 --replicas 0", user="dave")
    (reply,) = await say(bot, "logs idle")
    assert reply.startswith("✗ `idle` has no pods (it wants 0); `describe idle` shows why.")
    assert "- none: the app has no pods" in (await say(bot, "describe idle"))[0]


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("logs web --lines 0", "'0' is not a number of lines from 1 to 5000 (e.g. `--lines 200`)"),
        ("logs web --lines lots", "'lots' is not a number of lines from 1 to 5000"),
        ("logs web --lines 5001", "'5001' is not a number of lines from 1 to 5000"),
        ("logs web --container Bad_Name", "not a valid DNS-1123 label"),
        ("logs", "app"),
    ],
)
async def test_bad_arguments_get_a_usage_message(bot, line, says):
    reply = "\n".join(await say(bot, line))
    assert says in reply and "Traceback" not in reply
    assert [r for r in bot.fake.api_requests() if r.plural in ("pods", "events")] == []


@pytest.mark.parametrize("line", ["logs web", "events", "events web", "describe web"])
async def test_reading_needs_a_role_and_is_audited(bot, line):
    reply = (await say(bot, line, user="mallory"))[0]
    assert "needs the role `viewer`" in reply
    (entry,) = [e for e in await bot.services.audit.latest(10) if e.actor_id.endswith("mallory")]
    assert entry.outcome == "refused"


async def test_namespace_events_newest_first(bot):
    await say(bot, "deploy web nginx:1.27", user="dave")
    (reply,) = await say(bot, "events")
    assert reply.startswith("**Events** in `default` on `fake`, newest first:")
    assert "ScalingReplicaSet deployment/web" in reply and "Started pod/web-" in reply
    assert (await bot.services.audit.latest(1))[0].command == "events"


def _flood(bot, lines):
    pod = bot.fake.list("Pod", "default")[0]
    container_id = pod["status"]["containerStatuses"][0]["containerID"]
    text = "".join(f"line {i:05d} token=s3cr3t-{i:05d} " + "x" * 60 + "\n" for i in range(lines))
    bot.fake.call(bot.fake.append_log, container_id, text)


async def test_a_long_log_keeps_its_newest_lines_and_attaches_the_rest(bot):
    await say(bot, "deploy web nginx:1.27", user="dave")
    _flood(bot, 2000)
    (reply,) = await say(bot, "logs web --lines 2000")
    activity = last_activity(bot)
    assert len(activity.text.encode("utf-16-le")) <= TEAMS.size
    assert "line 01999 token=[redacted]" in activity.text and "s3cr3t" not in activity.text
    (attached,) = activity.attachments
    assert attached.content_type == "text/plain" and attached.name.endswith("-web.log")
    whole = base64.b64decode(attached.content_url.split(",", 1)[1]).decode()
    assert whole.count("\n") == 2000 and whole.splitlines()[0].startswith(
        "line 00000 token=[redacted]"
    )  # the tail of 2,001
    assert "s3cr3t" not in whole
    shown = activity.text.count("\nline ")
    assert f"{2000 - shown} earlier lines are in the attached `{attached.name}`." in activity.text


async def test_on_teams_a_long_log_fits_one_activity_and_says_what_was_left_out(bot):
    await say(bot, "deploy web nginx:1.27", user="dave")
    _flood(bot, 2000)
    await say(bot, "logs web --lines 2000", user="tina", channel="msteams")
    activity = last_activity(bot)
    assert len(activity.text.encode("utf-16-le")) <= TEAMS.size and not activity.attachments
    assert "earlier lines left out here: ask for fewer with `--lines`" in activity.text
    assert activity.text.rstrip().splitlines()[-2] == "```"  # the newest line is shown, then the footer
