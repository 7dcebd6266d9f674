"""What ships, under runc: the built image from OUT's Dockerfile and Deployment, run with
OUT/seccomp.json, probed on the pod's IP, stopped with SIGTERM; what the check says when the profile lacks
a call or the app listens on loopback only; and the profile's base, traced from runc itself, that lets
runc start the app at all.

One k8orization of a tiny stdlib app serves the module (it traces and builds the image in seconds). The
example apps, and runsc for `--sandbox gvisor`, are in test_examples.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from k8orize import hardening, oci, runtime_base, runtimes
from k8orize.engine import K8orizeResult, k8orize
from k8orize.image import BuiltImage, image_rootfs, remove_image
from k8orize.request import K8orizeRequest
from k8orize.runtime_base import RuntimeBase
from k8orize.runtime_verify import KERNEL_OBSERVER, verify_shipped
from k8orize.seccomp import SeccompProfile
from k8orize.trace import parse_file
from tests.support.k8orize import HTTP_APP

pytestmark = pytest.mark.xdist_group("k8orize-runtime")  # one k8orization: one worker
NAME = "runtime-check"
# The tiny app, listening on every address as a container must (the kubelet probes the pod's IP).
APP = HTTP_APP.replace('("127.0.0.1", int(sys.argv[1]))', '("0.0.0.0", int(sys.argv[1]))')


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory, base_image: str) -> Iterator[K8orizeResult]:
    root = tmp_path_factory.mktemp("runtime")
    app = root / "web"
    app.mkdir()
    assert APP != HTTP_APP
    (app / "app.py").write_text(APP)
    (app / "requirements.txt").write_text("# stdlib only\n")
    request = K8orizeRequest(
        app_dir=app,
        out=root / "out",
        name=NAME,
        run="python app.py {port}",
        probes=("http://127.0.0.1:{port}/health",),
        port=8080,
        base_image=base_image,
    )
    result = k8orize(request)
    yield result
    image = result.report["image"]
    if image["image_id"]:
        remove_image(BuiltImage(image["reference"] or "", image["image_id"], 0))


def _check(result: K8orizeResult, runtime: str) -> dict:  # type: ignore[type-arg]
    checks = {c["runtime"]: c for c in result.report["runtime_verification"]}
    assert runtime in checks, result.report["steps"]
    return dict(checks[runtime])


def _built(result: K8orizeResult) -> BuiltImage:
    image = result.report["image"]
    assert image["image_id"], image["why_not_built"]
    return BuiltImage(image["reference"] or "", image["image_id"], image["size_bytes"] or 0)


def test_the_built_image_passes_under_runc(shipped: K8orizeResult) -> None:
    steps = {s["step"]: s for s in shipped.report["steps"]}
    assert steps["verify under runc"]["status"] == "ok", steps["verify under runc"]
    check = _check(shipped, "runc")
    assert check["passed"] and check["problems"] == []
    assert check["version"] == runtimes.describe_version(runtimes.version_text(shutil.which("runc") or ""))
    run = check["shipped"]["run"]
    assert run["probes"] and all(
        p["ok"] and p["url"].startswith("http://192.0.2.10:8080/") for p in run["probes"]
    )
    assert run["stopped_by_sigterm"] and run["exit_code"] == 0
    # Denials: none, seen by the kernel's records of the SCMP_ACT_LOG life (readable on this machine).
    assert check["denials"] == 0 and check["denials_observed_by"] == KERNEL_OBSERVER
    assert check["audit"]["run"]["passed"]
    for call in ("mount", "ptrace"):
        assert check["refusals"][call] == {"refused": True, "errno": 1, "in_profile": False}
    assert f"Under runc {check['version'].split()[0]} (the built image): passed" in shipped.summary()


def test_the_bundle_is_what_the_output_says(shipped: K8orizeResult) -> None:
    config = json.loads((shipped.out / "runs" / "runc-config.json").read_text())
    uid = hardening.app_uid(NAME)
    process = config["process"]
    assert process["args"] == ["python", "app.py", "8080"]  # the Dockerfile's CMD
    assert (
        process["cwd"] == "/opt/k8or/app" and process["user"]["uid"] == uid and process["user"]["gid"] == uid
    )
    env = dict(item.split("=", 1) for item in process["env"])
    assert env["PYTHONPATH"] == "/opt/k8or/site-packages" and env["HOME"] == "/home/app"
    assert process["noNewPrivileges"] is True
    assert all(caps == [] for caps in process["capabilities"].values())
    assert config["root"] == {"path": "<image rootfs>", "readonly": True}
    tmpfs = {m["destination"] for m in config["mounts"] if m["type"] == "tmpfs"}
    assert {"/tmp", "/home/app"} <= tmpfs
    assert {"type": "network", "path": "<pod network namespace>"} in config["linux"]["namespaces"]
    profile = json.loads((shipped.out / "seccomp.json").read_text())
    seccomp = config["linux"]["seccomp"]
    assert seccomp["defaultAction"] == "SCMP_ACT_ERRNO"
    assert oci.allowed_names(seccomp) == set(profile["syscalls"][0]["names"])


def _crippled(out: Path, tmp: Path, without: str) -> Path:
    copy = tmp / "out"
    shutil.copytree(out, copy)
    profile = json.loads((copy / "seccomp.json").read_text())
    profile["syscalls"][0]["names"].remove(without)
    (copy / "seccomp.json").write_text(json.dumps(profile))
    return copy


def test_a_profile_missing_a_call_the_app_needs_fails_and_names_it(
    shipped: K8orizeResult, tmp_path: Path
) -> None:
    out = _crippled(shipped.out, tmp_path, "bind")
    runc = runtimes.find("runc", tmp_path / "state")
    with image_rootfs(_built(shipped)) as rootfs:
        check = verify_shipped(out, NAME, rootfs, runc, work=tmp_path / "work")
    assert not check.passed
    assert check.shipped.outcome is None and "exited with code 1" in (check.shipped.error or "")
    assert "PermissionError" in (out / "runs" / "runc-shipped.log").read_text()
    assert check.denials is not None and "bind" in check.denials
    assert any(
        p.startswith("the profile refused these calls under runc") and "bind x" in p for p in check.problems()
    )


def test_an_app_listening_on_loopback_only_is_told_so(shipped: K8orizeResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(shipped.out, out)
    dockerfile = (out / "Dockerfile").read_text()
    (out / "Dockerfile").write_text(
        dockerfile + "CMD " + json.dumps(["python", "-c", _LOOPBACK_SERVER]) + "\n"
    )
    path = out / "manifests" / "30-deployment.yaml"
    deployment = yaml.safe_load(path.read_text())
    startup = deployment["spec"]["template"]["spec"]["containers"][0]["startupProbe"]
    startup.update(periodSeconds=1, failureThreshold=3)  # the pod's start-up budget: three seconds
    path.write_text(yaml.safe_dump(deployment))
    runc = runtimes.find("runc", tmp_path / "state")
    with image_rootfs(_built(shipped)) as rootfs:
        check = verify_shipped(out, NAME, rootfs, runc, work=tmp_path / "work")
    assert not check.passed
    assert "answers on 127.0.0.1:8080 but not on the pod's IP 192.0.2.10" in (check.shipped.error or "")


_LOOPBACK_SERVER = """
import http.server, signal, sys
class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
http.server.HTTPServer(("127.0.0.1", 8080), Ok).serve_forever()
"""


def _bundle_run(tmp: Path, label: str, profile: SeccompProfile) -> subprocess.CompletedProcess[str]:
    """/bin/true in a hardened container under `profile`, by runc."""
    rootfs = runtime_base.trivial_rootfs(tmp / "rootfs") if not (tmp / "rootfs").exists() else tmp / "rootfs"
    spec = oci.ContainerSpec(
        ("/bin/true",), ("PATH=/bin",), "/", 65534, 65534, "base-check", scratch=("/tmp",)
    )
    bundle = oci.write_bundle(
        tmp / label, oci.bundle_config(spec, rootfs, seccomp=oci.oci_seccomp(profile.oci()))
    )
    runc = runtimes.find("runc", tmp / "state")
    try:
        return subprocess.run(
            runc.argv("run", "--bundle", str(bundle), f"k8or-{label}-{tmp.name}"[:60]),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        runc.delete(f"k8or-{label}-{tmp.name}"[:60])


def test_the_runtime_base_lets_runc_start_what_the_trace_alone_would_not(
    shipped: K8orizeResult, tmp_path: Path
) -> None:
    raw = tmp_path / "true.strace"
    subprocess.run(["strace", "-f", "-qq", "-o", str(raw), "/bin/true"], check=True)
    traced = parse_file(raw).syscalls
    base = runtime_base.runtime_base(runtimes.find("runc", tmp_path / "base-state"))
    assert {"fstatfs", "getdents64", "execve"} <= base.syscalls  # what runc's init calls under the filter
    assert len(base.syscalls) <= 20  # the base is runc's own few calls, not a default list
    started = _bundle_run(tmp_path, "with-base", SeccompProfile.from_trace(traced, runtime=base))
    assert started.returncode == 0, started.stderr
    # Without the base, runc's own calls under the filter are refused and the app never starts.
    assert _bundle_run(tmp_path, "no-base", SeccompProfile.from_trace(traced)).returncode != 0
    # Without fstatfs alone (the old hand-written list lacked it): the failure of issue 11, word for word.
    old_list = RuntimeBase(base.runtime, base.version, base.syscalls - {"fstatfs"}, "the old list")
    stopped = _bundle_run(
        tmp_path, "old-list", SeccompProfile.from_trace(traced - {"fstatfs"}, runtime=old_list)
    )
    assert stopped.returncode != 0
    assert "ensure /proc/self/fd is on procfs: operation not permitted" in stopped.stderr + stopped.stdout
    # The report names the runtime and version the base came from.
    reported = shipped.report["seccomp"]["runtime_base"]
    assert reported and reported["runtime"] == "runc" and reported["version"] == base.version
    assert set(reported["syscalls"]) <= set(shipped.report["seccomp"]["allowed"])
