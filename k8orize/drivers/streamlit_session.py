"""Open one real Streamlit browser session over /_stcore/stream, run the script, use its widgets.

An HTTP GET only serves Streamlit's static shell; the script runs when a session connects over the
websocket and asks for a run. This driver does exactly what the browser does, with Streamlit's own
protobufs and a minimal RFC 6455 client from the standard library, so the trace sees every import the
script makes. After the first run it moves sliders, ticks checkboxes and clicks buttons, as a user
would, and waits for the second run to finish too.

A script that raises still ends with FINISHED_SUCCESSFULLY: Streamlit catches the exception and shows
it on the page as an exception element. So a run fails when its status says so *or* when it put an
exception (not a warning) on the page, as a user would see it.

Usage: python streamlit_session.py http://HOST:PORT [TIMEOUT_SECONDS]
Prints one JSON line with the outcome; exit code 0 when every script run finished without an exception.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import sys
import time
from typing import Protocol
from urllib.parse import urlparse

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

_OP_BINARY, _OP_CLOSE, _OP_PING, _OP_PONG = 0x2, 0x8, 0x9, 0xA


def _handshake(sock: socket.socket, host: str, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n\r\n"
    )
    sock.sendall(request.encode())
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("server closed the connection during the websocket handshake")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise ConnectionError(f"websocket upgrade refused: {head.splitlines()[0]!r}")
    return rest


def _send(sock: socket.socket, payload: bytes, opcode: int = _OP_BINARY) -> None:
    # Client frames must be masked (RFC 6455 5.3).
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(header + mask + masked)


class _Reader:
    """Reads whole (possibly fragmented) websocket messages from the server."""

    def __init__(self, sock: socket.socket, pending: bytes) -> None:
        self.sock, self.buffer = sock, pending

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the websocket")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frame(self) -> tuple[bool, int, bytes]:
        first, second = self._take(2)
        size = second & 0x7F
        if size == 126:
            (size,) = struct.unpack("!H", self._take(2))
        elif size == 127:
            (size,) = struct.unpack("!Q", self._take(8))
        return bool(first & 0x80), first & 0x0F, self._take(size)

    def message(self, sock: socket.socket) -> bytes:
        parts: list[bytes] = []
        while True:
            final, opcode, data = self.frame()
            if opcode == _OP_PING:
                _send(sock, data, _OP_PONG)
                continue
            if opcode == _OP_CLOSE:
                raise ConnectionError("server closed the websocket")
            parts.append(data)
            if final:
                return b"".join(parts)


class _Element(Protocol):
    """The fields of a Streamlit widget element a user's interaction reads (slider, checkbox, button)."""

    id: str
    min: float
    default: bool


Widgets = list[tuple[str, _Element]]


def _widget_states(widgets: Widgets) -> BackMsg:
    """Widget states a user produces: move sliders to their minimum, tick checkboxes, click buttons."""
    back = BackMsg()
    back.rerun_script.page_script_hash = ""
    for kind, element in widgets:
        state = back.rerun_script.widget_states.widgets.add()
        state.id = element.id
        if kind == "slider":
            state.double_array_value.data.extend([element.min])
        elif kind == "checkbox":
            state.bool_value = not element.default
        else:
            state.trigger_value = True
    return back


class _ScriptRun:
    """What one script run showed: its finishing status, its interactive widgets, its exceptions."""

    def __init__(self) -> None:
        self.status: int | None = None  # None: no script_finished before the deadline
        self.widgets: Widgets = []
        self.exceptions: list[str] = []

    def read(self, msg: ForwardMsg) -> None:
        if msg.WhichOneof("type") == "script_finished":
            self.status = int(msg.script_finished)
        elif msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            kind = element.WhichOneof("type")
            if kind in _INTERACTIVE:
                self.widgets.append((kind, getattr(element, kind)))
            elif kind == "exception" and not element.exception.is_warning:
                first_line = (element.exception.message.splitlines() or [""])[0]
                self.exceptions.append(f"{element.exception.type}: {first_line}")

    @property
    def ok(self) -> bool:
        return self.status == ForwardMsg.FINISHED_SUCCESSFULLY and not self.exceptions


def _run_until_finished(
    sock: socket.socket, reader: _Reader, back: BackMsg, deadline: float, seen: dict[str, int]
) -> _ScriptRun:
    """Send one rerun request and read until its script_finished."""
    _send(sock, back.SerializeToString())
    run = _ScriptRun()
    while run.status is None and time.monotonic() < deadline:
        msg = ForwardMsg()
        msg.ParseFromString(reader.message(sock))
        kind = msg.WhichOneof("type") or "none"
        seen[kind] = seen.get(kind, 0) + 1
        run.read(msg)
    return run


_INTERACTIVE = ("slider", "checkbox", "button")


def _error(runs: list[_ScriptRun]) -> str | None:
    """Why the session failed, in a user's words: the script's exception, or what it ended with."""
    last = runs[-1]
    raised = [f"script run {i} raised {exc}" for i, run in enumerate(runs, 1) for exc in run.exceptions]
    if raised:
        return "; ".join(raised)
    if last.status is None:
        return "timed out waiting for script_finished"
    if not last.ok:
        return f"script run {len(runs)} ended with {ForwardMsg.ScriptFinishedStatus.Name(last.status)}"
    return None


def run_session(base_url: str, timeout: float) -> dict[str, object]:
    """Connect like a browser, run the script, then interact with its widgets and run it again."""
    url = urlparse(base_url)
    path = (url.path.rstrip("/") or "") + "/_stcore/stream"
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=timeout)
    deadline = time.monotonic() + timeout
    seen: dict[str, int] = {}
    try:
        reader = _Reader(sock, _handshake(sock, url.netloc, path))
        first = BackMsg()
        first.rerun_script.query_string = ""
        first.rerun_script.page_script_hash = ""
        runs = [_run_until_finished(sock, reader, first, deadline, seen)]
        widgets = runs[0].widgets
        if runs[0].ok and widgets:
            runs.append(_run_until_finished(sock, reader, _widget_states(widgets), deadline, seen))
        outcome: dict[str, object] = {
            "ok": all(run.ok for run in runs),
            "status": runs[-1].status,
            "script_runs": len(runs),
            "messages": seen,
            "interacted_with": sorted({kind for kind, _ in widgets}),
        }
        error = _error(runs)
        if error:
            outcome["error"] = error
        return outcome
    finally:
        try:
            _send(sock, struct.pack("!H", 1000), _OP_CLOSE)
        except OSError:
            pass
        sock.close()


def main(argv: list[str]) -> int:
    timeout = float(argv[2]) if len(argv) > 2 else 30.0
    try:
        outcome = run_session(argv[1], timeout)
    except (OSError, ConnectionError) as exc:
        outcome = {"ok": False, "error": str(exc)}
    print(json.dumps(outcome))
    return 0 if outcome.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
