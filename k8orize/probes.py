"""HTTP probes: wait until an app answers, then record what every probe returned."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass

from .report_schema import JSONObject, ProbeJSON


@dataclass(frozen=True)
class ProbeResult:
    """One probe's answer: ok when the status is below 400."""

    url: str
    status: int | None
    ok: bool
    error: str | None = None

    def as_json(self) -> ProbeJSON:
        return ProbeJSON(url=self.url, status=self.status, ok=self.ok, error=self.error)

    @classmethod
    def from_json(cls, data: JSONObject) -> ProbeResult:
        """A probe's answer as the run harness reported it."""
        status, error = data.get("status"), data.get("error")
        return cls(
            url=str(data.get("url")),
            status=int(str(status)) if status is not None else None,
            ok=data.get("ok") is True,
            error=str(error) if error is not None else None,
        )


def free_port() -> int:
    """A port that was free a moment ago (bind to 0), so parallel runs do not collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Probes target the local app; a proxy from the environment must never see them.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def probe(url: str, timeout: float = 5.0) -> ProbeResult:
    """GET url once."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            response.read()
            return ProbeResult(url, response.status, response.status < 400)
    except urllib.error.HTTPError as exc:
        return ProbeResult(url, exc.code, False, str(exc))
    except (OSError, ValueError) as exc:
        return ProbeResult(url, None, False, str(exc))
