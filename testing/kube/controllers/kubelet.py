"""A kubelet for every node: pod status from the container runtime's verdict, logs, graceful deletion.

Behaviours (see runtime.py): RUN → Running and Ready; PULL_FAIL → ErrImagePull then ImagePullBackOff;
CRASH → restarts with CrashLoopBackOff and a rising restartCount; OOMKILL → the same, each instance
killed by the kernel (`lastState.terminated` reason OOMKilled, exit code 137; a cgroup OOM kill makes
no event of its own, pkg/kubelet/oom/oom_watcher_linux.go records only system OOMs, so the BackOff
events are what the pod shows); NEVER_READY → Running, never Ready; EVICT → Running, then evicted as
the node runs low on memory (below); a container with a command runs it to completion (its output
becomes the log of that container instance).

Every container instance has its own containerID and log (logs.py reads them as the kubelet does).
The back-off message is kuberuntime_manager.go doBackOff's: `back-off 20s restarting failed
container=<c> pod=<pod>_<ns>(<uid>)`.

Eviction (pkg/kubelet/eviction/eviction_manager.go, helpers.go): an `EvictionThresholdMet` Warning
on the Node (`Attempting to reclaim memory`), then the pod is killed with phase Failed, reason
Evicted, the message `The node was low on resource: memory. Threshold quantity: …, available: … .
Container <c> was using …, request is …, has larger consumption of memory. `, a DisruptionTarget
condition (reason TerminationByKubelet) and an `Evicted` Warning event. The fake node reclaims memory
once per owner: the ReplicaSet's replacement pod runs.

A deleted pod terminates gracefully (pkg/kubelet/kuberuntime killContainer): `Killing` events,
containers get SIGTERM and exit after STOP_SECONDS, or run on to the end of the grace period
(IGNORE_SIGTERM); until then the pod stays, Terminating. Then the kubelet's own delete with grace 0
removes it (once no finalizer holds it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..kinds import BY_KIND
from ..runtime import CRASH, EVICT, IGNORE_SIGTERM, NEVER_READY, OOMKILL, PULL_FAIL, STOP_SECONDS
from ..store import clone, now_rfc3339
from .base import POD, Controller, set_condition

NODE = BY_KIND["Node"]
EVICT_AFTER_SECONDS = 30.0  # fake seconds an EVICT pod runs before the node runs low on memory
EVICTION_THRESHOLD, EVICTION_AVAILABLE = "100Mi", "51200Ki"
EVICTED_USAGE = "1Gi"  # the working set the evicted container had grown to


@dataclass(frozen=True)
class Failure:
    """How an instance of a failing container ends, and what it wrote before."""

    exit_code: int
    reason: str
    output: str


FAILURES = {
    CRASH: Failure(1, "Error", "panic: cannot start: exit status 1\n"),
    OOMKILL: Failure(137, "OOMKilled", "loading the catalogue into memory\nallocated 512Mi for the cache\n"),
}


@dataclass
class ContainerRun:
    restarts: int = 0
    backoffs: int = 0
    last_start: float = 0.0
    exit_code: int | None = None
    started_at: str = ""
    finished_at: str = ""
    instance: int = 0  # how many instances of the container have started


@dataclass
class PodRun:
    started: float
    containers: dict[str, ContainerRun] = field(default_factory=dict)
    stopping: float | None = None  # when the kubelet sent SIGTERM (fake clock)


class Kubelet(Controller):
    def __init__(self, fake):
        super().__init__(fake)
        self.runs: dict[str, PodRun] = {}
        self.reclaimed_from: set[str] = set()  # owners (or pods) the node has already evicted from

    def tick(self) -> None:
        for pod in self.store.list(POD):
            if not pod["spec"].get("nodeName"):
                continue
            if pod["metadata"].get("deletionTimestamp"):
                self._terminate(pod)
            elif pod["status"].get("phase") not in ("Succeeded", "Failed"):
                self.sync(pod)

    def _terminate(self, pod: dict) -> None:
        run = self.runs.get(pod["metadata"]["uid"])
        if run is not None:
            if run.stopping is None:
                run.stopping = self.fake.clock.mono()
                for c in pod["spec"]["containers"]:
                    if run.containers.get(c["name"], ContainerRun()).started_at:
                        self.event(
                            POD, pod, "Normal", "Killing", f"Stopping container {c['name']}", "kubelet"
                        )
            grace = pod["metadata"].get("deletionGracePeriodSeconds") or 0
            if self.fake.clock.elapsed(run.stopping) < min(grace, self._stop_seconds(pod, run)):
                return
            self.runs.pop(pod["metadata"]["uid"])
        self.api.mark_deleted(POD, pod, "Background", 0)

    def _stop_seconds(self, pod: dict, run: PodRun) -> float:
        """How long the pod's containers take to exit after SIGTERM (0 for those not running)."""
        longest = 0.0
        for c in pod["spec"]["containers"]:
            state = run.containers.get(c["name"])
            if state is None or not state.started_at or state.exit_code is not None:
                continue
            ignores = self.fake.runtime.behaviour(c["image"]) == IGNORE_SIGTERM
            longest = max(longest, float("inf") if ignores else STOP_SECONDS)
        return longest

    def sync(self, pod: dict) -> None:
        uid = pod["metadata"]["uid"]
        if uid not in self.runs:
            self.runs[uid] = PodRun(self.fake.clock.mono())
            return self._creating(pod)
        run = self.runs[uid]
        if self._evicting(pod, run):
            return self._evict(pod, run)
        statuses = [self._container(pod, run, c) for c in pod["spec"]["containers"]]
        self._write(pod, statuses)
        return None

    def _evicting(self, pod: dict, run: PodRun) -> bool:
        """An EVICT pod that has run long enough, whose owner the node has not yet evicted from."""
        images = [c["image"] for c in pod["spec"]["containers"]]
        if not any(self.fake.runtime.behaviour(i) == EVICT for i in images):
            return False
        return self.fake.clock.elapsed(run.started) >= EVICT_AFTER_SECONDS and (
            _owner(pod) not in self.reclaimed_from
        )

    def _evict(self, pod: dict, run: PodRun) -> None:
        """The eviction manager's kill: the pod fails with reason Evicted and says why."""
        self.reclaimed_from.add(_owner(pod))
        node = self.store.get(NODE, "", pod["spec"]["nodeName"])
        if node is not None:
            self.event(
                NODE, node, "Warning", "EvictionThresholdMet", "Attempting to reclaim memory", "kubelet"
            )
        message = (
            "The node was low on resource: memory. "
            f"Threshold quantity: {EVICTION_THRESHOLD}, available: {EVICTION_AVAILABLE}. "
        )
        for c in pod["spec"]["containers"]:
            request = ((c.get("resources") or {}).get("requests") or {}).get("memory", "0")
            message += (
                f"Container {c['name']} was using {EVICTED_USAGE}, request is {request}, "
                "has larger consumption of memory. "
            )
        self.event(POD, pod, "Warning", "Evicted", message, "kubelet")
        statuses = []
        for c in pod["spec"]["containers"]:
            state = run.containers.setdefault(c["name"], ContainerRun())
            self.event(POD, pod, "Normal", "Killing", f"Stopping container {c['name']}", "kubelet")
            ended = {
                "exitCode": 137,
                "reason": "Error",
                "startedAt": state.started_at or now_rfc3339(),
                "finishedAt": now_rfc3339(),
            }
            if state.instance:
                ended["containerID"] = _container_id(pod, c, state)
            statuses.append(_status(c, {"terminated": ended}, False, state.restarts, last=None))
        new = clone(pod)
        status = new["status"]
        status.update(phase="Failed", reason="Evicted", message=message, containerStatuses=statuses)
        conditions = status.get("conditions") or []
        conditions = set_condition(conditions, "DisruptionTarget", "True", "TerminationByKubelet", message)
        for type_ in ("Ready", "ContainersReady"):
            conditions = set_condition(conditions, type_, "False", "PodFailed", "")
        status["conditions"] = [_tidy(c) for c in conditions]
        self.save(POD, new, pod)

    def _creating(self, pod: dict) -> None:
        new = clone(pod)
        status = new["status"]
        status.update(
            hostIP="10.0.0.10",
            podIP=f"10.1.{len(self.runs) % 250}.{len(self.runs) // 250 + 2}",
            startTime=now_rfc3339(),
            phase="Pending",
        )
        status["podIPs"] = [{"ip": status["podIP"]}]
        conditions = status.get("conditions") or []
        for type_ in ("Initialized", "Ready", "ContainersReady"):
            conditions = set_condition(
                conditions,
                type_,
                "True" if type_ == "Initialized" else "False",
                "" if type_ == "Initialized" else "ContainersNotReady",
                "",
            )
        status["conditions"] = [_tidy(c) for c in conditions]
        status["containerStatuses"] = [
            _status(c, {"waiting": {"reason": "ContainerCreating"}}, False, 0)
            for c in pod["spec"]["containers"]
        ]
        self.save(POD, new, pod)
        for c in pod["spec"]["containers"]:
            self.event(POD, pod, "Normal", "Pulling", f'Pulling image "{c["image"]}"', "kubelet")

    def _container(self, pod: dict, run: PodRun, c: dict) -> dict:
        behaviour = self.fake.runtime.behaviour(c["image"])
        state = run.containers.setdefault(c["name"], ContainerRun())
        if behaviour == PULL_FAIL:
            return self._pull_failure(pod, c, state)
        if c.get("command") or c.get("args"):
            return self._run_to_completion(pod, c, state)
        if behaviour in FAILURES:
            return self._failing(pod, c, state, FAILURES[behaviour])
        if not state.started_at:
            state.started_at = now_rfc3339()
            self._started(pod, c, state)
            if behaviour == NEVER_READY:
                self.event(
                    POD,
                    pod,
                    "Warning",
                    "Unhealthy",
                    "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    "kubelet",
                )
        running = {"running": {"startedAt": state.started_at}}
        return _status(
            c, running, behaviour != NEVER_READY, 0, started=True, container_id=_container_id(pod, c, state)
        )

    def _started(self, pod: dict, c: dict, state: ContainerRun) -> None:
        self.event(POD, pod, "Normal", "Pulled", f'Successfully pulled image "{c["image"]}"', "kubelet")
        self.event(POD, pod, "Normal", "Created", f"Created container {c['name']}", "kubelet")
        self.event(POD, pod, "Normal", "Started", f"Started container {c['name']}", "kubelet")
        state.instance += 1
        self.fake.append_log(_container_id(pod, c, state), f"{c['name']}: started {c['image']}\n")

    def _pull_failure(self, pod: dict, c: dict, state: ContainerRun) -> dict:
        first = state.restarts == 0
        state.restarts = max(state.restarts, 1)
        if first:
            self.event(
                POD,
                pod,
                "Warning",
                "Failed",
                f'Failed to pull image "{c["image"]}": rpc error: code = '
                "NotFound desc = failed to pull and unpack image: not found",
                "kubelet",
            )
            self.event(POD, pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet")
            return _status(c, {"waiting": {"reason": "ErrImagePull", "message": "image not found"}}, False, 0)
        clock = self.fake.clock
        if state.last_start == 0.0 or clock.elapsed(state.last_start) >= self._backoff(state):
            # The kubelet retries a pull after a back-off, not on every sync; so do its events.
            state.last_start = clock.mono()
            state.backoffs += 1
            self.event(POD, pod, "Normal", "BackOff", f'Back-off pulling image "{c["image"]}"', "kubelet")
            self.event(POD, pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet")
        return _status(
            c,
            {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{c["image"]}"'}},
            False,
            0,
        )

    def _backoff(self, state: ContainerRun) -> float:
        """The kubelet's back-off: crash_backoff (10 s) doubling per retry, at most 5 minutes."""
        return min(self.fake.crash_backoff * 2 ** max(state.backoffs - 1, 0), 300.0)

    def _failing(self, pod: dict, c: dict, state: ContainerRun, failure: Failure) -> dict:
        """A container whose every instance ends in `failure`: restarted after a doubling back-off."""
        clock = self.fake.clock
        if state.last_start == 0.0 or clock.elapsed(state.last_start) >= self._backoff(state):
            if state.last_start:
                state.restarts += 1
                state.backoffs += 1
                self.event(
                    POD,
                    pod,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {c['name']} in pod {_pod_ref(pod)}",
                    "kubelet",
                )
            state.last_start = clock.mono()
            state.started_at = now_rfc3339()
            state.instance += 1
            self.fake.append_log(_container_id(pod, c, state), failure.output)
        container_id = _container_id(pod, c, state)
        if state.restarts == 0:
            running = {"running": {"startedAt": state.started_at}}
            return _status(c, running, False, 0, started=True, container_id=container_id)
        last = {
            "terminated": {
                "exitCode": failure.exit_code,
                "reason": failure.reason,
                "startedAt": state.started_at,
                "finishedAt": state.started_at,
                "containerID": container_id,
            }
        }
        waiting = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {_duration(self._backoff(state))} restarting failed "
                f"container={c['name']} pod={_pod_ref(pod)}",
            }
        }
        return _status(c, waiting, False, state.restarts, last=last, container_id=container_id)

    def _run_to_completion(self, pod: dict, c: dict, state: ContainerRun) -> dict:
        if state.exit_code is None:
            state.started_at = now_rfc3339()
            state.instance += 1
            result = self.fake.runtime.run(pod["metadata"]["namespace"], pod["spec"], c)
            self.fake.append_log(_container_id(pod, c, state), result.output)
            state.exit_code, state.finished_at = result.exit_code, now_rfc3339()
            for reason, text in (
                ("Pulled", f'Container image "{c["image"]}" already present on machine'),
                ("Created", f"Created container {c['name']}"),
                ("Started", f"Started container {c['name']}"),
            ):
                self.event(POD, pod, "Normal", reason, text, "kubelet")
            running = {"running": {"startedAt": state.started_at}}
            return _status(c, running, True, 0, started=True, container_id=_container_id(pod, c, state))
        reason = "Completed" if state.exit_code == 0 else "Error"
        container_id = _container_id(pod, c, state)
        term = {
            "terminated": {
                "exitCode": state.exit_code,
                "reason": reason,
                "startedAt": state.started_at,
                "finishedAt": state.finished_at,
                "containerID": container_id,
            }
        }
        return _status(c, term, False, 0, started=False, container_id=container_id)

    def _write(self, pod: dict, statuses: list[dict]) -> None:
        new = clone(pod)
        status = new["status"]
        status["containerStatuses"] = statuses
        states = [next(iter(s["state"])) for s in statuses]
        if all(s == "terminated" for s in states):
            codes = [s["state"]["terminated"]["exitCode"] for s in statuses]
            status["phase"] = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        elif any(s in ("running", "terminated") for s in states) or any(
            s.get("restartCount") for s in statuses
        ):
            status["phase"] = "Running"
        ready = all(s["ready"] for s in statuses) and status["phase"] == "Running"
        conditions = status.get("conditions") or []
        for type_ in ("Ready", "ContainersReady"):
            conditions = set_condition(
                conditions, type_, "True" if ready else "False", "" if ready else "ContainersNotReady", ""
            )
        if status["phase"] in ("Succeeded", "Failed"):
            conditions = set_condition(conditions, "Ready", "False", "PodCompleted", "")
        status["conditions"] = [_tidy(c) for c in conditions]
        self.save(POD, new, pod)


def _tidy(c: dict) -> dict:
    return {k: v for k, v in c.items() if v != ""}


def _owner(pod: dict) -> str:
    """Who the node evicts from once: the controller that owns the pod, else the pod itself."""
    owners = pod["metadata"].get("ownerReferences") or []
    return owners[0]["uid"] if owners else pod["metadata"]["uid"]


def _pod_ref(pod: dict) -> str:
    """klog's format.Pod: `<name>_<namespace>(<uid>)`."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta['namespace']}({meta['uid']})"


def _duration(seconds: float) -> str:
    """A Go time.Duration as it prints: `10s`, `1m20s`, `5m0s`."""
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60}s" if whole >= 60 else f"{whole}s"


def _container_id(pod: dict, c: dict, state: ContainerRun) -> str:
    """The runtime's id of the container's current instance (containerd's 64 hex digits)."""
    seed = f"{pod['metadata']['uid']}/{c['name']}/{state.instance}"
    return "containerd://" + hashlib.sha256(seed.encode()).hexdigest()


def _status(
    c: dict,
    state: dict,
    ready: bool,
    restarts: int,
    started: bool = False,
    last: dict | None = None,
    container_id: str = "",
) -> dict:
    image = c["image"]
    status = {
        "name": c["name"],
        "image": image,
        "imageID": "" if "waiting" in state else f"docker.io/library/{image.split('@')[0]}@sha256:{'0' * 64}",
        "ready": ready,
        "restartCount": restarts,
        "started": started,
        "state": state,
        "lastState": last or {},
    }
    if container_id:
        status["containerID"] = container_id
    return status
