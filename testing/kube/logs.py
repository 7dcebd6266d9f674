"""`GET pods/<name>/log`: which container, which of its instances, and how much of its log.

The API server picks and checks the container (pkg/registry/core/pod/strategy.go LogLocation: 400
`a container name must be specified for pod <pod>, choose one of: [<names>]`, `container <c> is
not valid for pod <pod>`), and streams nothing, with 200, for a pod not yet on a node. The kubelet
answers for the rest (pkg/kubelet/kubelet_pods.go validateContainerLogStatus), choosing the container
instance by its status:
- `previous=true`: the last terminated instance (`lastState.terminated.containerID`), else 400
  `previous terminated container "<c>" in pod "<pod>" not found`;
- otherwise the running instance, else the terminated one, else the last terminated one: a container
  waiting in CrashLoopBackOff shows the instance that just crashed;
- a container that has never run is a 400 — `container "<c>" in pod "<pod>" is waiting to start:
  <reason>`, with `image can't be pulled` for ErrImagePull and `trying and failing to pull image`
  for ImagePullBackOff.
Logs are kept per container instance (its containerID), as the runtime keeps one file per instance.
`tailLines` keeps the last lines and `limitBytes` cuts the stream (PodLogOptions;
pkg/apis/core/validation ValidatePodLogOptions refuses a negative tailLines and a limitBytes below 1).
"""

from __future__ import annotations

from collections.abc import Mapping

from .statuses import ApiError, bad_request

_WAITING = {
    "ErrImagePull": "image can't be pulled",
    "ImagePullBackOff": "trying and failing to pull image",
}


def container_for(pod: dict, container: str | None) -> str:
    """The container a log request means, as LogLocation chooses or refuses it."""
    name = pod["metadata"]["name"]
    names = [c["name"] for c in pod["spec"].get("containers") or []]
    init = [c["name"] for c in pod["spec"].get("initContainers") or []]
    if not container:
        if len(names) == 1:
            return names[0]
        message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        raise bad_request(message)
    if container not in names + init:
        raise bad_request(f"container {container} is not valid for pod {name}")
    return container


def instance_of(pod: dict, container: str, previous: bool = False) -> str:
    """The containerID whose log the kubelet streams, or its refusal (validateContainerLogStatus)."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    statuses = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    found = next((s for s in statuses if s.get("name") == container), None)
    if found is None:
        raise bad_request(f'container "{container}" in pod "{name}" is not available')
    state, last = found.get("state") or {}, (found.get("lastState") or {}).get("terminated")
    if previous:
        if not last or not last.get("containerID"):
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        return str(last["containerID"])
    if "running" in state:
        return str(found.get("containerID", ""))
    terminated = state.get("terminated")
    if terminated is not None or last is not None:
        chosen = (terminated or {}).get("containerID") or (last or {}).get("containerID")
        if not chosen:
            raise bad_request(f'container "{container}" in pod "{name}" is terminated')
        return str(chosen)
    reason = (state.get("waiting") or {}).get("reason")
    if reason is None:
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start - no logs yet')
    raise bad_request(
        f'container "{container}" in pod "{name}" is waiting to start: {_WAITING.get(reason, reason)}'
    )


def check_started(pod: dict, container: str) -> None:
    """The kubelet's refusal for a container with no log yet; returns quietly when it has one."""
    instance_of(pod, container)


def _count(options: Mapping[str, str], key: str, least: int) -> int | None:
    raw = options.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{key}: invalid value {raw!r}") from None
    if value < least:
        comparison = "greater than or equal to 0" if least == 0 else "greater than 0"
        raise ApiError(
            422,
            "Invalid",
            f'PodLogOptions "" is invalid: {key}: Invalid value: {value}: must be {comparison}',
        )
    return value


def trimmed(text: str, options: Mapping[str, str]) -> str:
    """The last `tailLines` lines, then at most `limitBytes` bytes of them."""
    tail, limit = _count(options, "tailLines", 0), _count(options, "limitBytes", 1)
    if tail is not None:
        lines = text.splitlines(keepends=True)
        text = "".join(lines[len(lines) - tail :]) if tail else ""
    if limit is not None:
        text = text.encode()[:limit].decode(errors="ignore")
    return text


def read(
    pod: dict,
    container: str | None,
    logs: dict[str, str],
    options: Mapping[str, str] | None = None,
) -> str:
    """The log text the API server streams back (refusals raise ApiError)."""
    options = options or {}
    chosen = container_for(pod, container)
    if not pod["spec"].get("nodeName"):
        return ""  # no node yet: an empty stream, not an error
    instance = instance_of(pod, chosen, options.get("previous") == "true")
    return trimmed(logs.get(instance, ""), options)
