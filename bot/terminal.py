"""`k8or chat` at a terminal: line editing, history and completion (prompt_toolkit), Markdown drawn by Rich.

Loaded only by `k8or chat` and `k8or demo` at an interactive terminal; `k8or serve` never imports it.
Messages that arrive while you type (a rollout's progress, a sign-in outcome) are drawn above the
prompt, which is redrawn below them with what you had typed (prompt_toolkit's `patch_stdout`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from botbuilder.schema import Activity
from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.patch_stdout import patch_stdout
from rich.console import Console
from rich.markdown import Markdown

from bot.commands.grammar import Param
from bot.commands.registry import CommandRegistry, CommandSpec
from bot.console import ConsoleAdapter, ConsoleSession, render

HISTORY_FILE = "chat-history"  # under the data directory, 0600 like the rest of it
PROMPT = "you> "
GREETING = "k8or chat — type `help`, Tab to complete, ↑ for history, Ctrl-D to leave."
_APP_LINE = re.compile(r"^\*\*([a-z0-9][a-z0-9.-]*)\*\* —", re.MULTILINE)  # `status`: **web** — 1/1 …
_NAMESPACE = re.compile(r"namespace `([a-z0-9][a-z0-9-]*)`")
_SINGLE_NEWLINE = re.compile(r"(?<!\n)\n(?!\n)")


class KnownValues:
    """Values the bot named in its replies, offered as completions: apps (`status`) and namespaces."""

    def __init__(self) -> None:
        self.apps: dict[str, None] = {}
        self.namespaces: dict[str, None] = {}

    def learn(self, text: str) -> None:
        self.apps.update(dict.fromkeys(_APP_LINE.findall(text)))
        self.namespaces.update(dict.fromkeys(_NAMESPACE.findall(text)))

    def for_param(self, param: Param) -> list[str]:
        if param.name == "app":
            return list(self.apps)
        if param.name == "namespace":
            return list(self.namespaces)
        return []


class ChatCompleter(Completer):
    """Command names (`cluster use` as one), then each positional's choices: its fixed choices, what
    the app knows (contexts, services) and what the bot named lately (apps, namespaces)."""

    def __init__(self, registry: CommandRegistry, services: Any, known: KnownValues) -> None:
        self.registry = registry
        self.services = services
        self.known = known

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        typed = document.text_before_cursor.lstrip()
        spec = self._command(typed)
        if spec is None:
            for name in sorted({*self._names()}):
                if name.startswith(typed) and name != typed:
                    yield Completion(name + " ", -len(typed), display=name, display_meta="command")
            return
        rest = typed[len(spec.name) :]
        words = rest.split()
        partial = "" if rest.endswith(" ") or not words else words[-1]
        done = [w for w in (words if not partial else words[:-1]) if not w.startswith("-")]
        positionals = [p for p in spec.params if not p.option]
        if partial.startswith("-"):
            yield from _matching((f"--{p.name}" for p in spec.params if p.option), partial, "option")
        elif len(done) < len(positionals):
            yield from _matching(self._values(positionals[len(done)]), partial, positionals[len(done)].name)

    def _names(self) -> Iterable[str]:
        for spec in self.registry:
            yield spec.name
            yield from spec.aliases

    def _command(self, typed: str) -> CommandSpec | None:
        """The longest command name `typed` starts with, followed by a space."""
        found = [s for s in self.registry if typed.startswith(s.name + " ")]
        return max(found, key=lambda s: len(s.name), default=None)

    def _values(self, param: Param) -> list[str]:
        values = list(param.choices)
        if param.suggest is not None:
            try:
                values += list(param.suggest(self.services))
            except Exception:  # noqa: BLE001 - a completion must never break the prompt
                pass
        return list(dict.fromkeys([*values, *self.known.for_param(param)]))


def _matching(candidates: Iterable[str], partial: str, meta: str) -> Iterator[Completion]:
    for value in candidates:
        if value.startswith(partial):
            yield Completion(value, start_position=-len(partial), display_meta=meta)


def markdown_for_terminal(text: str) -> str:
    """The bot's Markdown with each single line break kept (chat clients keep them; Markdown joins them)."""
    return _SINGLE_NEWLINE.sub("  \n", text)


class TerminalAdapter(ConsoleAdapter):
    """Draws each message with Rich (bold, code, lists, tables) and learns the values it names."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__()
        self.console = console or Console(highlight=False, soft_wrap=False)
        self.known = KnownValues()

    def show(self, activity: Activity, edited: bool) -> None:
        text = render(activity).removeprefix("k8or> ")
        self.known.learn(text)
        marker = "[dim]↻ k8or[/dim]" if edited else "[bold cyan]k8or[/bold cyan]"
        self.console.print(marker)
        self.console.print(Markdown(markdown_for_terminal(text)))


class TerminalChat:
    """The interactive loop: a prompt with history and completion, each line one turn."""

    def __init__(self, session: ConsoleSession, data_dir: Path, **prompt_io: Any) -> None:
        self.session = session
        adapter = session.adapter
        known = adapter.known if isinstance(adapter, TerminalAdapter) else KnownValues()
        services = session.bot.services
        history = data_dir / HISTORY_FILE
        history.touch(mode=0o600, exist_ok=True)
        self.prompt: PromptSession[str] = PromptSession(
            history=FileHistory(str(history)),
            completer=ChatCompleter(services.registry, services, known),
            complete_while_typing=False,
            **prompt_io,
        )

    async def run(self) -> None:
        """Read lines until Ctrl-D; Ctrl-C clears the line being typed."""
        with patch_stdout(raw=True):
            print(GREETING, file=sys.stdout, flush=True)
            while True:
                try:
                    line = await self.prompt.prompt_async(PROMPT)
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                if line.strip():
                    await self.session.say(line)
        await self.session.bot.services.tracker.idle()
