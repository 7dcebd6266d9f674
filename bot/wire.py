"""Bot Framework wire format: msrest models to and from JSON dicts, without msrest's overhead.

msrest's generic (de)serializer validates and transforms every attribute through several layers
and costs about a millisecond per activity. These functions walk the same `_attribute_map`
declarations the SDK's models carry, so the JSON is the same, at a fraction of the cost.
Unknown keys are kept in `additional_properties`, as msrest keeps them (mention entities need
them).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import botbuilder.schema as schema
from msrest.serialization import Model

_MODELS: dict[str, type[Model]] = {
    name: obj for name, obj in vars(schema).items() if isinstance(obj, type) and issubclass(obj, Model)
}


class WireError(ValueError):
    """The JSON does not have the shape of the model."""


# Per class, computed once (msrest's Model redefines __hash__ for instances, which makes mypy doubt
# the class itself is hashable, so these are plain dicts rather than functools.cache).
_FIELDS: dict[Any, tuple[tuple[str, str, str], ...]] = {}
_KEYS: dict[Any, dict[str, tuple[str, str]]] = {}


def _fields(cls: type[Model]) -> tuple[tuple[str, str, str], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        attributes = cls._attribute_map.items()
        found = _FIELDS[cls] = tuple(
            (attr, meta["key"], meta["type"]) for attr, meta in attributes if meta["key"]
        )
    return found


def _keys(cls: type[Model]) -> dict[str, tuple[str, str]]:
    found = _KEYS.get(cls)
    if found is None:
        found = _KEYS[cls] = {key: (attr, kind) for attr, key, kind in _fields(cls)}
    return found


def from_wire(cls: type[Model], data: Any) -> Model:
    """Build `cls` from a JSON object; raise WireError when the shape is wrong."""
    if not isinstance(data, dict):
        raise WireError(f"{cls.__name__} must be a JSON object")
    keys = _keys(cls)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, raw in data.items():
        found = keys.get(key)
        if found is None:
            extra[key] = raw
        elif raw is not None:
            values[found[0]] = _decode(found[1], raw)
    model = cls(**values)
    if extra:
        model.additional_properties = extra
    return model


def _decode(kind: str, raw: Any) -> Any:
    if kind in ("str", "object"):
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise WireError(f"expected true/false, got {raw!r}")
        return raw
    if kind in ("int", "long", "float"):
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            raise WireError(f"expected a number, got {raw!r}")
        return raw
    if kind == "iso-8601":
        try:
            return datetime.fromisoformat(raw)
        except (TypeError, ValueError):
            raise WireError(f"not an ISO 8601 timestamp: {raw!r}") from None
    if kind.startswith("["):
        if not isinstance(raw, list):
            raise WireError(f"expected a list, got {type(raw).__name__}")
        inner = kind[1:-1]
        return [_decode(inner, item) for item in raw]
    if kind.startswith("{"):
        if not isinstance(raw, dict):
            raise WireError(f"expected an object, got {type(raw).__name__}")
        inner = kind[1:-1]
        return {k: _decode(inner, v) for k, v in raw.items()}
    model = _MODELS.get(kind)
    if model is None:
        return raw
    return from_wire(model, raw)


def to_wire(model: Any) -> Any:
    """The JSON form of a model (or of plain values nested in one)."""
    if isinstance(model, Model):
        out: dict[str, Any] = {}
        for attr, key, _kind in _fields(type(model)):
            value = getattr(model, attr, None)
            if value is not None:
                out[key] = to_wire(value)
        extra = getattr(model, "additional_properties", None)
        if extra:
            for key, value in extra.items():
                out.setdefault(key, to_wire(value))
        return out
    if isinstance(model, Enum):
        return model.value
    if isinstance(model, datetime):
        return model.isoformat()
    if isinstance(model, list | tuple):
        return [to_wire(v) for v in model]
    if isinstance(model, dict):
        return {k: to_wire(v) for k, v in model.items()}
    return model
