"""A botbuilder `Storage` over SQLAlchemy, with eTag optimistic concurrency.

Documents are stored as jsonpickle text (what botbuilder's own blob and Cosmos storages use),
so dialog state round-trips. Each stored item carries an eTag; a write that names an eTag
other than "*" succeeds only if the stored item still has that eTag, otherwise it raises
`StateConflict` and changes nothing. A write of several keys is one transaction.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import jsonpickle
import orjson
from botbuilder.core import Storage
from sqlalchemy import and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.errors import StateConflict
from bot.schema import state_items

# Statements are built once; per-call construction dominates the cost of a local SQLite query.
_c = state_items.c
_READ = select(_c.key, _c.etag, _c.document).where(_c.key.in_(bindparam("keys", expanding=True)))
_UPDATE_IF = (
    update(state_items)
    .where(and_(_c.key == bindparam("k"), _c.etag == bindparam("expected")))
    .values(etag=bindparam("etag"), document=bindparam("document"), updated_at=bindparam("now"))
)
_UPDATE = (
    update(state_items)
    .where(_c.key == bindparam("k"))
    .values(etag=bindparam("etag"), document=bindparam("document"), updated_at=bindparam("now"))
)
_EXISTS = select(_c.key).where(_c.key == bindparam("k"))
_INSERT = insert(state_items)
_DELETE = delete(state_items).where(_c.key.in_(bindparam("keys", expanding=True)))


def _etag_of(item: Any) -> str | None:
    if isinstance(item, dict):
        return item.get("e_tag")
    return getattr(item, "e_tag", None)


def _set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = etag
    elif hasattr(item, "e_tag"):
        item.e_tag = etag


_ABSENT = ("", "")  # cached knowledge that a key has no stored item


class SqlStorage(Storage):
    """Bot state in any database SQLAlchemy speaks; tested on SQLite and PostgreSQL.

    With `cache=True` (SQLite, where one process owns the file and its conversations) items are
    also kept in memory as their stored text and eTag, so reading a warm conversation costs no
    query. Writes still go to the database with their eTag check, and a conflict drops the cached
    item, so the cache can make a read stale only for keys another process writes -- and the
    console and the service never share conversation or user keys.
    """

    def __init__(self, db: Database, cache: bool = False, cache_size: int = 10_000):
        super().__init__()
        self._db = db
        self._cache: OrderedDict[str, tuple[str, str]] | None = OrderedDict() if cache else None
        self._cache_size = cache_size

    def _remember(self, key: str, etag: str, document: str) -> None:
        if self._cache is None:
            return
        self._cache[key] = (etag, document)
        self._cache.move_to_end(key)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _forget(self, key: str) -> None:
        if self._cache is not None:
            self._cache.pop(key, None)

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            return {}
        stored: dict[str, tuple[str, str]] = {}
        missing = list(keys)
        if self._cache is not None:
            missing = [k for k in keys if k not in self._cache]
            stored = {k: self._cache[k] for k in keys if k in self._cache}
        if missing:
            async with self._db.begin() as conn:
                rows = (await conn.execute(_READ, {"keys": missing})).all()
            for key, etag, document in rows:
                stored[key] = (etag, document)
            for key in missing:
                self._remember(key, *stored.get(key, _ABSENT))
        found = {}
        for key, (etag, document) in stored.items():
            if etag:
                item = _decode(document)
                _set_etag(item, etag)
                found[key] = item
        return found

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("changes are required when writing")
        if not changes:
            return
        written: dict[str, tuple[str, str]] = {}
        try:
            async with self._db.begin() as conn:
                for key, item in changes.items():
                    written[key] = await self._write_one(conn, key, item)
        except Exception:
            for key in changes:
                self._forget(key)
            raise
        for key, item in changes.items():
            _set_etag(item, written[key][0])
            self._remember(key, *written[key])

    async def _write_one(self, conn: Any, key: str, item: Any) -> tuple[str, str]:
        """Write one item; return its new eTag and stored text."""
        expected = _etag_of(item)
        if expected == "":
            raise ValueError("storage write: empty eTag")
        etag = uuid.uuid4().hex
        document = jsonpickle.encode(_without_etag(item))
        now = datetime.now(UTC)
        values = {"k": key, "etag": etag, "document": document, "now": now}
        if expected and expected != "*":
            result = await conn.execute(_UPDATE_IF, {**values, "expected": expected})
            if result.rowcount == 1:
                return etag, document
            if (await conn.execute(_EXISTS, {"k": key})).first():
                raise StateConflict(f"state for {key!r} was changed by another turn (eTag conflict)")
        else:
            result = await conn.execute(_UPDATE, values)
            if result.rowcount == 1:
                return etag, document
        try:
            async with conn.begin_nested():
                await conn.execute(
                    _INSERT, {"key": key, "etag": etag, "document": document, "updated_at": now}
                )
        except IntegrityError:
            raise StateConflict(f"state for {key!r} was created by another turn (eTag conflict)") from None
        return etag, document

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        async with self._db.begin() as conn:
            await conn.execute(_DELETE, {"keys": list(keys)})
        for key in keys:
            self._forget(key)


def _decode(document: str) -> Any:
    """jsonpickle text back to objects; plain JSON (no `py/` tags) takes the fast parser."""
    if '"py/' in document:
        return jsonpickle.decode(document)
    return orjson.loads(document)


def _without_etag(item: Any) -> Any:
    if isinstance(item, dict) and "e_tag" in item:
        return {k: v for k, v in item.items() if k != "e_tag"}
    return item
