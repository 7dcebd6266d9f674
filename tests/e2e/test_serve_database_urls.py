"""Issue 10, item 4: `k8or serve` with the database URLs people write: it starts on the forms it
knows, and stops with one line naming K8OR_DATABASE_URL, exit code 2 and no traceback otherwise."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _env(tmp_path, url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}
    return env | {
        "K8OR_DATA_DIR": str(tmp_path / "data"),
        "K8OR_DATABASE_URL": url,
        "K8OR_LOG_FORMAT": "text",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:hunter2@db:3306/k8or",
        "postgres://k8or:hunter2@db/k8or?sslmode=sometimes",
        "k8or:hunter2@db/k8or",
    ],
)
def test_an_unusable_database_url_stops_the_start_with_one_line(tmp_path, url):
    result = subprocess.run(
        [sys.executable, "-m", "k8or.cli", "serve", "--port", str(_free_port())],
        env=_env(tmp_path, url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("k8or: invalid setting K8OR_DATABASE_URL: "), lines
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout


def test_serve_answers_ready_on_a_plain_sqlite_url(tmp_path):
    port = _free_port()
    database = tmp_path / "plain.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "k8or.cli", "serve", "--port", str(port)],
        env=_env(tmp_path, f"sqlite:///{database}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _ready(port, proc) == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert database.stat().st_size > 0
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def _ready(port: int, proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.2)
    return -1
