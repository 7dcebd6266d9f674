"""`python -m bot.signin.rotate` re-encrypts the vault named by the settings."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.db import open_engine
from bot.settings import Settings
from bot.signin.rotate import rotate
from connectors.base import Credentials
from connectors.vault import CredentialVault, parse_keys


async def test_rotate_with_app_settings(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = Settings(_env_file=None, data_dir=tmp_path, vault_key=SecretStr(old))
    engine = open_engine(before.effective_database_url)
    vault = CredentialVault(engine, parse_keys(old, "test"))
    await vault.create_schema()
    await vault.put("aad:alice", "github", Credentials(token="ghp_secret"))
    await engine.dispose()
    assert await rotate(before.model_copy(update={"vault_key": SecretStr(f"{new},{old}")})) == 1
    engine = open_engine(before.effective_database_url)
    after = CredentialVault(engine, parse_keys(new, "test"))
    assert (await after.get("aad:alice", "github"))["token"] == "ghp_secret"
    await engine.dispose()
