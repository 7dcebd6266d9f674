"""`k8or chat` serves the sign-in pages, so it binds as safely as `k8or serve`.

Before: `chat` listened on K8OR_HOST whatever it was, without the app id check `serve` makes, so
`K8OR_HOST=0.0.0.0 k8or chat` put unauthenticated sign-in pages on every interface.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REFUSAL = "refusing to listen on 0.0.0.0 without MicrosoftAppId"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K8OR_", "Microsoft"))}
    return env | {"K8OR_DATA_DIR": str(data_dir), **extra}


def _chat(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "k8or.cli", "chat", *args, "-c", "version"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_chat_refuses_a_public_bind_without_an_app_id(tmp_path, how):
    data_dir, port = tmp_path / "data", str(_free_port())
    if how == "flag":
        result = _chat(["--host", "0.0.0.0", "--port", port], _env(data_dir))
    else:
        result = _chat([], _env(data_dir, K8OR_HOST="0.0.0.0", K8OR_PORT=port))
    assert result.returncode == 2
    assert REFUSAL in result.stderr and "--insecure" in result.stderr
    assert "k8or 0.1.0" not in result.stdout  # no turn ran
    assert not data_dir.exists()  # nothing opened, nothing stored


def test_chat_on_loopback_still_answers(tmp_path):
    result = _chat(["--port", str(_free_port())], _env(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "k8or 0.1.0" in result.stdout
