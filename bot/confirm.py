"""Destructive commands wait for a confirmation bound to exactly what was asked.

A pending action records the command, its arguments, the cluster and namespace it was asked for,
the requester and an id, in conversation state so any replica can resolve it. Confirming runs that
action there, never in whatever the conversation points at later. Each person has at most one
action waiting per conversation; several people may each have one.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot import messages
from bot.context import TargetRef
from bot.identity import Person

CONFIRM_TTL_SECONDS = 300
FORGET_AFTER_SECONDS = 3600  # expired actions nobody answered are dropped an hour later
APPROVALS = "approvals"  # key in k8or's conversation data: {id: pending action}
LEGACY_PENDING = "pending"  # the old, unbound single slot: never run, dropped on sight
YES = {"yes", "y", "confirm", "approve"}
NO = {"no", "n", "cancel", "abort"}
_ID = re.compile(r"^[0-9a-f]{8,32}$")


@dataclass
class PendingAction:
    """One destructive action waiting for its confirmation, with the target it was asked for."""

    id: str
    line: str
    command: str
    values: dict[str, Any]
    subject: str
    requester: dict[str, Any]
    cluster: str | None
    namespace: str | None
    two_person: bool
    expires_at: float

    @classmethod
    def create(
        cls,
        line: str,
        command: str,
        values: dict[str, Any],
        subject: str,
        requester: Person,
        where: TargetRef,
        two_person: bool,
    ) -> PendingAction:
        """A new action; `two_person` is decided now, from the recorded namespace, and never again."""
        who = asdict(requester)
        who["groups"] = sorted(requester.groups)
        return cls(
            id=secrets.token_hex(8),
            line=line,
            command=command,
            values=values,
            subject=subject,
            requester=who,
            cluster=where.cluster,
            namespace=where.namespace,
            two_person=two_person,
            expires_at=time.time() + CONFIRM_TTL_SECONDS,
        )

    @classmethod
    def from_state(cls, data: Any) -> PendingAction | None:
        """The stored action, or None when it is not one this version recorded (never run those)."""
        names = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) != names:
            return None
        return cls(**data)

    def to_state(self) -> dict[str, Any]:
        # Shallow on purpose: asdict() would turn argument values that are dataclasses into dicts.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def expired(self) -> bool:
        return time.time() > self.expires_at

    @property
    def where(self) -> TargetRef:
        return TargetRef(self.cluster, self.namespace)

    @property
    def requester_key(self) -> str:
        return str(self.requester.get("key", ""))

    @property
    def requester_name(self) -> str:
        return str(self.requester.get("name") or self.requester_key)

    @property
    def requester_person(self) -> Person:
        """The requester as recorded (fields this version of Person no longer has are left out)."""
        known = {f.name for f in fields(Person)}
        data = {k: v for k, v in self.requester.items() if k in known}
        data["groups"] = frozenset(data.get("groups") or ())
        return Person(**data)

    def describe(self) -> str:
        """What confirming does, from the recorded command, arguments and target:
        "Deleting `web` in `dev` on `fake`"."""
        verb = _gerund(self.command.split()[-1]).capitalize()
        text = messages.ACTION_SUBJECT.format(verb=verb, subject=self.subject or self.line)
        if self.namespace:
            text += messages.ACTION_IN.format(namespace=self.namespace)
        if self.cluster:
            text += messages.ACTION_ON.format(cluster=self.cluster)
        return text


def _gerund(verb: str) -> str:
    if verb.endswith("ie"):
        return verb[:-2] + "ying"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


class ApprovalBook:
    """The actions waiting in one conversation, keyed by id, at most one live one per requester."""

    def __init__(self, conversation: dict[str, Any]):
        conversation.pop(LEGACY_PENDING, None)
        self._items: dict[str, Any] = conversation.setdefault(APPROVALS, {})
        self._forget_old()

    def all(self) -> list[PendingAction]:
        """Every recorded action, oldest first (expired ones too, so a late `yes` hears so)."""
        found = (PendingAction.from_state(v) for v in self._items.values())
        return sorted((p for p in found if p is not None), key=lambda p: p.expires_at)

    def get(self, action_id: str) -> PendingAction | None:
        return PendingAction.from_state(self._items.get(action_id))

    def waiting_for(self, requester_key: str) -> PendingAction | None:
        """The requester's live action in this conversation, if any."""
        return next((p for p in self.all() if p.requester_key == requester_key and not p.expired), None)

    def add(self, pending: PendingAction) -> None:
        for old in self.all():
            if old.requester_key == pending.requester_key:  # only an expired one can be here
                self.remove(old.id)
        self._items[pending.id] = pending.to_state()

    def remove(self, action_id: str) -> None:
        self._items.pop(action_id, None)

    def _forget_old(self) -> None:
        cutoff = time.time() - FORGET_AFTER_SECONDS
        for key, value in list(self._items.items()):
            pending = PendingAction.from_state(value)
            if pending is None or pending.expires_at < cutoff:
                del self._items[key]


def confirmation_request(pending: PendingAction, channel: str) -> Activity:
    """Buttons carrying the action's id in a card for chat channels; a typed `yes` in the console."""
    minutes = CONFIRM_TTL_SECONDS // 60
    if pending.two_person:
        who = messages.CONFIRM_WHO_OTHER.format(namespace=pending.namespace)
    else:
        who = messages.CONFIRM_WHO_SELF
    action = pending.describe()
    text = messages.CONFIRM_ASK.format(
        line=pending.line, action=action[0].lower() + action[1:], minutes=minutes, who=who
    )
    if channel == "console":
        return MessageFactory.text(f"{text}\n{messages.CONFIRM_CONSOLE}")
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [{"type": "TextBlock", "text": text, "wrap": True}],
        "actions": [
            {
                "type": "Action.Submit",
                "title": "Confirm",
                "data": {"k8or_confirm": pending.id, "decision": "yes"},
            },
            {
                "type": "Action.Submit",
                "title": "Cancel",
                "data": {"k8or_confirm": pending.id, "decision": "no"},
            },
        ],
    }
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    activity.text = f"{text} {messages.CONFIRM_CONSOLE}"
    return activity


def decision_from(text: str, value: Any) -> tuple[str | None, str | None]:
    """('yes'|'no'|None, action id or None) from a card submit, a typed `yes`, or `yes <id>`."""
    if isinstance(value, dict) and "k8or_confirm" in value:
        decision = str(value.get("decision", "")).lower()
        return ("yes" if decision == "yes" else "no"), str(value["k8or_confirm"])
    words = text.strip().lower().rstrip("!.").split()
    if not words or len(words) > 2 or (len(words) == 2 and not _ID.match(words[1])):
        return None, None
    action_id = words[1] if len(words) == 2 else None
    if words[0] in YES:
        return "yes", action_id
    if words[0] in NO:
        return "no", action_id
    return None, None
