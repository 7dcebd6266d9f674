"""The pod's network: a namespace of its own, reachable at a pod IP, never the host's network.

`PodNetwork` makes a network namespace with `ip netns` (loopback up, and a veth pair whose end `eth0`
carries the pod IP, as a CNI plugin gives a pod), hands its path to the runtime (`linux.namespaces`)
and runs the probes from inside it: a worker thread enters the namespace (`setns` changes only the
calling thread), so its sockets, and the processes it starts, live there. Probes go to the pod IP, as
the kubelet's do: an app that listens on 127.0.0.1 only fails them here as it would in a cluster.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from . import messages
from .errors import K8orizeError

T = TypeVar("T")
POD_IP = "192.0.2.10"  # TEST-NET-1: never routed, and alone in its namespace
_PREFIX = 24
_CLONE_NEWNET = 0x40000000
_NETNS_DIR = Path("/run/netns")


class PodNetworkFailed(K8orizeError):
    """The pod's network namespace could not be made (the message says why)."""


def _ip(*args: str) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        raise PodNetworkFailed(
            messages.POD_NETWORK_FAILED.format(why=f"ip {' '.join(args)}: {proc.stderr.strip()}")
        )


def _enter(path: str) -> None:
    """Move the calling thread into the network namespace at path."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns into the pod's network namespace")
    finally:
        os.close(fd)


class PodNetwork:
    """A network namespace for one pod. Use as a context manager; `call` runs a function inside it."""

    def __init__(self, pod_ip: str = POD_IP) -> None:
        self.name = f"k8or-{secrets.token_hex(5)}"
        self.pod_ip = pod_ip
        self._worker: ThreadPoolExecutor | None = None

    @property
    def path(self) -> str:
        return str(_NETNS_DIR / self.name)

    def __enter__(self) -> PodNetwork:
        try:
            _ip("netns", "add", self.name)
        except FileNotFoundError as exc:
            raise PodNetworkFailed(messages.POD_NETWORK_FAILED.format(why=exc)) from None
        try:
            _ip("-n", self.name, "link", "set", "lo", "up")
            _ip("-n", self.name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
            _ip("-n", self.name, "addr", "add", f"{self.pod_ip}/{_PREFIX}", "dev", "eth0")
            for link in ("eth0", "eth1"):
                _ip("-n", self.name, "link", "set", link, "up")
            self._worker = ThreadPoolExecutor(
                1, f"k8or-{self.name}", initializer=_enter, initargs=(self.path,)
            )
            self._worker.submit(lambda: None).result()  # a failed setns surfaces here, not at the first probe
        except BaseException as exc:
            self.__exit__(None, None, None)
            if isinstance(exc, K8orizeError):
                raise
            raise PodNetworkFailed(messages.POD_NETWORK_FAILED.format(why=exc)) from exc
        return self

    def __exit__(self, *exc: object) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True, timeout=30, check=False)

    def call(self, function: Callable[[], T]) -> T:
        """Run function on the thread inside the namespace (its sockets and child processes live there)."""
        if self._worker is None:
            raise RuntimeError("the pod network is not open")
        return self._worker.submit(function).result()
