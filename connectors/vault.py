"""The credential vault: each person's credentials per service, encrypted at rest.

Rows hold Fernet ciphertext only. The person's stable id is stored as a SHA-256 digest: lookups stay
deterministic across key rotation, and a database reader cannot list who uses k8or by name. The
service name stays plain, since `list_services` needs it and it is not secret. Each ciphertext also
seals the row's person digest and service, so a row copied under another person's key will not open.

Keys come from K8OR_VAULT_KEY (comma-separated, newest first), else a key file (a mounted secret),
else a key generated once under K8OR_DATA_DIR with a warning.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy.exc import IntegrityError

from connectors.base import Credentials
from connectors.private_files import PRIVATE_FILE, private_directory, tighten_file
from connectors.settings import VaultSettings

log = logging.getLogger(__name__)
GENERATED_KEY_FILE = "vault.key"
DEFAULT_TABLE = "k8or_credentials"
KEY_HELP = (
    "generate one with: "
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


class VaultKeyError(ValueError):
    """The configured vault key cannot be used; the message names the setting and the fix, never the key."""


# --- keys -------------------------------------------------------------------------------------------


def parse_keys(text: str, source: str) -> MultiFernet:
    """A key ring from comma- or newline-separated Fernet keys, newest first."""
    raw = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
    if not raw:
        raise VaultKeyError(f"{source} holds no key; {KEY_HELP}")
    keys = []
    for position, key in enumerate(raw, start=1):
        try:
            keys.append(Fernet(key))
        except (ValueError, TypeError):
            raise VaultKeyError(f"{source}: key {position} is not a Fernet key; {KEY_HELP}") from None
    return MultiFernet(keys)


def load_keys(settings: VaultSettings, data_dir: Path) -> MultiFernet:
    """The vault's key ring from K8OR_VAULT_KEY, K8OR_VAULT_KEY_FILE, or a key generated under data_dir."""
    configured = settings.key.get_secret_value()
    if configured:
        return parse_keys(configured, "K8OR_VAULT_KEY")
    if settings.key_file is not None:
        try:
            return parse_keys(settings.key_file.read_text(), f"K8OR_VAULT_KEY_FILE ({settings.key_file})")
        except OSError as exc:
            reason = f"cannot read {settings.key_file}: {exc.strerror}"
            raise VaultKeyError(f"K8OR_VAULT_KEY_FILE: {reason}") from None
    return parse_keys(_generated_key(data_dir), f"generated key file {data_dir / GENERATED_KEY_FILE}")


def _generated_key(data_dir: Path) -> str:
    """The key generated once under data_dir (0600, in a 0700 folder; tightened if found looser)."""
    path = private_directory(data_dir) / GENERATED_KEY_FILE
    try:
        # O_EXCL: two replicas starting together must not each write a different key.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    except FileExistsError:
        tighten_file(path)
        return path.read_text()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(Fernet.generate_key().decode() + "\n")
    log.warning(
        "K8OR_VAULT_KEY is not set: generated a vault key at %s. Back it up, or set K8OR_VAULT_KEY; "
        "without it the stored credentials cannot be read.",
        path,
    )
    return path.read_text()


# --- the vault ----------------------------------------------------------------------------------------


def person_digest(person: str) -> str:
    """The stored form of a person's stable id."""
    return hashlib.sha256(b"k8or-person\x00" + person.encode()).hexdigest()


# The vault's table: one row per person and service, ciphertext only. The app's one MetaData
# (bot.schema) holds a copy of it, and its migrations create it; this library only reads and writes.
CREDENTIALS = sa.Table(
    DEFAULT_TABLE,
    sa.MetaData(),
    sa.Column("person", sa.String(64), primary_key=True),
    sa.Column("service", sa.String(64), primary_key=True),
    sa.Column("ciphertext", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


class Statements(Protocol):
    """One open transaction: the part of SQLAlchemy's connection the vault uses."""

    async def execute(self, statement: Any, parameters: Any = None) -> sa.CursorResult[*tuple[Any, ...]]: ...


class Transactions(Protocol):
    """Where the vault's statements run: the app's database (`bot.db.Database`), one engine per process."""

    def begin(self) -> AbstractAsyncContextManager[Statements]: ...


class CredentialVault:
    """Encrypted credentials keyed by the person's stable id (AAD object id, `slack:<team>:<user>`, …)."""

    def __init__(self, db: Transactions, keys: MultiFernet) -> None:
        self._db = db
        self._keys = keys
        self.table = CREDENTIALS

    def _seal(self, digest: str, service: str, credentials: Credentials) -> str:
        payload = json.dumps({"p": digest, "s": service, "v": credentials.reveal()})
        return self._keys.encrypt(payload.encode()).decode()

    def _open(self, digest: str, service: str, ciphertext: str) -> Credentials | None:
        try:
            payload = json.loads(self._keys.decrypt(ciphertext.encode()))
        except InvalidToken:
            log.error("vault: a %s credential does not decrypt with the configured keys", service)
            return None
        if payload.get("p") != digest or payload.get("s") != service:
            log.error("vault: a %s credential is sealed for another row; ignoring it", service)
            return None
        return Credentials(payload["v"])

    async def put(self, person: str, service: str, credentials: Credentials) -> None:
        """Store (or replace) this person's credentials for `service`."""
        digest = person_digest(person)
        row = {"ciphertext": self._seal(digest, service, credentials), "updated_at": dt.datetime.now(dt.UTC)}
        key = (self.table.c.person == digest) & (self.table.c.service == service)
        try:
            async with self._db.begin() as connection:
                updated = await connection.execute(self.table.update().where(key).values(**row))
                if updated.rowcount == 0:
                    insert = self.table.insert().values(person=digest, service=service, **row)
                    await connection.execute(insert)
        except IntegrityError:
            # Another replica inserted the same row in between; ours is newer, so overwrite it.
            async with self._db.begin() as connection:
                await connection.execute(self.table.update().where(key).values(**row))

    async def get(self, person: str, service: str) -> Credentials | None:
        """This person's credentials for `service`, or None."""
        digest = person_digest(person)
        query = sa.select(self.table.c.ciphertext).where(
            (self.table.c.person == digest) & (self.table.c.service == service)
        )
        async with self._db.begin() as connection:
            ciphertext = (await connection.execute(query)).scalar_one_or_none()
        return None if ciphertext is None else self._open(digest, service, ciphertext)

    async def list_services(self, person: str) -> list[str]:
        """The services this person has credentials for, sorted."""
        query = sa.select(self.table.c.service).where(self.table.c.person == person_digest(person))
        async with self._db.begin() as connection:
            return sorted((await connection.execute(query)).scalars())

    async def delete(self, person: str, service: str) -> bool:
        """Forget this person's credentials for `service`; True if there were any."""
        where = (self.table.c.person == person_digest(person)) & (self.table.c.service == service)
        async with self._db.begin() as connection:
            return (await connection.execute(self.table.delete().where(where))).rowcount > 0

    async def delete_all(self, person: str) -> int:
        """Forget every credential of this person; how many were deleted."""
        where = self.table.c.person == person_digest(person)
        async with self._db.begin() as connection:
            return (await connection.execute(self.table.delete().where(where))).rowcount

    async def rotate(self) -> int:
        """Re-encrypt every row under the newest key, so older keys can then be retired; rows rewritten."""
        columns = (self.table.c.person, self.table.c.service, self.table.c.ciphertext)
        async with self._db.begin() as connection:
            rows = (await connection.execute(sa.select(*columns))).all()
            for person, service, ciphertext in rows:
                fresh = self._keys.rotate(ciphertext.encode()).decode()
                where = (self.table.c.person == person) & (self.table.c.service == service)
                await connection.execute(self.table.update().where(where).values(ciphertext=fresh))
        return len(rows)
