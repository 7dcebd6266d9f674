"""The seccomp profile: OCI and SeccompProfile shapes, and enforcement by libseccomp for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from k8orize import enforce
from k8orize.seccomp import ALWAYS, SeccompProfile
from k8orize.trace import FILTER_LOADED, parse_file

ENFORCE = Path(enforce.__file__)


def test_oci_profile_shape() -> None:
    profile = SeccompProfile.from_trace({"read", "pread", "openat", "epoll_wait", "bogus_call"})
    oci = profile.oci()
    assert oci["defaultAction"] == "SCMP_ACT_ERRNO"
    assert oci["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    (rule,) = oci["syscalls"]
    assert rule["action"] == "SCMP_ACT_ALLOW"
    names = set(rule["names"])
    assert {"read", "pread64", "openat", "epoll_wait"} <= names
    assert ALWAYS <= names
    assert "pread" not in names and "bogus_call" not in names
    assert "mount" not in names and "ptrace" not in names
    assert rule["names"] == sorted(rule["names"])


def test_seccompprofile_object_carries_the_same_rules() -> None:
    profile = SeccompProfile.from_trace({"read", "write"})
    spo = profile.spo("web", "web-ns")
    assert spo["apiVersion"] == "security-profiles-operator.x-k8s.io/v1beta1"
    assert spo["kind"] == "SeccompProfile"
    assert spo["metadata"] == {"name": "web", "namespace": "web-ns"}
    assert spo["spec"]["defaultAction"] == "SCMP_ACT_ERRNO"
    assert spo["spec"]["syscalls"] == profile.oci()["syscalls"]


def _traced_profile(tmp_path: Path, argv: list[str]) -> Path:
    raw = tmp_path / "trace.strace"
    subprocess.run(["strace", "-f", "-qq", "-o", str(raw), *argv], check=True, capture_output=True)
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(SeccompProfile.from_trace(parse_file(raw).syscalls).oci()))
    return path


def test_a_command_runs_under_its_own_traced_profile(tmp_path: Path) -> None:
    argv = ["/bin/ls", "-l", "/"]
    profile = _traced_profile(tmp_path, argv)
    raw = tmp_path / "enforced.strace"
    cmd = [
        "strace",
        "-f",
        "-qq",
        "-o",
        str(raw),
        sys.executable,
        "-I",
        str(ENFORCE),
        str(profile),
        "--",
        *argv,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "usr" in proc.stdout
    observed = parse_file(raw, after_marker=FILTER_LOADED)
    allowed = set(json.loads(profile.read_text())["syscalls"][0]["names"])
    assert observed.syscalls and observed.syscalls <= allowed


def test_a_profile_without_a_needed_call_breaks_the_command(tmp_path: Path) -> None:
    profile = json.loads(_traced_profile(tmp_path, ["/bin/ls", "/"]).read_text())
    profile["syscalls"][0]["names"].remove("getdents64")
    path = tmp_path / "crippled.json"
    path.write_text(json.dumps(profile))
    proc = subprocess.run(
        [sys.executable, "-I", str(ENFORCE), str(path), "--", "/bin/ls", "/"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "Operation not permitted" in proc.stderr


def test_calls_newer_than_libseccomp_are_allowed_by_number(tmp_path: Path) -> None:
    profile = json.loads(_traced_profile(tmp_path, ["/bin/ls", "/"]).read_text())
    profile["syscalls"][0]["names"] += ["mseal", "statmount"]
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(profile))
    proc = subprocess.run(
        [sys.executable, "-I", str(ENFORCE), str(path), "--", "/bin/ls", "/"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_mount_and_ptrace_are_refused(tmp_path: Path) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(SeccompProfile.from_trace({"read", "write", "getpid"}).oci()))
    target = tmp_path / "mountpoint"
    target.mkdir()
    proc = subprocess.run(
        [sys.executable, "-I", str(ENFORCE), "--check-refusals", str(profile), str(target)],
        capture_output=True,
        text=True,
        check=True,
    )
    verdict = json.loads(proc.stdout.strip().splitlines()[-1])
    assert verdict["mount"] == {"refused": True, "errno": 1}
    assert verdict["ptrace"] == {"refused": True, "errno": 1}
    assert verdict["getpid_allowed"] is True
