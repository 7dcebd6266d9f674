"""A real container registry on 127.0.0.1 for tests and benchmarks: Debian's `docker-registry`
(the CNCF distribution registry, API v2) as a subprocess, on port 0, storing blobs in a temporary folder.

    with local_registry(tmp_path) as registry:
        registry.host                                 # "127.0.0.1:41234": push to {host}/k8or/shop:tag
        registry.manifest_digest("k8or/shop", "tag")  # what a kubelet's pull resolves the tag to

With `users={"ada": "secret"}` it asks for HTTP Basic credentials (an htpasswd file, bcrypt), as a
private registry does; without, anyone may push and pull.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"
)
_LISTENING = re.compile(r"listening on (127\.0\.0\.1:\d+)")


@dataclass(frozen=True)
class LocalRegistry:
    """A running registry: where it listens, and what it serves."""

    host: str  # 127.0.0.1:<port>
    root: Path
    process: subprocess.Popen[bytes]
    basic_auth: str | None = None  # an Authorization header value, when the registry asks for one

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, method=method, headers={"Accept": MANIFEST_TYPES})
        if self.basic_auth:
            request.add_header("Authorization", self.basic_auth)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers.items()), exc.read()

    def manifest_digest(self, repository: str, reference: str) -> str | None:
        """`Docker-Content-Digest` of GET /v2/<repository>/manifests/<reference>; None when not there."""
        status, headers, _body = self._get(f"/v2/{repository}/manifests/{reference}")
        return headers.get("Docker-Content-Digest") if status == 200 else None

    def has_manifest(self, repository: str, digest: str) -> bool:
        """The registry serves a manifest under exactly this digest (what a pinned pull asks for)."""
        status, headers, _body = self._get(f"/v2/{repository}/manifests/{digest}", method="HEAD")
        return status == 200 and headers.get("Docker-Content-Digest") == digest


def _htpasswd(users: Mapping[str, str], path: Path) -> None:
    # bcrypt through libxcrypt, so htpasswd needs nothing from PyPI. Cost 4: the registry checks the
    # password on every request, and this registry guards nothing but a test's images.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)
        lines = [f"{user}:{crypt.crypt(secret, salt)}" for user, secret in users.items()]
    path.write_text("\n".join(lines) + "\n")


def _config(root: Path, users: Mapping[str, str] | None) -> Path:
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "info"},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": "127.0.0.1:0", "secret": "k8or-tests-only"},
    }
    if users:
        _htpasswd(users, root / "htpasswd")
        config["auth"] = {"htpasswd": {"realm": "k8or-tests", "path": str(root / "htpasswd")}}
    path = root / "config.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def _wait_listening(process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"docker-registry did not start:\n{log.read_text(errors='replace')[-2000:]}")


def start_registry(
    root: Path, users: Mapping[str, str] | None = None, timeout: float = 15.0
) -> LocalRegistry:
    """Start a registry storing under `root` (created); stop it with `stop_registry`."""
    exe = shutil.which("docker-registry")
    if exe is None:
        raise RuntimeError("docker-registry is not installed: run scripts/system-packages")
    root.mkdir(parents=True, exist_ok=True)
    log = root / "registry.log"
    with log.open("wb") as out:
        process = subprocess.Popen([exe, "serve", str(_config(root, users))], stdout=out, stderr=out)
    host = _wait_listening(process, log, timeout)
    basic = None
    if users:
        user, secret = next(iter(users.items()))
        basic = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    return LocalRegistry(host, root, process, basic)


def stop_registry(registry: LocalRegistry) -> None:
    registry.process.terminate()
    try:
        registry.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        registry.process.kill()
        registry.process.wait()


@contextmanager
def local_registry(root: Path, users: Mapping[str, str] | None = None) -> Iterator[LocalRegistry]:
    """A registry for the length of the block."""
    registry = start_registry(root, users)
    try:
        yield registry
    finally:
        stop_registry(registry)
