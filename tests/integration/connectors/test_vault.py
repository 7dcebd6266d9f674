"""The credential vault: encrypted at rest, rotatable, one person's rows invisible to another."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot.db import Database
from connectors.base import Credentials
from connectors.settings import VaultSettings
from connectors.vault import CredentialVault, VaultKeyError, load_keys, parse_keys
from tests.support.databases import database, db  # noqa: F401 - fixtures: SQLite and PostgreSQL, migrated
from typed_env import SecretStr

SECRET = "ghp_" + "S3cr3tT0k3n" * 3


async def _vault(db: Database, keys: str) -> CredentialVault:  # noqa: F811
    return CredentialVault(db, parse_keys(keys, "test"))


async def _raw_rows(db: Database) -> list[tuple[str, ...]]:  # noqa: F811
    async with db.begin() as connection:
        return [
            tuple(map(str, row))
            for row in await connection.execute(sa.text("select * from k8or_credentials"))
        ]


async def test_round_trip_and_isolation(db: Database) -> None:  # noqa: F811
    vault = await _vault(db, Fernet.generate_key().decode())
    await vault.put("aad:alice", "github", Credentials(token=SECRET))
    assert (await vault.get("aad:alice", "github"))["token"] == SECRET
    assert await vault.get("aad:bob", "github") is None
    assert await vault.list_services("aad:bob") == []
    assert await vault.list_services("aad:alice") == ["github"]


async def test_put_replaces(db: Database) -> None:  # noqa: F811
    vault = await _vault(db, Fernet.generate_key().decode())
    await vault.put("p", "toggl", Credentials(api_token="one"))
    await vault.put("p", "toggl", Credentials(api_token="two"))
    assert (await vault.get("p", "toggl"))["api_token"] == "two"


async def test_no_plaintext_at_rest(db: Database, tmp_path: Path) -> None:  # noqa: F811
    vault = await _vault(db, Fernet.generate_key().decode())
    await vault.put("slack:T1:U1", "github", Credentials(token=SECRET))
    dumped = repr(await _raw_rows(db))
    assert SECRET not in dumped
    assert "slack:T1:U1" not in dumped  # the person's id is stored as a digest
    for path in tmp_path.glob("*.db*"):
        assert SECRET.encode() not in path.read_bytes()


async def test_delete_and_delete_all(db: Database) -> None:  # noqa: F811
    vault = await _vault(db, Fernet.generate_key().decode())
    for service in ("github", "jira", "toggl"):
        await vault.put("p", service, Credentials(token="x"))
    await vault.put("q", "github", Credentials(token="y"))
    assert await vault.delete("p", "jira") is True
    assert await vault.delete("p", "jira") is False
    assert await vault.delete_all("p") == 2
    assert await vault.list_services("p") == []
    assert await vault.list_services("q") == ["github"]


async def test_rotation(db: Database) -> None:  # noqa: F811
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    await (await _vault(db, old)).put("p", "github", Credentials(token=SECRET))
    rotated = await _vault(db, f"{new},{old}")
    assert (await rotated.get("p", "github"))["token"] == SECRET
    assert await rotated.rotate() == 1
    only_new = await _vault(db, new)
    assert (await only_new.get("p", "github"))["token"] == SECRET


async def test_row_moved_to_another_person_does_not_open(db: Database) -> None:  # noqa: F811
    vault = await _vault(db, Fernet.generate_key().decode())
    await vault.put("alice", "github", Credentials(token=SECRET))
    await vault.put("bob", "github", Credentials(token="bobs"))
    table = vault.table
    async with db.begin() as connection:
        alice_row = (await connection.execute(sa.select(table.c.ciphertext))).scalars().all()
        await connection.execute(table.update().values(ciphertext=alice_row[0]))
    opened = [await vault.get(person, "github") for person in ("alice", "bob")]
    assert [c is not None for c in opened].count(True) == 1


async def test_wrong_key_reads_nothing(db: Database) -> None:  # noqa: F811
    await (await _vault(db, Fernet.generate_key().decode())).put("p", "github", Credentials(token=SECRET))
    assert await (await _vault(db, Fernet.generate_key().decode())).get("p", "github") is None


async def test_logs_hold_no_secret(db: Database, caplog: pytest.LogCaptureFixture) -> None:  # noqa: F811
    caplog.set_level(logging.DEBUG)
    vault = await _vault(db, Fernet.generate_key().decode())
    await vault.put("p", "github", Credentials(token=SECRET))
    await vault.get("p", "github")
    assert SECRET not in caplog.text


def test_generated_key_once_with_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    first = load_keys(VaultSettings(), tmp_path)
    key_file = tmp_path / "vault.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "generated a vault key" in caplog.text
    assert key_file.read_text().strip() not in caplog.text
    caplog.clear()
    second = load_keys(VaultSettings(), tmp_path)
    assert second.decrypt(first.encrypt(b"x")) == b"x"
    assert "generated" not in caplog.text


def test_key_from_setting_and_file(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    token = load_keys(VaultSettings(key=SecretStr(key)), tmp_path).encrypt(b"x")
    key_file = tmp_path / "mounted"
    key_file.write_text(key + "\n")
    assert load_keys(VaultSettings(key_file=key_file), tmp_path).decrypt(token) == b"x"
    assert not (tmp_path / "vault.key").exists()


def test_bad_key_names_setting_not_value(tmp_path: Path) -> None:
    with pytest.raises(VaultKeyError) as caught:
        load_keys(VaultSettings(key=SecretStr("not-a-real-key-value")), tmp_path)
    assert "K8OR_VAULT_KEY" in str(caught.value)
    assert "not-a-real-key-value" not in str(caught.value)
    with pytest.raises(VaultKeyError, match="K8OR_VAULT_KEY_FILE"):
        load_keys(VaultSettings(key_file=tmp_path / "missing"), tmp_path)
