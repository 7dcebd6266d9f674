"""Run what ships under a real container runtime, as a kubelet would, and check what the output claims.

The bundle is read back from OUT (`shipped.read_pod`): the image's ENV, USER, WORKDIR and CMD under
the Deployment's env, securityContext, emptyDirs and limits, with OUT/seccomp.json as linux.seccomp,
over the built image's root filesystem. One container life: start; the pod's own probes until they pass
(within their start-up budget) and once more; a user session; the probes again; SIGTERM, and the
grace period to exit in.

A second, short container of the same bundle runs a refusal check as its own process: `mount` and
`ptrace` must fail with EPERM.

Denials: under runc a second life repeats the drive with a verification copy of the profile whose
default action is SCMP_ACT_LOG, and the kernel logs every call outside the allow-list (`seccomp_log`),
so no record means the shipped profile refused nothing through start-up, probes, session and shutdown.
Under runsc the sentry itself logs each call it refuses (`--debug`), so the shipped life shows them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from . import messages, oci, runtimes
from .container_life import REFUSAL_CHECK, Container, DrivePlan, Life, run_life, run_to_exit, uid_denials
from .jsontypes import JSON, JSONObject
from .podnet import PodNetwork
from .report_schema import RuntimeCheckJSON, RuntimeLifeJSON
from .runner import RunOutcome
from .runtimes import ContainerRuntime
from .seccomp import MUST_REFUSE
from .seccomp_log import KernelLog, gvisor_denials
from .shipped import ShippedPod, read_pod

__all__ = ["RuntimeCheck", "SessionPlan", "verify_shipped"]
_SESSION_SCRIPT = "/k8or-session/driver.py"


@dataclass(frozen=True)
class SessionPlan:
    """The app kind's user session: a driver script (standard library and the app's own packages)."""

    driver: str  # its name, e.g. "streamlit-websocket"
    script: Path
    timeout: float = 60.0


@dataclass(frozen=True)
class RuntimeCheck:
    """What running the output under one runtime showed."""

    runtime: str
    version: str
    bundle: JSONObject  # what the bundle set, for the report
    shipped: Life
    audit: Life | None
    refusals: dict[str, JSONObject]
    notes: tuple[str, ...]  # what this check could not see

    @property
    def denials(self) -> dict[str, int] | None:
        """Calls the profile refused (or would have): None when this host could not see them."""
        return self.audit.denials if self.audit is not None else self.shipped.denials

    @property
    def refused(self) -> bool:
        return all(self.refusals.get(c, {}).get("refused") is True for c in MUST_REFUSE)

    def problems(self) -> list[str]:
        """Why the check failed, one line each; empty when it passed."""
        found = [f"{life.label}: {_headline(life.error)}" for life in self._lives() if life.error]
        for life in self._lives():
            if life.outcome is not None and not life.outcome.passed:
                found.append(f"{life.label}: {_failed_probes(life.outcome)}")
            if life.outcome is not None and not life.outcome.stopped_by_sigterm:
                found.append(
                    f"{life.label}: {messages.NO_SIGTERM_EXIT.format(grace=self.bundle['grace_seconds'])}"
                )
        if self.denials:
            calls = ", ".join(f"{n} x{c}" for n, c in sorted(self.denials.items()))
            count = sum(self.denials.values())
            found.append(messages.RUNTIME_DENIALS.format(count=count, runtime=self.runtime, calls=calls))
        if not self.refused:
            found.append(f"{'/'.join(MUST_REFUSE)} not refused: {json.dumps(self.refusals)}")
        return found

    @property
    def passed(self) -> bool:
        return not self.problems()

    def _lives(self) -> list[Life]:
        return [self.shipped] + ([self.audit] if self.audit else [])

    @property
    def denials_observed_by(self) -> str | None:
        if self.audit is not None:
            return KERNEL_OBSERVER
        return GVISOR_OBSERVER if self.shipped.denials is not None else None

    def as_json(self) -> RuntimeCheckJSON:
        denials = self.denials
        session = self.shipped.outcome is not None and self.shipped.outcome.session is not None
        labels = [life.label for life in self._lives()] + ["refusals"] + (["session"] if session else [])
        return RuntimeCheckJSON(
            runtime=self.runtime,
            version=self.version,
            passed=self.passed,
            problems=self.problems(),
            bundle=self.bundle,
            shipped=_life_json(self.shipped),
            audit=_life_json(self.audit) if self.audit else None,
            denials=sum(denials.values()) if denials is not None else None,
            denied_calls=denials,
            denials_observed_by=self.denials_observed_by,
            refusals=self.refusals,
            notes=list(self.notes),
            logs=[f"runs/{self.runtime}-config.json"]
            + [f"runs/{self.runtime}-{label}.log" for label in labels],
        )


GVISOR_OBSERVER = "gVisor's sentry, which logs each call it refuses (runsc --debug)"
KERNEL_OBSERVER = (
    "the kernel's seccomp records (/dev/kmsg) of a second life under the profile with SCMP_ACT_LOG"
)


def _life_json(life: Life) -> RuntimeLifeJSON:
    run = life.outcome.as_json() if life.outcome else None
    return RuntimeLifeJSON(label=life.label, run=run, error=life.error, denials=life.denials)


def _headline(error: str) -> str:
    """The message's first line, and the output's last line when it carries the output."""
    lines = [line for line in error.splitlines() if line.strip()]
    return lines[0] if len(lines) < 2 else f"{lines[0]} ... {lines[-1].strip()}"


def _failed_probes(outcome: RunOutcome) -> str:
    failed = [p.url for p in outcome.probes if not p.ok]
    if failed:
        return f"probes failed: {', '.join(failed)}"
    session = outcome.session or {}
    return f"session failed: {session.get('error') or session.get('stderr') or session}"


# -- the bundle -----------------------------------------------------------------------------------------
def _profile(out: Path, pod: ShippedPod) -> JSONObject | None:
    """linux.seccomp from OUT/seccomp.json when the pod loads it (Localhost); None otherwise."""
    if pod.seccomp[0] != "Localhost":
        return None
    return oci.oci_seccomp(json.loads((out / "seccomp.json").read_text()), pod.container.capabilities)


@dataclass(frozen=True)
class _Setup:
    """What every container of one check shares."""

    runtime: ContainerRuntime
    pod: ShippedPod
    rootfs: Path
    seccomp: JSONObject | None
    net: PodNetwork
    work: Path
    logs: Path
    sidecars: ContainerRuntime  # runc: the session's client is not what is under test
    from_secrets: frozenset[str] = frozenset()  # env variables whose values never reach OUT

    def container(
        self,
        label: str,
        seccomp: JSONObject | None,
        args: tuple[str, ...] = (),
        binds: tuple[tuple[Path, str], ...] = (),
        runtime: ContainerRuntime | None = None,
    ) -> Container:
        """A bundle of the pod's container (other args: a check in the same pod) and its log."""
        runtime, cid = runtime or self.runtime, f"k8or-{label}-{secrets.token_hex(5)}"
        folder = self.work / f"{self.runtime.name}-{label}"
        spec = replace(self.pod.container, args=args) if args else self.pod.container
        pod = replace(self.pod, container=spec)
        pod_files = oci.write_pod_files(folder / "pod", spec.hostname, self.net.pod_ip, pod.namespace)
        config = oci.bundle_config(
            spec,
            self.rootfs.resolve(),
            seccomp=seccomp,
            netns=self.net.path,
            pod_files=pod_files,
            binds=binds,
        )
        log = self.logs / f"{self.runtime.name}-{label}.log"
        if runtime.name == "runsc":  # the sentry logs each call it refuses, at debug level
            runtime = replace(
                runtime, options=(*runtime.options, "--debug", f"--debug-log={folder / 'debug'}/")
            )
        self.logs.mkdir(parents=True, exist_ok=True)
        return Container(runtime, pod, self.net, oci.write_bundle(folder, config), cid, log)

    def session(self, plan: SessionPlan) -> Callable[[], JSONObject]:
        """The user session from a sidecar in the pod's network namespace: the image's python runs the
        driver (it imports the app's own packages, so it runs contained, never on the host)."""
        url = f"http://{self.net.pod_ip}:{self.pod.port}"

        def drive() -> JSONObject:
            args = ("python", _SESSION_SCRIPT, url, str(plan.timeout))
            binds = ((plan.script.resolve(), _SESSION_SCRIPT),)
            c = self.container("session", None, args, binds, self.sidecars)
            code, output = run_to_exit(c, plan.timeout + 30)
            outcome = _last_json(output) or {
                "ok": False,
                "error": f"the driver exited {code}: {output[-300:]}",
            }
            return {
                **outcome,
                "driver": plan.driver,
                "from": "a sidecar container in the pod's network namespace",
            }

        return drive


def _last_json(output: str) -> JSONObject:
    """The last line of output that is a JSON object (a check's verdict), or {}."""
    for line in reversed(output.strip().splitlines()):
        try:
            found = json.loads(line)
        except json.JSONDecodeError:
            continue
        return dict(found) if isinstance(found, dict) else {}
    return {}


def _from_secrets(out: Path, name: str) -> frozenset[str]:
    """The variables Deployment `name` takes from a Secret (`secretKeyRef`)."""
    found: set[str] = set()
    for path in sorted((out / "manifests").rglob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if not isinstance(obj, dict) or obj.get("kind") != "Deployment":
                continue
            if (obj.get("metadata") or {}).get("name") == name:
                for c in obj["spec"]["template"]["spec"].get("containers") or []:
                    env = c.get("env") or []
                    found |= {e["name"] for e in env if "secretKeyRef" in (e.get("valueFrom") or {})}
    return frozenset(found)


def _save_config(c: Container, logs: Path, from_secrets: frozenset[str]) -> None:
    """The shipped life's config.json beside its log: host paths replaced by what they stand for, and
    the values the container took from a Secret left out (the bundle itself had them)."""
    config = json.loads((c.bundle / "config.json").read_text())
    env = [item.split("=", 1) for item in config["process"]["env"]]
    config["process"]["env"] = [
        f"{key}={messages.SECRET_VALUE_HIDDEN if key in from_secrets else value}" for key, value in env
    ]
    text, root = json.dumps(config, indent=2) + "\n", config["root"]["path"]
    for old, new in (
        (root, "<image rootfs>"),
        (c.net.path, "<pod network namespace>"),
        (str(c.bundle), "<bundle>"),
    ):
        text = text.replace(json.dumps(old)[1:-1], new)
    (logs / f"{c.runtime.name}-config.json").write_text(text)


def _startup_budget(pod: ShippedPod) -> float:
    """How long the kubelet lets the pod start: the startupProbe's budget, else the longest other one."""
    startup = [p.budget_seconds for p in pod.probes if p.kind == "startup"]
    return max(startup or [p.budget_seconds for p in pod.probes] or [30.0])


def _summary(pod: ShippedPod, seccomp: JSONObject | None, pod_ip: str) -> JSONObject:
    """What the bundle sets, in the report's words."""
    s = pod.container
    profile = f"{pod.seccomp[0]}: not reproduced here, so no profile"
    if seccomp:
        count, default = len(oci.allowed_names(seccomp)), seccomp.get("defaultAction")
        profile = f"seccomp.json: {count} calls allowed, default {default}"
    probes: list[JSON] = [
        f"{p.kind}: {p.action} {p.path if p.action == 'http' else ''}".strip() for p in pod.probes
    ]
    return {
        "command": list(s.args),
        "user": f"{s.uid}:{s.gid}",
        "additional_gids": list(s.additional_gids),
        "read_only_root": s.read_only_root,
        "capabilities": list(s.capabilities),
        "no_new_privileges": s.no_new_privileges,
        "tmpfs": list(s.scratch),
        "namespaces": ["pid", "ipc", "uts", "mount", "network"],
        "network": f"a namespace of its own; probes go to the pod IP {pod_ip}:{pod.port}",
        "seccomp": profile,
        "limits": {"memory_bytes": s.resources.memory, "cpu_millis": s.resources.cpu_millis},
        "probes": probes,
        "grace_seconds": pod.grace_seconds,
    }


# -- the lives ------------------------------------------------------------------------------------------
def _shipped(setup: _Setup, plan: DrivePlan) -> Life:
    """The exact profile; under runsc the sentry's debug log names what it refused."""
    c = setup.container("shipped", setup.seccomp)
    _save_config(c, setup.logs, setup.from_secrets)
    debug = c.bundle / "debug"
    observed = setup.runtime.name == "runsc" and setup.seccomp is not None
    return run_life(c, plan, "shipped", lambda: gvisor_denials(debug) if observed else None)


def _audit(setup: _Setup, plan: DrivePlan) -> Life | None:
    """runc: the same drive under the SCMP_ACT_LOG copy, reading what the kernel logged (None: unseen)."""
    if setup.runtime.name != "runc" or setup.seccomp is None:
        return None
    with KernelLog() as kernel:
        if not kernel.observable:
            return None
        c = setup.container("audit", oci.with_default_action(setup.seccomp, "SCMP_ACT_LOG"))
        uid = setup.pod.container.uid
        return run_life(c, plan, "audit", lambda: uid_denials(kernel.records(), uid))


def _refusals(setup: _Setup, allowed: set[str]) -> dict[str, JSONObject]:
    """mount and ptrace tried by the image's python as the container's own process, under the profile."""
    c = setup.container("refusals", setup.seccomp, ("python", "-I", "-c", REFUSAL_CHECK))
    code, output = run_to_exit(c)
    verdict = _last_json(output)
    failed: JSONObject = {"refused": False, "error": f"the check exited {code}: {output[-300:]}"}
    return {n: {**(_as_object(verdict.get(n)) or failed), "in_profile": n in allowed} for n in MUST_REFUSE}


def _as_object(value: JSON | None) -> JSONObject:
    return dict(value) if isinstance(value, Mapping) else {}


def _notes(setup: _Setup, audit: Life | None) -> tuple[str, ...]:
    if setup.seccomp is None:
        return ()
    if setup.runtime.name == "runc" and audit is None:
        return (messages.DENIALS_UNOBSERVABLE.format(runtime="runc"),)
    return ()


def verify_shipped(
    out: Path,
    name: str,
    rootfs: Path,
    runtime: ContainerRuntime,
    *,
    work: Path,
    session: SessionPlan | None = None,
    secrets: Mapping[str, str] | None = None,
    min_budget: float = 0.0,
) -> RuntimeCheck:
    """Run Deployment `name` from OUT over `rootfs` under `runtime`; logs and config go to OUT/runs.

    Raises ShippedUnreadable when OUT does not say what to run, PodNetworkFailed when no pod network
    can be made; a container that misbehaves is a finding in the result, not an exception.
    """
    pod = read_pod(out, name, secrets)
    seccomp = _profile(out, pod)
    allowed = oci.allowed_names(seccomp) if seccomp else set()
    budget = max(_startup_budget(pod), min_budget)
    sidecars = runtimes.find("runc", work / "sidecars")
    with PodNetwork() as net:
        hidden = _from_secrets(out, name)
        setup = _Setup(runtime, pod, rootfs, seccomp, net, work, out / "runs", sidecars, hidden)
        plan = DrivePlan(budget, setup.session(session) if session else None)
        shipped = _shipped(setup, plan)
        refusals = _refusals(setup, allowed)
        audit = _audit(setup, plan)
        summary = _summary(pod, seccomp, net.pod_ip)
    return RuntimeCheck(
        runtime.name, runtime.version(), summary, shipped, audit, refusals, _notes(setup, audit)
    )


# -- what the report says -------------------------------------------------------------------------------
def claims(checks: tuple[RuntimeCheck, ...]) -> list[str]:
    """The report's `checks_passed` lines for the runtime checks that passed."""
    lines = []
    for check in checks:
        if check.passed and check.shipped.outcome is not None:
            session = " and the user session pass" if check.shipped.outcome.session is not None else " passes"
            denials = "denials unobserved" if check.denials is None else "zero denials"
            lines.append(
                f"under {check.runtime} {check.version.split()[0]}, the built image as the Dockerfile and "
                f"the Deployment start it: every probe{session} with {denials}, it exits on SIGTERM within "
                f"the grace period, {' and '.join(MUST_REFUSE)} are refused"
            )
    return lines


def failures(checks: tuple[RuntimeCheck, ...]) -> list[str]:
    """The report's `checks_failed` lines: every problem of every runtime check."""
    return [f"verify under {c.runtime}: {problem}" for c in checks for problem in c.problems()]


def gaps(checks: tuple[RuntimeCheck, ...], sandbox: str | None, built: bool) -> list[str]:
    """The report's `not_verified` lines about the runtimes."""
    items = [note for check in checks for note in check.notes]
    ran = {check.runtime for check in checks}
    if built and "runc" not in ran:
        items.append("the built image was not run under runc (the step log says why)")
    if sandbox and "runsc" not in ran:
        items.append(f"the {sandbox} RuntimeClass (runsc) was not exercised (the step log says why)")
    return items
