"""The steps of one k8orization, in order: each returns a frozen result that the next steps take.

A step writes its files into the staging directory and returns what it found together with its
`Verdict` (the step log's line). The results end in `Facts`, which `report.build` turns into report.json.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import yaml

from . import (
    app_env,
    auditd,
    build_isolation,
    checks,
    dockerfile,
    hardening,
    manifests,
    messages,
    picture,
    report,
    repository,
    runtime_base,
    runtime_steps,
    runtimes,
    shipping,
    summary,
    syscalls,
    trim,
    trim_step,
)
from .analyze import AppAnalysis, DependencyReport, analyze, dependency_report
from .app_user import TrimmedRuntime
from .appfiles import AppFiles
from .appkinds import AppKindRegistry
from .command import abstract_argv, console_scripts, container_argv
from .distributions import Distribution, installed
from .errors import K8orizeError, ToolMissing
from .facts import (
    Enforcement,
    Facts,
    Installed,
    Linted,
    Manifests,
    Prepared,
    Traced,
    TracedBuild,
    TrimProof,
    Verification,
)
from .install import install_app
from .report_schema import Report
from .request import K8orizeRequest
from .runner import RunOutcome, run_app
from .sandbox import SandboxHost, open_sandbox
from .seccomp import DOCKER_DEFAULT_ALLOWED, MUST_REFUSE, SeccompProfile
from .steps import FAILED, WARN, Progress, StepLog, Verdict
from .trace import SyscallTrace, parse_file
from .verify import (
    EnforcedRun,
    RunFactory,
    as_whom,
    check_refusals,
    enforced_run,
    outcome_text,
    probe_templates,
    trimmed_runtime,
    verify_trimmed,
)

T = TypeVar("T")
UNTRACED_STEPS = ("install", "trace", "trim", "verify trimmed", "seccomp", "verify enforced")


class Pipeline:
    """One run of the engine. `run()` returns the report; files land in `staging`."""

    def __init__(
        self,
        request: K8orizeRequest,
        registry: AppKindRegistry,
        staging: Path,
        work: Path,
        progress: Progress | None = None,
    ) -> None:
        self.req, self.registry, self.out, self.work = request, registry, staging, work
        self.steps = StepLog(progress)
        self.name = request.app_name
        self.uid = hardening.app_uid(self.name)
        self.shipped = app_env.shipped_env(request.env, request.port)  # `--env` as the container sees it
        self.started = time.monotonic()
        # What the engine could not check, in the order the steps found out: the one thing they add to.
        self.not_verified: list[str] = []
        self.sandbox: SandboxHost | None = None  # where the app's code runs (opened by _traced)
        self.images = shipping.ImageSteps(request, staging, work, self.name)
        # The linters, and removing what no later step needs, while the steps go on.
        self.background = ThreadPoolExecutor(max_workers=3, thread_name_prefix="k8orize-background")

    # -- orchestration ---------------------------------------------------------------------------
    def run(self) -> Report:
        with self.images, self.background:  # stops builds still running when a step failed
            return self._run()

    def _run(self) -> Report:
        if self.req.build and (why := build_isolation.not_root_reason()):
            raise ToolMissing(why)  # at the start, not after minutes of tracing
        analysis = self._step("analyze", self._analyze)
        built = self._traced(analysis) if self.req.run and self.req.trace else None
        prepared = built.prepared if built else self._without_trace(analysis)
        profile = built.profile if built else None
        spec = self._step("dockerfile", lambda: self._dockerfile(analysis, prepared))
        # The image builds and pushes from the Dockerfile and the trimmed tree, which the verification
        # runs only read: both go on in the background while those runs wait on the app.
        self.images.start(self._step, self.steps.skip, spec.base, lend=built is not None)
        verification = self._verify(built) if built else None
        profile = verification.enforced.profile if verification else profile  # with what it learned
        self.images.wait()  # the manifests pin the pushed digest
        rendered = self._step("manifests", lambda: self._manifests(analysis, profile))
        # The linters read only the Dockerfile and the manifests, which no run changes: they work while
        # the built image runs under the container runtimes (those runs mostly wait on the app).
        linting = self.background.submit(self._lint)
        where = (self.name, self.out, self.work)
        checks = runtime_steps.run(self._step, self.steps.skip, self.req, where, built, self.images)
        self.background.submit(self.images.give_back)  # a copy of every layer: removed meanwhile
        linted = self._step("checks", lambda: self._checks(linting.result()))
        facts = Facts(
            request=self.req,
            name=self.name,
            uid=self.uid,
            analysis=analysis,
            prepared=prepared,
            installed=built.installed if built else None,
            traced=built.traced if built else None,
            profile=profile,
            manifests=rendered,
            verification=verification,
            linted=linted,
            image=self.images.finish(),
            not_verified=tuple(self.not_verified),
            runtime_checks=checks,
        )
        return self._write_report(self._step("report", lambda: self._report(facts)))

    def _step(self, name: str, action: Callable[[], tuple[T, Verdict]]) -> T:
        self.steps.start(name)
        try:
            value, verdict = action()
        except K8orizeError as exc:
            self.steps.finish(name, FAILED, str(exc).splitlines()[0])
            raise
        self.steps.finish(name, verdict.status, verdict.detail)
        return value

    def _traced(self, analysis: AppAnalysis) -> TracedBuild:
        """Install, trace, trim and profile the app: the half of the pipeline that runs it."""
        self._require_tools()
        probe_templates(analysis.kind, self.req.probes)  # bad input: fail before the install
        self.sandbox = open_sandbox(self.uid, self.req, self.work, self.not_verified)
        venv = self._step("install", lambda: self._install(analysis))
        deps = self._dependencies(analysis, venv.dists)
        argv = abstract_argv(self.req.run or "", console_scripts(venv.venv.site_packages, venv.dists))
        runs = self._run_factory(analysis, venv, argv)
        traced = self._step("trace", lambda: self._trace(analysis, venv, runs))
        layer, proof = self._step("trim", lambda: self._trim(analysis, venv, traced))
        profile = self._step("seccomp", lambda: self._seccomp(traced))
        prepared = Prepared(deps, tuple(argv), layer, traced=True, proof=proof)
        return TracedBuild(venv, traced, prepared, profile, runs)

    def _require_tools(self) -> None:
        if not shutil.which("strace"):
            missing = {"tool": "strace", "purpose": "trace the app", "hint": "apt-get install strace"}
            raise ToolMissing(messages.TOOL_MISSING.format(**missing))
        try:
            import pyseccomp  # noqa: F401 - only checking that libseccomp can be loaded
        except (ImportError, OSError) as exc:
            raise ToolMissing(
                messages.TOOL_MISSING.format(
                    tool="libseccomp/pyseccomp",
                    purpose=f"enforce the profile ({exc})",
                    hint="apt-get install libseccomp2; " + messages.ENGINE_EXTRA,
                )
            ) from exc
        runtime_base.require(runtimes.find("runc", self.work))  # the profile's base is traced from runc

    # -- analyze and install ---------------------------------------------------------------------
    def _analyze(self) -> tuple[AppAnalysis, Verdict]:
        analysis = analyze(AppFiles(self.req.app_dir), self.registry)
        self.images.start_naive(analysis)  # the baseline image builds while the app is traced
        return analysis, Verdict.ok(f"{analysis.kind.name} app, entrypoint {analysis.entrypoint}")

    def _install(self, analysis: AppAnalysis) -> tuple[Installed, Verdict]:
        log, project = self.out / "install.log", self._installs_itself(analysis)
        venv = install_app(self.sandbox, analysis.app_files, self.work, log, self.req, project)
        count = len(list(venv.site_packages.glob("*.dist-info")))
        where = "in the sandbox" if self.sandbox else "WITHOUT a sandbox"
        detail = f"{count} distributions into an isolated venv with {venv.installer}, {where} (install.log)"
        return Installed(venv, installed(venv.site_packages)), Verdict.ok(detail)

    @staticmethod
    def _installs_itself(analysis: AppAnalysis) -> bool:
        """A pyproject app without requirements.txt is installed as a project (its own build)."""
        app = analysis.app_files
        return app.is_file("pyproject.toml") and not app.is_file("requirements.txt")

    @staticmethod
    def _dependencies(analysis: AppAnalysis, dists: dict[str, Distribution]) -> DependencyReport:
        a = analysis
        return dependency_report(a.declared, a.imports, a.local, dists or None)

    # -- runs --------------------------------------------------------------------------------------
    def _run_factory(self, analysis: AppAnalysis, venv: Installed, argv: list[str]) -> RunFactory:
        return RunFactory(
            kind=analysis.kind,
            argv=argv,
            probes=probe_templates(analysis.kind, self.req.probes),
            driver_python=str(venv.venv.python),
            logs=self.out / "runs",
            scratch=self.work,
            timeout=self.req.probe_timeout,
            user_env=dict(self.req.env),
            sandbox=self.sandbox,
            mounts=(venv.venv.root,),
        )

    def _trace(self, analysis: AppAnalysis, venv: Installed, runs: RunFactory) -> tuple[Traced, Verdict]:
        raw = self.work / "trace.strace"
        outcome = run_app(runs.spec("traced", str(venv.venv.python), self.req.app_dir, trace_to=raw))
        trace = parse_file(raw)
        self._save_trace(raw, trace)
        driver = analysis.kind.session_driver or "http probes only"
        detail = f"{len(trace.syscalls)} syscalls, {len(trace.opened)} files, session: {driver}"
        return Traced(trace, outcome), Verdict.ok_if(outcome.passed, detail, otherwise=WARN)

    def _save_trace(self, raw: Path, trace: SyscallTrace) -> None:
        folder = self.out / "trace"
        folder.mkdir(exist_ok=True)
        (folder / "syscalls.json").write_text(json.dumps(dict(sorted(trace.calls.items())), indent=1) + "\n")
        (folder / "files-opened.txt").write_text("\n".join(sorted(trace.opened)) + "\n")
        with raw.open("rb") as src, gzip.open(folder / "strace.log.gz", "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst)

    # -- trim --------------------------------------------------------------------------------------
    def _trim(
        self, analysis: AppAnalysis, venv: Installed, traced: Traced
    ) -> tuple[tuple[trim.TrimResult, TrimProof], Verdict]:
        image = self.out / "image"
        return trim_step.trim_layer(self.req, self.sandbox, image, self.work, analysis, venv, traced)

    def _runtime(self) -> TrimmedRuntime:
        return trimmed_runtime(self.sandbox, self.out / "image", self.uid, self.work)

    # -- seccomp -----------------------------------------------------------------------------------
    def _seccomp(self, traced: Traced) -> tuple[SeccompProfile, Verdict]:
        # The base is what runc itself calls under the filter before execve: traced once per version.
        base = runtime_base.runtime_base(runtimes.find("runc", self.work / "runc-state"))
        profile = SeccompProfile.from_trace(traced.trace.syscalls, runtime=base)
        self._write_profile(profile)
        detail = (
            f"{len(profile.allowed)} syscalls allowed, base traced from runc {base.version.split()[0]} "
            f"(Docker default: ~{DOCKER_DEFAULT_ALLOWED})"
        )
        return profile, Verdict.ok(detail)

    def _write_audit(self, profile: SeccompProfile | None) -> None:
        syscall_names = profile.allowed if profile else []
        (self.out / "audit.rules").write_text(auditd.render(self.name, self.uid, syscall_names))

    def _write_profile(self, profile: SeccompProfile) -> None:
        (self.out / "seccomp.json").write_text(json.dumps(profile.oci(), indent=2) + "\n")
        spo_dir = self.out / "security-profiles-operator"
        spo_dir.mkdir(exist_ok=True)
        spo = profile.spo(self.name, self.name)
        (spo_dir / "seccompprofile.yaml").write_text(yaml.safe_dump(spo, sort_keys=False))

    # -- verification ------------------------------------------------------------------------------
    def _verify(self, built: TracedBuild) -> Verification:
        """Run the trimmed tree plainly, then under the profile; the runtime goes once both ran."""
        runtime = self._runtime()
        try:
            trimmed = self._step("verify trimmed", lambda: self._verify_trimmed(built.runs, runtime))
            enforced = self._step("verify enforced", lambda: self._verify_enforced(built, runtime))
        finally:
            runtime.close()
            if self.sandbox is not None:  # no later step runs the app's code on this host
                self.background.submit(self.sandbox.close)
        return Verification(runtime, trimmed, enforced)

    def _verify_trimmed(self, runs: RunFactory, runtime: TrimmedRuntime) -> tuple[RunOutcome, Verdict]:
        outcome = verify_trimmed(runs, runtime, self.not_verified)
        return outcome, Verdict.ok_if(outcome.passed, outcome_text(outcome, runtime))

    def _enforced_run(
        self, runs: RunFactory, runtime: TrimmedRuntime, profile: SeccompProfile, label: str
    ) -> EnforcedRun:
        path = self.out / "seccomp.json"
        return enforced_run(runs, runtime, path, set(profile.allowed), label, self.not_verified)

    def _verify_enforced(self, built: TracedBuild, runtime: TrimmedRuntime) -> tuple[Enforcement, Verdict]:
        profile = built.profile
        run = first = self._enforced_run(built.runs, runtime, profile, "enforced")
        learned = sorted(n for n in first.denied if n not in MUST_REFUSE and syscalls.is_known(n))
        if learned:
            # The trimmed layout made a call the first trace did not see. Add it, say so in the report,
            # and verify again from scratch: the figures reported are the second run's.
            profile = profile.with_calls(learned)
            self._write_profile(profile)
            self._write_audit(profile)
            run = self._enforced_run(built.runs, runtime, profile, "enforced-again")
        refusals = check_refusals(self.out / "seccomp.json")
        enforced = Enforcement(run, refusals, tuple(learned), first.denied if learned else {}, profile)
        ok = run.outcome.passed and not run.denied and enforced.refused
        return enforced, Verdict.ok_if(
            ok,
            f"{outcome_text(run.outcome)}, {sum(run.denied.values())} denials, "
            f"{'/'.join(MUST_REFUSE)} {'refused' if enforced.refused else 'NOT refused'}, "
            f"{as_whom(runtime)}",
        )

    # -- no trace ----------------------------------------------------------------------------------
    def _without_trace(self, analysis: AppAnalysis) -> Prepared:
        """Only the app's own files: no install, no run, so no trimmed dependencies and no profile."""
        why = "--no-trace was given" if self.req.run else "no --run command was given"
        for step in UNTRACED_STEPS:
            self.steps.skip(step, why)
        deps = self._dependencies(analysis, {})
        argv = abstract_argv(self.req.run or analysis.kind.default_run(analysis.entrypoint), {})
        image, tally = self.out / "image", trim.TrimTally()
        trim.trim_app(analysis.app_files, analysis.files, image / trim.APP, tally)
        specs = analysis.requirement_specs
        (image / "requirements.txt").write_text("\n".join(specs) + ("\n" if specs else ""))
        self.not_verified += [
            f"seccomp: {messages.NO_TRACE_SECCOMP}",
            f"trim: {why}; only the app's redundant files were removed, dependencies are "
            "installed whole by the Dockerfile",
            "probes: the app was not run",
        ]
        return Prepared(deps, tuple(argv), tally.result(), traced=False)

    # -- artefacts ---------------------------------------------------------------------------------
    def _health_path(self, analysis: AppAnalysis) -> str | None:
        if analysis.kind.health_path:
            return analysis.kind.health_path
        return urlsplit(self.req.probes[0]).path or "/" if self.req.probes else None

    def _dockerfile(
        self, analysis: AppAnalysis, prepared: Prepared
    ) -> tuple[dockerfile.DockerfileSpec, Verdict]:
        health = self._health_path(analysis)
        spec = dockerfile.DockerfileSpec(
            uid=self.uid,
            port=self.req.port,
            cmd=container_argv(list(prepared.argv), self.req.port),
            health_url=f"http://127.0.0.1:{self.req.port}{health}" if health else None,
            env={**analysis.kind.structured_log_env, **self.shipped.image_env()},
            traced=prepared.traced,
            imports=tuple(prepared.deps.imported) if prepared.traced else (),
        )
        (self.out / "Dockerfile").write_text(dockerfile.render(spec))
        (self.out / ".dockerignore").write_text("*\n!image/\n")
        requirements = None if self._installs_itself(analysis) else "requirements.txt"
        kept = repository.write(self.out, spec, requirements=requirements)
        return spec, Verdict.ok(f"{spec.base}, USER {self.uid}:{self.uid}, HEALTHCHECK; {kept}")

    def _image(self) -> str:
        image = self.images.pinned or self.req.image  # pinned: the digest the registry serves
        if image:
            if "@sha256:" not in image:
                self.not_verified.append(f"image digest: {messages.DIGEST_UNKNOWN}")
            return image
        self.not_verified.append(f"image digest: {messages.DIGEST_UNKNOWN}")
        return f"registry.local/k8or/{self.name}:0.1.0"

    def _manifests(self, analysis: AppAnalysis, profile: SeccompProfile | None) -> tuple[Manifests, Verdict]:
        kind = analysis.kind
        localhost = f"operator/{self.name}/{self.name}.json" if profile else None
        spec = manifests.ManifestSpec(
            name=self.name,
            image=self._image(),
            uid=self.uid,
            port=self.req.port,
            health_path=self._health_path(analysis),
            metrics_path=kind.metrics_path,
            localhost_profile=localhost,
            sandbox=self.req.sandbox,
            env={**kind.structured_log_env, **self.shipped.plain},
            secret_env=self.shipped.secret_names,
        )
        folder = self.out / "manifests"
        files = manifests.render_all(spec, self.shipped.secret)
        for filename, objects in files.items():
            (folder / filename).parent.mkdir(parents=True, exist_ok=True)
            (folder / filename).write_text(yaml.safe_dump_all(objects, sort_keys=False))
        self._write_audit(profile)
        count = sum(len(objs) for objs in files.values())
        mode = "Localhost" if localhost else "RuntimeDefault"
        detail = f"{count} objects in {len(files)} files, seccomp {mode}; audit.rules"
        return Manifests(localhost), Verdict.ok(detail)

    def _lint(self) -> Linted:
        started = time.monotonic()
        results = (
            checks.kubernetes_validate(self.out / "manifests"),
            checks.checkov(self.out / "manifests"),
            checks.hadolint(self.out / "Dockerfile", self.out / repository.FOLDER / "Dockerfile"),
        )
        return Linted(results, time.monotonic() - started)

    def _checks(self, linted: Linted) -> tuple[Linted, Verdict]:
        self.not_verified += [f"{r.name}: {r.detail}" for r in linted.results if not r.ran]
        return linted, checks.step_verdict(linted.results, linted.seconds)  # a judge missing: WARN

    # -- the report --------------------------------------------------------------------------------
    @staticmethod
    def _report(facts: Facts) -> tuple[Report, Verdict]:
        return report.build(facts), Verdict.ok("report.json, SUMMARY.md, pipeline.png")

    def _host_paths(self) -> dict[str, str]:
        """Host folders that may surface in messages, and what the report says instead."""
        return {
            str(self.out): ".",
            str(self.work): "<scratch>",
            str(self.req.app_dir.resolve()): "<app>",
        }

    def _write_report(self, body: Report) -> Report:
        data: Report = {
            **body,
            "steps": self.steps.as_list(),
            "duration_seconds": round(time.monotonic() - self.started, 1),
        }
        data = report.relative_paths(data, self._host_paths())
        (self.out / "report.json").write_text(json.dumps(data, indent=2) + "\n")
        picture.draw(data["steps"], self.out / "pipeline.png", title=f"k8orize {self.name}")
        (self.out / "SUMMARY.md").write_text(summary.summary_text(data) + "\n")
        (self.out / "README.md").write_text(summary.output_readme(data))
        return data
