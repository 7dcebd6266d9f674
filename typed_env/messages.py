"""What k8or says about a value it cannot use: each names the fix, never the value (it may be secret)."""

from __future__ import annotations

from collections.abc import Sequence

TEXT = "use text"
BOOLEAN = "use true or false"
PATH = "use a file or directory path"
JSON_SECTION = "use a JSON object, or set the section's variables one by one ({example})"


def one_of(choices: Sequence[str]) -> str:
    return "use " + (", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0])


def number(whole: bool, ge: float | None, gt: float | None, le: float | None) -> str:
    """'use a whole number from 1 to 65535', 'use a number more than 0', ..."""
    kind = "a whole number" if whole else "a number"
    low = _shown(ge if ge is not None else gt)
    if ge is not None and le is not None:
        return f"use {kind} from {low} to {_shown(le)}"
    parts = [f"use {kind}"]
    if ge is not None:
        parts.append(f"of {low} or more")
    if gt is not None:
        parts.append(f"more than {low}")
    if le is not None:
        parts.append(("and " if len(parts) > 1 else "") + f"of {_shown(le)} or less")
    return " ".join(parts)


def _shown(bound: float | None) -> str:
    return f"{bound:g}" if isinstance(bound, float) else str(bound)
