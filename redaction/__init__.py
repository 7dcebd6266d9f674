"""The one place that knows what a secret looks like.

Logs (bot/logs.py), the audit trail (policy/audit.py) and anything else that writes text a person
or a file will keep pass it through `SCRUBBER`: configured secret values (the app password, vault
keys, Slack secrets) and the shapes of bearer tokens, JWTs, EKS tokens, presigned AWS URLs, Slack,
GitHub, Docker Hub, AWS and Google credentials, Fernet tokens, `password=`-style pairs and URL
passwords all become `[redacted]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"\bk8s-aws-v1\.[A-Za-z0-9_-]+"), REDACTED),  # EKS bearer tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),  # JWTs
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"), REDACTED),  # Slack tokens
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),  # GitHub
    (re.compile(r"\bdckr_pat_[A-Za-z0-9_-]{10,}"), REDACTED),  # Docker Hub PATs
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),  # AWS access key ids
    (re.compile(r"(?i)(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"']+"), r"\1" + REDACTED),
    (re.compile(r"\bya29\.[A-Za-z0-9._-]{10,}"), REDACTED),  # Google access tokens
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),  # Fernet tokens
    (
        re.compile(
            r"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?secret|"
            r"authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;&}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(://[^:/\s@]+:)[^@/\s]+(@)"), r"\1" + REDACTED + r"\2"),  # credentials in URLs
]

# A cheap first look before the full patterns: most lines hold nothing secret-shaped. Every
# pattern above needs one of these (lower-cased) to match at all.
_KEYWORDS = (
    "bearer", "basic", "password", "passwd", "pwd", "secret", "token", "key", "authorization",
    "://", "k8s-aws", "x-amz", "xox", "gh", "github_pat", "dckr_pat", "akia", "asia", "ya29.",
    "eyj", "gaaaaa",
)  # fmt: skip


class SecretScrubber:
    """Replaces known secret values and secret-shaped strings with a marker."""

    def __init__(self, known: Iterable[str] = ()):
        self._known: set[str] = set()
        self.add(known)

    def add(self, values: Iterable[str]) -> None:
        """Secret values to redact wherever they appear (shorter than 6 characters: too risky)."""
        self._known.update(v for v in values if v and len(v) >= 6)

    def discard(self, values: Iterable[str]) -> None:
        """Stop redacting these values (an app that registered them has closed)."""
        self._known.difference_update(values)

    def scrub(self, text: str) -> str:
        for value in self._known:
            if value in text:
                text = text.replace(value, REDACTED)
        lowered = text.lower()
        if not any(word in lowered for word in _KEYWORDS):  # the common case: nothing secret-shaped
            return text
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def scrub_value(self, value: Any) -> Any:
        """Scrub every string inside a JSON-like value."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self.scrub_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_value(v) for v in value]
        return value


SCRUBBER = SecretScrubber()


def scrub(text: str | None) -> str:
    """`SCRUBBER.scrub`, accepting None."""
    return SCRUBBER.scrub(text) if text else ""
