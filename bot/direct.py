"""Messages to one person, outside the turn they came from.

The bot must sometimes reach a person on their own: a sign-in that finished in the browser, a
login link asked for in a group chat. Every turn in a one-to-one conversation records how to
reach that person (a Bot Framework `ConversationReference`); `deliver` later continues that
conversation through the adapter of its channel.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from bot.context import message
from bot.db import Database
from bot.identity import Person
from bot.schema import direct_conversations
from bot.wire import from_wire, to_wire

log = logging.getLogger(__name__)
_c = direct_conversations.c
_READ = select(_c.reference).where(_c.person_key == bindparam("k"))
_UPDATE = (
    update(direct_conversations)
    .where(_c.person_key == bindparam("k"))
    .values(reference=bindparam("ref"), updated_at=bindparam("now"))
)
_INSERT = direct_conversations.insert()


class DirectMessages:
    """Remembers each person's one-to-one conversation and delivers messages into it."""

    def __init__(self, db: Database, app_id: str = ""):
        self._db = db
        self._app_id = app_id
        self._known: dict[str, str] = {}
        self._seen: dict[str, tuple[str | None, ...]] = {}
        self.adapters: dict[str, BotAdapter] = {}
        self.default_adapter: BotAdapter | None = None

    async def remember(self, turn: TurnContext, person: Person) -> None:
        """Record how to reach `person` privately, when this turn is a one-to-one conversation."""
        activity = turn.activity
        conversation = activity.conversation
        if conversation is None or conversation.is_group:
            return
        recipient = activity.recipient.id if activity.recipient else None
        fingerprint = (activity.channel_id, activity.service_url, conversation.id, recipient)
        if self._seen.get(person.key) == fingerprint:
            return  # the same conversation as last time: nothing to record, no work on the hot path
        reference_object = TurnContext.get_conversation_reference(turn.activity)
        reference_object.activity_id = None  # later messages start their own thread, not a reply
        reference = json.dumps(to_wire(reference_object), sort_keys=True)
        if self._known.get(person.key) == reference:
            self._seen[person.key] = fingerprint
            return
        now = datetime.now(UTC)
        async with self._db.begin() as conn:
            result = await conn.execute(_UPDATE, {"k": person.key, "ref": reference, "now": now})
            if result.rowcount == 0:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            _INSERT, {"person_key": person.key, "reference": reference, "updated_at": now}
                        )
                except IntegrityError:
                    await conn.execute(_UPDATE, {"k": person.key, "ref": reference, "now": now})
        self._known[person.key] = reference
        self._seen[person.key] = fingerprint

    async def reference_for(self, person_key: str) -> ConversationReference | None:
        raw = self._known.get(person_key)
        if raw is None:
            async with self._db.begin() as conn:
                raw = (await conn.execute(_READ, {"k": person_key})).scalar()
            if raw is None:
                return None
            self._known[person_key] = raw
        return from_wire(ConversationReference, json.loads(raw))

    async def deliver(self, person_key: str, text: str) -> bool:
        """Send `text` to the person's one-to-one conversation; False if k8or has none for them."""
        reference = await self.reference_for(person_key)
        if reference is None:
            return False
        adapter = self.adapters.get(reference.channel_id or "", self.default_adapter)
        if adapter is None:
            return False

        async def send(turn: TurnContext) -> None:
            await turn.send_activity(message(text))

        try:
            await adapter.continue_conversation(reference, send, self._app_id or None)
        except Exception:  # noqa: BLE001 - a channel that is down must not break the caller
            log.warning(
                "could not deliver a direct message", exc_info=True, extra={"channel": reference.channel_id}
            )
            return False
        return True
