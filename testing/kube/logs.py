"""`GET pods/<name>/log`: which container, and whether the kubelet has anything to give yet.

The API server picks and checks the container (pkg/registry/core/pod/strategy.go LogLocation: 400
`a container name must be specified for pod <pod>, choose one of: [<names>]`, `container <c> is
not valid for pod <pod>`), and streams nothing, with 200, for a pod not yet on a node. The kubelet
answers for the rest (pkg/kubelet/kubelet_pods.go validateContainerLogStatus): a container that has
never run is a 400 — `container "<c>" in pod "<pod>" is waiting to start: <reason>`, with `image
can't be pulled` for ErrImagePull and `trying and failing to pull image` for ImagePullBackOff.
"""

from __future__ import annotations

from .statuses import bad_request

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


def check_started(pod: dict, container: str) -> None:
    """The kubelet's refusal for a container with no log yet; returns quietly when it has one."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    statuses = (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or [])
    found = next((s for s in statuses if s.get("name") == container), None)
    if found is None:
        raise bad_request(f'container "{container}" in pod "{name}" is not available')
    state, last = found.get("state") or {}, found.get("lastState") or {}
    if "running" in state or "terminated" in state or "terminated" in last:
        return
    reason = (state.get("waiting") or {}).get("reason")
    if reason is None:
        raise bad_request(f'container "{container}" in pod "{name}" is waiting to start - no logs yet')
    raise bad_request(
        f'container "{container}" in pod "{name}" is waiting to start: {_WAITING.get(reason, reason)}'
    )


def read(pod: dict, container: str | None, logs: dict[tuple[str, str, str], str]) -> str:
    """The log text the API server streams back (refusals raise ApiError)."""
    chosen = container_for(pod, container)
    if not pod["spec"].get("nodeName"):
        return ""  # no node yet: an empty stream, not an error
    check_started(pod, chosen)
    meta = pod["metadata"]
    return logs.get((meta["namespace"], meta["name"], chosen), "")
