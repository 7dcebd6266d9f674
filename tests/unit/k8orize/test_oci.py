"""The OCI bundle: config.json as containerd writes it for a hardened pod, the seccomp shape, and the
records that show a profile's denials."""

from __future__ import annotations

from pathlib import Path

from k8orize import oci
from k8orize.seccomp_log import gvisor_denials, parse_record

SPEC = oci.ContainerSpec(
    args=("python", "app.py"),
    env=("PATH=/usr/bin",),
    cwd="/opt/app",
    uid=12345,
    gid=12345,
    hostname="shop-k8or-verify",
    additional_gids=(12345,),
    scratch=("/tmp", "/home/app"),
    resources=oci.Resources(memory=2**30, cpu_millis=500),
)


def test_the_bundle_is_a_hardened_pod(tmp_path: Path) -> None:
    seccomp = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}],
    }
    config = oci.bundle_config(
        SPEC, Path("/rootfs"), seccomp=seccomp, netns="/run/netns/pod", pod_files=tmp_path
    )
    process = config["process"]
    assert process["user"] == {"uid": 12345, "gid": 12345, "additionalGids": [12345]}
    assert process["noNewPrivileges"] is True
    assert all(caps == [] for caps in process["capabilities"].values())
    assert config["root"] == {"path": "/rootfs", "readonly": True}
    linux = config["linux"]
    assert linux["seccomp"] == seccomp
    assert {"type": "network", "path": "/run/netns/pod"} in linux["namespaces"]
    assert {ns["type"] for ns in linux["namespaces"]} == {"pid", "ipc", "uts", "mount", "network"}
    assert "/proc/kcore" in linux["maskedPaths"] and "/proc/sys" in linux["readonlyPaths"]
    assert linux["resources"]["memory"] == {"limit": 2**30}
    assert linux["resources"]["cpu"] == {"quota": 50000, "period": 100000}
    mounts = {m["destination"]: m for m in config["mounts"]}
    assert mounts["/tmp"]["type"] == "tmpfs" and "gid=12345" in mounts["/tmp"]["options"]
    assert mounts["/home/app"]["type"] == "tmpfs"
    assert (
        mounts["/etc/hosts"]["source"] == str(tmp_path / "hosts") and "ro" in mounts["/etc/hosts"]["options"]
    )


def test_a_docker_format_profile_becomes_the_runtime_spec_shape() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}
        ],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "comment": "always"},
            {"name": "getpid", "action": "SCMP_ACT_ALLOW"},
            {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_PTRACE"]}},
            {"names": ["arch_only"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
        ],
    }
    converted = oci.oci_seccomp(profile, capabilities=())
    assert converted["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    assert converted["defaultAction"] == "SCMP_ACT_ERRNO" and converted["defaultErrnoRet"] == 1
    assert converted["syscalls"] == [
        {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW"},
    ]
    with_admin = oci.oci_seccomp(profile, capabilities=("CAP_SYS_ADMIN", "CAP_SYS_PTRACE"))
    assert oci.allowed_names(with_admin) == {"read", "write", "getpid", "mount"}
    logged = oci.with_default_action(converted, "SCMP_ACT_LOG")
    assert logged["defaultAction"] == "SCMP_ACT_LOG" and "defaultErrnoRet" not in logged
    assert oci.allowed_names(logged) == oci.allowed_names(converted)


def test_kubernetes_quantities() -> None:
    assert oci.memory_bytes("1Gi") == 2**30 and oci.memory_bytes("512M") == 512 * 10**6
    assert oci.cpu_millis("1") == 1000 and oci.cpu_millis("250m") == 250 and oci.cpu_millis("0.5") == 500


KMSG = (
    "6,1234,789332670,-;audit: type=1326 audit(1796023063.090:4): auid=4294967295 uid=57715 gid=57715 "
    'ses=4294967295 pid=6336 comm="python" exe="/usr/local/bin/python3.11" sig=0 arch=c000003e '
    "syscall=138 compat=0 ip=0x7fc53dcf34f7 code=0x7ffc0000\n"
)


def test_a_seccomp_record_names_the_call_and_the_action() -> None:
    record = parse_record(KMSG)
    assert record is not None
    assert (record.uid, record.pid, record.comm, record.syscall, record.action) == (
        57715,
        6336,
        "python",
        "fstatfs",
        "log",
    )
    refused = parse_record(KMSG.replace("code=0x7ffc0000", "code=0x50001"))
    assert refused is not None and refused.action == "errno 1"
    assert parse_record("6,1,2,-;EXT4-fs (vda): mounted filesystem") is None


def test_gvisor_denials_come_from_the_sentry_debug_log(tmp_path: Path) -> None:
    (tmp_path / "runsc.log.20261130-072154.229226.boot.txt").write_text(
        "D1130 07:21:56.052246   18771 task_syscall.go:240] [   1:   1] Syscall 56: denied by seccomp\n"
        "D1130 07:21:56.536012   18771 task_syscall.go:240] [   1:   1] Syscall 56: denied by seccomp\n"
        "I1130 07:21:56.536012   18771 strace.go:564] [   1:   1] python E clone3(0x7f1efe873540, 0x58)\n"
    )
    assert gvisor_denials(tmp_path) == {"clone": 2}
