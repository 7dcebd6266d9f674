"""`setting(...)`: a dataclass field that says what it means, where it is read from and what it allows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_KEY = "typed_env.setting"


@dataclass(frozen=True)
class Setting:
    """A field's metadata: its description, the variables it is read from, its bounds and its check."""

    description: str
    # Variables read instead of PREFIX + NAME, first found wins (e.g. the Bot Framework's own names).
    env: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    # Runs on the converted value: returns it normalised, or raises ValueError saying the fix.
    check: Callable[[Any], Any] | None = None

    @property
    def bounded(self) -> bool:
        return self.ge is not None or self.gt is not None or self.le is not None

    def within(self, value: float) -> bool:
        # NaN compares false with everything, so it fails every bound.
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
        )


def setting(
    default: Any = dataclasses.MISSING,
    *,
    description: str,
    factory: Callable[[], Any] | None = None,
    env: tuple[str, ...] = (),
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    check: Callable[[Any], Any] | None = None,
) -> Any:
    """A field of a `Section` dataclass; `factory` builds a fresh default (a nested section)."""
    metadata = {_KEY: Setting(description, env, ge, gt, le, check)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def setting_of(field: dataclasses.Field[Any]) -> Setting:
    """The field's `Setting`; a plain dataclass field counts as an undocumented, unbounded one."""
    found = field.metadata.get(_KEY)
    return found if isinstance(found, Setting) else Setting("")
