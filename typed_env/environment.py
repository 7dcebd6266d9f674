"""Read a root section's raw values from the environment and a `.env` file.

Names are matched case-insensitively. A field reads PREFIX + NAME (`K8OR_PORT`), or the names its
`setting(env=...)` gives, first found winning (`MicrosoftAppId`, then `K8OR_MICROSOFT_APP_ID`). A
nested section reads PREFIX + SECTION + `_` + FIELD (`K8OR_GITHUB_API_URL`), and may also be given
whole as a JSON object in PREFIX + SECTION, which its flat variables override. The environment
overrides the `.env` file; unknown variables are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from typed_env.convert import section_values
from typed_env.section import Section, is_section

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def gather(root: type[Section], environ: Mapping[str, str], env_file: str | Path | None) -> dict[str, Any]:
    """The raw values for `root`'s fields: the `.env` file's, overridden by the environment's."""
    values: dict[str, Any] = {}
    for source in (read_dotenv(env_file) if env_file is not None else {}, environ):
        _merge(values, _values_for(root, {k.lower(): v for k, v in source.items()}))
    return values


def read_dotenv(path: str | Path) -> dict[str, str]:
    """`NAME=value` lines of a `.env` file (quotes, `export` and `# comments` allowed); none if absent."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    found = {}
    for line in text.splitlines():
        match = _LINE.match(line)
        if match and not line.lstrip().startswith("#"):
            found[match.group(1)] = _unquoted(match.group(2))
    return found


def _values_for(root: type[Section], lowered: Mapping[str, str]) -> dict[str, Any]:
    prefix = (root.env_prefix or "").lower()
    values: dict[str, Any] = {}
    for name, kind, spec, _ in root.setting_fields():
        whole = (prefix + name).lower()
        if is_section(kind):
            section = _section(kind, whole, lowered)
            if section:
                values[name] = section
            continue
        found = next((lowered[n.lower()] for n in spec.env or (whole,) if n.lower() in lowered), None)
        if found is not None:
            values[name] = found
    return values


def _section(kind: type[Section], whole: str, lowered: Mapping[str, str]) -> dict[str, Any] | str:
    values: dict[str, Any] = {}
    if whole in lowered:
        try:
            values = section_values(lowered[whole], whole)
        except ValueError:
            return lowered[whole]  # the section reports it when it is built
    for name, _, _, _ in kind.setting_fields():
        flat = f"{whole}_{name}"
        if flat in lowered:
            values[name] = lowered[flat]
    return values


def _merge(into: dict[str, Any], values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key] = {**into[key], **value}
        else:
            into[key] = value


def _unquoted(raw: str) -> str:
    if len(raw) >= 2 and raw[0] in "'\"" and raw[0] in raw[1:]:
        quote = raw[0]
        inner = raw[1 : raw.index(quote, 1)]
        if quote == '"':
            inner = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), inner)
        return inner
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()
