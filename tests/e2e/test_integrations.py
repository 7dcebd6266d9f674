"""Deploys and rollbacks that tell the tools around them, end to end: one person signed in to the Jira,
GitHub, Docker Hub and Toggl Track fakes (the real jira, PyGithub and aiohttp clients), apps deployed
with `--commit` and `--repo` to the fake Kubernetes API server, and `integrate` said in chat.

The repository `acme/shop` has four commits; PROJ-123's pull request #45 merged as the third. `staging`
runs the first, then the fourth (shipping PROJ-120, PROJ-123 and PROJ-124), then is rolled back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.fernet import Fernet

import dialogs.cluster
import dialogs.integrations
import dialogs.release
from bot.signin import SignInLinkStore
from bot.signin.components import SignIn
from connectors.base import ConnectorRegistry
from connectors.vault import CredentialVault, parse_keys
from dialogs.cluster_targets import CLUSTERS, ClusterDirectory
from policy.rbac import policy_from_dict
from testing.chat.turns import TurnHarness
from testing.kube.fixture import fake_kube, kubeconfig  # noqa: F401  (fixtures)
from testing.services.faults import Fault
from testing.services.github_history import merged_pull
from testing.services.wiring import Harness, build, close

CHANNEL = "webchat"
ALICE = "webchat:alice"
POLICY = {"roles": {"oncall": {"users": [ALICE]}, "deployer": {"users": ["webchat:bob"]}}}
REPO = "acme/shop"
SERVICES = ("jira", "github", "dockerhub", "toggl", "google", "miro")


@dataclass
class Team:
    bot: TurnHarness
    services: dict[str, Harness]
    commits: list[str]
    fake: Any
    vault: CredentialVault

    def state(self, name: str) -> Any:
        return self.services[name].state

    async def say(self, text: str, user: str = "alice") -> list[str]:
        replies = await self.bot.say(text, user=user, channel=CHANNEL)
        await self.bot.settle()
        return replies

    async def deploy(self, namespace: str, image: str, commit: str, more: str = "") -> str:
        """Deploy `web`; the rollout's final message, integration lines included."""
        await self.say(f"ns {namespace}")
        await self.say(f"deploy web {image} --commit {commit} --repo {REPO}{more}")
        return self.bot.adapter.texts()[-1]


def _history(github: Harness, jira: Harness) -> list[str]:
    history = github.state.history(REPO)
    first = history.commit("Initial import")
    second = history.commit("PROJ-120 Health checks")
    merge = history.commit("Merge pull request #45 from acme/proj-123\n\nPROJ-123 Pin images by digest")
    fourth = history.commit("PROJ-124 Retry the registry (PROJ-120 follow-up)")
    github.state.pulls.append(
        merged_pull(REPO, 45, "PROJ-123 Pin images by digest", "Closes PROJ-123", merge)
    )
    jira.state.add_issue("PROJ-120", "Health checks", "In Review", "Ada Lovelace")
    jira.state.add_issue("PROJ-124", "Retry the registry", "In Review")
    return [first, second, merge, fourth]


@pytest.fixture
async def team(tmp_path, fake_kube, kubeconfig) -> AsyncIterator[Team]:  # noqa: F811
    for namespace in ("staging", "prod"):
        fake_kube.add_namespace(namespace)
    built = {name: await build(name, "") for name in SERVICES}
    services = {name: harness for name, (harness, _server) in built.items()}
    commands = [dialogs.cluster.commands, dialogs.release.commands, dialogs.integrations.commands]
    async with TurnHarness.open(tmp_path, commands, roles=policy_from_dict(POLICY)) as bot:
        bot.services.capabilities[CLUSTERS] = ClusterDirectory(kubeconfig=str(kubeconfig), rollout_timeout=20)
        vault = CredentialVault(bot.services.db, parse_keys(Fernet.generate_key().decode(), "test"))
        registry = ConnectorRegistry([h.connector for h in services.values()])
        bot.services.signin = SignIn(registry, vault, SignInLinkStore(bot.services.db), "http://k8or.test")
        for name in ("jira", "github", "dockerhub", "toggl"):
            await vault.put(ALICE, name, services[name].credentials)
        team = Team(bot, services, _history(services["github"], services["jira"]), fake_kube, vault)
        await team.say("cluster use fake")
        yield team
    for harness, server in built.values():
        await close(harness, server)


async def test_a_deploy_and_a_rollback_tell_jira_github_and_toggl(team: Team) -> None:
    first, _second, _merge, fourth = team.commits
    await team.say("ns staging")
    for tool in ("jira --jira-transition Deployed", "github", "toggl"):
        [on] = await team.say(f"integrate web {tool}")
        assert on.startswith("✓ ") and "for `web` in `staging` on `fake`" in on, on
    [listed] = await team.say("integrate web")
    assert listed.splitlines()[1:] == [
        "- GitHub (turned on by webchat:alice)",
        "- Jira · transition “Deployed” (turned on by webchat:alice)",
        "- Toggl Track (turned on by webchat:alice)",
    ]

    one = await team.deploy("staging", "nginx:1.26", first)
    assert one.startswith("✓ Rollout of `web` (revision 1): complete"), one
    assert f"✓ GitHub: deployment 1 of `{REPO}@{first[:7]}` to `staging` is in progress" in one
    assert "✓ GitHub: deployment 1 to `staging`: success" in one
    assert "✓ Jira: revision 1 is the first with a source commit" in one

    two = await team.deploy("staging", "nginx:1.27", fourth)
    assert "✓ GitHub: deployment 2 to `staging`: success" in two
    assert (
        "✓ Jira: commented on PROJ-120, PROJ-123, PROJ-124; PROJ-120, PROJ-123, PROJ-124 moved to Deployed"
        in two
    )
    await team.deploy("prod", "nginx:1.26", first)  # prod has no integrations: nothing is told
    [live] = await team.say("is PROJ-123 live?")
    assert "**live in staging**" in live and "**not yet in prod**" in live

    await team.say("ns staging")
    await team.say("rollback web --to-revision 1")
    back = team.bot.adapter.texts()[-1]
    assert back.startswith("✓ Rollback of `web` (revision 3): complete"), back
    assert "✓ Toggl Track: time entry “Incident: rollback web in staging” started" in back
    assert "✓ GitHub: deployment 3 to `staging`: success; deployment 2 marked inactive" in back
    assert "✓ Jira: commented on PROJ-120, PROJ-123, PROJ-124" in back and "moved to" not in back
    assert "✗" not in one + two + back

    # What the tools now hold, read from the fakes.
    jira = team.state("jira")
    on_123 = [body for key, who, body in jira.comments if key == "PROJ-123"]
    assert on_123 == [
        f"Deployed to staging by Alice with k8or: web revision 2 runs {REPO}@{fourth[:7]}.",
        f"Rolled back in staging by Alice with k8or: web revision 3 runs {REPO}@{first[:7]}, "
        "which no longer contains this issue.",
    ]
    assert {who for _key, who, _body in jira.comments} == {"ada@example.com"}  # as the person's own sign-in
    assert jira.issues["PROJ-123"]["fields"]["status"]["name"] == "Deployed"
    github = team.state("github")
    assert [(d.id, d.environment, d.sha, d.statuses) for d in github.deployments] == [
        (1, "staging", first, ["in_progress", "success"]),
        (2, "staging", fourth, ["in_progress", "success", "inactive"]),
        (3, "staging", first, ["in_progress", "success"]),
    ]
    assert all(
        d.request["auto_merge"] is False and d.request["required_contexts"] == [] for d in github.deployments
    )
    [entry] = team.state("toggl").entries
    assert (entry["description"], entry["tags"], entry["stop"]) == (
        "Incident: rollback web in staging",
        ["k8or"],
        None,
    )
    assert entry["workspace_id"] == 7123456 and entry["created_with"] == "k8or"

    [resolved] = await team.say("resolve web")
    assert resolved == "✓ Toggl Track: time entry “Incident: rollback web in staging” stopped"
    assert entry["stop"] is not None
    [again] = await team.say("resolve web")
    assert again == "No time entry is running for `web` in `staging`."
    for harness in team.services.values():
        assert not any(secret in text for secret in harness.secrets for text in team.bot.adapter.texts())


async def test_a_tool_that_is_down_is_one_line_and_the_deploy_still_succeeds(team: Team) -> None:
    await team.say("ns staging")
    await team.say("integrate web github")
    await team.say("integrate web jira")
    team.services["github"].switch.fault = Fault.DOWN
    text = await team.deploy("staging", "nginx:1.26", team.commits[0])
    assert text.startswith("✓ Rollout of `web` (revision 1): complete")
    troubles = [line for line in text.splitlines() if line.startswith("✗")]
    assert troubles == [
        "✗ GitHub: GitHub could not be reached. "
        "Try again later; if it keeps happening, tell the k8or operators."
    ]
    assert team.state("github").deployments == []


async def test_a_rate_limited_deployment_is_reported_once_and_not_retried(team: Team) -> None:
    await team.say("ns staging")
    await team.say("integrate web github")
    github = team.services["github"]
    github.switch.fault = Fault.RATE_LIMITED
    before = github.switch.requests
    text = await team.deploy("staging", "nginx:1.26", team.commits[0])
    assert "✗ GitHub: GitHub is rate-limiting requests (HTTP 429). Try again in 7 s." in text
    assert github.switch.requests - before == 1  # the POST was sent once; no status follows a failed one


async def test_without_a_toggl_sign_in_the_rollback_says_so(team: Team) -> None:
    await team.say("ns staging")
    await team.deploy("staging", "nginx:1.26", team.commits[0])
    await team.deploy("staging", "nginx:1.27", team.commits[3])
    await team.say("integrate web toggl")
    await team.vault.delete(ALICE, "toggl")
    await team.say("rollback web --to-revision 1")
    back = team.bot.adapter.texts()[-1]
    assert back.startswith("✓ Rollback of `web` (revision 3): complete")
    assert "✗ Toggl Track: You have not signed in to Toggl Track. Sign in with `login toggl`." in back
    assert team.state("toggl").entries == []


async def test_integrate_off_and_bad_input(team: Team) -> None:
    await team.say("ns staging")
    await team.say("integrate web toggl")
    [off] = await team.say("integrate web off toggl")
    assert off == "✓ Toggl Track off for `web` in `staging`."
    [none] = await team.say("integrate web")
    assert none.startswith("Nothing is integrated for `web` in `staging` on `fake`.")
    [board] = await team.say("integrate web miro")
    assert "Miro needs a board: `integrate web miro --miro-board <board-id>`." in board
    [which] = await team.say("integrate web slack")
    assert "must be one of: jira, github, toggl, miro, calendar, off" in which
    [refused] = await team.say("integrate web github", user="carol")
    assert "deployer" in refused and "✓" not in refused


async def test_a_freeze_event_refuses_deploys_until_on_call_overrides(team: Team) -> None:
    google = team.services["google"]
    await team.vault.put(ALICE, "google", google.credentials)
    google.state.calendars["releases"] = [
        ("Code freeze: year-end", "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z")
    ]
    await team.say("ns prod")
    [on] = await team.say("freeze calendar releases")
    assert on.startswith("✓ Deploys into `prod` on `fake` now wait")
    [refused] = await team.say(f"deploy web nginx:1.27 --commit {team.commits[0]} --repo {REPO}")
    assert refused.startswith("✗ `prod` is frozen now: “Code freeze: year-end” on its freeze calendar.")
    assert team.fake.get("Deployment", "web", "prod") is None
    [query] = google.state.listed
    assert query["singleEvents"] == "true" and query["timeMin"] < query["timeMax"]
    [ask] = await team.say("freeze override --minutes 30")
    assert "is destructive" in ask
    await team.say("yes")
    assert team.bot.adapter.texts()[-1].startswith("⚠ Freeze of `prod` overridden until ")
    text = await team.deploy("prod", "nginx:1.27", team.commits[0])
    assert text.startswith("✓ Rollout of `web` (revision 1): complete")
    assert "⚠ Deploying during “Code freeze: year-end”: freeze overridden by Alice until " in text
    audited = [e.command for e in await team.bot.services.audit.latest(50)]  # type: ignore[union-attr]
    assert "freeze override" in audited


async def test_deploy_puts_the_rollout_timeline_on_a_miro_board(team: Team) -> None:
    miro = team.services["miro"]
    await team.vault.put(ALICE, "miro", miro.credentials)
    text = await team.deploy("staging", "nginx:1.26", team.commits[0], " --miro-board uXjVOD6LSME=")
    [(board, title, png)] = miro.state.images
    assert (board, title) == ("uXjVOD6LSME=", "Rollout of web in staging")
    assert png.startswith(b"\x89PNG")
    assert (
        "✓ Miro: Rollout of web in staging is on the board: https://miro.com/app/board/uXjVOD6LSME%3D/"
        in text
    )


async def test_an_unreadable_freeze_calendar_is_one_line_and_the_deploy_goes_ahead(team: Team) -> None:
    await team.say("ns staging")
    [on] = await team.say("integrate web calendar --calendar releases")
    assert on.startswith("✓ Google Calendar on for `web` in `staging`")
    assert "You have not signed in to Google yet: `login google`" in on
    text = await team.deploy("staging", "nginx:1.26", team.commits[0])
    assert text.startswith("✓ Rollout of `web` (revision 1): complete")
    assert (
        "✗ Google: You have not signed in to Google. Sign in with `login google`. "
        "The freeze calendar of `staging` was not checked."
    ) in text
