"""What a process in the sandbox sees and may do, as one JSON line.

Usage: python -I -S sandbox_spy.py BOT_PID BOT_PORT (a pid and a loopback port of the process outside).
"""

import ctypes
import json
import os
import resource
import socket
import sys

CLONE_NEWUSER = 0x10000000


def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as exc:
        return type(exc).__name__


def connect(host, port):
    with socket.create_connection((host, port), timeout=2):
        pass


def status():
    lines = open("/proc/self/status").read().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def main(bot_pid, bot_port):
    limits = ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE")
    return {
        "ids": [os.getuid(), os.geteuid(), os.getgid()],
        "groups": os.getgroups(),
        "caps": status()["CapEff"].strip(),
        "pid": os.getpid(),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "env": sorted(os.environ),
        "hostname": socket.gethostname(),
        "bot_proc": os.path.exists(f"/proc/{bot_pid}"),
        "bot_listener": attempt(lambda: connect("127.0.0.1", bot_port)),
        "internet": attempt(lambda: connect("1.1.1.1", 53)),
        "dns": attempt(lambda: socket.getaddrinfo("pypi.org", 443)),
        "write_usr": attempt(lambda: open("/usr/k8or-probe", "w")),
        "write_tmp": attempt(lambda: open("/tmp/probe", "w")),
        "userns": ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) == 0,
        "limits": {name: resource.getrlimit(getattr(resource, name))[0] for name in limits},
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
