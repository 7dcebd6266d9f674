"""Turn a value (a string from the environment, or an already typed one) into a field's type."""

from __future__ import annotations

import enum
import json
import types
import typing
from pathlib import Path
from typing import Any

from typed_env import messages
from typed_env.secret import SecretStr

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class Unusable(ValueError):
    """The value cannot be read as the field's type; the message says what to use."""


def optional_of(kind: Any) -> Any | None:
    """X for `X | None`, else None."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(kind)) == 2:
            return args[0]
    return None


def convert(value: object, kind: Any) -> object:
    """`value` as `kind` (str, int, float, bool, Path, SecretStr, an Enum, or `X | None`)."""
    inner = optional_of(kind)
    if inner is not None:
        empty = value is None or (isinstance(value, str) and not value.strip())
        return None if empty else convert(value, inner)
    if isinstance(kind, type) and isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    converter = _CONVERTERS.get(kind)
    if converter is not None:
        return converter(value)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return _member(value, kind)
    raise TypeError(f"no conversion to {kind!r}")


def section_values(value: object, example: str) -> dict[str, Any]:
    """A nested section's values: a mapping, or a JSON object in one variable."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            value = None
    if not isinstance(value, typing.Mapping):
        raise Unusable(messages.JSON_SECTION.format(example=example))
    return {str(k): v for k, v in value.items()}


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise Unusable(messages.TEXT)


def _integer(value: object) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            number = _decimal(value)  # "4000.0" is 4000, as a YAML or JSON writer may have it
            if number is not None and number.is_integer() and "." in value:
                return int(number)
    raise Unusable(messages.number(True, None, None, None))


def _floating(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    number = _decimal(value) if isinstance(value, str) else None
    if number is None:
        raise Unusable(messages.number(False, None, None, None))
    return number


def _decimal(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _boolean(value: object) -> bool:
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise Unusable(messages.BOOLEAN)


def _path(value: object) -> Path:
    if isinstance(value, str):
        return Path(value)
    raise Unusable(messages.PATH)


def _secret(value: object) -> SecretStr:
    return SecretStr(_text(value))


def _member(value: object, kind: type[enum.Enum]) -> enum.Enum:
    for member in kind:
        if isinstance(value, str) and value.strip().lower() == str(member.value).lower():
            return member
    raise Unusable(messages.one_of([str(member.value) for member in kind]))


_CONVERTERS: dict[Any, Any] = {
    str: _text,
    int: _integer,
    float: _floating,
    bool: _boolean,
    Path: _path,
    SecretStr: _secret,
}
