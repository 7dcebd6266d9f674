"""How a build's RUN steps run: unprivileged, limited, and offline unless they must fetch packages.

RUN steps run code k8or did not write: with a trace, the import check imports the app's dependencies;
without one, `pip install -r requirements.txt` runs the build backend of every sdist it meets, and so
does the naive baseline. So each RUN step is a runc container (`--isolation oci`) in a user namespace
of its own: container UIDs/GIDs 0-65535 are the host's BUILD_IDS, owned by no account. Root inside is
an ordinary user outside, with capabilities over its own namespaces only. The committed layers map the
IDs back, so the image is the same as a build as root would make.

Root may map any range, so no /etc/subuid entry is needed. buildah 1.28's `bud` has no `--userns=auto`
(its `--userns` takes `container`, a path or `host`), and it has no `--pids-limit`: the process cap
is RLIMIT_NPROC, which the kernel enforces for every UID but the host's root.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from . import isolation_messages

# The message lives with the others; image.py still names it build_isolation.RUNC_MISSING.
from .messages import RUNC_MISSING as RUNC_MISSING

# What buildah itself may see of k8or's environment: none of the bot's secrets, only what it needs to
# find its own configuration, and the proxy settings it hands to RUN steps that fetch packages.
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME")
_KEPT_PREFIXES = (
    *("CONTAINERS_", "BUILDAH_", "REGISTRY_AUTH_FILE"),
    *("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"),
)


@dataclass(frozen=True)
class IdRange:
    """Container UIDs/GIDs 0..size-1 are host IDs host..host+size-1 during a build's RUN steps."""

    host: int
    size: int

    def options(self) -> list[str]:
        mapping = f"0:{self.host}:{self.size}"
        return ["--userns-uid-map", mapping, "--userns-gid-map", mapping]


# 0x70000000: above every range systemd hands out (users, dynamic users, nspawn containers) and below
# 2^31; 65536 IDs hold every UID an image uses, the app's dedicated one included (hardening.app_uid).
BUILD_IDS = IdRange(host=0x7000_0000, size=65536)


@dataclass(frozen=True)
class BuildLimits:
    """What each RUN step may use: a cgroup for memory (swap included) and CPU, rlimits for processes
    (per UID: the process cap holds because root inside is BUILD_IDS.host outside) and file size."""

    memory_bytes: int = 4 * 2**30
    cpus: float = 1.0
    processes: int = 1024
    file_bytes: int = 4 * 2**30

    def options(self) -> list[str]:
        period = 100_000
        return [
            *("--memory", str(self.memory_bytes), "--memory-swap", str(self.memory_bytes)),
            *("--cpu-period", str(period), "--cpu-quota", str(int(self.cpus * period))),
            *("--ulimit", f"nproc={self.processes}:{self.processes}"),
            *("--ulimit", f"fsize={self.file_bytes}:{self.file_bytes}"),
        ]


def runc_available() -> bool:
    """RUN steps run only under runc: buildah's chroot isolation would run them as the host's root."""
    return shutil.which("runc") is not None


def not_root_reason() -> str | None:
    """Why this engine can build no image and verify nothing under runc: it is not root (None as root).

    Tried on Debian 12 as an ordinary user: bubblewrap's sandbox works, and `runc --rootless` runs a
    container whose spec maps only that user; but buildah refuses the BUILD_IDS mapping ("potentially
    insufficient UIDs or GIDs available in user namespace") and `ip netns add` fails (mkdir /run/netns:
    Permission denied), so neither the build nor the pod's network namespace can be made.
    """
    uid = os.geteuid()
    if uid == 0:
        return None
    last = BUILD_IDS.host + BUILD_IDS.size - 1
    return isolation_messages.NOT_ROOT.format(uid=uid, first=BUILD_IDS.host, last=last)


def run_steps_refusal() -> str | None:
    """Why a build's RUN steps cannot run here (runc missing, or not root); None when they can."""
    return RUNC_MISSING if not runc_available() else not_root_reason()


def run_step_options(network: bool, limits: BuildLimits = BuildLimits()) -> list[str]:
    """`buildah bud` options for how RUN steps run: runc, the user namespace, `limits`, and no network
    at all unless `network` (a RUN step with network has a namespace of its own, never the host's)."""
    offline = [] if network else ["--network", "none"]
    return ["--isolation", "oci", *BUILD_IDS.options(), *limits.options(), *offline]


def buildah_environment() -> dict[str, str]:
    """buildah's environment: k8or's, less everything buildah does not need (the bot's secrets)."""
    return {key: value for key, value in os.environ.items() if key in _KEPT or key.startswith(_KEPT_PREFIXES)}
