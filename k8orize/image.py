"""Build the k8orized image with buildah, lend its root filesystem to the runtime checks, push it.

    built = build_image(out, "localhost/k8or/shop:latest", log=out / "build.log",
                        build_args={"BASE_IMAGE": base})
    with image_rootfs(built) as rootfs:  # a directory: the image's files, as a container sees them
        ...                              # e.g. an OCI bundle's root; removed when the block ends
    digest = push(built, "127.0.0.1:5000/k8or/shop:k8or-1a2b3c")  # sha256:..., as the registry serves it

buildah needs no daemon: vfs storage works as root inside a container and needs no overlay support
from the kernel. Images keep Docker's format, so HEALTHCHECK survives the build.

A build's RUN steps run code k8or did not write, so they run unprivileged (`build_isolation.py`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import build_isolation, messages, registry_api
from .build_isolation import BuildLimits
from .errors import K8orizeError
from .registry_api import RegistryCredentials, RegistryRefused, split_reference

__all__ = [
    "BuildFailed",
    "BuildLimits",
    "BuiltImage",
    "ImageStore",
    "PushFailed",
    "RegistryCredentials",
    "build_image",
    "image_rootfs",
    "pinned",
    "push",
    "remove_image",
]

BUILD_TIMEOUT = 1800.0  # seconds; a naive image installs its requirements from the index
PUSH_TIMEOUT = 900.0
LOCAL_REGISTRY_HOSTS = ("127.0.0.1", "localhost", "[::1]")
BAD_BASE = "{image!r} is not an image reference (REPO[:TAG][@sha256:DIGEST])"
# An image reference as Docker's grammar has it: [HOST[:PORT]/]REPO[:TAG][@sha256:DIGEST]. Never an
# option for buildah (a leading "-") or another transport (`docker-archive:/path` reads host files).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = re.compile(
    rf"(?:(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)


class BuildFailed(K8orizeError):
    """buildah could not build the image (the message names the log with the details)."""

    def __init__(self, message: str, why: str = "") -> None:
        super().__init__(message)
        self.why = why or message


class PushFailed(K8orizeError):
    """The registry did not take the image, or serves another digest for it."""


@dataclass(frozen=True)
class ImageStore:
    """Where buildah keeps images: its default storage (root None) or a folder the caller owns."""

    root: Path | None = None

    def args(self) -> list[str]:
        """buildah's global options for this store (always the vfs driver)."""
        args = ["--storage-driver", "vfs"]
        if self.root is not None:
            args += ["--root", str(self.root / "storage"), "--runroot", str(self.root / "run")]
        return args


@dataclass(frozen=True)
class BuiltImage:
    """An image in buildah's local storage."""

    reference: str  # the local name it was tagged with, e.g. localhost/k8or/shop:build
    image_id: str  # hex sha256 of the image's config: what `buildah images` shows, in full
    size: int  # bytes of all its layers, uncompressed: the whole image, base included
    store: ImageStore = ImageStore()


def buildah() -> str | None:
    """The buildah executable, or None when it is not installed."""
    return shutil.which("buildah")


def _buildah(store: ImageStore, *args: str) -> list[str]:
    exe = buildah()
    if exe is None:
        raise BuildFailed(messages.BUILDAH_MISSING)
    return [exe, *store.args(), *args]


def _run(cmd: list[str], timeout: float) -> str:
    """Run a short buildah command; its stdout. A failure carries the tail of its stderr."""
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=build_isolation.buildah_environment(),
    )
    if proc.returncode:
        verb = next((arg for arg in cmd[1:] if not arg.startswith("-") and arg != "vfs"), "")
        why = _last_line(proc.stderr)
        raise BuildFailed(messages.BUILDAH_FAILED.format(verb=verb, why=why), why)
    return proc.stdout


def _run_logged(cmd: list[str], timeout: float, log: Path, cancel: threading.Event | None = None) -> None:
    """Run a long buildah command with every line in `log`; stop it when `cancel` is set or time is up."""
    with log.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(cmd)}\n")
        handle.flush()
        proc = subprocess.Popen(
            cmd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=build_isolation.buildah_environment(),
        )
        code = _wait(proc, time.monotonic() + timeout, cancel or threading.Event())
    if code is None:
        raise BuildFailed(messages.BUILD_STOPPED.format(log=log.name))
    if code:
        tail = _tail(log)
        raise BuildFailed(messages.BUILD_FAILED.format(code=code, log=log.name, tail=tail), _last_line(tail))


def _wait(proc: subprocess.Popen[bytes], deadline: float, cancel: threading.Event) -> int | None:
    """The exit code, or None once it had to be stopped (buildah removes its build containers on SIGTERM)."""
    while not cancel.is_set() and time.monotonic() < deadline:
        try:
            return proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            continue
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return None


def _tail(log: Path, lines: int = 12) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def build_image(
    context: Path,
    reference: str,
    *,
    log: Path,
    dockerfile: Path | None = None,
    build_args: Mapping[str, str] | None = None,
    store: ImageStore = ImageStore(),
    timeout: float = BUILD_TIMEOUT,
    cancel: threading.Event | None = None,
    network: bool = True,
    limits: BuildLimits | None = None,
) -> BuiltImage:
    """Build `dockerfile` (default: context/Dockerfile) in `context`, tag it `reference`; every line of
    buildah's output goes to `log`. Raises BuildFailed (also when `cancel` is set or time runs out).

    RUN steps run under runc in a user namespace of their own, within `limits`, offline unless `network`
    (`build_isolation.py`). The base must be in the store already (`ensure_base`): it never pulls.

    No intermediate layers are kept: on vfs each one is a whole copy of the tree (measured on the
    Streamlit example: 10 s without, 38 s with `--layers`, 27 s with every layer cached). The image
    that held `reference` before is removed once nothing else names it.
    """
    if (refused := build_isolation.run_steps_refusal()) is not None:  # chroot: RUN steps as host root
        raise BuildFailed(refused)
    previous = _image_id(reference, store)
    iidfile = log.parent / f".{log.name}.iid"
    steps = build_isolation.run_step_options(network, limits or BuildLimits())
    cmd = _buildah(store, "bud", *steps, "--format", "docker", "--pull=never")
    cmd += ["--iidfile", str(iidfile), "-t", reference, "-f", str(dockerfile or context / "Dockerfile")]
    for key, value in (build_args or {}).items():
        cmd += ["--build-arg", f"{key}={value}"]
    try:
        _run_logged([*cmd, str(context)], timeout, log, cancel)
        image_id = iidfile.read_text().strip().removeprefix("sha256:")
    finally:
        iidfile.unlink(missing_ok=True)
    if previous and previous != image_id:  # fails, harmlessly, while another name or a container uses it
        subprocess.run(_buildah(store, "rmi", previous), capture_output=True, check=False)
    return BuiltImage(reference, image_id, image_size(image_id, store), store)


def _image_id(reference: str, store: ImageStore) -> str | None:
    try:
        return str(_inspect(reference, store).get("FromImageID") or "") or None
    except BuildFailed:  # no such image
        return None


def image_size(image: str, store: ImageStore = ImageStore()) -> int:
    """Bytes of all the image's layers, uncompressed: the whole image, as `docker images` counts it."""
    manifest = json.loads(_inspect(image, store).get("Manifest") or "{}")
    return sum(int(layer.get("size", 0)) for layer in manifest.get("layers", []))


def _inspect(image: str, store: ImageStore) -> dict[str, Any]:
    info = json.loads(_run(_buildah(store, "inspect", "--type", "image", image), 120.0))
    return info if isinstance(info, dict) else {}


def is_reference(text: str) -> bool:
    """True for an image reference a registry serves: `python:3.11-slim`, `host:5000/a/b@sha256:...`."""
    return bool(_REFERENCE.fullmatch(text))


class BaseUnavailable(K8orizeError):
    """The base image is neither in the store nor pullable (offline, unknown name, refused)."""


def ensure_base(image: str, store: ImageStore = ImageStore(), timeout: float = 600.0) -> str:
    """Make sure the base image is in the store (pulled when not) and return its manifest digest.

    The build itself then never pulls: a base that cannot be had is told apart from a Dockerfile that
    does not build. Raises BaseUnavailable with buildah's reason.
    """
    if not is_reference(image):  # never an option to buildah, never a path or a transport
        raise BaseUnavailable(messages.BASE_UNAVAILABLE.format(image=image, why=BAD_BASE.format(image=image)))
    if _image_id(image, store) is None:
        cmd = _buildah(store, "pull", "--quiet", "--retry", "1")
        try:
            _run([*cmd, *(["--tls-verify=false"] if _is_local(image) else []), image], timeout)
        except BuildFailed as exc:
            raise BaseUnavailable(messages.BASE_UNAVAILABLE.format(image=image, why=exc.why)) from None
    digest = str(_inspect(image, store).get("FromImageDigest") or "")
    return digest if digest.startswith("sha256:") else ""


def _last_line(text: str) -> str:
    """The last line buildah wrote, without its `Error: ` prefix: the reason, in buildah's words."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1].removeprefix("Error: ") if lines else "no reason given"


@contextmanager
def image_rootfs(built: BuiltImage) -> Iterator[Path]:
    """The image's root filesystem as a directory, for as long as the block lasts.

    A working container is made from the image and mounted (vfs: a plain copy of the layers); on exit it
    is unmounted and removed, so nothing is left in the store. The directory is the container's own
    copy: changing it does not change the image, but treat it as read-only (an OCI bundle's root).
    """
    container = _run(_buildah(built.store, "from", "--pull=never", "--quiet", built.image_id), 600.0).strip()
    try:
        yield Path(_run(_buildah(built.store, "mount", container), 120.0).strip())
    finally:
        subprocess.run(_buildah(built.store, "umount", container), capture_output=True, check=False)
        subprocess.run(_buildah(built.store, "rm", container), capture_output=True, check=False)


def remove_image(built: BuiltImage) -> None:
    """Untag and remove the image (layers another image shares stay); a missing image is not an error."""
    subprocess.run(_buildah(built.store, "rmi", "-f", built.image_id), capture_output=True, check=False)


def registry_host(destination: str) -> str:
    """`127.0.0.1:5000/k8or/shop:tag` -> `127.0.0.1:5000`; a name without a host is Docker Hub's."""
    return split_reference(destination)[0]


def _is_local(reference: str) -> bool:
    """A registry on this machine (127.0.0.1, localhost, [::1]): spoken to over plain HTTP."""
    return bool(reference) and registry_host(reference).rsplit(":", 1)[0] in LOCAL_REGISTRY_HOSTS


def repository_of(destination: str) -> str:
    """`host/repo:tag` or `host/repo@sha256:...` -> `host/repo` (as written: Hub names stay short)."""
    name = destination.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


def pinned(destination: str, digest: str) -> str:
    """The reference a manifest pins: `host/repo@sha256:...` (the tag dropped, the digest kept)."""
    return f"{repository_of(destination)}@{digest}"


def _push(cmd: list[str], image_id: str, destination: str, timeout: float, log: Path | None) -> None:
    if log is None:
        _run([*cmd, image_id, f"docker://{destination}"], timeout)
    else:
        _run_logged([*cmd, image_id, f"docker://{destination}"], timeout, log)


@contextmanager
def _auth_file(host: str, credentials: RegistryCredentials | None) -> Iterator[list[str]]:
    """buildah's --authfile for one push, in a private folder removed afterwards: the secret never
    appears on a command line (which any process on the host can read)."""
    if credentials is None:
        yield []
        return
    folder = Path(tempfile.mkdtemp(prefix="k8or-auth-"))
    try:
        path = folder / "auth.json"
        token = base64.b64encode(f"{credentials.username}:{credentials.secret}".encode()).decode()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"auths": {host: {"auth": token}}}, handle)
        yield ["--authfile", str(path)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def push(
    built: BuiltImage,
    destination: str,
    credentials: RegistryCredentials | None = None,
    *,
    log: Path | None = None,
    timeout: float = PUSH_TIMEOUT,
) -> str:
    """Push the image to `destination` (`host/repo:tag`); the manifest digest the registry now serves
    for that tag (asked of the registry itself, and checked against what buildah wrote).

    Registries on 127.0.0.1 or localhost are spoken to over plain HTTP; every other one over TLS.
    Raises PushFailed (also when the registry's digest differs from the one pushed).
    """
    host = registry_host(destination)
    with tempfile.TemporaryDirectory(prefix="k8or-push-") as tmp, _auth_file(host, credentials) as auth:
        digestfile = Path(tmp) / "digest"
        cmd = _buildah(built.store, "push", "--digestfile", str(digestfile), *auth)
        if _is_local(destination):
            cmd.append("--tls-verify=false")
        try:
            _push(cmd, built.image_id, destination, timeout, log)
        except BuildFailed as exc:
            raise PushFailed(messages.PUSH_FAILED.format(destination=destination, why=exc.why)) from None
        written = digestfile.read_text().strip()
    try:
        served = registry_api.manifest_digest(destination, credentials, plain_http=_is_local(destination))
    except RegistryRefused as exc:
        raise PushFailed(messages.PUSH_FAILED.format(destination=destination, why=exc)) from None
    if served != written:
        raise PushFailed(
            messages.DIGEST_MISMATCH.format(destination=destination, served=served, pushed=written)
        )
    return served
