"""Asking for missing arguments, one at a time, through botbuilder-dialogs.

`deploy` with no image asks "What image?"; an argument with known choices is offered as
choices (buttons where the channel has them, a numbered list elsewhere). Each answer is checked
by the argument's own converter, so a bad answer is re-asked with the reason.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.choices import Choice, ChoiceFactory, ListStyle
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions, PromptValidatorContext, TextPrompt

from bot import messages
from bot.commands.grammar import Param
from bot.commands.registry import CommandRegistry
from bot.errors import UsageError

DIALOG_ID = "k8or-arguments"
_TEXT, _CHOICE, _LOOP = "k8or-text", "k8or-choice", "k8or-loop"


def request(command: str, line: str, values: dict[str, Any], missing: list[Param]) -> dict[str, Any]:
    """The dialog's options: JSON-safe, because they live in conversation state between turns."""
    return {"command": command, "line": line, "values": values, "missing": [p.dest for p in missing]}


class ArgumentDialog(ComponentDialog):
    """Prompts for each missing argument of one command, then ends with the completed values."""

    def __init__(self, registry: CommandRegistry, services: Any = None):
        super().__init__(DIALOG_ID)
        self._registry = registry
        self._services = services
        self.add_dialog(TextPrompt(_TEXT, self._validate))
        choice = ChoicePrompt(_CHOICE, self._validate)
        choice.style = ListStyle.auto
        self.add_dialog(choice)
        self.add_dialog(WaterfallDialog(_LOOP, [self._ask, self._store]))
        self.initial_dialog_id = _LOOP

    def _param(self, command: str, dest: str) -> Param:
        spec = self._registry.get(command)
        if spec is None:
            raise UsageError(f"`{command}` is no longer available")
        return next(p for p in spec.params if p.dest == dest)

    async def _ask(self, step: WaterfallStepContext) -> DialogTurnResult:
        request_ = step.options
        param = self._param(request_["command"], request_["missing"][0])
        what = param.help.rstrip(".?") if param.help else f"Which {param.name}"
        text = messages.PROMPT_FOR.format(what=what)
        options = PromptOptions(
            prompt=MessageFactory.text(text),
            validations={"command": request_["command"], "param": param.dest},
        )
        if param.choices:  # a fixed set: only these answers
            options.choices = [Choice(c) for c in param.choices]
            return await step.prompt(_CHOICE, options)
        known = self._suggestions(param)
        if known:  # offered, not imposed: any valid answer is taken (`eks:NAME` is no context)
            channel = step.context.activity.channel_id or ""
            options.prompt = ChoiceFactory.for_channel(channel, [Choice(k) for k in known], text)
            options.validations["known"] = list(known)
        return await step.prompt(_TEXT, options)

    def _suggestions(self, param: Param) -> tuple[str, ...]:
        if param.suggest is None:
            return ()
        try:
            return tuple(param.suggest(self._services))
        except Exception:  # noqa: BLE001 - no suggestions is better than a failed prompt
            return ()

    async def _store(self, step: WaterfallStepContext) -> DialogTurnResult:
        request_ = dict(step.options)
        dest = request_["missing"][0]
        if hasattr(step.result, "value"):  # a choice
            answer = step.result.value
        else:
            param = self._param(request_["command"], dest)
            answer = _number_to_choice(str(step.result).strip(), self._suggestions(param))
        request_["values"] = {**request_["values"], dest: answer}
        request_["missing"] = request_["missing"][1:]
        if request_["missing"]:
            return await step.replace_dialog(_LOOP, request_)
        return await step.end_dialog(request_)

    async def _validate(self, prompt: PromptValidatorContext) -> bool:
        if not prompt.recognized.succeeded:
            return False
        value = prompt.recognized.value
        raw = value.value if hasattr(value, "value") else str(value).strip()
        info = prompt.options.validations
        param = self._param(info["command"], info["param"])
        try:
            param.convert(_number_to_choice(raw, info.get("known", ())))
        except UsageError as exc:
            prompt.options.retry_prompt = MessageFactory.text(messages.PROMPT_RETRY.format(error=exc))
            return False
        return True


def _number_to_choice(raw: str, known: list[str] | tuple[str, ...]) -> str:
    """`2` for the second of the offered answers (the numbered list some channels show)."""
    if raw.isdigit() and raw not in known and 1 <= int(raw) <= len(known):
        return known[int(raw) - 1]
    return raw


def waiting_question(dc: DialogContext) -> str:
    """The text of the prompt waiting in `dc` (the innermost dialog's options), "" if none is found."""
    inner = dc.active_dialog.state.get("dialogs") if dc.active_dialog else None
    stack = getattr(inner, "dialog_stack", None) or []
    options = stack[0].state.get("options") if stack else None
    text = str(getattr(getattr(options, "prompt", None), "text", "") or "")
    question, mark, _ = text.partition("?")  # the question without the hint after it
    return question + mark


def complete_values(registry: CommandRegistry, result: dict[str, Any]) -> dict[str, Any]:
    """Convert the answered strings with each argument's converter (they were validated already)."""
    spec = registry.get(result["command"])
    if spec is None:
        raise UsageError(f"`{result['command']}` is no longer available")
    values = dict(result["values"])
    for param in spec.params:
        raw = values.get(param.dest)
        if isinstance(raw, str) and param.type is not str:
            values[param.dest] = param.convert(raw)
        if param.repeat and isinstance(values.get(param.dest), str):
            values[param.dest] = [param.convert(values[param.dest])]
    return values
