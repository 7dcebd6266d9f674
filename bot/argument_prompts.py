"""The argument prompts as the pipeline uses them, loaded at the first prompt.

botbuilder-dialogs and its text recognizers cost about a third of a second and 18 MiB at start, and
most turns never prompt: `bot.prompting` (which imports them) loads when someone is first asked for
a missing argument, not when k8or starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.commands.grammar import tokenize
from bot.errors import UsageError

if TYPE_CHECKING:
    from botbuilder.core import TurnContext
    from botbuilder.dialogs import DialogContext, DialogSet, DialogTurnResult

    from bot.commands.grammar import Param
    from bot.commands.registry import CommandRegistry, CommandSpec
    from bot.services import Services
    from bot.state import TurnState


# What a message sent while k8or waits for an answer may be instead of an answer.
CANCEL, HELP, COMMAND = "cancel", "help", "command"
CANCEL_WORDS = frozenset({"cancel", "stop", "quit"})


def is_cancel(line: str) -> bool:
    return line.strip().lower().rstrip(".!") in CANCEL_WORDS


def interruption(line: str, registry: CommandRegistry) -> tuple[str | None, CommandSpec | None]:
    """(CANCEL | HELP | COMMAND | None, the command named): `cancel`, `help …`, or another command's
    name, which the pipeline handles instead of taking it as the answer."""
    if is_cancel(line):
        return CANCEL, None
    try:
        spec, _ = registry.resolve(tokenize(line))
    except UsageError:
        return None, None  # not a command line: an answer
    return (HELP if spec.name == "help" else COMMAND), spec


class ArgumentPrompts:
    """One conversation-state dialog set holding the argument dialog, built on first use."""

    def __init__(self, state: TurnState, services: Services) -> None:
        self._state = state
        self._services = services
        self._dialogs: DialogSet | None = None

    def _set(self) -> DialogSet:
        if self._dialogs is None:
            from botbuilder.dialogs import DialogSet

            from bot.prompting import ArgumentDialog

            self._dialogs = DialogSet(self._state.dialog_state)
            self._dialogs.add(ArgumentDialog(self._services.registry, self._services))
        return self._dialogs

    async def begin(
        self, context: TurnContext, command: str, line: str, values: dict[str, Any], missing: list[Param]
    ) -> None:
        """Start asking for the `missing` arguments of `command`."""
        from bot.prompting import request

        dc = await self._set().create_context(context)
        await dc.begin_dialog("k8or-arguments", request(command, line, values, missing))

    async def current(self, context: TurnContext) -> DialogContext:
        """The dialog context of this turn, to continue or cancel the prompt under way."""
        return await self._set().create_context(context)

    @staticmethod
    def question(dc: DialogContext) -> str:
        """The question now waiting for an answer ("Which image (repo[:tag])"), or "" if unknown."""
        from bot.prompting import waiting_question

        return waiting_question(dc)

    @staticmethod
    def finished(result: DialogTurnResult) -> bool:
        from botbuilder.dialogs import DialogTurnStatus

        return bool(result.status == DialogTurnStatus.Complete)

    def values(self, result: DialogTurnResult) -> dict[str, Any]:
        """The answered arguments, converted (raises UsageError as `complete_values` does)."""
        from bot.prompting import complete_values

        return complete_values(self._services.registry, result.result)
