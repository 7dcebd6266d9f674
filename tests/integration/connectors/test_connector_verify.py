"""Every connector verifies good credentials, and turns every failure mode into a clear ✗ reason."""

from __future__ import annotations

import dataclasses

import pytest

from connectors import errors
from connectors.base import Credentials
from testing.services.faults import Fault
from testing.services.wiring import Harness, set_timeout

EXPECTED = {
    Fault.UNAUTHORIZED: errors.Unauthorized,
    Fault.FORBIDDEN: errors.Forbidden,
    Fault.EXPIRED: errors.CredentialsExpired,
    Fault.RATE_LIMITED: errors.RateLimited,
    Fault.SLOW: errors.ServiceTimeout,
    Fault.MALFORMED: errors.MalformedResponse,
    Fault.DOWN: errors.ServiceUnreachable,
}
# Toggl documents 403 as its answer to a bad API token, so a 403 means "sign in again" there.
# Jira's site is typed by the person: a site that is slow, down or not speaking Jira gets the one
# refusal message, so the form cannot tell an attacker which hosts and ports answer.
OVERRIDES = {
    ("toggl", Fault.FORBIDDEN): errors.Unauthorized,
    ("jira", Fault.SLOW): errors.SiteRefused,
    ("jira", Fault.MALFORMED): errors.SiteRefused,
    ("jira", Fault.DOWN): errors.SiteRefused,
}


async def test_verify_names_the_person(harness: Harness) -> None:
    identity = await harness.connector.verify(harness.credentials)
    assert identity.subject
    assert identity.display_name
    for secret in harness.secrets:
        assert secret not in repr(identity)


@pytest.mark.parametrize("fault", list(EXPECTED), ids=lambda f: f.value)
async def test_failure_modes_give_a_reason(harness: Harness, fault: Fault) -> None:
    harness.switch.fault = fault
    if fault is Fault.SLOW:
        # AWS builds clients per call; give it room for that, but not for the slow answer.
        set_timeout(harness, 2.0 if harness.name == "aws" else 0.5)
        harness.switch.slow_seconds = 4.0
    expected = OVERRIDES.get((harness.name, fault), EXPECTED[fault])
    with pytest.raises(errors.VerificationError) as caught:
        await harness.connector.verify(harness.credentials)
    assert type(caught.value) is expected, caught.value
    message = str(caught.value)
    assert harness.connector.display_name in message
    assert f"login {harness.name}" in message or "Try again" in message
    for secret in harness.secrets:
        assert secret not in message


async def test_rate_limit_carries_retry_after(harness_for) -> None:  # type: ignore[no-untyped-def]
    github = await harness_for("github")
    github.switch.fault = Fault.RATE_LIMITED
    with pytest.raises(errors.RateLimited) as caught:
        await github.connector.verify(github.credentials)
    assert caught.value.retry_after == 7
    assert "7 s" in caught.value.action


async def test_wrong_credentials_are_unauthorized(harness: Harness) -> None:
    wrong = {
        key: (value if key in ("site", "username", "email") else value[:-4] + "zzzz")
        for key, value in harness.credentials.items()
    }
    if harness.name == "aws":
        harness.state.revoked_keys.add(harness.credentials["access_key_id"])
        wrong = dict(harness.credentials)
    with pytest.raises((errors.Unauthorized, errors.CredentialsExpired)):
        await harness.connector.verify(Credentials(wrong))


async def test_unreachable_port(harness: Harness) -> None:
    """Nothing listening at all: the ✗ says the service could not be reached (Jira: its one refusal)."""
    await harness.connector.aclose()
    closed = "http://127.0.0.1:9"  # discard port: nothing listens there in the test environment
    moved = _pointed_at(harness, closed)
    unreachable = (errors.ServiceUnreachable, errors.ServiceTimeout)
    with pytest.raises((errors.SiteRefused,) if harness.name == "jira" else unreachable):
        await harness.connector.verify(moved)


async def test_jira_unreachable_listed_port_reads_as_refused(harness_for) -> None:  # type: ignore[no-untyped-def]
    """An allowed host with nothing listening says exactly what a forbidden host says."""
    from connectors.sites import SiteGuard

    jira = await harness_for("jira")
    jira.connector.sites = SiteGuard.from_setting("127.0.0.1:9")
    with pytest.raises(errors.SiteRefused) as closed:
        await jira.connector.verify(jira.credentials.with_values(site="http://127.0.0.1:9"))
    jira.connector.sites = SiteGuard()
    with pytest.raises(errors.SiteRefused) as forbidden:
        await jira.connector.verify(jira.credentials)
    assert str(closed.value) == str(forbidden.value)
    assert jira.switch.requests == 0


def _pointed_at(harness: Harness, url: str) -> Credentials:
    settings = harness.connector.settings
    if harness.name == "jira":
        return harness.credentials.with_values(site=url)
    changes = {
        field: url + ("/" if field == "api_url" and harness.name == "google" else "")
        for field in ("api_url", "endpoint_url", "token_uri", "registry_url")
        if hasattr(settings, field)
    }
    harness.connector.settings = dataclasses.replace(settings, **changes)
    return harness.credentials
