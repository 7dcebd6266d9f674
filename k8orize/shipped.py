"""What ships, read back from OUT: the Dockerfile's final stage and the app's Deployment.

The runtime checks start the container from these files, not from what the engine meant to write, so
they run what a kubelet would run: the image's ENV, USER, WORKDIR and CMD, overlaid by the pod's env,
securityContext, emptyDirs, probes and limits.
"""

from __future__ import annotations

import base64
import json
import posixpath
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import messages
from .errors import K8orizeError
from .jsontypes import JSON
from .oci import DEFAULT_PATH, ContainerSpec, Resources, cpu_millis, memory_bytes


class ShippedUnreadable(K8orizeError):
    """OUT's Dockerfile or Deployment does not say what the container needs (the message says what)."""


@dataclass(frozen=True)
class ImageConfig:
    """The final stage of a Dockerfile, as the built image's config records it."""

    env: tuple[tuple[str, str], ...] = ()
    user: str | None = None
    workdir: str = "/"
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()


@dataclass(frozen=True)
class PodProbe:
    """One kubelet check: an HTTP GET, a TCP connect or a command, and how long start-up may take."""

    kind: str  # "startup" | "readiness" | "liveness" | "metrics"
    action: str  # "http" | "tcp" | "exec"
    port: int | None = None
    path: str = "/"
    command: tuple[str, ...] = ()
    budget_seconds: float = 30.0  # initialDelay + period x failureThreshold


@dataclass(frozen=True)
class ShippedPod:
    """The container as the kubelet would start it, and what it would check."""

    container: ContainerSpec
    port: int
    probes: tuple[PodProbe, ...]
    grace_seconds: float
    namespace: str
    seccomp: tuple[str, str | None]  # the seccompProfile's type and localhostProfile


# -- the Dockerfile -------------------------------------------------------------------------------------
def _instructions(text: str) -> Iterator[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments skipped."""
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).strip().partition(" ")
        pending = ""
        yield keyword.upper(), rest.strip()


def _exec_form(rest: str) -> tuple[str, ...]:
    """CMD/ENTRYPOINT: the JSON exec form, or the shell form run by /bin/sh -c."""
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
    return ("/bin/sh", "-c", rest)


def _env_pairs(rest: str) -> list[tuple[str, str]]:
    """`ENV A=1 B="two words"` (shell quoting) or the legacy `ENV A one value`."""
    words = shlex.split(rest)
    if words and "=" not in words[0]:
        return [(words[0], rest.partition(" ")[2].strip())]
    return [(w.partition("=")[0], w.partition("=")[2]) for w in words]


def read_dockerfile(text: str) -> ImageConfig:
    """The config the final stage gives the image (ENV, USER, WORKDIR, ENTRYPOINT, CMD)."""
    env: dict[str, str] = {}
    user, workdir = None, "/"
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    for keyword, rest in _instructions(text):
        if keyword == "FROM":  # a new stage: nothing of the previous one reaches the image config
            env, user, workdir, entrypoint, cmd = {}, None, "/", (), ()
        elif keyword == "ENV":
            env.update(_env_pairs(rest))
        elif keyword == "USER":
            user = rest
        elif keyword == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir, rest))
        elif keyword == "ENTRYPOINT":
            entrypoint, cmd = _exec_form(rest), ()  # a new ENTRYPOINT resets an inherited CMD
        elif keyword == "CMD":
            cmd = _exec_form(rest)
    return ImageConfig(tuple(env.items()), user, workdir, entrypoint, cmd)


# -- the Deployment -------------------------------------------------------------------------------------
def _objects(manifests: Path) -> list[Mapping[str, JSON]]:
    found: list[Mapping[str, JSON]] = []
    for path in sorted(manifests.glob("*.yaml")):
        found += [o for o in yaml.safe_load_all(path.read_text()) if isinstance(o, dict)]
    return found


def _deployment(objects: list[Mapping[str, JSON]], name: str) -> Mapping[str, JSON]:
    for obj in objects:
        meta = _obj(obj.get("metadata"))
        if obj.get("kind") == "Deployment" and meta.get("name") == name:
            return obj
    raise ShippedUnreadable(messages.NO_DEPLOYMENT.format(name=name))


def _obj(value: JSON | None) -> Mapping[str, JSON]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: JSON | None) -> list[JSON]:
    return list(value) if isinstance(value, list) else []


def _int(value: JSON | None, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _config_value(objects: list[Mapping[str, JSON]], kind: str, name: JSON, key: JSON) -> str | None:
    """A key of a Secret or ConfigMap among the manifests (data is base64 in a Secret)."""
    for obj in objects:
        if obj.get("kind") != kind or _obj(obj.get("metadata")).get("name") != name:
            continue
        plain = _obj(obj.get("stringData") if kind == "Secret" else obj.get("data")).get(str(key))
        if isinstance(plain, str):
            return plain
        encoded = _obj(obj.get("data")).get(str(key)) if kind == "Secret" else None
        return base64.b64decode(encoded).decode() if isinstance(encoded, str) else None
    return None


def _env_value(
    item: Mapping[str, JSON], objects: list[Mapping[str, JSON]], secrets: Mapping[str, str], pod: str
) -> str:
    """An env entry's value: literal, from a Secret/ConfigMap in OUT or the caller, or the pod name."""
    if "value" in item:
        return str(item["value"])
    source, name = _obj(item.get("valueFrom")), str(item.get("name"))
    field_path = _obj(source.get("fieldRef")).get("fieldPath")
    if field_path == "metadata.name":
        return pod
    for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
        ref = _obj(source.get(key))
        if ref:
            value = _config_value(objects, kind, ref.get("name"), ref.get("key"))
            value = value if value is not None else secrets.get(name)
            if value is None:
                raise ShippedUnreadable(
                    messages.ENV_SOURCE_MISSING.format(var=name, kind=kind, ref=dict(ref))
                )
            return value
    raise ShippedUnreadable(messages.ENV_SOURCE_UNSUPPORTED.format(var=name))


def _budget(probe: Mapping[str, JSON]) -> float:
    delay, period = _int(probe.get("initialDelaySeconds"), 0), _int(probe.get("periodSeconds"), 10)
    return float(delay + period * _int(probe.get("failureThreshold"), 3))


def _port(value: JSON | None, named: Mapping[str, int], default: int) -> int:
    if isinstance(value, str) and value in named:
        return named[value]
    return _int(value, default)


def _probe(kind: str, probe: Mapping[str, JSON], named: Mapping[str, int], default: int) -> PodProbe:
    budget = _budget(probe)
    http, tcp, command = _obj(probe.get("httpGet")), _obj(probe.get("tcpSocket")), _obj(probe.get("exec"))
    if http:
        path = str(http.get("path") or "/")
        return PodProbe(kind, "http", _port(http.get("port"), named, default), path, budget_seconds=budget)
    if tcp:
        return PodProbe(kind, "tcp", _port(tcp.get("port"), named, default), budget_seconds=budget)
    if command:
        argv = tuple(str(a) for a in _seq(command.get("command")))
        return PodProbe(kind, "exec", command=argv, budget_seconds=budget)
    raise ShippedUnreadable(messages.PROBE_UNSUPPORTED.format(kind=kind, probe=dict(probe)))


def _probes(
    container: Mapping[str, JSON], annotations: Mapping[str, JSON], port: int
) -> tuple[PodProbe, ...]:
    named = {
        str(p.get("name")): _int(p.get("containerPort"), port)
        for p in map(_obj, _seq(container.get("ports")))
    }
    found = [
        _probe(kind, _obj(container.get(f"{kind}Probe")), named, port)
        for kind in ("startup", "readiness", "liveness")
        if container.get(f"{kind}Probe")
    ]
    if annotations.get("prometheus.io/scrape") == "true":
        metrics_port = int(str(annotations.get("prometheus.io/port") or port))
        found.append(
            PodProbe(
                "metrics", "http", metrics_port, str(annotations.get("prometheus.io/path") or "/metrics")
            )
        )
    return tuple(found)


def _security(pod: Mapping[str, JSON], container: Mapping[str, JSON]) -> dict[str, JSON]:
    """The effective securityContext: the container's settings over the pod's."""
    return {**_obj(pod.get("securityContext")), **_obj(container.get("securityContext"))}


def _identity(image: ImageConfig, security: Mapping[str, JSON]) -> tuple[int, int]:
    """UID and GID as the kubelet decides them: runAsUser/runAsGroup over the image's numeric USER."""
    user, _, group = (image.user or "0").partition(":")
    if "runAsUser" not in security and not user.isdigit():
        raise ShippedUnreadable(messages.USER_NOT_NUMERIC.format(user=image.user))
    uid = _int(security.get("runAsUser"), int(user) if user.isdigit() else 0)
    gid = _int(security.get("runAsGroup"), int(group) if group.isdigit() else 0)
    if security.get("runAsNonRoot") is True and uid == 0:
        raise ShippedUnreadable(messages.RUNS_AS_ROOT)
    return uid, gid


DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
)  # fmt: skip


def _capabilities(security: Mapping[str, JSON]) -> tuple[str, ...]:
    """containerd's default set minus `drop` plus `add` (`drop: [ALL]` empties it)."""
    caps = _obj(security.get("capabilities"))
    names = {f"CAP_{str(c).upper().removeprefix('CAP_')}" for c in _seq(caps.get("drop"))}
    kept = () if "CAP_ALL" in names else tuple(c for c in DEFAULT_CAPABILITIES if c not in names)
    added = tuple(f"CAP_{str(c).upper().removeprefix('CAP_')}" for c in _seq(caps.get("add")))
    return tuple(dict.fromkeys(kept + added))


def _scratch(pod: Mapping[str, JSON], container: Mapping[str, JSON]) -> tuple[str, ...]:
    """The container's emptyDir mount paths; any other kind of volume is outside what the check mounts."""
    volumes = {str(v.get("name")): v for v in map(_obj, _seq(pod.get("volumes")))}
    paths = []
    for mount in map(_obj, _seq(container.get("volumeMounts"))):
        volume = volumes.get(str(mount.get("name")), {})
        if "emptyDir" not in volume:
            raise ShippedUnreadable(messages.VOLUME_UNSUPPORTED.format(volume=mount.get("name")))
        paths.append(str(mount.get("mountPath")))
    return tuple(paths)


def _resources(container: Mapping[str, JSON]) -> Resources:
    limits = _obj(_obj(container.get("resources")).get("limits"))
    memory, cpu = limits.get("memory"), limits.get("cpu")
    return Resources(
        memory_bytes(str(memory)) if memory is not None else None,
        cpu_millis(str(cpu)) if cpu is not None else None,
    )


def _environment(image: ImageConfig, container_env: list[tuple[str, str]], hostname: str) -> tuple[str, ...]:
    """The image's ENV (PATH as containerd defaults it), HOSTNAME, then the container's env over them."""
    env = {"PATH": DEFAULT_PATH, **dict(image.env), "HOSTNAME": hostname}
    env.update(container_env)
    return tuple(f"{k}={v}" for k, v in env.items())


def _argv(image: ImageConfig, container: Mapping[str, JSON]) -> tuple[str, ...]:
    """Kubernetes: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD."""
    command = tuple(str(a) for a in _seq(container.get("command")))
    args = tuple(str(a) for a in _seq(container.get("args")))
    argv = (command or image.entrypoint) + (args or (image.cmd if not command else ()))
    if not argv:
        raise ShippedUnreadable(messages.NO_COMMAND)
    return argv


def _only_container(pod: Mapping[str, JSON], name: str) -> Mapping[str, JSON]:
    containers = [_obj(c) for c in _seq(pod.get("containers"))]
    if len(containers) != 1:
        raise ShippedUnreadable(messages.NOT_ONE_CONTAINER.format(name=name, count=len(containers)))
    return containers[0]


def _groups(pod: Mapping[str, JSON]) -> tuple[int, ...]:
    """fsGroup, then supplementalGroups: the container's additional groups."""
    context = _obj(pod.get("securityContext"))
    groups = [_int(context.get("fsGroup"), -1)] + [
        _int(g, -1) for g in _seq(context.get("supplementalGroups"))
    ]
    return tuple(g for g in dict.fromkeys(groups) if g >= 0)


def _seccomp(security: Mapping[str, JSON]) -> tuple[str, str | None]:
    """(type, localhostProfile) of the effective seccompProfile; Unconfined when none is set."""
    profile = _obj(security.get("seccompProfile"))
    localhost = profile.get("localhostProfile")
    return str(profile.get("type") or "Unconfined"), str(localhost) if localhost else None


def _container_spec(
    image: ImageConfig,
    pod: Mapping[str, JSON],
    container: Mapping[str, JSON],
    env: list[tuple[str, str]],
    host: str,
) -> ContainerSpec:
    security = _security(pod, container)
    uid, gid = _identity(image, security)
    return ContainerSpec(
        args=_argv(image, container),
        env=_environment(image, env, host),
        cwd=str(container.get("workingDir") or image.workdir),
        uid=uid,
        gid=gid,
        hostname=host,
        additional_gids=_groups(pod),
        scratch=_scratch(pod, container),
        read_only_root=security.get("readOnlyRootFilesystem") is True,
        no_new_privileges=security.get("allowPrivilegeEscalation") is False,
        capabilities=_capabilities(security),
        resources=_resources(container),
    )


def read_pod(out: Path, name: str, secrets: Mapping[str, str] | None = None) -> ShippedPod:
    """The container of Deployment `name` in OUT/manifests over the image OUT/Dockerfile builds.

    `secrets`: values for env entries that come from a Secret not among the manifests, by variable name.
    """
    image = read_dockerfile((out / "Dockerfile").read_text())
    objects = _objects(out / "manifests")
    deployment = _deployment(objects, name)
    template = _obj(_obj(deployment.get("spec")).get("template"))
    pod, meta = _obj(template.get("spec")), _obj(template.get("metadata"))
    container, host = _only_container(pod, name), f"{name}-k8or-verify"[:63]
    env = [
        (str(e.get("name")), _env_value(e, objects, secrets or {}, host))
        for e in map(_obj, _seq(container.get("env")))
    ]
    port = next((_int(p.get("containerPort"), 0) for p in map(_obj, _seq(container.get("ports")))), 0)
    return ShippedPod(
        container=_container_spec(image, pod, container, env, host),
        port=port,
        probes=_probes(container, _obj(meta.get("annotations")), port),
        grace_seconds=float(_int(pod.get("terminationGracePeriodSeconds"), 30)),
        namespace=str(_obj(deployment.get("metadata")).get("namespace") or "default"),
        seccomp=_seccomp(_security(pod, container)),
    )
