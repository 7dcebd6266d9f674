"""Every setting of a root section as a Markdown table: variable, default, meaning."""

from __future__ import annotations

import dataclasses
from typing import Any

from typed_env.secret import SecretStr
from typed_env.section import Section, is_section


def markdown_table(root: type[Section]) -> str:
    """One row per variable, a nested section's fields flattened under its name."""
    rows = ["| Setting | Default | Meaning |", "|---|---|---|"]
    for name, kind, spec, field in root.setting_fields():
        if is_section(kind):
            for sub, _, sub_spec, sub_field in kind.setting_fields():
                rows.append(_row(root.variable((name, sub)), _default(sub_field), sub_spec.description))
            continue
        rows.append(_row(root.variable((name,)), _default(field), spec.description))
    return "\n".join(rows)


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _row(name: str, default: Any, description: str) -> str:
    if isinstance(default, SecretStr):
        default = "(set)" if default.get_secret_value() else ""
    shown = f"`{default}`" if default not in ("", None) else "(empty)"
    return f"| `{name}` | {shown} | {description} |"
