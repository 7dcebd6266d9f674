"""The engine end to end on a tiny stdlib app, and atomic output on every kind of bad input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from k8orize import hardening
from k8orize.engine import K8orizeResult, k8orize
from k8orize.errors import AppExited, AppNotFound, BadRequest, K8orizeError, ProbeTimeout, UnknownAppKind
from k8orize.image import BuiltImage, remove_image
from k8orize.request import K8orizeRequest, parse_env
from k8orize.steps import STEPS
from testing.registry import LocalRegistry
from tests.support.k8orize import POD_HTTP_APP, REPO

RUN = "python app.py {port}"
PROBE = "http://127.0.0.1:{port}/health"
REPOSITORY = "k8or/tiny-web"


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "k8orize-" in p.name)


@pytest.fixture(scope="module")
def tiny_result(
    tmp_path_factory: pytest.TempPathFactory, base_image: str, registry: LocalRegistry
) -> Iterator[K8orizeResult]:
    """The whole pipeline, image included: built FROM the local base, pushed to a local registry, run
    under runc. One k8orization (about 30 s) serves every test that reads it."""
    root = tmp_path_factory.mktemp("tiny")
    app = root / "tiny-web"
    app.mkdir()
    (app / "app.py").write_text(POD_HTTP_APP)
    (app / "requirements.txt").write_text("# stdlib only\n")
    (app / "README.md").write_text("# docs\n")
    (app / ".env").write_text("TOKEN=secret\n")
    steps: list[tuple[str, str]] = []
    result = k8orize(
        K8orizeRequest(
            app_dir=app,
            out=root / "out",
            run=RUN,
            probes=(PROBE,),
            port=8080,
            base_image=base_image,
            push=f"{registry.host}/{REPOSITORY}",
        ),
        progress=lambda step, status: steps.append((step, status)),
    )
    result.progress_seen = steps  # type: ignore[attr-defined]
    yield result
    image = result.report["image"]
    if image["image_id"]:
        remove_image(BuiltImage(image["reference"] or "", image["image_id"], 0))


def test_everything_verified(tiny_result: K8orizeResult, registry: LocalRegistry) -> None:
    report = tiny_result.report
    statuses = {s["step"]: s["status"] for s in report["steps"]}
    # Every step but runsc's, which runs only with --sandbox gvisor (test_runtime.py has it).
    assert list(statuses) == [s for s in STEPS if s != "verify under runsc"], report["steps"]
    assert [s for s in report["steps"] if s["status"] != "ok"] == []  # the failed step, whole, if any
    assert report["verification"]["trimmed"]["passed"]
    enforced = report["verification"]["enforced"]
    assert enforced["run"]["passed"] and enforced["denials"] == 0
    assert enforced["run"]["stopped_by_sigterm"] and enforced["run"]["exit_code"] == 0
    assert enforced["refusals"]["mount"]["refused"] and enforced["refusals"]["ptrace"]["refused"]
    [runc] = report["runtime_verification"]
    assert runc["runtime"] == "runc" and runc["passed"] and runc["denials"] == 0, runc
    pushed = report["image"]["pushed"]
    assert pushed is not None and pushed["digest"] == registry.manifest_digest(
        REPOSITORY, pushed["destination"].rsplit(":", 1)[1]
    )
    assert report["checks_failed"] == []
    assert {c for c, r in report["checks"].items() if r["passed"]} == {
        "kubernetes-validate",
        "checkov",  # CKV_K8S_43 included: the manifests pin the digest the registry serves
        "hadolint",
    }
    assert not [item for item in report["not_verified"] if "digest" in item or "image" in item]
    assert report["seccomp"]["allowed_count"] < 120


def test_output_is_self_contained(tiny_result: K8orizeResult) -> None:
    out = tiny_result.out
    for name in (
        "Dockerfile",
        "seccomp.json",
        "audit.rules",
        "install.log",
        "report.json",
        "SUMMARY.md",
        "pipeline.png",
        "security-profiles-operator/seccompprofile.yaml",
        "trace/files-opened.txt",
        "trace/syscalls.json",
        "image/app/app.py",
        "manifests/30-deployment.yaml",
        "build.log",
        "push.log",
    ):
        assert (out / name).is_file(), name
    assert not (out / "image" / "app" / ".env").exists()
    assert not (out / "image" / "app" / "README.md").exists()
    assert tiny_result.picture.read_bytes().startswith(b"\x89PNG")
    assert _leftovers(out.parent) == []
    uid = hardening.app_uid("tiny-web")
    assert f"USER {uid}:{uid}" in (out / "Dockerfile").read_text()
    assert f"-F uid={uid}" in (out / "audit.rules").read_text()
    deployment = yaml.safe_load((out / "manifests" / "30-deployment.yaml").read_text())
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == uid


def test_trace_in_the_output_carries_paths_but_no_data(tiny_result: K8orizeResult) -> None:
    raw = gzip.decompress((tiny_result.out / "trace" / "strace.log.gz").read_bytes()).decode()
    assert "/app.py" in raw  # paths are recorded in full...
    assert "ThreadingHTTPServer" not in raw  # ...but no buffer the app read or wrote (its own source here)
    assert "TOKEN=secret" not in raw


def test_report_tells_what_it_found(tiny_result: K8orizeResult) -> None:
    report = json.loads(tiny_result.report_path.read_text())
    assert report["files"]["secrets_flagged_never_copied"] == [".env"]
    assert report["files"]["redundant"]["docs"] == ["README.md"]
    assert report["seccomp"]["mode"] == "Localhost"
    assert report["seccomp"]["docker_default_allowed"] == 361
    uid = hardening.app_uid("tiny-web")
    if os.geteuid() == 0:  # root can switch to the app's UID, so the runs prove it works as that user
        assert report["verification"]["runtime"]["as_uid"] == uid
        assert any(f"dedicated UID/GID {uid}" in item for item in report["checks_passed"])
    else:
        assert any(f"dedicated UID {uid}" in item for item in report["not_verified"])
    summary = tiny_result.summary()
    assert "k8orized `tiny-web`" in summary and "0 denials" in summary


def test_progress_reports_every_step(tiny_result: K8orizeResult) -> None:
    seen = tiny_result.progress_seen  # type: ignore[attr-defined]
    assert ("analyze", "running") in seen and ("report", "ok") in seen
    assert [s for s, status in seen if status == "ok"][0] == "analyze"


def test_without_trace_falls_back_to_runtime_default(http_app: Path, tmp_path: Path) -> None:
    """Nothing run, nothing built (--no-build): the report says what that leaves unverified."""
    result = k8orize(
        K8orizeRequest(
            app_dir=http_app, out=tmp_path / "out", trace=False, run=RUN, probes=(PROBE,), build=False
        )
    )
    report = result.report
    assert report["seccomp"]["mode"] == "RuntimeDefault"
    assert any("RuntimeDefault" in item for item in report["not_verified"])
    assert any(item.startswith("image digest: ") for item in report["not_verified"])
    assert any(item.startswith("image: not built (--no-build was given)") for item in report["not_verified"])
    statuses = {s["step"]: s["status"] for s in report["steps"]}
    assert statuses["build image"] == statuses["push"] == statuses["verify under runc"] == "skipped"
    assert report["image"]["built"] is False and report["runtime_verification"] == []
    assert not (result.out / "seccomp.json").exists()
    deployment = yaml.safe_load((result.out / "manifests" / "30-deployment.yaml").read_text())
    assert deployment["spec"]["template"]["spec"]["securityContext"]["seccompProfile"] == {
        "type": "RuntimeDefault"
    }
    assert report["checks"]["hadolint"]["passed"] and report["checks"]["kubernetes-validate"]["passed"]
    assert "CKV_K8S_43" in report["checks"]["checkov"]["detail"]  # no digest: said, not hidden


def _bad(request: K8orizeRequest, error: type[K8orizeError], match: str) -> None:
    out = request.out
    out.parent.mkdir(parents=True, exist_ok=True)
    with pytest.raises(error, match=match):
        k8orize(request)
    assert not out.exists()
    assert _leftovers(out.parent) == []


def test_missing_directory(tmp_path: Path) -> None:
    _bad(K8orizeRequest(app_dir=tmp_path / "nope", out=tmp_path / "o" / "out"), AppNotFound, "does not exist")


def test_unknown_kind(tmp_path: Path) -> None:
    app = tmp_path / "site"
    app.mkdir()
    (app / "index.html").write_text("<h1>hi</h1>")
    _bad(K8orizeRequest(app_dir=app, out=tmp_path / "o" / "out"), UnknownAppKind, "Cannot tell what kind")


def test_run_command_that_exits(http_app: Path, tmp_path: Path) -> None:
    request = K8orizeRequest(
        app_dir=http_app, out=tmp_path / "o" / "out", run="python -c 'raise SystemExit(3)'", probes=(PROBE,)
    )
    _bad(request, AppExited, "exited with code 3")


def test_probe_that_never_turns_healthy(http_app: Path, tmp_path: Path) -> None:
    request = K8orizeRequest(
        app_dir=http_app,
        out=tmp_path / "o" / "out",
        run="python -c 'import time; time.sleep(60)'",
        probes=("http://127.0.0.1:{port}/health",),
        probe_timeout=2,
    )
    _bad(request, ProbeTimeout, "did not turn healthy")


def test_bad_options(http_app: Path, tmp_path: Path) -> None:
    _bad(
        K8orizeRequest(app_dir=http_app, out=tmp_path / "o" / "out", probes=("localhost:1",)),
        BadRequest,
        "--probe",
    )
    _bad(K8orizeRequest(app_dir=http_app, out=http_app / "out"), BadRequest, "inside the app")
    _bad(K8orizeRequest(app_dir=http_app, out=tmp_path / "o" / "out", run=RUN), BadRequest, "--probe")
    with pytest.raises(BadRequest, match="KEY=VALUE"):
        parse_env(["NOEQUALS"])


def test_failure_keeps_an_existing_output(http_app: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("{}")
    with pytest.raises(AppExited):
        k8orize(
            K8orizeRequest(app_dir=http_app, out=out, run="python -c 'raise SystemExit(1)'", probes=(PROBE,))
        )
    assert (out / "report.json").read_text() == "{}"
    assert _leftovers(tmp_path) == []


def test_cli_reports_bad_input_with_exit_code_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "k8orize", str(tmp_path / "nope"), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


def test_cli_registers_a_subcommand() -> None:
    import argparse

    from k8orize.cli import register, request_from_args

    parser = argparse.ArgumentParser(prog="k8or")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "k8orize",
            "app",
            "--out",
            "o",
            "--env",
            "A=1",
            "--probe",
            "http://x/",
            "--sandbox",
            "gvisor",
            "--no-trace",
        ]
    )
    request = request_from_args(args)
    assert callable(args.func)
    assert request.env == {"A": "1"} and request.sandbox == "gvisor" and request.trace is False


def test_a_non_root_engine_that_must_build_stops_before_any_step(
    http_app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """k8or's own pod runs as non-root: there the image cannot be built nor verified under runc
    (tests/integration/k8orize/test_sandbox_unprivileged.py finds out why, as `nobody`). The run stops
    at once with the one sentence that says so and names --no-build, not after minutes of tracing."""
    from k8orize import build_isolation
    from k8orize.errors import ToolMissing

    monkeypatch.setattr(build_isolation.os, "geteuid", lambda: 1000)
    steps: list[object] = []
    request = K8orizeRequest(app_dir=http_app, out=tmp_path / "o" / "out", trace=False)
    request.out.parent.mkdir(parents=True)
    with pytest.raises(ToolMissing, match="--no-build"):
        k8orize(request, progress=steps.append)
    assert steps == [] and not request.out.exists()
