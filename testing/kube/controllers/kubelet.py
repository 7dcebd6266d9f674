"""A kubelet for every node: pod status from the container runtime's verdict, logs, graceful deletion.

Behaviours (see runtime.py): RUN → Running and Ready; PULL_FAIL → ErrImagePull then ImagePullBackOff;
CRASH → restarts with CrashLoopBackOff and a rising restartCount; NEVER_READY → Running, never Ready;
a container with a command runs it to completion (its output becomes the pod's log).

A deleted pod terminates gracefully (pkg/kubelet/kuberuntime killContainer): `Killing` events,
containers get SIGTERM and exit after STOP_SECONDS, or run on to the end of the grace period
(IGNORE_SIGTERM); until then the pod stays, Terminating. Then the kubelet's own delete with grace 0
removes it (once no finalizer holds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..runtime import CRASH, IGNORE_SIGTERM, NEVER_READY, PULL_FAIL, STOP_SECONDS
from ..store import clone, now_rfc3339
from .base import POD, Controller, set_condition


@dataclass
class ContainerRun:
    restarts: int = 0
    backoffs: int = 0
    last_start: float = 0.0
    exit_code: int | None = None
    started_at: str = ""
    finished_at: str = ""


@dataclass
class PodRun:
    started: float
    containers: dict[str, ContainerRun] = field(default_factory=dict)
    stopping: float | None = None  # when the kubelet sent SIGTERM (fake clock)


class Kubelet(Controller):
    def __init__(self, fake):
        super().__init__(fake)
        self.runs: dict[str, PodRun] = {}

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
        statuses = [self._container(pod, run, c) for c in pod["spec"]["containers"]]
        self._write(pod, statuses)
        return None

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
        if behaviour == CRASH:
            return self._crash(pod, c, state)
        if not state.started_at:
            state.started_at = now_rfc3339()
            self._started(pod, c)
            if behaviour == NEVER_READY:
                self.event(
                    POD,
                    pod,
                    "Warning",
                    "Unhealthy",
                    "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    "kubelet",
                )
        return _status(
            c, {"running": {"startedAt": state.started_at}}, behaviour != NEVER_READY, 0, started=True
        )

    def _started(self, pod: dict, c: dict) -> None:
        self.event(POD, pod, "Normal", "Pulled", f'Successfully pulled image "{c["image"]}"', "kubelet")
        self.event(POD, pod, "Normal", "Created", f"Created container {c['name']}", "kubelet")
        self.event(POD, pod, "Normal", "Started", f"Started container {c['name']}", "kubelet")
        self.fake.append_log(pod, c["name"], f"{c['name']}: started {c['image']}\n")

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

    def _crash(self, pod: dict, c: dict, state: ContainerRun) -> dict:
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
                    f"Back-off restarting failed container {c['name']} in "
                    f"pod {pod['metadata']['name']}_{pod['metadata']['namespace']}",
                    "kubelet",
                )
            state.last_start = clock.mono()
            state.started_at = now_rfc3339()
            self.fake.append_log(pod, c["name"], "panic: cannot start: exit status 1\n")
        if state.restarts == 0:
            return _status(c, {"running": {"startedAt": state.started_at}}, False, 0, started=True)
        last = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": state.started_at,
                "finishedAt": state.started_at,
            }
        }
        waiting = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 10s restarting failed "
                f"container={c['name']} pod={pod['metadata']['name']}_{pod['metadata']['namespace']}",
            }
        }
        return _status(c, waiting, False, state.restarts, last=last)

    def _run_to_completion(self, pod: dict, c: dict, state: ContainerRun) -> dict:
        if state.exit_code is None:
            state.started_at = now_rfc3339()
            result = self.fake.runtime.run(pod["metadata"]["namespace"], pod["spec"], c)
            self.fake.append_log(pod, c["name"], result.output)
            state.exit_code, state.finished_at = result.exit_code, now_rfc3339()
            for reason, text in (
                ("Pulled", f'Container image "{c["image"]}" already present on machine'),
                ("Created", f"Created container {c['name']}"),
                ("Started", f"Started container {c['name']}"),
            ):
                self.event(POD, pod, "Normal", reason, text, "kubelet")
            return _status(c, {"running": {"startedAt": state.started_at}}, True, 0, started=True)
        reason = "Completed" if state.exit_code == 0 else "Error"
        term = {
            "terminated": {
                "exitCode": state.exit_code,
                "reason": reason,
                "startedAt": state.started_at,
                "finishedAt": state.finished_at,
            }
        }
        return _status(c, term, False, 0, started=False)

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


def _status(
    c: dict, state: dict, ready: bool, restarts: int, started: bool = False, last: dict | None = None
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
    if "running" in state:
        status["containerID"] = "containerd://" + "f" * 64
    return status
