"""Sign-ins that verified on the page and now wait for their owner to type the code in chat.

A sign-in link is a bearer URL: whoever opens it can submit credentials into the link owner's slot
(login CSRF). So verified credentials are not stored at once. They are held here, sealed with the
vault's keys (never plaintext in the database), and the page shows a one-time six-digit code. Only
the link's owner typing that code to k8or in chat within five minutes moves them into the vault. The
code is looked up among the pending sign-ins of the person typing it, so anyone else's code never
matches; five wrong codes discard that person's pending sign-ins. This is the Bot Framework's OAuth
"magic code" defence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Literal

import sqlalchemy as sa
from cryptography.fernet import InvalidToken, MultiFernet

from bot.db import Database
from bot.schema import signin_pending
from connectors.base import Credentials
from connectors.vault import person_digest

PENDING_TTL = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
CODE_DIGITS = 6
Clock = Callable[[], dt.datetime]


def new_code() -> str:
    """A uniformly random six-digit code, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def is_code(text: str) -> bool:
    """True for exactly six ASCII digits: the only shape a sign-in code has."""
    return len(text) == CODE_DIGITS and text.isascii() and text.isdigit()


@dataclasses.dataclass(frozen=True)
class HeldSignIn:
    """A verified sign-in waiting for its code; `code` goes on the page and nowhere else."""

    code: str = dataclasses.field(repr=False)
    service: str
    identity: str
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Redeemed:
    """The right code was typed by the owner: these credentials may now go into the vault."""

    service: str
    identity: str
    credentials: Credentials = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Refused:
    """No match: `none` (nothing waiting), `wrong` (attempts left) or `exhausted` (discarded)."""

    reason: Literal["none", "wrong", "exhausted"]
    attempts_left: int = 0
    discarded: tuple[str, ...] = ()


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PendingSignIns:
    """Holds verified credentials until their owner types the code; redeems or discards them."""

    def __init__(
        self,
        db: Database,
        keys: MultiFernet,
        *,
        ttl: dt.timedelta = PENDING_TTL,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Clock = _utcnow,
    ) -> None:
        self._db, self._keys = db, keys
        self.ttl, self.max_attempts, self.clock = ttl, max_attempts, clock
        self.table = signin_pending

    async def hold(
        self, person: str, service: str, link: str, credentials: Credentials, identity: str
    ) -> HeldSignIn:
        """Hold verified credentials for `person` (replacing an older pending one for the same service)."""
        row_id, code, now = secrets.token_hex(16), new_code(), self.clock()
        digest = person_digest(person)
        sealed = self._seal(row_id, digest, service, code, credentials, identity)
        mine = (self.table.c.person == digest) & (self.table.c.service == service)
        async with self._db.begin() as connection:
            await connection.execute(self.table.delete().where(mine | (self.table.c.expires_at <= now)))
            await connection.execute(
                self.table.insert().values(
                    id=row_id, person=digest, service=service, link=link, ciphertext=sealed,
                    attempts=0, expires_at=now + self.ttl,
                )
            )  # fmt: skip
        return HeldSignIn(code, service, identity, now + self.ttl)

    async def for_link(self, link: str) -> HeldSignIn | None:
        """The sign-in waiting for a code that this link produced (the device page shows its code)."""
        query = sa.select(self.table).where(self.table.c.link == link)
        async with self._db.begin() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None or not self._live(row) or (payload := self._open(row)) is None:
            return None
        return HeldSignIn(payload["c"], row["service"], payload["who"], _aware(row["expires_at"]))

    async def redeem(self, person: str, code: str) -> Redeemed | Refused:
        """The pending sign-in of `person` whose code this is, taken exactly once; else why not."""
        await self.prune()
        digest = person_digest(person)
        query = sa.select(self.table).where(self.table.c.person == digest)
        async with self._db.begin() as connection:
            rows = [row for row in (await connection.execute(query)).mappings() if self._live(row)]
        if not rows:
            return Refused("none")
        for row in rows:
            payload = self._open(row)
            if payload is not None and hmac.compare_digest(payload["c"].encode(), code.encode()):
                return await self._take(row, payload)
        return await self._count_miss(digest)

    async def prune(self) -> int:
        """Discard every expired pending sign-in; how many."""
        return await prune_expired(self._db, self.clock())

    async def _take(self, row: sa.RowMapping, payload: dict) -> Redeemed | Refused:
        # Deleting is the claim: of two turns typing the same code at once, only one stores.
        async with self._db.begin() as connection:
            taken = await connection.execute(self.table.delete().where(self.table.c.id == row["id"]))
        if taken.rowcount != 1:
            return Refused("none")
        return Redeemed(row["service"], payload["who"], Credentials(payload["v"]))

    async def _count_miss(self, digest: str) -> Refused:
        """A wrong code counts against every pending sign-in of the person; spent ones are discarded."""
        table = self.table
        mine = table.c.person == digest
        spent = mine & (table.c.attempts >= self.max_attempts)
        async with self._db.begin() as connection:
            await connection.execute(table.update().where(mine).values(attempts=table.c.attempts + 1))
            gone = tuple(
                sorted((await connection.execute(sa.select(table.c.service).where(spent))).scalars())
            )
            await connection.execute(table.delete().where(spent))
            most = (await connection.execute(sa.select(sa.func.max(table.c.attempts)).where(mine))).scalar()
        if most is None:
            return Refused("exhausted", 0, gone)
        return Refused("wrong", self.max_attempts - most, gone)

    def _live(self, row: sa.RowMapping) -> bool:
        return _aware(row["expires_at"]) > self.clock() and row["attempts"] < self.max_attempts

    def _seal(
        self, row_id: str, digest: str, service: str, code: str, credentials: Credentials, identity: str
    ) -> str:
        values = credentials.reveal()
        payload = {"i": row_id, "p": digest, "s": service, "c": code, "who": identity, "v": values}
        return self._keys.encrypt(json.dumps(payload).encode()).decode()

    def _open(self, row: sa.RowMapping) -> dict | None:
        try:
            payload = json.loads(self._keys.decrypt(row["ciphertext"].encode()))
        except InvalidToken:
            return None
        # The seal names its row: a ciphertext copied onto another person's row does not open.
        sealed_for = (payload.get("i"), payload.get("p"), payload.get("s"))
        if sealed_for != (row["id"], row["person"], row["service"]):
            return None
        return payload


async def prune_expired(db: Database, now: dt.datetime) -> int:
    """Discard the pending sign-ins that expired by `now` (no keys needed: nothing is opened); how many."""
    expired = signin_pending.delete().where(signin_pending.c.expires_at <= now)
    async with db.begin() as connection:
        return (await connection.execute(expired)).rowcount or 0
