"""The host-side application user profile: auditd rules keyed on the app's dedicated UID.

Inside a container without a user namespace the app's UID is the same on the host, so these rules
map every call the app makes back to it: `ausearch -k k8or-NAME` lists the app's activity,
`-k k8or-NAME-denied` the calls its seccomp profile refused.
"""

from __future__ import annotations

_AUDIT_ARCH = {"x86_64": "b64", "aarch64": "b64"}
# auditctl accepts at most this many -S per rule line in practice; keep lines readable.
_PER_RULE = 40


def render(name: str, uid: int, syscalls: list[str], arch: str = "x86_64") -> str:
    """auditd rules (auditctl syntax) for the app's UID: exec, denied calls, and its traced syscalls."""
    key = f"k8or-{name}"
    bits = _AUDIT_ARCH.get(arch, "b64")
    lines = [
        f"## k8or application user profile for {name!r}: UID/GID {uid} (see k8orize/hardening.py).",
        "## Install: copy to /etc/audit/rules.d/ and run augenrules --load.",
        f"## Query: ausearch -k {key}   |   ausearch -k {key}-denied",
        f"-a always,exit -F arch={bits} -S execve,execveat -F uid={uid} -k {key}-exec",
        f"-a always,exit -F arch={bits} -S all -F uid={uid} -F exit=-EPERM -k {key}-denied",
        f"-a always,exit -F arch={bits} -S all -F uid={uid} -F exit=-EACCES -k {key}-denied",
    ]
    sensitive = [
        s
        for s in (
            "connect",
            "bind",
            "listen",
            "accept4",
            "socket",
            "openat",
            "unlinkat",
            "renameat2",
            "chmod",
            "fchmod",
            "fchmodat",
            "chown",
            "fchown",
            "fchownat",
            "setuid",
            "setgid",
        )
        if s in syscalls
    ]
    for start in range(0, len(sensitive), _PER_RULE):
        chunk = ",".join(sensitive[start : start + _PER_RULE])
        lines.append(f"-a always,exit -F arch={bits} -S {chunk} -F uid={uid} -k {key}")
    lines.append(f"-a always,exit -F arch={bits} -S all -F gid={uid} -F auid!=unset -k {key}-interactive")
    return "\n".join(lines) + "\n"
