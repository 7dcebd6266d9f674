"""`auth status` checks: all services at once, each under its own timeout, never raising."""

from __future__ import annotations

import time
from pathlib import Path

from cryptography.fernet import Fernet

from bot.db import Database
from connectors import errors
from connectors.base import ConnectorRegistry, Credentials
from connectors.status import check_all, missing_services
from connectors.toggl import TogglConnector
from connectors.vault import CredentialVault, parse_keys
from testing.services.wiring import SERVICES, Harness


async def _vault(tmp_path: Path) -> CredentialVault:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'status.db'}")
    await db.upgrade()
    return CredentialVault(db, parse_keys(Fernet.generate_key().decode(), "test"))


async def _signed_in(harness_for, tmp_path: Path) -> tuple[ConnectorRegistry, CredentialVault, list[Harness]]:  # type: ignore[no-untyped-def]
    vault = await _vault(tmp_path)
    harnesses = [await harness_for(name) for name in SERVICES]
    for harness in harnesses:
        await vault.put("alice", harness.name, harness.credentials)
    return ConnectorRegistry(h.connector for h in harnesses), vault, harnesses


async def test_all_seven_concurrently(harness_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry, vault, harnesses = await _signed_in(harness_for, tmp_path)
    for harness in harnesses:
        harness.switch.delay = 0.3
    started = time.perf_counter()
    statuses = await check_all("alice", registry, vault, timeout=5)
    total = time.perf_counter() - started
    assert [s.service for s in statuses] == list(SERVICES)
    assert all(s.ok for s in statuses), [(s.service, s.error) for s in statuses if not s.ok]
    slowest = max(s.elapsed for s in statuses)
    assert total < slowest + 0.5  # close to the slowest service (bench/auth measures it tightly)...
    assert total < sum(s.elapsed for s in statuses) / 2  # ...and far below the sequential sum


async def test_another_person_sees_nothing(harness_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry, vault, _harnesses = await _signed_in(harness_for, tmp_path)
    statuses = await check_all("bob", registry, vault, timeout=5)
    assert all(isinstance(s.error, errors.NotSignedIn) for s in statuses)
    assert all(s.identity is None for s in statuses)
    assert await missing_services("bob", ["github", "jira"], vault) == ["github", "jira"]
    assert await missing_services("alice", ["github", "jira"], vault) == []


async def test_one_slow_service_times_out_alone(harness_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    registry, vault, harnesses = await _signed_in(harness_for, tmp_path)
    slow = next(h for h in harnesses if h.name == "miro")
    slow.switch.delay = 5.0
    statuses = {s.service: s for s in await check_all("alice", registry, vault, timeout=3.0)}
    assert isinstance(statuses["miro"].error, errors.ServiceTimeout)
    assert statuses["miro"].login_command == "login miro"
    assert all(s.ok for name, s in statuses.items() if name != "miro")


async def test_a_crashing_connector_is_a_cross_not_a_crash(tmp_path: Path) -> None:
    class Broken(TogglConnector):
        async def verify(self, credentials: Credentials):  # type: ignore[no-untyped-def]
            raise RuntimeError("token=hunter2 leaked in a message")

    vault = await _vault(tmp_path)
    await vault.put("alice", "toggl", Credentials(api_token="hunter2"))
    [status] = await check_all("alice", ConnectorRegistry([Broken()]), vault)
    assert not status.ok
    assert "hunter2" not in str(status.error)


async def test_refreshed_google_token_is_stored(harness_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    google = await harness_for("google")
    vault = await _vault(tmp_path)
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    await vault.put(
        "alice", "google", google.credentials.with_values(access_token="ya29.old", expires_at=past)
    )
    [status] = await check_all("alice", ConnectorRegistry([google.connector]), vault)
    assert status.ok
    stored = await vault.get("alice", "google")
    assert stored["access_token"] != "ya29.old" and stored["access_token"] in google.state.tokens
    assert stored["expires_at"] > dt.datetime.now(dt.UTC).isoformat()
