"""Services this k8or is not configured for are not offered: no link that leads to a 503 (issue 15)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import dialogs.auth
from bot.signin import SignInLinkStore
from bot.signin.components import SignIn
from bot.signin.pending import PendingSignIns
from connectors.base import ConnectorRegistry
from connectors.google import GoogleConnector
from connectors.miro import MiroConnector
from connectors.settings import MiroSettings
from connectors.toggl import TogglConnector
from connectors.vault import CredentialVault, parse_keys
from testing.chat.turns import TurnHarness


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[TurnHarness]:
    """Google and Toggl as shipped (Google without its OAuth client), Miro with its client set."""
    miro = MiroConnector(MiroSettings(client_id="miro-client"))
    registry = ConnectorRegistry([GoogleConnector(), TogglConnector(), miro])
    async with TurnHarness.open(tmp_path, [dialogs.auth.commands]) as harness:
        db, keys = harness.services.db, parse_keys(Fernet.generate_key().decode(), "test")
        harness.services.signin = SignIn(
            registry,
            CredentialVault(db, keys),
            SignInLinkStore(db),
            "http://127.0.0.1:3978",
            status_timeout=5,
            pending=PendingSignIns(db, keys),
        )
        yield harness
        await registry.aclose()


async def test_login_to_an_unconfigured_service_names_the_setting(bot: TurnHarness) -> None:
    [reply] = await bot.say("login google", user="alice")
    assert reply.startswith("Google sign-in is not configured on this k8or.")
    assert "`K8OR_GOOGLE_CLIENT_ID`" in reply and "`K8OR_GOOGLE_CLIENT_SECRET`" in reply
    assert "/signin/" not in reply


async def test_a_configured_oauth_service_still_gets_its_link(bot: TurnHarness) -> None:
    [reply] = await bot.say("login miro", user="alice")
    assert "Sign in to **Miro** here: http://127.0.0.1:3978/signin/" in reply


async def test_login_offers_only_configured_services(bot: TurnHarness) -> None:
    replies = await bot.say("login", user="alice")
    offered = "\n".join(replies)
    assert "toggl" in offered and "miro" in offered
    assert "google" not in offered.lower()


async def test_an_unknown_service_lists_the_offered_ones(bot: TurnHarness) -> None:
    [unknown] = await bot.say("login myspace", user="alice")
    assert "Services: miro, toggl." in unknown


async def test_auth_status_says_not_configured_and_offers_no_fix(bot: TurnHarness) -> None:
    [status] = await bot.say("auth status", user="alice")
    assert "| Google | – | not configured on this k8or (`K8OR_GOOGLE_CLIENT_ID`" in status
    assert "| Toggl Track | ✗ | You have not signed in to Toggl Track. |" in status
    fixes = status.split("To fix a ✗:")[1]
    assert "`login toggl`" in fixes and "`login miro`" in fixes and "google" not in fixes
