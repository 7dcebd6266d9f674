"""The log scrubber: secret shapes and configured secret values are redacted."""

from __future__ import annotations

import pytest

from bot.logs import SecretScrubber


@pytest.mark.parametrize(
    "secret",
    [
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl",
        "xoxb-123456789012-abcdefghijkl",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "https://user:s3cr3tpass@example.com/path",
        "client_secret=abcdef123456",
        "dckr_pat_abcdefghijklmnop",
        "gAAAAABlZXhhbXBsZS1mZXJuZXQtdG9rZW4tdGV4dA==",
    ],
)
def test_secret_shapes_are_redacted(secret):
    out = SecretScrubber().scrub(f"calling with {secret} now")
    assert "[redacted]" in out
    assert secret not in out


def test_configured_secret_values_are_redacted_wherever_they_appear():
    scrubber = SecretScrubber(["plain-looking-app-password"])
    assert scrubber.scrub("pw is plain-looking-app-password!") == "pw is [redacted]!"
