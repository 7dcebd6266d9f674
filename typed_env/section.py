"""`Section`: the base of every settings dataclass; constructing one converts and checks each field."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator
from typing import Any, ClassVar

from typed_env.convert import Unusable, convert, section_values
from typed_env.errors import Problem, SettingsError
from typed_env.fields import Setting, setting_of
from typed_env.messages import number


class Section:
    """Derive a `@dataclass(frozen=True, kw_only=True)` from this; its fields are `setting(...)`s.

    Values may be strings (as read from the environment) or typed values; a nested section may be
    given as a mapping. A bad value raises SettingsError listing every bad field; `check` then runs
    the rules that tie fields together. `env_prefix` makes problems name environment variables.
    """

    env_prefix: ClassVar[str | None] = None

    def __post_init__(self) -> None:
        problems = list(self._convert_fields())
        if not problems:
            try:
                self.check()
            except ValueError as exc:
                problems.append(Problem((), str(exc)))
        if problems:
            raise SettingsError.listing(problems, type(self).variable)

    def check(self) -> None:
        """Rules about the whole section; raise ValueError with a message naming the setting."""

    @classmethod
    def setting_fields(cls) -> Iterator[tuple[str, Any, Setting, dataclasses.Field[Any]]]:
        """(name, type, Setting, field) for each field, in declaration order."""
        hints = _hints(cls)
        for field in dataclasses.fields(cls):  # type: ignore[arg-type]
            yield field.name, hints[field.name], setting_of(field), field

    @classmethod
    def variable(cls, path: tuple[str, ...]) -> str:
        """The environment variable (or, without a prefix, the dotted field path) a problem is about."""
        if cls.env_prefix is None:
            return ".".join(path)
        own = next((s.env for name, _, s, _ in cls.setting_fields() if name == path[0] and s.env), ())
        return own[0] if own else (cls.env_prefix + "_".join(path)).upper()

    def _set(self, name: str, value: object) -> None:
        """Set a field while constructing (the dataclass is frozen once built)."""
        object.__setattr__(self, name, value)

    def _convert_fields(self) -> Iterator[Problem]:
        for name, kind, spec, _ in self.setting_fields():
            try:
                self._set(name, _converted(getattr(self, name), kind, spec, type(self), name))
            except SettingsError as exc:
                yield from (problem.under(name) for problem in exc.problems)
            except ValueError as exc:
                yield Problem((name,), str(exc))


def is_section(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, Section)


def _converted(value: object, kind: Any, spec: Setting, owner: type[Section], name: str) -> object:
    if is_section(kind):
        if isinstance(value, kind):
            return value
        return kind(**_known(kind, section_values(value, f"{owner.variable((name,))}_<FIELD>")))
    try:
        value = convert(value, kind)
    except Unusable as exc:
        if spec.bounded:  # say the whole range at once
            raise Unusable(number(kind is int, spec.ge, spec.gt, spec.le)) from None
        raise exc from None
    if isinstance(value, int | float) and not isinstance(value, bool) and not spec.within(value):
        raise Unusable(number(kind is int, spec.ge, spec.gt, spec.le))
    return spec.check(value) if spec.check is not None else value


def _known(kind: type[Section], values: dict[str, Any]) -> dict[str, Any]:
    """The values a section has fields for (others are ignored, as unknown variables are)."""
    names = {name for name, _, _, _ in kind.setting_fields()}
    return {k: v for k, v in values.items() if k in names}


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]
