"""The connector calls deploys and rollbacks make, through the real clients against the fakes: Jira
comments and transitions (jira), GitHub deployments and statuses (PyGithub), Toggl Track time
entries and Miro images (aiohttp), Google Calendar events (google-api-python-client). Calls that
create something are sent once: a refusal or a time-out is an error, never a second request."""

from __future__ import annotations

import pytest

from connectors import errors
from connectors.google import CalendarNotFound
from connectors.jira import IssueNotFound, TransitionNotOffered
from testing.services.faults import Fault
from testing.services.wiring import set_timeout

REPO = "acme/shop"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


async def test_jira_comments_and_moves_an_issue_as_the_person(harness_for) -> None:  # type: ignore[no-untyped-def]
    jira = await harness_for("jira")
    jira.state.add_issue("PROJ-7", "Checkout button", "In Review")
    comment = await jira.connector.add_comment(jira.credentials, "PROJ-7", "Deployed to staging.")
    assert comment and jira.state.comments == [("PROJ-7", "ada@example.com", "Deployed to staging.")]
    assert await jira.connector.transition(jira.credentials, "PROJ-7", "deployed") == "Deployed"  # by status
    # Already there: nothing more is sent.
    assert await jira.connector.transition(jira.credentials, "PROJ-7", "Deployed") == "Deployed"
    assert jira.state.transitioned == [("PROJ-7", "41")]
    with pytest.raises(TransitionNotOffered):
        await jira.connector.transition(jira.credentials, "PROJ-7", "Shipped")
    with pytest.raises(IssueNotFound):
        await jira.connector.add_comment(jira.credentials, "NOPE-1", "Deployed.")


async def test_jira_refusing_a_comment_is_said_once(harness_for) -> None:  # type: ignore[no-untyped-def]
    jira = await harness_for("jira")
    jira.state.switch.fault = Fault.RATE_LIMITED
    with pytest.raises(errors.RateLimited) as caught:
        await jira.connector.add_comment(jira.credentials, "PROJ-123", "Deployed.")
    assert caught.value.retry_after == 7 and jira.state.switch.requests == 1
    jira.state.switch.fault = Fault.UNAUTHORIZED
    with pytest.raises(errors.Unauthorized):
        await jira.connector.add_comment(jira.credentials, "PROJ-123", "Deployed.")
    assert jira.state.comments == []


async def test_github_records_a_deployment_and_its_statuses(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    sha = github.state.history(REPO).commit("Initial import")
    made = await github.connector.create_deployment(
        github.credentials, REPO, sha, "staging", "Rollout of web"
    )
    await github.connector.deployment_status(github.credentials, REPO, made, "in_progress", "Rollout of web")
    await github.connector.deployment_status(github.credentials, REPO, made, "success", "Rollout of web")
    [deployment] = github.state.deployments
    assert (deployment.id, deployment.sha, deployment.environment, deployment.statuses) == (
        made,
        sha,
        "staging",
        ["in_progress", "success"],
    )
    assert deployment.request["auto_merge"] is False and deployment.request["required_contexts"] == []
    assert await github.connector.latest_deployments(github.credentials, REPO, "staging") == (made,)
    assert await github.connector.latest_deployments(github.credentials, REPO, "prod") == ()


async def test_github_deployment_refusals_and_time_outs_are_never_retried(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    sha = github.state.history(REPO).commit("Initial import")
    github.state.switch.fault = Fault.RATE_LIMITED
    with pytest.raises(errors.RateLimited) as caught:
        await github.connector.create_deployment(github.credentials, REPO, sha, "staging", "x")
    assert caught.value.retry_after == 7 and github.state.switch.requests == 1
    github.state.switch.fault, github.state.switch.slow_seconds = Fault.SLOW, 3
    set_timeout(github, 1)
    with pytest.raises(errors.ServiceTimeout):
        await github.connector.create_deployment(github.credentials, REPO, sha, "staging", "x")
    assert github.state.switch.requests == 2
    github.state.switch.fault = Fault.NONE
    with pytest.raises(errors.VerificationError):  # 422: GitHub knows no such ref
        await github.connector.create_deployment(github.credentials, REPO, "f" * 40, "staging", "x")


async def test_toggl_starts_and_stops_an_entry_in_the_default_workspace(harness_for) -> None:  # type: ignore[no-untyped-def]
    toggl = await harness_for("toggl")
    entry = await toggl.connector.start_time_entry(
        toggl.credentials, "Incident: rollback web in prod", ("k8or",)
    )
    [stored] = toggl.state.entries
    assert (entry.workspace_id, entry.entry_id) == (7123456, stored["id"])
    assert (stored["duration"], stored["tags"], stored["created_with"]) == (-1, ["k8or"], "k8or")
    await toggl.connector.stop_time_entry(toggl.credentials, entry)
    assert stored["stop"] is not None
    await toggl.connector.stop_time_entry(toggl.credentials, entry)  # 409 "already stopped" is stopped
    toggl.state.switch.fault = Fault.UNAUTHORIZED  # Toggl's 403 for a revoked token
    with pytest.raises(errors.Unauthorized):
        await toggl.connector.start_time_entry(toggl.credentials, "Incident", ())
    assert len(toggl.state.entries) == 1


async def test_toggl_time_out_starting_an_entry_is_not_retried(harness_for) -> None:  # type: ignore[no-untyped-def]
    toggl = await harness_for("toggl")
    toggl.state.switch.fault, toggl.state.switch.slow_seconds = Fault.SLOW, 3
    toggl.state.switch.only_paths = ("/api/v9/workspaces",)  # GET /me answers; the POST is slow
    set_timeout(toggl, 1)
    with pytest.raises(errors.ServiceTimeout):
        await toggl.connector.start_time_entry(toggl.credentials, "Incident", ())
    assert toggl.state.switch.requests == 2  # /me, then one POST


async def test_miro_puts_a_png_on_a_board(harness_for) -> None:  # type: ignore[no-untyped-def]
    miro = await harness_for("miro")
    item = await miro.connector.add_image(miro.credentials, "uXjVOD6LSME=", "Rollout of web", PNG)
    assert miro.state.images == [("uXjVOD6LSME=", "Rollout of web", PNG)]
    assert miro.connector.item_link("uXjVOD6LSME=", item).endswith(f"/uXjVOD6LSME%3D/?moveToWidget={item}")
    miro.state.switch.fault = Fault.EXPIRED
    with pytest.raises(errors.CredentialsExpired):
        await miro.connector.add_image(miro.credentials, "uXjVOD6LSME=", "Rollout of web", PNG)


async def test_google_calendar_lists_the_events_on_now(harness_for) -> None:  # type: ignore[no-untyped-def]
    google = await harness_for("google")
    google.state.calendars["releases"] = [
        ("Code freeze", "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z"),
        ("Retro", "2020-01-01T10:00:00Z", "2020-01-01T11:00:00Z"),
    ]
    assert await google.connector.events_now(google.credentials, "releases") == ("Code freeze",)
    [query] = google.state.listed
    assert query["singleEvents"] == "true" and query["timeMin"] < query["timeMax"]
    with pytest.raises(CalendarNotFound):
        await google.connector.events_now(google.credentials, "nope")
    google.state.switch.fault = Fault.FORBIDDEN
    with pytest.raises(errors.Forbidden):
        await google.connector.events_now(google.credentials, "releases")
