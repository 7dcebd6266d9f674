"""`python -m bot.signin.rotate` re-encrypts the vault named by the settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cryptography.fernet import Fernet

from bot.db import Database
from bot.settings import Settings
from bot.signin.rotate import rotate
from connectors.base import Credentials
from connectors.vault import CredentialVault, parse_keys
from typed_env import SecretStr


async def test_rotate_with_app_settings(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = Settings(data_dir=tmp_path, vault_key=SecretStr(old))
    db = Database(before.effective_database_url)
    await db.upgrade()
    vault = CredentialVault(db, parse_keys(old, "test"))
    await vault.put("aad:alice", "github", Credentials(token="ghp_secret"))
    await db.dispose()
    assert await rotate(dataclasses.replace(before, vault_key=SecretStr(f"{new},{old}"))) == 1
    db = Database(before.effective_database_url)
    after = CredentialVault(db, parse_keys(new, "test"))
    assert (await after.get("aad:alice", "github"))["token"] == "ghp_secret"
    await db.dispose()
