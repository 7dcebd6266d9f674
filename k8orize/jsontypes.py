"""JSON values, typed: what the engine reads from tools and writes into its YAML and JSON outputs.

Read-only containers (`Sequence`, `Mapping`) make the alias covariant, so a `list[dict[str, str]]`
is a JSON value without a copy; `JSONObject` is the mutable dict a function builds and returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias, Union

JSON: TypeAlias = Union[str, int, float, bool, None, Sequence["JSON"], Mapping[str, "JSON"]]  # noqa: UP007
JSONObject: TypeAlias = dict[str, JSON]
