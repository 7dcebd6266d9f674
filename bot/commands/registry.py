"""Commands: one declaration each, collected into an explicit registry.

A dialogs module makes a `CommandSet` and decorates its handlers with `@commands.command(...)`,
or, for a family whose handlers pull in heavy libraries, `declare`s its commands and names the
module that holds their handlers: that module is imported when one of them first runs (Flask's
lazy views, click's lazy groups), so the bot starts without importing every family's libraries.
The app includes the sets it wants into a fresh `CommandRegistry`, so tests build their own
registry with exactly the commands they need (kopf's `registry=` idea). Everything a command
needs the pipeline to enforce -- grammar, roles, connectors, confirmation -- is declared here.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from bot.commands.grammar import Arguments, Param, check_params, suggest
from bot.errors import RegistrationError, UnknownCommand
from connectors.entry_points import in_group
from policy.roles import ROLES

if TYPE_CHECKING:
    from bot.context import CommandContext

Handler = Callable[["CommandContext", Arguments], Awaitable[Any]]
Phrase = Callable[[str], "str | None"]
# A condition checked before any question or confirmation (a cluster chosen, say): the reason the
# command cannot run now, or None.
Requirement = Callable[["CommandContext"], "str | None"]


class Declared(TypedDict, total=False):
    """What a declaration may say besides its name and summary (the fields of `CommandSpec`)."""

    params: Sequence[Param]
    roles: Iterable[str]
    connectors: Iterable[str]
    destructive: bool
    aliases: Iterable[str]
    examples: Iterable[str]
    details: str
    requires: Iterable[Requirement]


_DECLARABLE = frozenset(Declared.__annotations__)


class HandlerRef:
    """A handler named by its module and function, imported on its first call."""

    __slots__ = ("module", "name", "_function")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self._function: Handler | None = None

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"

    def resolve(self) -> Handler:
        """The function itself, imported once; a missing or synchronous one is a registration error."""
        if self._function is None:
            function = getattr(import_module(self.module), self.name, None)
            if not inspect.iscoroutinefunction(function):
                raise RegistrationError(f"handler {self.qualname} is not an async function")
            self._function = function
        return self._function

    async def __call__(self, ctx: CommandContext, args: Arguments) -> Any:
        if self._function is None:  # the first call imports in a worker thread: other turns go on
            await asyncio.to_thread(self.resolve)
        return await self.resolve()(ctx, args)

    def __repr__(self) -> str:
        return f"HandlerRef({self.module!r}, {self.name!r})"


@dataclass(frozen=True)
class CommandSpec:
    """A command as declared: what it takes, who may run it, what it needs."""

    name: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    roles: frozenset[str] = frozenset()
    connectors: tuple[str, ...] = ()
    destructive: bool = False
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    details: str = ""
    requires: tuple[Requirement, ...] = ()

    @property
    def usage(self) -> str:
        return " ".join([self.name, *(p.display for p in self.params)])


@dataclass
class CommandSet:
    """The commands one dialogs module declares; `handlers` names the module holding the handlers
    of the commands it `declare`s."""

    handlers: str | None = None
    specs: list[CommandSpec] = field(default_factory=list)
    # Plain-language readings: a message that is no command line may mean one ("is PROJ-123 live?"
    # means `release PROJ-123`); each returns that command line, or None.
    phrases: list[Phrase] = field(default_factory=list)

    def phrase(self, reading: Phrase) -> Phrase:
        """Declare a plain-language reading of messages that name no command."""
        self.phrases.append(reading)
        return reading

    def command(self, name: str, summary: str, **declared: Unpack[Declared]) -> Callable[[Handler], Handler]:
        """Declare a command. Checked now, so a bad declaration fails at import, not in a chat."""

        def decorate(handler: Handler) -> Handler:
            self._add(name, summary, handler, declared)
            return handler

        return decorate

    def declare(
        self, name: str, summary: str, *, handler: str | None = None, **declared: Unpack[Declared]
    ) -> None:
        """Declare a command whose handler is the async function `handler` (by default the name with
        `_` for spaces) of the `handlers` module, imported when the command first runs."""
        if self.handlers is None:
            raise RegistrationError(f"command {name!r}: declared without a handlers module")
        self._add(name, summary, HandlerRef(self.handlers, handler or name.replace(" ", "_")), declared)

    def _add(self, name: str, summary: str, handler: Handler, declared: Declared) -> None:
        unknown = sorted(set(declared) - _DECLARABLE)
        if unknown:  # a misspelt `destructive` or `roles` must not declare a command without it
            raise RegistrationError(f"command {name!r}: unknown declaration {', '.join(unknown)}")
        spec = CommandSpec(
            name=name,
            summary=summary,
            handler=handler,
            params=tuple(declared.get("params", ())),
            roles=frozenset(declared.get("roles", ())),
            connectors=tuple(declared.get("connectors", ())),
            destructive=declared.get("destructive", False),
            aliases=tuple(declared.get("aliases", ())),
            examples=tuple(declared.get("examples", ())),
            details=declared.get("details", ""),
            requires=tuple(declared.get("requires", ())),
        )
        _check_spec(spec)
        self.specs.append(spec)

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self.specs)


def _check_spec(spec: CommandSpec) -> None:
    # A declared handler is checked when it is imported (`HandlerRef.resolve`, and the registry's
    # `check_handlers` in the tests), not now: importing it now is what declaring avoids.
    if not isinstance(spec.handler, HandlerRef) and not inspect.iscoroutinefunction(spec.handler):
        raise RegistrationError(f"command {spec.name!r}: handler {spec.handler.__qualname__} must be async")
    if not spec.name or not spec.summary:
        raise RegistrationError("a command needs a name and a one-line summary")
    unknown = spec.roles - set(ROLES)
    if unknown:
        raise RegistrationError(f"command {spec.name!r}: unknown roles {sorted(unknown)}; use {ROLES}")
    try:
        check_params(spec.params)
    except ValueError as exc:
        raise RegistrationError(f"command {spec.name!r}: {exc}") from None


class CommandRegistry:
    """All commands one bot answers to, by name and alias. Multi-word names ('auth status') work."""

    def __init__(self) -> None:
        self._by_name: dict[str, CommandSpec] = {}
        self._primary: dict[str, CommandSpec] = {}
        self._phrases: list[Phrase] = []
        self._first_words: set[str] = set()  # what a command line starts with ('auth' of 'auth status')

    def add(self, spec: CommandSpec) -> None:
        for key in (spec.name, *spec.aliases):
            if key in self._by_name:
                raise RegistrationError(f"command name {key!r} is declared twice")
        for key in (spec.name, *spec.aliases):
            self._by_name[key] = spec
            self._first_words.add(key.split()[0])
        self._primary[spec.name] = spec

    def include(self, commands: Iterable[CommandSpec]) -> CommandRegistry:
        for spec in commands:
            self.add(spec)
        if isinstance(commands, CommandSet):
            self._phrases.extend(commands.phrases)
        return self

    def meaning(self, line: str) -> str:
        """The command line a message means: itself when it starts with a command's name, else the
        first plain-language reading that recognises it (`CommandSet.phrase`), else itself."""
        first = line.split(None, 1)[0].lower() if line.strip() else ""
        if first in self._first_words:
            return line
        return next((meant for reading in self._phrases if (meant := reading(line))), line)

    def include_entry_points(self, group: str = "k8or.commands") -> CommandRegistry:
        """Command sets from installed packages, so a plugin adds commands without changing k8or."""
        for ep in in_group(group):
            loaded = ep.load()
            if not isinstance(loaded, CommandSet):
                raise RegistrationError(f"entry point {ep.name!r} in {group} is not a CommandSet")
            self.include(loaded)
        return self

    def check_handlers(self) -> None:
        """Import every declared handler now: a misspelled or synchronous one raises RegistrationError."""
        for spec in self._primary.values():
            if isinstance(spec.handler, HandlerRef):
                spec.handler.resolve()

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(sorted(self._primary.values(), key=lambda s: s.name))

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def get(self, name: str) -> CommandSpec | None:
        return self._by_name.get(name)

    def resolve(self, tokens: Sequence[str]) -> tuple[CommandSpec, list[str]]:
        """Find the longest command name that prefixes the tokens; raise with suggestions if none."""
        for width in (3, 2, 1):
            if len(tokens) >= width:
                spec = self._by_name.get(" ".join(tokens[:width]).lower())
                if spec:
                    return spec, list(tokens[width:])
        word = tokens[0] if tokens else ""
        two = " ".join(tokens[:2]).lower()
        close = suggest(two, list(self._by_name)) or suggest(word.lower(), list(self._by_name))
        raise UnknownCommand(f"I don't know the command `{word}`.", close)
