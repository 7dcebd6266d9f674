"""An OCI runtime bundle: config.json beside a root filesystem, the container a kubelet would start.

`ContainerSpec` says what runs and as whom (read back from OUT by `k8orize.shipped`); `bundle_config`
renders config.json the way containerd's CRI plugin does for a pod with that securityContext: its own
pid, ipc, uts and mount namespaces, a network namespace the caller made, the standard /proc, /dev and
/sys mounts, masked kernel paths, the emptyDirs as tmpfs, a read-only root, no capabilities and
`noNewPrivileges`. `oci_seccomp` turns a Kubernetes/Docker-format profile into the runtime-spec shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .jsontypes import JSON, JSONObject

OCI_VERSION = "1.0.2"
#: containerd's PATH for an image that sets none.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: What containerd masks and makes read-only in every container (pkg/oci defaults).
MASKED_PATHS = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
#: Files the kubelet writes per pod and binds read-only when the root filesystem is read-only.
POD_FILES = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf")


@dataclass(frozen=True)
class Resources:
    """A container's limits: memory in bytes, CPU in millicores (None: unlimited)."""

    memory: int | None = None
    cpu_millis: int | None = None


@dataclass(frozen=True)
class ContainerSpec:
    """Everything config.json says about the one container of a pod."""

    args: tuple[str, ...]
    env: tuple[str, ...]  # KEY=VALUE, in order
    cwd: str
    uid: int
    gid: int
    hostname: str
    additional_gids: tuple[int, ...] = ()
    scratch: tuple[str, ...] = ()  # emptyDir mount paths: tmpfs
    read_only_root: bool = True
    no_new_privileges: bool = True
    capabilities: tuple[str, ...] = ()  # kept (CAP_...); () drops all
    resources: Resources = field(default_factory=Resources)


def _mount(destination: str, kind: str, source: str, *options: str) -> JSONObject:
    return {"destination": destination, "type": kind, "source": source, "options": list(options)}


def _standard_mounts() -> list[JSONObject]:
    """The mounts containerd gives every container."""
    return [
        _mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
        _mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
        _mount(
            "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"
        ),
        _mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
        _mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
        _mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
    ]


def _scratch_mounts(spec: ContainerSpec) -> list[JSONObject]:
    """emptyDirs: world-writable like the kubelet's, group-owned by fsGroup (setgid) when there is one."""
    group = spec.additional_gids[0] if spec.additional_gids else None
    mode = ("mode=2777", f"gid={group}") if group is not None else ("mode=0777",)
    return [_mount(path, "tmpfs", "tmpfs", "nosuid", "nodev", *mode) for path in spec.scratch]


def _pod_file_mounts(pod_files: Path | None, read_only: bool) -> list[JSONObject]:
    if pod_files is None:
        return []
    access = "ro" if read_only else "rw"
    return [
        _mount(path, "bind", str(pod_files / Path(path).name), "rbind", "rprivate", access)
        for path in POD_FILES
    ]


def _process(spec: ContainerSpec) -> JSONObject:
    caps: list[JSON] = list(spec.capabilities)
    return {
        "terminal": False,
        "user": {"uid": spec.uid, "gid": spec.gid, "additionalGids": list(spec.additional_gids)},
        "args": list(spec.args),
        "env": list(spec.env),
        "cwd": spec.cwd,
        "capabilities": {
            k: list(caps) for k in ("bounding", "effective", "inheritable", "permitted", "ambient")
        },
        "noNewPrivileges": spec.no_new_privileges,
    }


def _resources(limits: Resources) -> JSONObject:
    resources: JSONObject = {"devices": [{"allow": False, "access": "rwm"}]}
    if limits.memory is not None:
        resources["memory"] = {"limit": limits.memory}
    if limits.cpu_millis is not None:
        resources["cpu"] = {"quota": limits.cpu_millis * 100, "period": 100000}
    return resources


def _namespaces(netns: str | None) -> list[JSON]:
    network: JSONObject = {"type": "network", "path": netns} if netns else {"type": "network"}
    return [{"type": kind} for kind in ("pid", "ipc", "uts", "mount")] + [network]


def bundle_config(
    spec: ContainerSpec,
    rootfs: Path,
    *,
    seccomp: JSONObject | None,
    netns: str | None = None,
    pod_files: Path | None = None,
    cgroup: str | None = None,
    binds: tuple[tuple[Path, str], ...] = (),
) -> JSONObject:
    """config.json for `spec` over `rootfs` (an absolute path). `netns`: a network namespace to join
    (a new, empty one when None); `pod_files`: a folder with hosts, hostname and resolv.conf; `binds`:
    host files shown read-only at a path inside (a check's script)."""
    linux: JSONObject = {
        "namespaces": _namespaces(netns),
        "resources": _resources(spec.resources),
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }
    if cgroup:
        linux["cgroupsPath"] = cgroup
    if seccomp is not None:
        linux["seccomp"] = seccomp
    return {
        "ociVersion": OCI_VERSION,
        "process": _process(spec),
        "root": {"path": str(rootfs), "readonly": spec.read_only_root},
        "hostname": spec.hostname,
        "mounts": _standard_mounts()
        + _scratch_mounts(spec)
        + _pod_file_mounts(pod_files, spec.read_only_root)
        + [_mount(inside, "bind", str(host), "rbind", "rprivate", "ro") for host, inside in binds],
        "linux": linux,
    }


def write_pod_files(folder: Path, hostname: str, pod_ip: str, namespace: str) -> Path:
    """hosts, hostname and resolv.conf as the kubelet writes them for a pod (cluster DNS at 10.96.0.10)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hosts").write_text(
        f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{pod_ip}\t{hostname}\n"
    )
    (folder / "hostname").write_text(hostname + "\n")
    search = f"{namespace}.svc.cluster.local svc.cluster.local cluster.local"
    (folder / "resolv.conf").write_text(f"search {search}\nnameserver 10.96.0.10\noptions ndots:5\n")
    return folder


def write_bundle(folder: Path, config: JSONObject) -> Path:
    """Write config.json into `folder` (the root filesystem lives wherever config's root.path says)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return folder


# -- seccomp: the Kubernetes/Docker profile format -> the runtime-spec's linux.seccomp ----------------
_OCI_SECCOMP_KEYS = ("defaultAction", "defaultErrnoRet", "flags", "listenerPath", "listenerMetadata")
_OCI_RULE_KEYS = ("names", "action", "errnoRet", "args")


def _architectures(profile: JSONObject) -> list[JSON]:
    """Docker's archMap lists each native arch with its sub-arches; the runtime spec wants them flat."""
    arches: list[JSON] = [a for a in _list(profile.get("architectures"))]
    for entry in _list(profile.get("archMap")):
        if isinstance(entry, dict):
            arches += [entry.get("architecture"), *_list(entry.get("subArchitectures"))]
    return [a for i, a in enumerate(arches) if isinstance(a, str) and a not in arches[:i]]


def _list(value: JSON | None) -> list[JSON]:
    return list(value) if isinstance(value, list) else []


def _object(value: JSON | None) -> Mapping[str, JSON]:
    return value if isinstance(value, dict) else {}


def _applies(rule: JSONObject, capabilities: tuple[str, ...], arch: str) -> bool:
    """Docker's includes/excludes: a rule for CAP_X applies only when the container keeps CAP_X."""
    includes, excludes = _object(rule.get("includes")), _object(rule.get("excludes"))
    if any(c not in capabilities for c in _list(includes.get("caps"))):
        return False
    if _list(includes.get("arches")) and arch not in _list(includes.get("arches")):
        return False
    if any(c in capabilities for c in _list(excludes.get("caps"))):
        return False
    return arch not in _list(excludes.get("arches"))


def _rule(rule: JSONObject) -> JSONObject:
    names = _list(rule.get("names")) or ([rule["name"]] if isinstance(rule.get("name"), str) else [])
    converted: JSONObject = {k: rule[k] for k in _OCI_RULE_KEYS if k in rule}
    converted["names"] = names
    return converted


def oci_seccomp(profile: JSONObject, capabilities: tuple[str, ...] = (), arch: str = "amd64") -> JSONObject:
    """linux.seccomp from a profile as the kubelet reads `localhostProfile` (Docker's format): archMap
    flattened, `name` and `names` merged, rules kept only where their includes/excludes hold for this
    container's capabilities and architecture, comments dropped."""
    oci: JSONObject = {k: profile[k] for k in _OCI_SECCOMP_KEYS if k in profile}
    oci["architectures"] = _architectures(profile)
    rules = [r for r in _list(profile.get("syscalls")) if isinstance(r, dict)]
    oci["syscalls"] = [_rule(r) for r in rules if _applies(r, capabilities, arch)]
    return oci


def with_default_action(seccomp: JSONObject, action: str) -> JSONObject:
    """The same allow-list with another default action (e.g. SCMP_ACT_LOG: would-be denials logged)."""
    copy: JSONObject = {k: v for k, v in seccomp.items() if k != "defaultErrnoRet"}
    copy["defaultAction"] = action
    return copy


def allowed_names(seccomp: JSONObject) -> set[str]:
    """Every name an SCMP_ACT_ALLOW rule of the profile lists."""
    return {
        name
        for rule in _list(seccomp.get("syscalls"))
        if isinstance(rule, dict) and rule.get("action") == "SCMP_ACT_ALLOW"
        for name in _list(rule.get("names"))
        if isinstance(name, str)
    }


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)([A-Za-z]*)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "": 1}
_DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "m": 10**-3}


def memory_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity ('1Gi', '512M', '1073741824') in bytes."""
    match = _QUANTITY.match(quantity.strip())
    if not match or (match.group(2) not in _BINARY and match.group(2) not in _DECIMAL):
        raise ValueError(f"not a memory quantity: {quantity!r}")
    number, unit = float(match.group(1)), match.group(2)
    return int(number * (_BINARY.get(unit) or _DECIMAL[unit]))


def cpu_millis(quantity: str) -> int:
    """A Kubernetes CPU quantity ('1', '500m', '0.5') in millicores."""
    text = quantity.strip()
    if text.endswith("m"):
        return int(text[:-1])
    return int(float(text) * 1000)
