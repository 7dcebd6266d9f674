"""Release status for project managers, end to end: one person signed in to the Jira, GitHub and Docker Hub
fakes (the real jira, PyGithub and aiohttp clients), apps deployed with `--commit` and `--repo` to the fake
Kubernetes API server, and the question asked in chat.

The repository `acme/shop` has four commits; PROJ-123's pull request #45 merged as the third. `staging`
runs the fourth (it contains the merge), `prod` the first (two commits behind it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.fernet import Fernet

import dialogs.cluster
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

CHANNEL = "webchat"  # people are their channel keys here: alice is webchat:alice
ALICE = "webchat:alice"
POLICY = {"roles": {"deployer": {"users": ["webchat:alice", "webchat:bob"]}}}
REPO = "acme/shop"


@dataclass
class Release:
    bot: TurnHarness
    services: dict[str, Harness]
    commits: list[str]
    fake: Any

    async def say(self, text: str, user: str = "alice") -> list[str]:
        replies = await self.bot.say(text, user=user, channel=CHANNEL)
        await self.bot.settle()
        return replies

    async def deploy(self, namespace: str, app: str, image: str, commit: str) -> None:
        await self.say(f"ns {namespace}")
        await self.say(f"deploy {app} {image} --commit {commit} --repo {REPO}")
        assert self.bot.adapter.texts()[-1].startswith(f"✓ Rollout of `{app}`"), self.bot.adapter.texts()[-1]


def _history(github: Harness) -> list[str]:
    history = github.state.history(REPO)
    first = history.commit("Initial import")
    second = history.commit("PROJ-120 Health checks")
    merge = history.commit("Merge pull request #45 from acme/proj-123\n\nPROJ-123 Pin images by digest")
    fourth = history.commit("PROJ-124 Retry the registry (PROJ-120 follow-up)")
    github.state.pulls.append(
        merged_pull(REPO, 45, "PROJ-123 Pin images by digest", "Closes PROJ-123", merge)
    )
    return [first, second, merge, fourth]


@pytest.fixture
async def release(tmp_path, fake_kube, kubeconfig) -> AsyncIterator[Release]:  # noqa: F811
    for namespace in ("staging", "prod"):
        fake_kube.add_namespace(namespace)
    built = {name: await build(name, "") for name in ("jira", "github", "dockerhub")}
    services = {name: harness for name, (harness, _server) in built.items()}
    policy = policy_from_dict(POLICY)
    commands = [dialogs.cluster.commands, dialogs.release.commands]
    async with TurnHarness.open(tmp_path, commands, roles=policy) as bot:
        bot.services.capabilities[CLUSTERS] = ClusterDirectory(kubeconfig=str(kubeconfig), rollout_timeout=20)
        vault = CredentialVault(bot.services.db, parse_keys(Fernet.generate_key().decode(), "test"))
        registry = ConnectorRegistry([h.connector for h in services.values()])
        bot.services.signin = SignIn(registry, vault, SignInLinkStore(bot.services.db), "http://k8or.test")
        for name, harness in services.items():
            await vault.put(ALICE, name, harness.credentials)
        yield Release(bot, services, _history(services["github"]), fake_kube)
    for harness, server in built.values():
        await close(harness, server)


async def _deployed(release: Release) -> None:
    await release.say("cluster use fake")
    await release.deploy("staging", "web", "nginx:1.27", release.commits[3])
    await release.deploy("prod", "web", "nginx:1.26", release.commits[0])


async def test_is_proj_123_live_says_live_in_staging_not_in_prod(release: Release) -> None:
    await _deployed(release)
    [reply] = await release.say("is PROJ-123 live?")  # the plain question, as a project manager asks it
    assert reply.startswith("PROJ-123 *Pin images by digest* (Done, assigned to Ada Lovelace")
    assert "merged in [#45](https://github.com/acme/shop/pull/45)" in reply
    assert "**live in staging** since " in reply and "(revision 1, `nginx:1.27`)" in reply
    assert f"**not yet in prod** (prod runs `{release.commits[0][:7]}`, 2 commits behind)" in reply
    assert "✗" not in reply
    # Containment asked as merge...running, once per environment.
    merge = release.commits[2]
    assert sorted(release.services["github"].state.compared) == sorted(
        [(REPO, merge, release.commits[3]), (REPO, merge, release.commits[0])]
    )
    for harness in release.services.values():
        assert not any(secret in reply for secret in harness.secrets)


async def test_deploy_records_the_source_and_refuses_a_bad_commit_or_repo(release: Release) -> None:
    await _deployed(release)
    annotations = release.fake.get("Deployment", "web", "staging")["metadata"]["annotations"]
    assert annotations["k8or.io/source-commit"] == release.commits[3]
    assert annotations["k8or.io/source-repo"] == REPO
    [bad_commit] = await release.say("deploy web nginx:1 --commit xyz123 --repo acme/shop")
    assert "is not a Git commit" in bad_commit
    [bad_repo] = await release.say("deploy web nginx:1 --commit a1b2c3d --repo not-a-repo")
    assert "is not owner/name" in bad_repo
    [alone] = await release.say("deploy web nginx:1 --commit a1b2c3d")
    assert "`--commit` and `--repo` go together" in alone


async def test_status_tickets_lists_the_keys_since_the_previous_revision(release: Release) -> None:
    await release.say("cluster use fake")
    await release.deploy("staging", "web", "nginx:1.26", release.commits[0])
    await release.deploy("staging", "web", "nginx:1.27", release.commits[3])
    [reply] = await release.say("status --tickets")
    assert reply.splitlines() == [
        "Shipped in the running revision of each app in `staging`:",
        f"- `web` revision 2 (`{release.commits[3][:7]}`): PROJ-120, PROJ-123, PROJ-124",
    ]


async def test_without_a_jira_sign_in_the_answer_names_its_link(release: Release) -> None:
    await _deployed(release)
    await release.bot.services.signin.vault.delete(ALICE, "jira")
    [reply] = await release.say("release PROJ-123")
    first, *rest = reply.splitlines()
    assert first.startswith("PROJ-123 — merged in [#45]") and "**live in staging**" in first
    [jira] = [line for line in rest if line.startswith("✗ Jira")]
    assert "You have not signed in to Jira. Sign in with `login jira`. — http://k8or.test/" in jira


async def test_github_down_is_one_line_and_the_rest_still_answers(release: Release) -> None:
    await _deployed(release)
    release.services["github"].switch.fault = Fault.DOWN
    [reply] = await release.say("release PROJ-123")
    lines = reply.splitlines()
    assert lines[0].startswith("PROJ-123 *Pin images by digest* (Done")
    assert [line for line in lines if line.startswith("✗")] == [
        "✗ GitHub: GitHub could not be reached. "
        "Try again later; if it keeps happening, tell the k8or operators."
    ]


async def test_an_unknown_key_is_said_so(release: Release) -> None:
    await _deployed(release)
    [reply] = await release.say("release NOPE-9")
    assert "✗ Jira: Jira has no such issue that you can see." in reply
    assert "no pull request mentions it in `acme/shop`" in reply
    [refused] = await release.say("release 123-PROJ")
    assert "is not an issue key such as PROJ-123" in refused


async def test_no_source_commit_anywhere_says_how_to_add_one(release: Release) -> None:
    await release.say("cluster use fake")
    await release.say("ns staging")
    await release.say("deploy web nginx:1.27")
    [reply] = await release.say("release PROJ-123")
    assert "No Deployment in `fake` records its source commit" in reply
    assert "`deploy <app> <image> --commit <sha> --repo <owner/name>`" in reply


async def test_the_image_revision_label_stands_in_for_annotations(release: Release) -> None:
    dockerhub = release.services["dockerhub"]
    labels = {
        "org.opencontainers.image.revision": release.commits[2],
        "org.opencontainers.image.source": f"https://github.com/{REPO}",
    }
    digest = dockerhub.state.push_image("ada/shop", "1.0", labels)
    host = dockerhub.url.removeprefix("http://")
    await release.say("cluster use fake")
    await release.say("ns prod")
    await release.say(f"deploy shop {host}/ada/shop:1.0@{digest}")
    [reply] = await release.say("release PROJ-123")
    assert "**live in prod** since " in reply and f"`shop@{digest[:19]}…`" in reply


async def test_a_rollback_brings_its_revision_s_commit_back(release: Release) -> None:
    await release.say("cluster use fake")
    await release.deploy("staging", "web", "nginx:1.26", release.commits[0])
    await release.deploy("staging", "web", "nginx:1.27", release.commits[3])
    await release.say("rollback web --to-revision 1")
    assert release.bot.adapter.texts()[-1].startswith("✓ Rollback of `web` (revision 3): complete")
    [reply] = await release.say("release PROJ-123")
    assert f"**not yet in staging** (staging runs `{release.commits[0][:7]}`, 2 commits behind)" in reply
    [tickets] = await release.say("status --tickets")
    assert tickets.splitlines()[1] == (
        f"- `web` revision 3 (`{release.commits[0][:7]}`): a step back from revision 2: nothing new shipped"
    )
