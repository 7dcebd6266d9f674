"""The grammar every command declares: positionals, --options, quoting, types and choices.

One declaration gives parsing, `help <command>`, prompts for missing arguments and fuzzable
behaviour, the way errbot's `@arg_botcmd` puts argparse under a chat command. The parser is our
own rather than argparse, because argparse exits the process on errors and cannot report
*which* required arguments are missing so a dialog can ask for them.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.errors import UsageError

Converter = Callable[[str], Any]

_OPTION_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
# Longer values are refused by their length and never repeated back: a reply quoting a 100 KB
# argument would be over every channel's message limit.
LONGEST_VALUE = 1024
LONGEST_COMMAND = 64
_SHOWN = 60  # characters of a refused word a reply repeats


@dataclass(frozen=True)
class Param:
    """One argument of a command: a positional (`name`) or an option (`--name`)."""

    name: str
    help: str = ""
    option: bool = False
    required: bool = True
    default: Any = None
    type: Converter = str
    choices: tuple[str, ...] = ()
    repeat: bool = False
    flag: bool = False
    metavar: str = ""
    max_length: int = LONGEST_VALUE
    # The options known at run time (signed-in services, kubeconfig contexts): offered as choices
    # when k8or asks for a missing argument. Given the app's Services; never raises.
    suggest: Callable[[Any], Sequence[str]] | None = None

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def display(self) -> str:
        meta = self.metavar or self.name.upper().replace("-", "_")
        if self.flag:
            text = f"--{self.name}"
        elif self.option:
            text = f"--{self.name} {meta}"
        else:
            text = f"<{self.name}>"
        if self.repeat:
            text += " ..."
        return text if self.required else f"[{text}]"

    def convert(self, raw: str) -> Any:
        """Check length, choices and type; raise UsageError naming the argument."""
        if len(raw) > self.max_length:
            raise UsageError(
                f"{self.display.strip('[]')} is at most {self.max_length} characters; yours has {len(raw)}."
            )
        if self.choices and raw not in self.choices:
            hint = _did_you_mean(raw, self.choices)
            raise UsageError(f"{self.display.strip('[]')} must be one of: {', '.join(self.choices)}.{hint}")
        try:
            return self.type(raw)
        except (TypeError, ValueError) as exc:
            detail = str(exc) or f"not a valid {getattr(self.type, '__name__', 'value')}"
            raise UsageError(f"{self.display.strip('[]')}: {detail}") from None


def arg(name: str, help: str = "", **kwargs: Any) -> Param:
    """A positional argument."""
    return Param(name=name, help=help, **kwargs)


def opt(name: str, help: str = "", **kwargs: Any) -> Param:
    """An --option. Options are optional unless `required=True`."""
    kwargs.setdefault("required", False)
    if kwargs.get("flag"):
        kwargs.setdefault("default", False)
    if kwargs.get("repeat"):
        kwargs.setdefault("default", ())
    return Param(name=name, help=help, option=True, **kwargs)


def check_params(params: Sequence[Param]) -> None:
    """Reject declarations the parser could not honour; called at registration."""
    seen: set[str] = set()
    optional_positional = False
    for p in params:
        if not _OPTION_NAME.match(p.name):
            raise ValueError(f"argument name {p.name!r} must be lower-case letters, digits and dashes")
        if p.dest in seen:
            raise ValueError(f"argument {p.name!r} declared twice")
        seen.add(p.dest)
        if not p.option:
            if p.required and optional_positional:
                raise ValueError(f"required positional {p.name!r} follows an optional one")
            optional_positional = optional_positional or not p.required
            if p.repeat and p is not params_positional(params)[-1]:
                raise ValueError(f"only the last positional may repeat ({p.name!r})")


def params_positional(params: Sequence[Param]) -> list[Param]:
    return [p for p in params if not p.option]


@dataclass
class Parsed:
    """The outcome of parsing: values by dest, and the required arguments still missing."""

    values: dict[str, Any] = field(default_factory=dict)
    missing: list[Param] = field(default_factory=list)


def tokenize(text: str) -> list[str]:
    """Split like a POSIX shell, so quoting works; a stray quote is a usage error."""
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:
        raise UsageError(f"Could not read the command: {exc} (check your quotes).") from None


def check_command_word(tokens: Sequence[str]) -> None:
    """Refuse a first word no command name could be, by its length (before it is quoted back)."""
    if tokens and len(tokens[0]) > LONGEST_COMMAND:
        raise UsageError(
            f"A command name is at most {LONGEST_COMMAND} characters; yours has {len(tokens[0])}."
        )


def shown(word: str) -> str:
    """A word as a reply may repeat it: cut short when long."""
    return word if len(word) <= _SHOWN else word[: _SHOWN - 1] + "…"


def parse(params: Sequence[Param], tokens: Sequence[str], command: str = "") -> Parsed:
    """Parse tokens against the declared params; unknown options get a 'did you mean'."""
    try:
        return _parse(params, tokens, command)
    except UsageError as exc:
        exc.command = exc.command or command
        raise


def _parse(params: Sequence[Param], tokens: Sequence[str], command: str) -> Parsed:
    options = {p.name: p for p in params if p.option}
    out = Parsed()
    loose: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--":
            loose.extend(tokens[i + 1 :])
            break
        if token.startswith("--") and len(token) > 2:
            i = _take_option(options, tokens, i, out, command)
        else:
            loose.append(token)
        i += 1
    _bind_positionals(params_positional(params), loose, out, command)
    for p in options.values():
        if p.dest not in out.values:
            if p.required:
                out.missing.append(p)
            else:
                out.values[p.dest] = list(p.default) if p.repeat else p.default
    return out


def _take_option(options: dict[str, Param], tokens: Sequence[str], i: int, out: Parsed, command: str) -> int:
    """Record the option at tokens[i] (and its value); the index of the last token it used."""
    name, eq, inline = tokens[i][2:].partition("=")
    p = options.get(name)
    if p is None:
        hint = _did_you_mean(name, list(options), prefix="--")
        raise UsageError(f"Unknown option --{shown(name)} for `{command}`.{hint}", command)
    if p.flag:
        if eq:
            raise UsageError(f"--{name} takes no value.", command)
        out.values[p.dest] = True
        return i
    if not eq:
        i += 1
        if i >= len(tokens):
            raise UsageError(f"--{name} needs a value.", command)
        inline = tokens[i]
    value = p.convert(inline)
    if p.repeat:
        out.values.setdefault(p.dest, []).append(value)
    elif p.dest in out.values:
        raise UsageError(f"--{name} given twice.", command)
    else:
        out.values[p.dest] = value
    return i


def _bind_positionals(positionals: list[Param], loose: list[str], out: Parsed, command: str) -> None:
    for index, p in enumerate(positionals):
        if p.repeat:
            out.values[p.dest] = [p.convert(t) for t in loose[index:]]
            if not out.values[p.dest] and p.required:
                out.missing.append(p)
            return
        if index < len(loose):
            out.values[p.dest] = p.convert(loose[index])
        elif p.required:
            out.missing.append(p)
        else:
            out.values[p.dest] = p.default
    extra = loose[len(positionals) :]
    if extra:
        unexpected = shown(" ".join(extra))
        raise UsageError(f"`{command}` takes no more arguments; unexpected: {unexpected}", command)


def _did_you_mean(word: str, candidates: Sequence[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(word, list(candidates), n=2, cutoff=0.6)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"`{prefix}{c}`" for c in close) + "?"


def suggest(word: str, candidates: Sequence[str]) -> list[str]:
    """Close matches for a mistyped command name."""
    return difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.6)


# Converters shared by commands ---------------------------------------------------------------


def whole_number(minimum: int) -> Converter:
    """A converter for whole numbers of at least `minimum`, with messages that say which rule failed."""

    def convert(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{shown(raw)!r} is not a whole number.") from None
        if value < minimum:
            raise ValueError(f"{raw!r} must be {minimum} or more.")
        return value

    convert.__name__ = f"whole number >= {minimum}"
    return convert


positive_int = whole_number(1)
non_negative_int = whole_number(0)


class Arguments:
    """A command's parsed arguments, by attribute (`args.replicas`) and by key (`args["replicas"]`).

    Values are whatever the command's grammar declared (`int`, `list[str]`, ...), so an attribute
    is typed `Any`: the declaration in `params=` is the one place that says what it holds."""

    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # only reached for names the grammar did not declare
        raise AttributeError(f"no argument {name!r}")

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get(key, default)
