"""The connector reads release questions need, through the real clients against the fakes: Jira's issue
with its assignee (jira), GitHub's issue search, pull requests and compare (PyGithub), and an image's
labels from the registry (aiohttp: manifest → config blob)."""

from __future__ import annotations

import pytest

from connectors import errors
from connectors.github import search_queries
from connectors.jira import IssueNotFound
from testing.services.faults import Fault
from testing.services.github_history import merged_pull

REPO = "acme/shop"


async def test_jira_reads_the_issue_with_its_assignee_and_says_when_there_is_none(harness_for) -> None:  # type: ignore[no-untyped-def]
    jira = await harness_for("jira")
    jira.state.add_issue("PROJ-7", "Checkout button", "In Review")
    release = await jira.connector.issue_release(jira.credentials, "PROJ-123")
    assert (release.summary, release.status, release.assignee) == (
        "Pin images by digest",
        "Done",
        "Ada Lovelace",
    )
    review = await jira.connector.issue_release(jira.credentials, "PROJ-7")
    assert (review.status, review.fix_versions, review.released) == ("In Review", (), False)
    with pytest.raises(IssueNotFound, match="Jira has no such issue that you can see"):
        await jira.connector.issue_release(jira.credentials, "NOPE-1")


async def test_github_finds_the_pull_requests_that_mention_a_key_with_their_merge(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    merge = github.state.history(REPO).commit("Merge pull request #45")
    github.state.pulls.append(merged_pull(REPO, 45, "PROJ-123 Pin images", "", merge))
    github.state.pulls.append(merged_pull("acme/other", 3, "PROJ-123 elsewhere", "", merge))
    github.state.pulls.append({**merged_pull(REPO, 46, "PROJ-124 Retry", "", merge), "merged": False})
    [pull] = await github.connector.search_pull_requests(github.credentials, "PROJ-123", [REPO])
    assert (pull.repository, pull.number, pull.merged, pull.merge_commit) == (REPO, 45, True, merge)
    assert pull.url == "https://github.com/acme/shop/pull/45"


def test_search_queries_stay_within_github_s_length_limit() -> None:
    repositories = [f"acme/service-{n:03}" for n in range(40)]
    queries = search_queries("PROJ-123", repositories)
    assert len(queries) > 1 and all(len(q) <= 256 for q in queries)
    assert all(q.startswith('"PROJ-123" type:pr repo:') for q in queries)
    assert sorted(r for q in queries for r in q.split() if r.startswith("repo:")) == [
        f"repo:{r}" for r in repositories
    ]


async def test_compare_reads_base_dot_dot_dot_head_as_github_does(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    history = github.state.history(REPO)
    first, merge = history.commit("one"), history.commit("PROJ-123 two")
    later = history.commit("PROJ-124 three")
    side = history.commit("PROJ-9 side", parents=(first,))
    ahead = await github.connector.compare(github.credentials, REPO, merge, later)
    assert (ahead.status, ahead.ahead_by, ahead.behind_by, ahead.head_contains_base) == ("ahead", 1, 0, True)
    assert ahead.messages == ("PROJ-124 three",)
    behind = await github.connector.compare(github.credentials, REPO, merge, first[:7])
    assert (behind.status, behind.behind_by, behind.head_contains_base) == ("behind", 1, False)
    same = await github.connector.compare(github.credentials, REPO, merge, merge)
    assert same.status == "identical" and same.head_contains_base
    apart = await github.connector.compare(github.credentials, REPO, merge, side)
    assert (apart.status, apart.ahead_by, apart.behind_by) == ("diverged", 1, 1)
    with pytest.raises(errors.VerificationError, match="no such repository or ref"):
        await github.connector.compare(github.credentials, REPO, merge, "0" * 40)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.UNAUTHORIZED, errors.Unauthorized),
        (Fault.FORBIDDEN, errors.Forbidden),
        (Fault.RATE_LIMITED, errors.RateLimited),
        (Fault.DOWN, errors.ServiceUnreachable),
    ],
)
async def test_github_reads_fail_as_one_error_a_person_can_act_on(harness_for, fault, error) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    github.switch.fault = fault
    with pytest.raises(error) as caught:
        await github.connector.search_pull_requests(github.credentials, "PROJ-123", [REPO])
    if fault is Fault.RATE_LIMITED:
        assert caught.value.action == "Try again in 7 s."
    assert not any(secret in str(caught.value) for secret in github.secrets)


async def test_docker_hub_reads_an_image_s_labels_by_tag_or_digest(harness_for) -> None:  # type: ignore[no-untyped-def]
    hub = await harness_for("dockerhub")
    labels = {"org.opencontainers.image.revision": "a1b2c3d" * 5 + "a1b2c"}
    digest = hub.state.push_image("ada/shop", "1.0", labels)
    connector = hub.connector
    host = hub.url.removeprefix("http://")
    assert connector.registry_image(f"{host}/ada/shop:1.0@{digest}") == ("ada/shop", digest)
    assert connector.registry_image("nginx:1.27") == ("library/nginx", "1.27")
    assert connector.registry_image("ghcr.io/acme/shop:1") is None  # another registry: not Docker Hub's
    for reference in ("1.0", digest):
        read = await connector.image_labels(hub.credentials, "ada/shop", reference)
        assert read["org.opencontainers.image.revision"] == labels["org.opencontainers.image.revision"]
    with pytest.raises(errors.VerificationError):
        await connector.image_labels(hub.credentials, "ada/shop", "sha256:" + "0" * 64)
