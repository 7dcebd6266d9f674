"""Confirmation of destructive commands: asked once, valid 5 minutes, only for the right person.

The pending action lives in conversation state, so any replica can resolve it. By default only
the requester may confirm; where the two-person rule applies to the namespace, the approver
must be someone else who may run the command. The action then runs as the requester.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity

from bot import messages
from bot.identity import Person

CONFIRM_TTL_SECONDS = 300
YES = {"yes", "y", "confirm", "approve"}
NO = {"no", "n", "cancel", "abort"}


@dataclass
class PendingAction:
    id: str
    line: str
    command: str
    values: dict[str, Any]
    requester: dict[str, Any]
    namespace: str | None
    two_person: bool
    expires_at: float

    @classmethod
    def create(
        cls,
        line: str,
        command: str,
        values: dict[str, Any],
        requester: Person,
        namespace: str | None,
        two: bool,
    ) -> PendingAction:
        who = asdict(requester)
        who["groups"] = sorted(requester.groups)
        return cls(
            id=uuid.uuid4().hex[:12],
            line=line,
            command=command,
            values=values,
            requester=who,
            namespace=namespace,
            two_person=two,
            expires_at=time.time() + CONFIRM_TTL_SECONDS,
        )

    @classmethod
    def from_state(cls, data: dict[str, Any] | None) -> PendingAction | None:
        return cls(**data) if data else None

    def to_state(self) -> dict[str, Any]:
        # Shallow on purpose: asdict() would turn argument values that are dataclasses into dicts.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def expired(self) -> bool:
        return time.time() > self.expires_at

    @property
    def requester_person(self) -> Person:
        data = dict(self.requester)
        data["groups"] = frozenset(data.get("groups") or ())
        return Person(**data)

    def refusal_for(self, approver: Person) -> str | None:
        """Why `approver` may not confirm this, or None if they may."""
        requester_key = self.requester["key"]
        name = self.requester.get("name") or requester_key
        if self.two_person:
            if approver.key == requester_key:
                return messages.CONFIRM_NEEDS_OTHER.format(
                    namespace=self.namespace, requester=name, line=self.line
                )
            return None
        if approver.key != requester_key:
            return messages.CONFIRM_NOT_YOURS.format(requester=name, line=self.line)
        return None


def confirmation_request(pending: PendingAction, channel: str) -> Activity:
    """Buttons in a card for chat channels; a typed `yes` in the console."""
    minutes = CONFIRM_TTL_SECONDS // 60
    if pending.two_person:
        who = messages.CONFIRM_WHO_OTHER.format(namespace=pending.namespace)
    else:
        who = messages.CONFIRM_WHO_SELF
    text = messages.CONFIRM_ASK.format(line=pending.line, minutes=minutes, who=who)
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
    """('yes'|'no'|None, pending id or None) from a typed answer or a card submit."""
    if isinstance(value, dict) and "k8or_confirm" in value:
        decision = str(value.get("decision", "")).lower()
        return ("yes" if decision == "yes" else "no"), str(value["k8or_confirm"])
    word = text.strip().lower().rstrip("!.")
    if word in YES:
        return "yes", None
    if word in NO:
        return "no", None
    return None, None
