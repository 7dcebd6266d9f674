"""The data directory is 0700 and the database and key files 0600: created so, tightened if looser.

Before: `k8or.db` (every person's sealed credentials) was created 0644 in a 0755 folder, beside the
vault key that opens it, so every local account could copy both.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.settings import Settings
from k8or.app import create_app
from testing.chat.channel import FakeChannel, message


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask():  # type: ignore[no-untyped-def]
    """The common 022 umask, under which files would otherwise be created world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
async def channel(aiohttp_server):  # type: ignore[no-untyped-def]
    fake = FakeChannel()
    fake.url = str((await aiohttp_server(fake.app())).make_url("/"))  # type: ignore[attr-defined]
    return fake


async def _start_and_answer(aiohttp_client, data_dir: Path, channel) -> None:  # type: ignore[no-untyped-def]
    """Start the whole app on `data_dir` and run one turn, so the database is written to."""
    client = await aiohttp_client(create_app(Settings(data_dir=data_dir)))
    assert (await client.post("/api/messages", json=message("version", channel.url))).status == 201
    await channel.wait_for(1)


async def test_a_fresh_data_dir_is_private(aiohttp_client, tmp_path, channel, usual_umask):
    data_dir = tmp_path / "data"
    await _start_and_answer(aiohttp_client, data_dir, channel)
    assert _mode(data_dir) == 0o700
    assert _mode(data_dir / "k8or.db") == 0o600
    assert _mode(data_dir / "vault.key") == 0o600
    sqlite_files = sorted(f.name for f in data_dir.glob("k8or.db-*"))
    assert sqlite_files == ["k8or.db-shm", "k8or.db-wal"]  # SQLite gives them the database's mode
    assert {_mode(data_dir / name) for name in sqlite_files} == {0o600}


async def test_loose_files_found_at_start_are_tightened_with_a_warning(
    aiohttp_client, tmp_path, channel, usual_umask, caplog
):
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "k8or.db").touch(mode=0o644)
    (data_dir / "vault.key").write_text(Fernet.generate_key().decode())
    (data_dir / "vault.key").chmod(0o644)
    caplog.set_level(logging.WARNING)
    await _start_and_answer(aiohttp_client, data_dir, channel)
    modes = [_mode(data_dir), _mode(data_dir / "k8or.db"), _mode(data_dir / "vault.key")]
    assert modes == [0o700, 0o600, 0o600]
    warned = [r.getMessage() for r in caplog.records if "open to other local users" in r.getMessage()]
    assert {Path(w.split(" was ")[0]).name for w in warned} == {"data", "k8or.db", "vault.key"}
