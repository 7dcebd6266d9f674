"""Plain HTTP to a FakeKube, for requests the typed client would refuse to send (unknown fields...)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from .fake import FakeKube


def call(
    fake: FakeKube,
    method: str,
    path: str,
    body=None,
    content_type: str = "application/json",
    token: str | None = None,
) -> tuple[int, dict]:
    """Send one request; returns (status, decoded JSON body)."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(fake.url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {fake.token if token is None else token}")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
