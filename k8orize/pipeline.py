"""The steps of one k8orization, in order, each a short method writing into the staging directory."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from . import audit, checks, dockerfile, hardening, manifests, messages, picture, report, syscalls, trim
from .analyze import AppAnalysis, DependencyReport, analyze, dependency_report
from .appfiles import AppFiles
from .appkinds import AppKindRegistry
from .command import abstract_argv, console_scripts, container_argv
from .distributions import installed
from .errors import K8orizeError, ToolMissing
from .identity import TrimmedRuntime, dedicated_runtime
from .install import AppVenv, base_interpreter, create_venv
from .request import K8orizeRequest
from .runner import RunOutcome, run_app
from .seccomp import DOCKER_DEFAULT_ALLOWED, MUST_REFUSE, SeccompProfile
from .steps import FAILED, OK, WARN, StepLog
from .trace import STRACE, SyscallTrace, parse_file
from .verify import (
    RunFactory,
    as_whom,
    check_refusals,
    enforced_run,
    outcome_text,
    probe_templates,
    verify_trimmed,
)

_ENFORCE = Path(__file__).resolve().parent / "enforce.py"


class Pipeline:
    """One run of the engine. `run()` returns the report; files land in `staging`."""

    def __init__(
        self, request: K8orizeRequest, registry: AppKindRegistry, staging: Path, work: Path, progress=None
    ) -> None:
        self.req, self.registry, self.out, self.work = request, registry, staging, work
        self.steps = StepLog(progress)
        self.name = request.app_name
        self.uid = hardening.app_uid(self.name)
        self.started = time.monotonic()
        self.not_verified: list[str] = []
        self.results: dict = {}

    # -- orchestration ---------------------------------------------------------------------------
    def run(self) -> dict:
        try:
            return self._run()
        finally:
            if getattr(self, "runtime", None) is not None:
                self.runtime.close()

    def _run(self) -> dict:
        self.analysis = self._step("analyze", self._analyze)
        traced = bool(self.req.run) and self.req.trace
        if traced:
            self._require_tools()
            probe_templates(self.analysis.kind, self.req.probes)  # bad input: fail before the install
            self.venv = self._step("install", self._install)
            self.deps = self._dependencies(self.venv)
            self.argv = self._argv()
            self.runs = self._run_factory()
            self.trace = self._step("trace", self._trace)
            self.trim = self._step("trim", self._trim)
            self.profile = self._step("seccomp", self._seccomp)
        else:
            self._without_trace()
        self._step("dockerfile", self._dockerfile)
        self._step("manifests", self._manifests)
        # The linters read only the Dockerfile and the manifests, which no run changes: they work while
        # the app runs again (those runs mostly wait on the app).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="k8orize-checks") as pool:
            linting = pool.submit(self._lint)
            if traced:
                self.runtime = self._runtime()
                self.trimmed_run = self._step("verify trimmed", self._verify_trimmed)
                self._step("verify enforced", self._verify_enforced)
            self._step("checks", lambda: self._checks(linting.result()))
        data = self._step("report", self._build_report)
        return self._write_report(data)

    def _step(self, name: str, action):
        self.steps.start(name)
        try:
            value = action()
        except K8orizeError as exc:
            self.steps.finish(name, FAILED, str(exc).splitlines()[0])
            raise
        status, detail = self.results.pop("_status", (OK, ""))
        self.steps.finish(name, status, detail)
        return value

    def _set_status(self, status: str, detail: str) -> None:
        self.results["_status"] = (status, detail)

    def _require_tools(self) -> None:
        if not shutil.which("strace"):
            raise ToolMissing(
                messages.TOOL_MISSING.format(
                    tool="strace", purpose="trace the app", hint="apt-get install strace"
                )
            )
        try:
            import pyseccomp  # noqa: F401 - only checking that libseccomp can be loaded
        except (ImportError, OSError) as exc:
            raise ToolMissing(
                messages.TOOL_MISSING.format(
                    tool="libseccomp/pyseccomp",
                    purpose=f"enforce the profile ({exc})",
                    hint="apt-get install libseccomp2; pip install pyseccomp",
                )
            ) from exc

    # -- analyze and install ---------------------------------------------------------------------
    def _analyze(self) -> AppAnalysis:
        analysis = analyze(AppFiles(self.req.app_dir), self.registry)
        self._set_status(OK, f"{analysis.kind.name} app, entrypoint {analysis.entrypoint}")
        return analysis

    def _install(self) -> AppVenv:
        venv = create_venv(
            self.work / "venv",
            self.analysis.requirement_specs,
            self.req.app_dir,
            self.out / "install.log",
            self.req.installer,
            install_project=self._installs_itself(),
        )
        count = len(list(venv.site_packages.glob("*.dist-info")))
        self._set_status(
            OK, f"{count} distributions into an isolated venv with {venv.installer} (install.log)"
        )
        return venv

    def _installs_itself(self) -> bool:
        """A pyproject app without requirements.txt is installed as a project (its own build)."""
        app = self.analysis.app_files
        return app.is_file("pyproject.toml") and not app.is_file("requirements.txt")

    def _dependencies(self, venv: AppVenv | None) -> DependencyReport:
        self.dists = installed(venv.site_packages) if venv else {}
        a = self.analysis
        return dependency_report(a.declared, a.imports, a.local, self.dists or None)

    def _argv(self) -> list[str]:
        scripts = console_scripts(self.venv.site_packages, self.dists)
        return abstract_argv(self.req.run, scripts)

    # -- runs --------------------------------------------------------------------------------------
    def _run_factory(self) -> RunFactory:
        return RunFactory(
            kind=self.analysis.kind,
            argv=self.argv,
            probes=probe_templates(self.analysis.kind, self.req.probes),
            driver_python=str(self.venv.python),
            logs=self.out / "runs",
            scratch=self.work,
            timeout=self.req.probe_timeout,
            user_env=dict(self.req.env),
        )

    def _trace(self) -> SyscallTrace:
        raw = self.work / "trace.strace"
        wrapper = [*STRACE, str(raw)]
        outcome = run_app(self.runs.spec("traced", str(self.venv.python), self.req.app_dir, wrapper))
        self.results["traced_run"] = outcome
        trace = parse_file(raw)
        self._save_trace(raw, trace)
        driver = self.analysis.kind.session_driver or "http probes only"
        status = OK if outcome.passed else WARN
        self._set_status(
            status, f"{len(trace.syscalls)} syscalls, {len(trace.opened)} files, session: {driver}"
        )
        return trace

    def _save_trace(self, raw: Path, trace: SyscallTrace) -> None:
        folder = self.out / "trace"
        folder.mkdir(exist_ok=True)
        (folder / "syscalls.json").write_text(json.dumps(dict(sorted(trace.calls.items())), indent=1) + "\n")
        (folder / "files-opened.txt").write_text("\n".join(sorted(trace.opened)) + "\n")
        with raw.open("rb") as src, gzip.open(folder / "strace.log.gz", "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst)

    # -- trim --------------------------------------------------------------------------------------
    def _trim(self) -> trim.TrimResult:
        result = trim.TrimResult()
        image = self.out / "image"
        touched = trim.touched_distributions(self.trace.opened, self.venv.site_packages, self.dists)
        trim.trim_site_packages(self.venv.site_packages, self.dists, touched, image / trim.SITE, result)
        trim.trim_app(self.analysis.app_files, self.analysis.files, image / trim.APP, result)
        self._set_status(
            OK,
            f"{result.bytes_before / 1e6:.1f} MB -> {result.bytes_after / 1e6:.1f} MB "
            f"({100 * result.reduction:.1f}% smaller)",
        )
        return result

    def _trimmed_python(self) -> str:
        """A bare interpreter (no site-packages of its own) that sees only the trimmed tree."""
        root = self.work / "bare"
        if not root.exists():
            subprocess.run([base_interpreter(), "-m", "venv", "--without-pip", str(root)], check=True)
        return str(root / "bin" / "python")

    def _runtime(self) -> TrimmedRuntime:
        """Run the trimmed tree as the dedicated UID when possible, else as the invoking user."""
        image = self.out / "image"
        fallback = TrimmedRuntime(
            self._trimmed_python(),
            image,
            {"PYTHONPATH": str(image / trim.SITE), "PYTHONPYCACHEPREFIX": str(self.work / "pycache")},
        )
        return dedicated_runtime(image, self.uid, fallback)

    def _verify_trimmed(self) -> RunOutcome:
        outcome = verify_trimmed(self.runs, self.runtime, self.not_verified)
        self._set_status(OK if outcome.passed else FAILED, outcome_text(outcome, self.runtime))
        return outcome

    # -- seccomp -----------------------------------------------------------------------------------
    def _seccomp(self) -> SeccompProfile:
        profile = SeccompProfile.from_trace(self.trace.syscalls)
        self._write_profile(profile)
        self._set_status(
            OK, f"{len(profile.allowed)} syscalls allowed (Docker default: ~{DOCKER_DEFAULT_ALLOWED})"
        )
        return profile

    def _write_audit(self) -> None:
        syscall_names = self.profile.allowed if self.profile else []
        (self.out / "audit.rules").write_text(audit.render(self.name, self.uid, syscall_names))

    def _write_profile(self, profile: SeccompProfile) -> None:
        (self.out / "seccomp.json").write_text(json.dumps(profile.oci(), indent=2) + "\n")
        spo_dir = self.out / "security-profiles-operator"
        spo_dir.mkdir(exist_ok=True)
        spo = profile.spo(self.name, self.name)
        (spo_dir / "seccompprofile.yaml").write_text(yaml.safe_dump(spo, sort_keys=False))

    def _enforced_run(self, label: str) -> dict:
        profile = self.out / "seccomp.json"
        return enforced_run(
            self.runs, self.runtime, profile, set(self.profile.allowed), label, self.not_verified
        )

    def _verify_enforced(self) -> None:
        result = self._enforced_run("enforced")
        learned = sorted(n for n in result["denied"] if n not in MUST_REFUSE and syscalls.is_known(n))
        if learned:
            # The trimmed layout made a call the first trace did not see. Add it, say so in the report,
            # and verify again from scratch: the figures reported are the second run's.
            self.profile = SeccompProfile(
                sorted(set(self.profile.allowed) | set(learned)), self.profile.arch, self.profile.traced
            )
            self._write_profile(self.profile)
            self._write_audit()
            first = result
            result = self._enforced_run("enforced-again")
            result["first_run_denials"] = first["denied"]
        result["learned_from_enforced_run"] = learned
        result["refusals"] = check_refusals(self.out / "seccomp.json")
        self.results["enforced"] = result
        outcome, denied, refusals = result["outcome"], result["denied"], result["refusals"]
        refused = all(r.get("refused") for r in refusals.values())
        ok = outcome.passed and not denied and refused
        self._set_status(
            OK if ok else FAILED,
            f"{outcome_text(outcome)}, {sum(denied.values())} denials, "
            f"{'/'.join(MUST_REFUSE)} {'refused' if refused else 'NOT refused'}, {as_whom(self.runtime)}",
        )

    # -- no trace ----------------------------------------------------------------------------------
    def _without_trace(self) -> None:
        why = "--no-trace was given" if self.req.run else "no --run command was given"
        for step in ("install", "trace", "trim", "verify trimmed", "seccomp", "verify enforced"):
            self.steps.skip(step, why)
        self.venv, self.trace, self.trim, self.trimmed_run, self.profile = None, None, None, None, None
        self.deps = self._dependencies(None)
        self.dists = {}
        self.argv = abstract_argv(
            self.req.run or self.analysis.kind.default_run(self.analysis.entrypoint), {}
        )
        image = self.out / "image"
        result = trim.TrimResult()
        trim.trim_app(self.analysis.app_files, self.analysis.files, image / trim.APP, result)
        specs = self.analysis.requirement_specs
        (image / "requirements.txt").write_text("\n".join(specs) + ("\n" if specs else ""))
        self.untraced_trim = result
        self.not_verified += [
            f"seccomp: {messages.NO_TRACE_SECCOMP}",
            f"trim: {why}; only the app's redundant files were removed, dependencies are "
            "installed whole by the Dockerfile",
            "probes: the app was not run",
        ]

    # -- artefacts ---------------------------------------------------------------------------------
    def _health_path(self) -> str | None:
        if self.analysis.kind.health_path:
            return self.analysis.kind.health_path
        return urlsplit(self.req.probes[0]).path or "/" if self.req.probes else None

    def _dockerfile(self) -> None:
        health = self._health_path()
        health_url = f"http://127.0.0.1:{self.req.port}{health}" if health else None
        spec = dockerfile.DockerfileSpec(
            uid=self.uid,
            port=self.req.port,
            cmd=container_argv(self.argv, self.req.port),
            health_url=health_url,
            env=dict(self.analysis.kind.structured_log_env),
            traced=self.trace is not None,
            imports=tuple(self.deps.imported) if self.trace is not None else (),
        )
        (self.out / "Dockerfile").write_text(dockerfile.render(spec))
        self._set_status(OK, f"{spec.base}, USER {self.uid}:{self.uid}, HEALTHCHECK")
        (self.out / ".dockerignore").write_text("*\n!image/\n")

    def _image(self) -> str:
        if self.req.image:
            if "@sha256:" not in self.req.image:
                self.not_verified.append(f"image digest: {messages.DIGEST_UNKNOWN}")
            return self.req.image
        self.not_verified.append(f"image digest: {messages.DIGEST_UNKNOWN}")
        return f"registry.local/k8or/{self.name}:0.1.0"

    def _manifests(self) -> None:
        kind = self.analysis.kind
        localhost = f"operator/{self.name}/{self.name}.json" if self.profile else None
        spec = manifests.ManifestSpec(
            name=self.name,
            image=self._image(),
            uid=self.uid,
            port=self.req.port,
            health_path=self._health_path(),
            metrics_path=kind.metrics_path,
            localhost_profile=localhost,
            sandbox=self.req.sandbox,
            env=dict(kind.structured_log_env),
        )
        folder = self.out / "manifests"
        folder.mkdir(exist_ok=True)
        files = manifests.render_all(spec)
        for filename, objects in files.items():
            (folder / filename).write_text(yaml.safe_dump_all(objects, sort_keys=False))
        self._write_audit()
        self.localhost_profile = localhost
        objects = sum(len(objs) for objs in files.values())
        mode = "Localhost" if localhost else "RuntimeDefault"
        self._set_status(OK, f"{objects} objects in {len(files)} files, seccomp {mode}; audit.rules")

    def _lint(self) -> tuple[list[checks.CheckResult], float]:
        started = time.monotonic()
        results = [
            checks.kubernetes_validate(self.out / "manifests"),
            checks.checkov(self.out / "manifests"),
            checks.hadolint(self.out / "Dockerfile"),
        ]
        return results, time.monotonic() - started

    def _checks(self, linted: tuple[list[checks.CheckResult], float]) -> None:
        results, seconds = linted
        self.results["checks"] = {r.name: r.as_dict() for r in results}
        for r in results:
            if not r.ran:
                self.not_verified.append(f"{r.name}: {r.detail}")
        failed = [r.name for r in results if r.ran and not r.passed]
        verdict = f"failed: {', '.join(failed)}" if failed else "all clean"
        self._set_status(FAILED if failed else OK, f"{verdict} ({seconds:.1f}s, alongside the runs)")

    def _build_report(self) -> dict:
        data = report.build(self)
        self._set_status(OK, "report.json, SUMMARY.md, pipeline.png")
        return data

    def _host_paths(self) -> dict[str, str]:
        """Host folders that may surface in messages, and what the report says instead."""
        return {
            str(self.out): ".",
            str(self.work): "<scratch>",
            str(self.req.app_dir.resolve()): "<app>",
        }

    def _write_report(self, data: dict) -> dict:
        data["steps"] = self.steps.as_list()
        data["duration_seconds"] = round(time.monotonic() - self.started, 1)
        data = report.relative_paths(data, self._host_paths())
        (self.out / "report.json").write_text(json.dumps(data, indent=2) + "\n")
        picture.draw(data["steps"], self.out / "pipeline.png", title=f"k8orize {self.name}")
        (self.out / "SUMMARY.md").write_text(report.summary_text(data) + "\n")
        (self.out / "README.md").write_text(report.output_readme(data))
        return data
