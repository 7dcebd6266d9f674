"""`migrate <app> --from /usr --to /mnt --claim C` (the seed runbook's section 8) as a Job.

The Job runs the app's own image with the app's UID, mounts claim C at the destination and, when the
app mounts a claim at the source path, that claim read-only at the same path (otherwise the source is
the image's own content). It copies the content, then prints `du -sb` of both sides; k8or reads both
figures from the pod's log and reports whether they match.

A Job that fails says why: its Failed condition (BackoffLimitExceeded, or DeadlineExceeded once
`activeDeadlineSeconds` — the timeout — has passed), and, when no container ever ran, why not: the
Job's FailedCreate event (admission refused the pod) or the kubelet's `is waiting to start: ...`
(the log request's 400), rather than an error about the log.
"""

from __future__ import annotations

import re
import secrets
import shlex
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ClusterError, InvalidInput, api_errors, api_message
from .events import events_about, recent_warnings
from .kube import Kube, connect
from .names import VolumeSpec, app_name, dns_subdomain, mount_path
from .objects import Manifest, changes, meta, name_of, present, template_image, template_of
from .render import MANAGED_BY, pod_template
from .rollout import pod_problem
from .target import ClusterTarget

if TYPE_CHECKING:  # the Kubernetes client is imported at the first cluster call, not at start
    from kubernetes.client import V1Deployment, V1Job, V1JobCondition

_DU = re.compile(r"^(\d+)\s+(\S.*)$")
# The Job controller fails the Job at activeDeadlineSeconds; wait a little longer for it to say so.
DEADLINE_GRACE = 30.0


@dataclass(frozen=True)
class MigrationResult:
    app: str
    job: str
    source: str
    dest: str
    claim: str
    succeeded: bool
    source_bytes: int | None
    dest_bytes: int | None
    log_tail: str = ""
    failure: str = ""  # the Job's Failed condition: "DeadlineExceeded: Job was active longer than ..."
    not_started: str = ""  # why no container ran: admission's refusal or the kubelet's waiting reason

    @property
    def match(self) -> bool:
        return self.succeeded and self.source_bytes is not None and self.source_bytes == self.dest_bytes

    @property
    def line(self) -> str:
        if not self.succeeded:
            why = [self.failure] if self.failure else []
            if self.not_started:
                why.append(f"it never started: {self.not_started}")
            elif self.log_tail or not why:
                why.append(self.log_tail or "no output")
            return f"migration job {self.job} failed: " + "; ".join(why)
        verdict = "match ✓" if self.match else "DIFFER ✗"
        return (
            f"copied {self.source} → {self.dest} (claim {self.claim}): du -sb {self.source} = "
            f"{self.source_bytes} bytes, {self.dest} = {self.dest_bytes} bytes — {verdict}"
        )


def copy_script(source: str, dest: str) -> str:
    s, d = shlex.quote(source), shlex.quote(dest)
    return f"set -e; cp -a {s}/. {d}/; du -sb {s} {d}"


def _source_claim(dep: V1Deployment, source: str) -> str | None:
    """The claim the app mounts at `source`, if the source is a volume rather than image content."""
    spec = present(template_of(dep).spec, "a pod spec in the deployment")
    claims = {
        v.name: v.persistent_volume_claim.claim_name for v in spec.volumes or [] if v.persistent_volume_claim
    }
    for mount in spec.containers[0].volume_mounts or []:
        if mount.mount_path == source and mount.name in claims:
            return claims[mount.name]
    return None


def migration_job(
    app: str, image: str, source: str, dest: str, claim: str, source_claim: str | None, timeout: int
) -> Manifest:
    """The Job manifest: hardened like the app, never restarted, cleaned up a day after it finishes."""
    volumes = [VolumeSpec(claim, dest)] + ([VolumeSpec(source_claim, source)] if source_claim else [])
    template = pod_template(
        app, image, volumes, command=["sh", "-c", copy_script(source, dest)], restart_policy="Never"
    )
    for mount in template["spec"]["containers"][0]["volumeMounts"]:
        if mount["mountPath"] == source:
            mount["readOnly"] = True  # the migration must never change its source
    template["metadata"]["labels"] = {
        "app.kubernetes.io/name": f"{app[:50]}-migrate",
        "app.kubernetes.io/part-of": app,
        **MANAGED_BY,
    }
    name = f"{app[:44]}-migrate-{secrets.token_hex(3)}"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": dict(template["metadata"]["labels"])},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 86400,
            "activeDeadlineSeconds": int(timeout),
            "template": template,
        },
    }


def migrate(
    target: ClusterTarget,
    app: str,
    claim: str,
    source: str = "/usr",
    dest: str = "/mnt",
    timeout: float = 300.0,
) -> MigrationResult:
    """Copy `source` to claim `claim` mounted at `dest` in a Job; verify with du -sb on both sides."""
    app_name(app)
    dns_subdomain(claim, "claim name")
    mount_path(source)
    mount_path(dest)
    if source == dest:
        raise InvalidInput("source and destination must differ.")
    with connect(target) as kube:
        job = _start_job(kube, app, claim, source, dest, timeout)
        outcome = _wait_for_job(kube, job, timeout + DEADLINE_GRACE)
        log, not_started = _job_log(kube, job)
    sizes = {m.group(2).strip(): int(m.group(1)) for m in map(_DU.match, log.splitlines()) if m}
    tail = " ".join(log.strip().splitlines()[-3:])[:300]
    succeeded = outcome.type == "Complete"
    failure = "" if succeeded else f"{outcome.reason}: {outcome.message}".strip(": ")
    paths = (source, dest, claim)
    found = (sizes.get(source), sizes.get(dest), tail)
    return MigrationResult(app, job, *paths, succeeded, *found, failure, "" if succeeded else not_started)


def _start_job(kube: Kube, app: str, claim: str, source: str, dest: str, timeout: float) -> str:
    """Create the migration Job for the app's current template; returns its name."""
    with api_errors(f"migrate {app}"):
        dep = kube.apps.read_namespaced_deployment(app, kube.namespace)
        source_claim = _source_claim(dep, source)
        if source_claim == claim:
            raise InvalidInput(f"claim {claim} is already mounted at {source}; choose another claim.")
        image = template_image(template_of(dep))
        manifest = migration_job(app, image, source, dest, claim, source_claim, int(timeout))
        # The client validates a plain dict into a V1Job itself; doing it here only says so.
        from kubernetes.client import V1Job

        kube.batch.create_namespaced_job(kube.namespace, V1Job.model_validate(manifest))
    name: str = manifest["metadata"]["name"]
    return name


def _job_state(job: V1Job) -> V1JobCondition | None:
    """The Job's Complete or Failed condition, once it has one."""
    for c in (job.status.conditions or []) if job.status else []:
        if c.status == "True" and c.type in ("Complete", "Failed"):
            return c
    return None


def _wait_for_job(kube: Kube, name: str, timeout: float) -> V1JobCondition:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with api_errors(f"wait for job {name}"):
            state = _job_state(kube.batch.read_namespaced_job(name, kube.namespace))
            if state is not None:
                return state
            for _, job in changes(
                kube.batch.list_namespaced_job,
                kube.namespace,
                field_selector=f"metadata.name={name}",
                timeout_seconds=1,
            ):
                if _job_state(job) is not None:
                    break
    raise ClusterError(f"migration job {name} did not finish within {int(timeout)}s.")


def _job_log(kube: Kube, job: str) -> tuple[str, str]:
    """The newest pod's log, or why there is none: ("", why the container never ran)."""
    from kubernetes.client.exceptions import ApiException

    with api_errors(f"read the log of job {job}"):
        pods = kube.core.list_namespaced_pod(kube.namespace, label_selector=f"job-name={job}").items
        if not pods:
            return "", _why_no_pod(kube, job)
        newest = max(pods, key=lambda p: present(meta(p).creation_timestamp, "a creation time for a pod"))
        if not (newest.spec and newest.spec.node_name):  # never placed: the scheduler says why
            problem = pod_problem(newest)
            return "", problem.message if problem else "its pod was never scheduled"
        try:
            log: str | None = kube.core.read_namespaced_pod_log(name_of(newest), kube.namespace)
        except ApiException as exc:
            if exc.status != 400:
                raise
            return "", api_message(exc)  # the kubelet's "container ... is waiting to start: ..."
        return log or "", ""


def _why_no_pod(kube: Kube, job: str) -> str:
    """No pod left: admission's refusal (the Job's FailedCreate event), else the first warning about
    the Job's pods (they are deleted when the Job fails, their events stay), else nothing."""
    refused = [e for e in events_about(kube, "Job", job, warnings_only=True) if e.reason == "FailedCreate"]
    if refused:
        return refused[-1].message.removeprefix("Error creating: ")
    warnings = [w for w in recent_warnings(kube, 50) if w.kind == "Pod" and w.name.startswith(f"{job}-")]
    # The kubelet pairs each failure with a terse `Error: <reason>` event; the other one says more.
    telling = [w for w in warnings if not w.message.startswith("Error: ")] or warnings
    return telling[0].message if telling else ""
