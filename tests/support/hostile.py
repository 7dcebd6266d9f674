"""The hostile app (tests/support/data/hostile-app) and the secrets it hunts for.

`planted` puts a distinct secret in each place an app on the k8or host could look: this process's
environment (`K8OR_VAULT_KEY`), a vault key file in the data folder, a file in the system /tmp, the
environment of another process (seen through /proc/<pid>/environ), and a loopback socket of this
process that keeps whatever it receives. `Planted.leaks` says which secrets a blob of text holds.
"""

from __future__ import annotations

import gzip
import json
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

HOSTILE_APP = Path(__file__).resolve().parent / "data" / "hostile-app"


class Sink:
    """A loopback server that records every byte sent to it (what an exfiltration would deliver)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port: int = self.server.getsockname()[1]
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    while chunk := conn.recv(65536):
                        self.received += chunk
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


@dataclass
class Planted:
    """The secrets and where they are."""

    env: str
    data: str
    tmp: str
    proc: str
    data_file: Path
    tmp_file: Path
    holder: subprocess.Popen[bytes]
    sink: Sink
    tag: str  # names this test's loot files, so tests running beside it never see them

    @property
    def secrets(self) -> dict[str, str]:
        return {"environment": self.env, "data folder": self.data, "/tmp": self.tmp, "/proc": self.proc}

    def targets(self) -> dict[str, object]:
        """What the hunt is told to look at (a real attacker would guess these paths)."""
        return {"sink": self.sink.port, "files": [str(self.data_file), str(self.tmp_file)], "tag": self.tag}

    def loot_files(self) -> list[Path]:
        """What this test's hunts left in the host's /tmp (`/tmp/k8or-loot-<tag>-*`, in whatever /tmp
        the hunt sees)."""
        return sorted(Path(tempfile.gettempdir()).glob(f"k8or-loot-{self.tag}-*"))

    def leaks(self, blobs: Iterable[str | bytes]) -> list[str]:
        """Where each secret found in blobs was planted."""
        text = "\n".join(b.decode("utf-8", "replace") if isinstance(b, bytes) else b for b in blobs)
        return [where for where, value in self.secrets.items() if value in text]


@contextmanager
def planted(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> Iterator[Planted]:
    """Plant the secrets for one test; everything is removed afterwards."""
    data, tmp, proc = (f"k8or-secret-{secrets.token_hex(12)}" for _ in range(3))
    env = Fernet.generate_key().decode()  # a vault key, as K8OR_VAULT_KEY holds one
    monkeypatch.setenv("K8OR_VAULT_KEY", env)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_file = data_dir / "vault.key"
    data_file.write_text(data)
    handle, name = tempfile.mkstemp(prefix="k8or-planted-", suffix=".key")
    with open(handle, "w") as file:
        file.write(tmp)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)"], env={"K8OR_VAULT_KEY": proc}
    )
    sink = Sink()
    found = Planted(env, data, tmp, proc, data_file, Path(name), holder, sink, secrets.token_hex(6))
    try:
        yield found
    finally:
        for loot in found.loot_files():  # the control runs leave some
            loot.unlink()
        sink.close()
        holder.kill()
        holder.wait()
        Path(name).unlink(missing_ok=True)


def hostile_app(into: Path, secrets_: Planted) -> Path:
    """A copy of the hostile app at `into`, told where to look and where to send."""
    shutil.copytree(HOSTILE_APP, into)
    (into / "targets.json").write_text(json.dumps(secrets_.targets()) + "\n")
    return into


def contents(folder: Path) -> Iterator[bytes]:
    """Every file under folder (gzip files unpacked): what an output holds."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            yield gzip.decompress(data) if path.suffix == ".gz" else data
