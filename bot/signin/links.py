"""One-time sign-in links, kept in the database so any replica can serve the page a link opens.

A link is bound to one person and one service and expires after ten minutes. Only a SHA-256 digest of
the link's token is stored, so someone reading the database cannot use a live link. OAuth `state`
values are stored the same way and point back at their link. Device sign-in progress (user code,
verification URL, outcome) lives on the link row, so the status page works on every replica.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import secrets
from typing import Any

import sqlalchemy as sa

from bot.db import Database, Transaction
from bot.schema import signin_links, signin_states

LINK_TTL = dt.timedelta(minutes=10)


def digest(value: str) -> str:
    """The stored form of a link token or OAuth state."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class IssuedLink:
    """A fresh link: the token goes into the URL (and nowhere else); it expires at `expires_at`."""

    token: str = dataclasses.field(repr=False)
    person: str
    service: str
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class SignInLink:
    """A stored, still usable link."""

    key: str  # digest of the token
    person: str
    service: str
    expires_at: dt.datetime
    progress: dict[str, Any]


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


class SignInLinkStore:
    """Issues and redeems sign-in links and OAuth states."""

    def __init__(self, db: Database, *, ttl: dt.timedelta = LINK_TTL):
        self._db = db
        self.ttl = ttl
        self.links, self.states = signin_links, signin_states

    async def prune(self, now: dt.datetime | None = None) -> int:
        """Delete the links and OAuth states that expired before `now`; how many rows."""
        async with self._db.begin() as connection:
            return await _delete_expired(connection, now or dt.datetime.now(dt.UTC))

    async def issue(self, person: str, service: str, owner: str = "") -> IssuedLink:
        """A new one-time link for `person` to sign in to `service`; `owner` is how the page names them."""
        token = secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.UTC)
        expires_at = now + self.ttl
        async with self._db.begin() as connection:
            await _delete_expired(connection, now)
            await connection.execute(
                self.links.insert().values(
                    key=digest(token),
                    person=person,
                    service=service,
                    expires_at=expires_at,
                    progress=json.dumps({"owner": owner or person}),
                )
            )
        return IssuedLink(token, person, service, expires_at)

    async def find(self, token: str) -> SignInLink | None:
        """The link for `token` if it exists, has not expired and has not been used."""
        return await self._find_key(digest(token))

    async def _find_key(self, key: str) -> SignInLink | None:
        query = sa.select(self.links).where(self.links.c.key == key)
        async with self._db.begin() as connection:
            row = (await connection.execute(query)).mappings().first()
        if row is None or row["used_at"] is not None or _aware(row["expires_at"]) <= dt.datetime.now(dt.UTC):
            return None
        return SignInLink(
            row["key"],
            row["person"],
            row["service"],
            _aware(row["expires_at"]),
            json.loads(row["progress"] or "{}"),
        )

    async def progress(self, token: str) -> dict[str, Any] | None:
        """Device sign-in progress for `token`, even after the link was used; None if unknown or expired."""
        query = sa.select(self.links.c.progress, self.links.c.expires_at).where(
            self.links.c.key == digest(token)
        )
        async with self._db.begin() as connection:
            row = (await connection.execute(query)).first()
        if row is None or _aware(row.expires_at) <= dt.datetime.now(dt.UTC):
            return None
        return json.loads(row.progress or "{}")

    async def set_progress(self, link: SignInLink, **progress: Any) -> None:
        """Record non-secret progress (user code, outcome) on the link for the status page."""
        # Merge with the stored progress, not `link.progress`: the poller's copy predates the page's.
        this = self.links.c.key == link.key
        async with self._db.begin() as connection:
            stored = (await connection.execute(sa.select(self.links.c.progress).where(this))).scalar()
            merged = json.dumps({**json.loads(stored or "{}"), **progress})
            await connection.execute(self.links.update().where(this).values(progress=merged))

    async def claim_device(self, link: SignInLink, browser: str) -> bool:
        """Bind the link's device sign-in to one browser (the digest of its cookie); False if one was
        already started, so a second start cannot take over the status page, and with it the code."""
        this = self.links.c.key == link.key
        async with self._db.begin() as connection:
            query = sa.select(self.links.c.progress).where(this).with_for_update()
            stored = json.loads((await connection.execute(query)).scalar() or "{}")
            if stored.get("browser"):
                return False
            merged = json.dumps({**stored, "browser": browser})
            await connection.execute(self.links.update().where(this).values(progress=merged))
        return True

    async def complete(self, link: SignInLink) -> bool:
        """Mark the link used; False if it was already used (two submissions racing)."""
        unused = (self.links.c.key == link.key) & self.links.c.used_at.is_(None)
        async with self._db.begin() as connection:
            result = await connection.execute(
                self.links.update().where(unused).values(used_at=dt.datetime.now(dt.UTC))
            )
        return result.rowcount == 1

    async def bind_state(self, link: SignInLink, method: str) -> str:
        """A fresh OAuth `state` for this link and sign-in method."""
        state = secrets.token_urlsafe(24)
        row = {"key": digest(state), "link": link.key, "method": method, "expires_at": link.expires_at}
        async with self._db.begin() as connection:
            await connection.execute(self.states.insert().values(**row))
        return state

    async def take_state(self, state: str) -> tuple[SignInLink, str] | None:
        """Redeem an OAuth `state` once: its link (still usable) and method, or None."""
        key = digest(state)
        async with self._db.begin() as connection:
            row = (
                (await connection.execute(sa.select(self.states).where(self.states.c.key == key)))
                .mappings()
                .first()
            )
            await connection.execute(self.states.delete().where(self.states.c.key == key))
        if row is None or _aware(row["expires_at"]) <= dt.datetime.now(dt.UTC):
            return None
        link = await self._find_key(row["link"])
        return None if link is None else (link, row["method"])


async def _delete_expired(connection: Transaction, now: dt.datetime) -> int:
    links = await connection.execute(signin_links.delete().where(signin_links.c.expires_at < now))
    states = await connection.execute(signin_states.delete().where(signin_states.c.expires_at < now))
    return (links.rowcount or 0) + (states.rowcount or 0)
