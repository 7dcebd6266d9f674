"""Conversation and user state, read in one query and saved in one transaction per turn."""

from __future__ import annotations

from typing import Any

import orjson
from botbuilder.core import BotState, ConversationState, Storage, TurnContext, UserState
from botbuilder.core.bot_state import CachedBotState

CONVERSATION_DATA = "k8or"


class _CachedState(CachedBotState):
    """botbuilder's change detection hashes state with jsonpickle on every load and save; plain
    JSON is an order of magnitude cheaper and exact for the dicts k8or keeps. State holding other
    objects (dialog stacks) still goes through jsonpickle.

    It also hashes what it holds rather than what was read: botbuilder hashes the missing item
    (None) but holds `{}`, so a scope nobody touched looked changed and was written every turn."""

    def __init__(self, state: dict[str, object] | None = None):  # noqa: D107 - no super(): it hashes twice
        self.state = state if state is not None else {}
        self.hash = self.compute_hash(self.state)

    def compute_hash(self, obj: object) -> str:
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:  # orjson.JSONEncodeError: objects (dialog stacks) need jsonpickle
            return super().compute_hash(obj)


class TurnState:
    """Loads both scopes with one `Storage.read` and writes whatever changed with one `write`."""

    def __init__(self, storage: Storage):
        self.storage = storage
        self.conversation = ConversationState(storage)
        self.user = UserState(storage)
        self.dialog_state = self.conversation.create_property("DialogState")
        self._scopes: tuple[BotState, ...] = (self.conversation, self.user)

    async def load(self, turn: TurnContext) -> None:
        keys = [scope.get_storage_key(turn) for scope in self._scopes]
        items = await self.storage.read([k for k in keys if k])
        for scope, key in zip(self._scopes, keys, strict=True):
            turn.turn_state[scope._context_service_key] = _CachedState(items.get(key))  # noqa: SLF001

    async def save(self, turn: TurnContext) -> None:
        changes: dict[str, Any] = {}
        cached_by_key = {}
        for scope in self._scopes:
            cached = scope.get_cached_state(turn)
            if cached is not None and cached.is_changed:
                key = scope.get_storage_key(turn)
                changes[key] = cached.state
                cached_by_key[key] = cached
        if not changes:
            return
        await self.storage.write(changes)
        for cached in cached_by_key.values():
            cached.hash = cached.compute_hash(cached.state)

    def conversation_data(self, turn: TurnContext) -> dict[str, Any]:
        """k8or's own per-conversation data (target cluster, namespace, the destructive actions
        waiting for confirmation: bot.confirm.ApprovalBook)."""
        state = self.conversation.get(turn)
        if state is None:
            raise RuntimeError("conversation state read before load()")
        return state.setdefault(CONVERSATION_DATA, {})

    def has_active_dialog(self, turn: TurnContext) -> bool:
        state = self.conversation.get(turn) or {}
        dialog_state = state.get("DialogState")
        stack = getattr(dialog_state, "dialog_stack", None)
        return bool(stack)
